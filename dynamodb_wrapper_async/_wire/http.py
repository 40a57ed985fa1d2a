"""A lean HTTP/1.1 client for the transport: keep-alive connections on asyncio protocols.

aiohttp's client cost ~130 µs of CPU per request here (URL objects, header multidicts, the
cookie jar, tracing signals, timers, its stream reader) against ~40 µs for a protocol that
writes one buffer and parses one response: ~3.6 µs per written item at 25 items a request.
DynamoDB needs little of HTTP: a POST with a body, answered with a Content-Length body (a
chunked or close-delimited body is read too), over kept-alive connections, TLS, and
optionally a proxy, reached over HTTP or TLS (absolute-form requests for ``http://``
endpoints, a CONNECT tunnel for ``https://`` ones). Responses are parsed by llhttp
(``httptools``): strict where a hand-written parser is lax, and less CPU per response
(``benchmarks/bench_http_parse.py``).

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

import httptools

#: asyncio can start TLS over a TLS transport (an https endpoint through an https proxy)
TLS_IN_TLS = sys.version_info >= (3, 11)
_MAX_HEAD = 64 * 1024  # bytes of status line and headers before the answer is refused
#: DynamoDB's largest answer is a BatchGetItem of 16 MB of items (more as JSON, base64 for
#: binary); a response beyond the cap is refused instead of buffered without limit.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_CRLF = b"\r\n"
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


def shown_url(url: str) -> str:
    """``url`` as an error message or repr may show it: hidden if it has user info (an ``@``),
    which may be a credential (with an unescaped ``/`` in it, any part of the URL may be)."""
    return "<not shown: it may hold credentials>" if "@" in url else url


def _endpoint(url: str, *, what: str = "endpoint URL", shown: bool = True) -> _Endpoint:
    """Host, port and TLS of an http(s) URL; a ValueError names it only if ``shown``.

    A proxy URL may hold credentials, and an unescaped ``/`` or ``@`` in a password makes
    any part of it (the "port", the "path") a piece of the secret: never shown.
    """
    parts = urlsplit(url)
    port: int | None = None
    try:
        port = parts.port
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # "Port could not be cast to integer value as '<secret>'"
        valid = False
    if not valid or parts.hostname is None:
        named = (
            f": {url!r}" if shown and "@" not in url else " (not shown: it may hold credentials)"
        )
        msg = f"the {what} is not a valid http(s) URL with a host and port{named}"
        raise ValueError(msg) from None
    tls = parts.scheme == "https"
    return _Endpoint(parts.hostname, port or (443 if tls else 80), tls)


def proxy_authorization(proxy_url: str) -> dict[str, str]:
    """The Proxy-Authorization header for credentials in a proxy URL, if any."""
    parts = urlsplit(proxy_url)
    if parts.username is None:
        return {}
    user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return {"Proxy-Authorization": "Basic " + base64.b64encode(user_pass.encode()).decode()}


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; reads one response per request, parsed by llhttp.

    llhttp (``httptools``, the parser under uvicorn) refuses what a conforming client must:
    ``Content-Length`` with ``Transfer-Encoding``, conflicting lengths, folded or malformed
    header lines, unknown transfer codings, overflowing chunk sizes. A refused answer fails its
    request and closes the connection.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, max_response_bytes: int) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.fd = -1  # the socket's descriptor while it is open
        self.lost: asyncio.Future[None] = loop.create_future()
        self._max_bytes = max_response_bytes
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[HTTPResponse] | None = None
        self._head_only = False  # a CONNECT answer: done once its headers are in
        self._reset()

    def _reset(self) -> None:
        self._headers: dict[str, str] = {}
        self._head_done = False  # the final (not 1xx) status line and headers are in
        self._fed_bytes = 0  # bytes fed while the head was incomplete
        self._head_bytes = 0  # bytes of the header lines parsed
        self._body: list[bytes] = []
        self._body_bytes = 0
        self._complete = False  # a whole response was parsed
        self._keep_alive = False
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
        if self._waiter is None or self._complete:  # an answer nobody asked for: out of step
            self.abort()
            return
        self._last_data = self.loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            cause = error.__context__
            if isinstance(cause, HTTPConnectionError):
                self._fail(cause)
            else:
                self._fail(HTTPConnectionError(f"a malformed HTTP response: {error}"))
            return
        if not self._head_done:  # a head still coming in: everything fed so far is head
            self._fed_bytes += len(data)
            if self._fed_bytes > _MAX_HEAD:
                self._fail(HTTPConnectionError("the response's headers exceed 64 KB"))

    def eof_received(self) -> bool | None:
        self._end_of_stream()
        return None  # None closes the transport: this connection is never handed out again

    def connection_lost(self, exc: Exception | None) -> None:
        self.fd = -1
        if not self.lost.done():
            self.lost.set_result(None)
        if exc is None:  # Python 3.10 ends a TLS close_notify here, without eof_received
            self._end_of_stream()
        self.closed = True
        message = "the server closed the connection before the whole response arrived"
        self._fail(HTTPConnectionError(f"{message}: {exc}" if exc else message))

    def _end_of_stream(self) -> None:
        """The peer closed: that ends a close-delimited body (no length, no chunks)."""
        self.closed = True
        headers = self._headers
        delimited = "content-length" in headers or "transfer-encoding" in headers
        if self._head_done and not self._complete and not delimited:
            self._finish(keep_alive=False)

    # ------------------------------------------------------------ llhttp callbacks
    def on_message_begin(self) -> None:
        if self._complete:  # a second answer to one request: the stream is out of step
            msg = "more than one response to a request"
            raise HTTPConnectionError(msg)
        self._headers = {}

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._head_done:  # a trailer after the last chunk: not a header of the answer
            return
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > _MAX_HEAD:
            msg = "the response's headers exceed 64 KB"
            raise HTTPConnectionError(msg)
        self._headers[name.decode("latin-1").lower()] = value.decode("utf-8", "replace").strip()

    def on_headers_complete(self) -> None:
        if 100 <= self._parser.get_status_code() < 200:  # 100 Continue and other interim
            return
        self._head_done = True
        coding = self._headers.get("transfer-encoding")
        if coding is not None and coding.lower() != "chunked":  # we asked for no other coding
            msg = f"an unsupported Transfer-Encoding: {coding[:40]!r}"
            raise HTTPConnectionError(msg)
        length = self._headers.get("content-length")
        if length is not None and int(length) > self._max_bytes:  # llhttp checked its digits
            msg = f"the response's Content-Length {length} exceeds the {self._max_bytes}-byte cap"
            raise HTTPConnectionError(msg)
        if self._head_only:
            self._finish(keep_alive=False)

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > self._max_bytes:
            msg = f"the response's body exceeds the {self._max_bytes}-byte cap"
            raise HTTPConnectionError(msg)
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._head_done and not self._complete:
            self._finish(keep_alive=self._parser.should_keep_alive())

    def _finish(self, *, keep_alive: bool) -> None:
        self._complete = True
        self._keep_alive = keep_alive
        status = self._parser.get_status_code()
        response = HTTPResponse(status, self._headers, b"".join(self._body))
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

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
        return self._complete and self._keep_alive and not self.closed

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
        max_response_bytes: A larger response (by its ``Content-Length`` or as its chunked
            or close-delimited body arrives) fails its request and closes its connection.
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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._endpoint = _endpoint(url)
        self._proxy = _endpoint(proxy, what="proxy URL", shown=False) if proxy else None
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
        self._max_response_bytes = max_response_bytes
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
                lambda: _Connection(loop, self._max_response_bytes),
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
        connection = _Connection(loop, self._max_response_bytes)
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
    "DEFAULT_MAX_RESPONSE_BYTES",
    "TLS_IN_TLS",
    "ConnectionPool",
    "HTTPConnectionError",
    "HTTPResponse",
    "proxy_authorization",
]
