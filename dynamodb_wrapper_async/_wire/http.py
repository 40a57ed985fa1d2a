"""A lean HTTP/1.1 client for the transport: keep-alive connections on asyncio protocols.

aiohttp's client cost ~130 µs of CPU per request here (URL objects, header multidicts, the
cookie jar, tracing signals, timers, its stream reader) against ~40 µs for a protocol that
writes one buffer and parses one response: ~3.6 µs per written item at 25 items a request.
DynamoDB needs little of HTTP: a POST with a body, answered with a Content-Length body (a
chunked or close-delimited body is read too), over kept-alive connections, TLS, and
optionally a proxy, reached over HTTP or TLS (absolute-form requests for ``http://``
endpoints, a CONNECT tunnel for ``https://`` ones).

Failures are ``OSError``s (``HTTPConnectionError`` is a ``ConnectionError``) or
``asyncio.TimeoutError``, which the error mapping treats as retryable broken connections. A
connection is reused only after a whole response was read from it; a cancelled or failed
request closes its connection.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import ssl
import sys
import weakref
from collections import deque
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

#: asyncio can start TLS over a TLS transport (an https endpoint through an https proxy)
TLS_IN_TLS = sys.version_info >= (3, 11)
_MAX_HEAD = 64 * 1024  # bytes of status line and headers before the answer is refused
_CRLF = b"\r\n"
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_CLOSE_WAIT = 1.0  # seconds close() waits for connections to close (TLS: close_notify)


class HTTPConnectionError(ConnectionError):
    """The connection failed, or broke before a whole response arrived."""


class HTTPResponse(NamedTuple):
    """A whole response: status, headers (names lower-cased; the last of a repeated name
    wins) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Endpoint(NamedTuple):
    host: str
    port: int
    tls: bool


def _endpoint(url: str) -> _Endpoint:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = f"not an http(s) URL: {url!r}"
        raise ValueError(msg)
    tls = parts.scheme == "https"
    return _Endpoint(parts.hostname, parts.port or (443 if tls else 80), tls)


def proxy_authorization(proxy_url: str) -> dict[str, str]:
    """The Proxy-Authorization header for credentials in a proxy URL, if any."""
    parts = urlsplit(proxy_url)
    if parts.username is None:
        return {}
    user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return {"Proxy-Authorization": "Basic " + base64.b64encode(user_pass.encode()).decode()}


def _status(line: bytes) -> int:
    """The status code of an ``HTTP/1.x NNN reason`` line."""
    code = line[9:12]
    if line.startswith(b"HTTP/1.") and line[8:9] == b" " and code.isdigit() and len(line) >= 12:
        return int(code)
    msg = f"not an HTTP/1.x status line: {line[:40]!r}"
    raise HTTPConnectionError(msg)


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; reads one response per request."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.fd = -1  # the socket's descriptor while it is open
        self.lost: asyncio.Future[None] = loop.create_future()
        self._buffer = bytearray()
        self._waiter: asyncio.Future[HTTPResponse] | None = None
        self._head_only = False  # a CONNECT answer: no body follows a 2xx
        self._reset()

    def _reset(self) -> None:
        self._status = 0
        self._headers: dict[str, str] | None = None
        self._keep_alive = True
        self._length = -1  # -1: until the connection closes; else Content-Length
        self._chunked = False
        self._in_trailers = False  # chunked: the last chunk was read
        self._chunks: list[bytes] = []
        self._last_data = 0.0

    # ------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.fd = sock.fileno()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # an answer nobody asked for: the stream is out of step
            self.closed = True
            if self.transport is not None:
                self.transport.close()
            return
        self._buffer += data
        self._last_data = self.loop.time()
        try:
            response = self._parse()
        except HTTPConnectionError as error:
            self._fail(error)
            return
        if response is not None:
            waiter, self._waiter = self._waiter, None
            if not waiter.done():
                waiter.set_result(response)

    def eof_received(self) -> bool | None:
        self.closed = True  # returning None closes the transport: never hand this one out again
        self._end_close_delimited()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.fd = -1
        if not self.lost.done():
            self.lost.set_result(None)
        if exc is None:  # Python 3.10's TLS ends a close_notify here, without eof_received
            self._end_close_delimited()
        message = "the server closed the connection before the whole response arrived"
        self._fail(HTTPConnectionError(f"{message}: {exc}" if exc else message))

    def _end_close_delimited(self) -> None:
        """The connection ended cleanly: that ends a close-delimited body, if one is read."""
        close_delimited = self._length < 0 and not self._chunked
        if self._waiter is not None and self._headers is not None and close_delimited:
            self._keep_alive = False  # the body ends here
            body = bytes(self._buffer)
            self._buffer.clear()
            waiter, self._waiter = self._waiter, None
            if not waiter.done():
                waiter.set_result(HTTPResponse(self._status, self._headers, body))

    # ------------------------------------------------------------ requests
    def request(self, data: bytes, *, head_only: bool = False) -> asyncio.Future[HTTPResponse]:
        """Write one request; the future resolves with its whole response."""
        transport = self.transport
        if transport is None or self.closed:
            msg = "the connection is not open"
            raise HTTPConnectionError(msg)
        self._reset()
        self._head_only = head_only
        self._last_data = self.loop.time()
        self._waiter = waiter = self.loop.create_future()
        transport.write(data)
        return waiter

    def reusable(self) -> bool:
        return self._keep_alive and not self.closed and not self._buffer

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.abort()

    # ------------------------------------------------------------ parsing
    def _parse(self) -> HTTPResponse | None:
        buffer = self._buffer
        headers = self._headers
        if headers is None:
            headers = self._parse_head()
            if headers is None:
                return None
        if self._length >= 0:
            end = self._length
            if len(buffer) < end:
                return None
            body = bytes(buffer[:end])
            del buffer[:end]
        elif self._chunked:
            if not self._parse_chunks():
                return None
            body = b"".join(self._chunks)
        else:
            return None  # close-delimited: eof_received completes it
        return HTTPResponse(self._status, headers, body)

    def _parse_head(self) -> dict[str, str] | None:
        """Consume the status line and headers once they are all in; skip 1xx answers."""
        buffer = self._buffer
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end > _MAX_HEAD or (end < 0 and len(buffer) > _MAX_HEAD):
                msg = "the response's headers exceed 64 KB"
                raise HTTPConnectionError(msg)
            if end < 0:
                return None
            lines = bytes(buffer[:end]).split(_CRLF)
            del buffer[: end + 4]
            status_line = lines[0]
            status = _status(status_line)
            if not 100 <= status < 200:  # 100 Continue and other interim answers are skipped
                break
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().decode("latin-1").lower()] = value.strip().decode(
                "utf-8", "replace"
            )
        self._status = status
        self._headers = headers
        self._set_framing(headers, http11=status_line.startswith(b"HTTP/1.1"))
        return headers

    def _set_framing(self, headers: dict[str, str], *, http11: bool) -> None:
        """Decide how the body ends (length, chunks or close) and whether to keep alive."""
        connection = headers.get("connection", "").lower()
        self._keep_alive = "close" not in connection if http11 else "keep-alive" in connection
        if self._head_only or self._status in (204, 304):
            self._length = 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._chunked = True
        elif "content-length" in headers:
            text = headers["content-length"]
            if not (text.isascii() and text.isdigit()):  # not "²", which int() refuses
                msg = f"malformed Content-Length: {text[:40]!r}"
                raise HTTPConnectionError(msg)
            self._length = int(text)
        else:
            self._keep_alive = False  # the body ends when the connection closes

    def _parse_chunks(self) -> bool:
        """Consume whole chunks from the buffer; True once the last chunk and trailers are
        read."""
        buffer = self._buffer
        while True:
            line_end = buffer.find(_CRLF)
            if line_end < 0:
                return False
            if self._in_trailers:  # after the last chunk: trailer lines, then a blank one
                del buffer[: line_end + 2]
                if line_end == 0:
                    return True
                continue
            size_text = bytes(buffer[:line_end]).split(b";", 1)[0].strip()
            if not size_text or size_text.strip(_HEX_DIGITS):  # int() takes "-2", "0x2", "1_0"
                msg = f"malformed chunk size: {size_text[:20]!r}"
                raise HTTPConnectionError(msg)
            size = int(size_text, 16)
            if size == 0:
                del buffer[: line_end + 2]
                self._in_trailers = True
                continue
            end = line_end + 2 + size
            if len(buffer) < end + 2:
                return False
            if buffer[end : end + 2] != _CRLF:
                msg = "a chunk does not end with CRLF"
                raise HTTPConnectionError(msg)
            self._chunks.append(bytes(buffer[line_end + 2 : end]))
            del buffer[: end + 2]

    def read_idle_for(self) -> float:
        return self.loop.time() - self._last_data


class ConnectionPool:
    """Kept-alive connections to one endpoint (directly or through an HTTP proxy).

    Args:
        url: The endpoint, ``http://`` or ``https://``; requests go to its path.
        limit: Connections open at once; more requests wait for one to be free.
        ssl_context: TLS settings for an ``https://`` endpoint, and for an ``https://`` proxy.
        connect_timeout: Seconds to connect (and, through a proxy, to open the tunnel).
        read_timeout: Seconds without a byte of the response before the request fails.
        keepalive: Seconds an idle connection is kept for reuse.
        proxy: An ``http://`` or ``https://`` proxy URL (credentials in it become
            Proxy-Authorization). TLS to an ``https://`` endpoint inside TLS to an
            ``https://`` proxy needs Python 3.11+.
        proxy_headers: Extra headers for the proxy (botocore's ``proxy_headers_for``).
    """

    def __init__(
        self,
        url: str,
        *,
        limit: int,
        ssl_context: ssl.SSLContext | None,
        connect_timeout: float,
        read_timeout: float,
        keepalive: float,
        proxy: str | None = None,
        proxy_headers: Mapping[str, str] | None = None,
    ) -> None:
        self._endpoint = _endpoint(url)
        self._proxy = _endpoint(proxy) if proxy else None
        tls_proxy = self._proxy is not None and self._proxy.tls
        if (self._endpoint.tls or tls_proxy) and ssl_context is None:
            msg = "an https endpoint or proxy needs an SSL context"
            raise ValueError(msg)
        if tls_proxy and self._endpoint.tls and not TLS_IN_TLS:
            msg = "an https endpoint through an https proxy needs Python 3.11 or later"
            raise ValueError(msg)
        self._ssl = ssl_context if self._endpoint.tls else None
        self._proxy_ssl = ssl_context if tls_proxy else None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._keepalive = keepalive
        self._slots = asyncio.Semaphore(limit)
        self._idle: deque[_Connection] = deque()
        self._open: weakref.WeakSet[_Connection] = weakref.WeakSet()  # idle or in use
        self._closed = False
        endpoint = self._endpoint
        authority = endpoint.host if ":" not in endpoint.host else f"[{endpoint.host}]"
        self._authority = f"{authority}:{endpoint.port}"
        path = urlsplit(url).path or "/"
        proxy_lines = ""
        if proxy:
            extra = {**proxy_authorization(proxy), **(proxy_headers or {})}
            proxy_lines = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
        self._proxy_lines = proxy_lines.encode("latin-1")
        target = path
        if self._proxy is not None and not endpoint.tls:  # absolute-form through the proxy
            target = f"http://{self._authority}{path}"
            self._request_line = f"POST {target} HTTP/1.1\r\n".encode() + self._proxy_lines
        else:
            self._request_line = f"POST {target} HTTP/1.1\r\n".encode()

    def __repr__(self) -> str:
        via = f" via proxy {self._proxy.host}:{self._proxy.port}" if self._proxy else ""
        via += " (TLS)" if self._proxy_ssl else ""
        return f"<ConnectionPool {self._authority}{via}>"

    async def post(self, headers: Mapping[str, str], body: bytes) -> HTTPResponse:
        """Send one POST (``headers`` must include Host) and return its whole response.

        Raises:
            OSError: Connecting failed, or the connection broke (``HTTPConnectionError``).
            asyncio.TimeoutError: Connecting or reading timed out.
        """
        if self._closed:
            msg = "the connection pool is closed"
            raise HTTPConnectionError(msg)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        length = b"Content-Length: %d\r\n\r\n" % len(body)
        data = b"".join((self._request_line, head.encode("latin-1"), length, body))
        async with self._slots:
            connection = self._take_idle() or await self._connect()
            try:
                response = await self._exchange(connection, data)
            except BaseException:
                connection.abort()
                raise
            if connection.reusable() and not self._closed:
                connection.idle_since = connection.loop.time()
                self._idle.append(connection)
            elif not connection.closed:
                connection.abort()
            return response

    async def _exchange(self, connection: _Connection, data: bytes) -> HTTPResponse:
        waiter = connection.request(data)
        loop = connection.loop
        timeout = self._read_timeout
        timer = loop.call_later(timeout, self._check_read, connection, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    def _check_read(self, connection: _Connection, waiter: asyncio.Future[HTTPResponse]) -> None:
        """Fail the request if no byte arrived for ``read_timeout``; else look again later."""
        if waiter.done():
            return
        idle = connection.read_idle_for()
        if idle >= self._read_timeout:
            waiter.set_exception(asyncio.TimeoutError())
            connection.abort()
            return
        # the read is still alive: look again when it could first time out
        connection.loop.call_later(self._read_timeout - idle, self._check_read, connection, waiter)

    def _take_idle(self) -> _Connection | None:
        idle = self._idle
        while idle:
            connection = idle.pop()  # the most recently used: least likely to be closed
            if connection.closed:
                continue
            if connection.loop.time() - connection.idle_since > self._keepalive:
                connection.abort()
                continue
            return connection
        return None

    async def _connect(self) -> _Connection:
        try:
            connection = await asyncio.wait_for(self._open_connection(), self._connect_timeout)
        except ssl.SSLError as error:
            msg = f"TLS with {self._authority} failed: {error}"
            raise HTTPConnectionError(msg) from error
        self._open.add(connection)
        return connection

    async def _open_connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        peer = self._proxy or self._endpoint  # whom the socket connects to
        tls_now = self._proxy_ssl if self._proxy is not None else self._ssl
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(loop),
                peer.host,
                peer.port,
                ssl=tls_now,
                server_hostname=peer.host if tls_now else None,
            )
        except ssl.SSLError as error:
            if self._proxy is None:
                raise  # _connect names the endpoint
            msg = f"TLS with the proxy {peer.host}:{peer.port} failed: {error}"
            raise HTTPConnectionError(msg) from error
        if self._proxy is not None and self._ssl is not None:
            connection = await self._tunnel(loop, connection, self._ssl)
        return connection

    async def _tunnel(
        self, loop: asyncio.AbstractEventLoop, proxied: _Connection, context: ssl.SSLContext
    ) -> _Connection:
        """Open a CONNECT tunnel through the proxy and start TLS inside it."""
        request = (
            f"CONNECT {self._authority} HTTP/1.1\r\nHost: {self._authority}\r\n".encode()
            + self._proxy_lines
            + _CRLF
        )
        connection = _Connection(loop)
        try:
            answer = await proxied.request(request, head_only=True)
            transport = None
            if 200 <= answer.status < 300 and proxied.transport is not None:
                transport = await loop.start_tls(
                    proxied.transport, connection, context, server_hostname=self._endpoint.host
                )
        except BaseException:
            proxied.abort()
            raise
        if transport is None:
            proxied.abort()
            msg = f"the proxy refused the tunnel to {self._authority}: HTTP {answer.status}"
            raise HTTPConnectionError(msg)
        connection.connection_made(transport)
        return connection

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    async def close(self) -> None:
        """Close the idle connections; those in use close when their request ends.

        Returns once their sockets are closed (a TLS connection that has not closed after
        ``_CLOSE_WAIT`` seconds, its peer silent, is aborted).
        """
        self._closed = True
        closing: list[_Connection] = []
        while self._idle:
            connection = self._idle.pop()
            connection.close()
            closing.append(connection)
        if not closing:
            return
        lost = [connection.lost for connection in closing]
        _, pending = await asyncio.wait(lost, timeout=_CLOSE_WAIT)
        if pending:
            for connection in closing:
                if not connection.lost.done():
                    connection.abort()
            await asyncio.wait(pending, timeout=_CLOSE_WAIT)

    def forget_after_fork(self) -> None:
        """In a forked child: let go of the inherited sockets without touching them.

        Closing them through the loop would unregister them from the epoll set the child
        shares with its parent (whose reads would then hang), and a shutdown would end the
        parent's connections. Each descriptor is pointed at ``/dev/null`` instead: the
        child no longer holds the parent's sockets, and the objects are never used again.
        """
        self._closed = True
        descriptors = {connection.fd for connection in self._open if connection.fd >= 0}
        for connection in self._open:
            connection.closed = True
            connection.fd = -1
        if not descriptors:
            return
        devnull = os.open(os.devnull, os.O_RDWR)
        try:
            for fd in descriptors:
                os.dup2(devnull, fd)
        finally:
            os.close(devnull)


__all__ = [
    "TLS_IN_TLS",
    "ConnectionPool",
    "HTTPConnectionError",
    "HTTPResponse",
    "proxy_authorization",
]
