"""The lean HTTP/1.1 client (``_http``) against real local servers that write exact bytes.

* The exchange: status, lower-cased headers (the last repeated one wins) and body of a
  Content-Length answer, and the request bytes on the wire (request line, headers as given,
  Content-Length, body).
* Keep-alive: connections are reused after a whole answer; ``Connection: close``, an HTTP/1.0
  answer without keep-alive, an expired idle connection, one the server closed while idle and
  one that received bytes nobody asked for are not.
* Framing: chunked answers (extensions, trailers) one byte at a time and in one piece,
  close-delimited bodies, 204 without a body, interim 1xx answers skipped.
* Failures are ``HTTPConnectionError`` (a ``ConnectionError``): a server closing early, a
  malformed status line, Content-Length or chunk, headers over 64 KB; a refused connection is
  ``ConnectionRefusedError``.
* Timeouts: reading (a silent server fails, a slow but steady one does not) and connecting (a
  listener whose accept queue is full; a proxy that never answers CONNECT).
* Cancellation closes the connection; the pool never opens more than ``limit`` connections.
* TLS with a self-signed certificate, trusted and not; HTTP proxies (absolute-form requests
  for ``http://``, a CONNECT tunnel for ``https://``, credentials, refusal).
* HTTPS proxies (TLS to the proxy, verified with the endpoint's SSL context): absolute-form
  requests for ``http://``, TLS in TLS through a CONNECT tunnel for ``https://`` (credentials
  on the CONNECT only), reuse, an untrusted proxy certificate (nothing reaches the endpoint),
  no SSL context, TLS in TLS refused before Python 3.11; a repr without the credentials.
* ``close()``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import ipaddress
import logging
import re
import select
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dynamodb_wrapper_async._wire import http as _http
from dynamodb_wrapper_async._wire.http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    ConnectionPool,
    HTTPConnectionError,
    HTTPResponse,
    proxy_authorization,
)

HEADERS = {"Host": "dynamodb.test:8000", "X-Amz-Target": "DynamoDB_20120810.GetItem"}
HEAD_END = b"\r\n\r\n"


# ------------------------------------------------------------------ reading requests on the server
@dataclass
class Request:
    """One request as it arrived: its line, headers (names as sent), body and exact bytes."""

    line: str
    headers: dict[str, str]
    body: bytes
    raw: bytes


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on a connection, or None once the client closed it."""
    try:
        head = await reader.readuntil(HEAD_END)
    except (asyncio.IncompleteReadError, ConnectionResetError):
        return None
    line, *rest = head[: -len(HEAD_END)].decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for text in rest:
        name, _, value = text.partition(":")
        headers[name] = value.strip()
    body = await reader.readexactly(int(headers.get("Content-Length", "0")))
    return Request(line, headers, body, head + body)


async def client_closed(reader: asyncio.StreamReader) -> bool:
    """Wait for the client to close its end; True if it did (EOF or reset)."""
    try:
        return await reader.read() == b""
    except ConnectionResetError:
        return True


# ------------------------------------------------------------------ a raw local server
Handler = Callable[["Server", int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Server:
    """Runs ``handler(server, n, reader, writer)`` for its n-th accepted connection (from 0)
    and counts connections: accepted, open now, most open at once, closed by the client."""

    handler: Handler
    ssl_context: ssl.SSLContext | None = None
    port: int = 0
    accepted: int = 0
    open_now: int = 0
    max_open: int = 0
    closed_by_client: int = 0
    requests: list[Request] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    tasks: set[asyncio.Future[None]] = field(default_factory=set)

    def url(self, path: str = "/path") -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.accepted
        self.accepted += 1
        self.open_now += 1
        self.max_open = max(self.max_open, self.open_now)
        # the handler runs in a task of its own, which the teardown may cancel: asyncio logs
        # an error when the task it started for a connection is cancelled
        handling = asyncio.ensure_future(self.handler(self, number, reader, writer))
        self.tasks.add(handling)
        try:
            await handling
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: the tests look at what it saw
        except asyncio.CancelledError:
            writer.transport.abort()
        except Exception as error:  # a broken handler must fail its test, not hide
            self.errors.append(error)
        finally:
            writer.close()
            self.open_now -= 1


@contextlib.asynccontextmanager
async def serving(
    handler: Handler, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Server]:
    server = Server(handler, ssl_context)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0, ssl=ssl_context)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        for task in server.tasks:
            task.cancel()
        await until(lambda: server.open_now == 0)
        await listener.wait_closed()
    assert server.errors == []


def answering(*answers: bytes) -> Handler:
    """Answer the n-th request the server sees with ``answers[n]`` (the last one repeats)."""

    async def handle(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (request := await read_request(reader)) is not None:
            server.requests.append(request)
            writer.write(answers[min(len(server.requests), len(answers)) - 1])
            await writer.drain()
        server.closed_by_client += 1

    return handle


def ok(body: bytes = b"ok", *headers: str, status: str = "HTTP/1.1 200 OK") -> bytes:
    """An answer with a Content-Length body."""
    head = "".join(f"{header}\r\n" for header in (status, *headers))
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


async def trickle(writer: asyncio.StreamWriter, data: bytes, gap: float = 0.0) -> None:
    """Write ``data`` a byte at a time, each read by the client before the next is written
    (two loop turns apart), or ``gap`` seconds apart."""
    for index in range(len(data)):
        writer.write(data[index : index + 1])
        await writer.drain()
        for _ in range(1 if gap else 2):
            await asyncio.sleep(gap)


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait until ``condition()`` holds (polling each millisecond), or fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the condition never held"
        await asyncio.sleep(0.001)


async def settle() -> None:
    """Let the client's loop read what the server just did (a FIN or stray bytes): a request
    racing that event itself can fail with any HTTP client."""
    await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def pooled(
    url: str,
    *,
    limit: int = 4,
    ssl_context: ssl.SSLContext | None = None,
    connect_timeout: float = 2.0,
    read_timeout: float = 2.0,
    keepalive: float = 30.0,
    proxy: str | None = None,
    proxy_headers: Mapping[str, str] | None = None,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> AsyncIterator[ConnectionPool]:
    pool = ConnectionPool(
        url,
        limit=limit,
        ssl_context=ssl_context,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        keepalive=keepalive,
        proxy=proxy,
        proxy_headers=proxy_headers,
        max_response_bytes=max_response_bytes,
    )
    try:
        yield pool
    finally:
        await pool.close()


# ------------------------------------------------------------------ TLS material
class TLSFiles(NamedTuple):
    cert: Path
    key: Path


@pytest.fixture
def tls_files(tmp_path: Path) -> TLSFiles:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    files = TLSFiles(tmp_path / "cert.pem", tmp_path / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def server_tls(files: TLSFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    return context


def client_tls(files: TLSFiles) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(files.cert))


# ------------------------------------------------------------------ a forward proxy
def forward_proxy(refuse: bytes | None = None, *, silent: bool = False) -> Handler:
    """An HTTP proxy: records the first request of each connection, then forwards an
    absolute-form request to its target, or answers CONNECT (``200``, or ``refuse``, or
    nothing if ``silent``) and pipes bytes both ways."""

    async def handle(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await read_request(reader)
        if request is None:
            return
        server.requests.append(request)
        method, target, _version = request.line.split(" ")
        if method == "CONNECT":
            if silent:
                server.closed_by_client += await client_closed(reader)
                return
            if refuse is not None:
                writer.write(refuse)
                await writer.drain()
                return
            host, _colon, port = target.rpartition(":")
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            parts = urlsplit(target)
            assert parts.hostname is not None
            assert parts.port is not None
            upstream_reader, upstream_writer = await asyncio.open_connection(
                parts.hostname, parts.port
            )
            upstream_writer.write(request.raw)  # as it came: the target server records it
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    return handle


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


# ------------------------------------------------------------------ the exchange
async def test_a_content_length_answer_and_the_request_on_the_wire() -> None:
    big = bytes(range(256)) * 1200  # ~300 KB: read over several reads
    answer = (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: application/x-amz-json-1.0\r\n"
        b"X-Amzn-RequestId:   REQ1  \r\n"
        b"X-Dup: first\r\n"
        b"x-DUP: second\r\n"
        b"CONTENT-length: %d\r\n\r\n" % len(big)
    ) + big
    async with serving(answering(answer)) as server, pooled(server.url("/path")) as pool:
        response = await pool.post(HEADERS, b'{"TableName":"t"}')
    assert isinstance(response, HTTPResponse)
    assert response.status == 200
    assert response.headers == {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-requestid": "REQ1",
        "x-dup": "second",
        "content-length": str(len(big)),
    }
    assert response.body == big
    assert server.requests[0].raw == (
        b"POST /path HTTP/1.1\r\n"
        b"Host: dynamodb.test:8000\r\n"
        b"X-Amz-Target: DynamoDB_20120810.GetItem\r\n"
        b'Content-Length: 17\r\n\r\n{"TableName":"t"}'
    )


async def test_an_empty_body_and_an_endpoint_without_a_path() -> None:
    async with serving(answering(ok(b""))) as server, pooled(server.url("")) as pool:
        response = await pool.post({"Host": "h"}, b"")
    assert (response.status, response.body) == (200, b"")
    assert server.requests[0].raw == b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"


# ------------------------------------------------------------------ keep-alive
@pytest.mark.parametrize(
    ("answer", "reused"),
    [
        pytest.param(ok(), True, id="http11"),
        pytest.param(ok(b"ok", "Connection: keep-alive"), True, id="http11-keep-alive"),
        pytest.param(ok(b"ok", "Connection: close"), False, id="http11-close"),
        pytest.param(ok(b"ok", "Connection: Close"), False, id="http11-close-capitalised"),
        pytest.param(ok(status="HTTP/1.0 200 OK"), False, id="http10"),
        pytest.param(
            ok(b"ok", "Connection: Keep-Alive", status="HTTP/1.0 200 OK"), True, id="http10-ka"
        ),
    ],
)
async def test_connections_are_kept_alive_unless_the_answer_says_otherwise(
    answer: bytes, reused: bool
) -> None:
    async with serving(answering(answer)) as server, pooled(server.url()) as pool:
        for _ in range(3):
            response = await pool.post(HEADERS, b"x")
            assert (response.status, response.body) == (200, b"ok")
        assert server.accepted == (1 if reused else 3)
        if not reused:  # each was closed once its answer was read
            await until(lambda: server.closed_by_client == 3)
        assert server.closed_by_client == (0 if reused else 3)
    assert len(server.requests) == 3


async def test_an_expired_idle_connection_is_closed_not_reused() -> None:
    async with (
        serving(answering(ok())) as server,
        pooled(server.url(), keepalive=0.05) as pool,
    ):
        await pool.post(HEADERS, b"")
        await pool.post(HEADERS, b"")  # at once: reused
        assert server.accepted == 1
        await asyncio.sleep(0.1)
        await pool.post(HEADERS, b"")
        assert server.accepted == 2
        await until(lambda: server.closed_by_client == 1)  # the expired one was closed


async def test_an_idle_connection_the_server_closed_is_skipped() -> None:
    async def answer_once(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await read_request(reader)
        assert request is not None
        server.requests.append(request)
        writer.write(ok(b"fresh" if len(server.requests) > 1 else b"first"))
        await writer.drain()
        # then close, as a server ends an idle keep-alive connection (no Connection: close)

    async with serving(answer_once) as server, pooled(server.url()) as pool:
        assert (await pool.post(HEADERS, b"")).body == b"first"
        await until(lambda: server.open_now == 0)
        await settle()
        assert (await pool.post(HEADERS, b"")).body == b"fresh"
        assert server.accepted == 2


@pytest.mark.timeout(10)
async def test_an_idle_connection_closed_in_the_same_loop_turn_as_an_answer_is_skipped() -> None:
    """The server half-closes idle connection A right after answering B (``Connection:
    close``): the client reads both in one loop turn, so the request made as soon as B's
    answer is in must not be handed A, whose EOF was read but whose transport is not yet
    gone."""
    go = asyncio.Event()
    writers: dict[bytes, asyncio.StreamWriter] = {}

    async def one_request_each(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await read_request(reader)
        assert request is not None
        server.requests.append(request)
        writers[request.body] = writer
        if request.body == b"two":
            await go.wait()
            writer.write(ok(b"two", "Connection: close"))
            writers[b"one"].write_eof()  # A's FIN, right behind B's answer
        else:
            writer.write(ok(request.body))
        await writer.drain()
        server.closed_by_client += await client_closed(reader)

    async with serving(one_request_each) as server, pooled(server.url()) as pool:

        async def two_then_three() -> list[bytes]:
            two = await pool.post(HEADERS, b"two")
            return [two.body, (await pool.post(HEADERS, b"three")).body]  # at once

        first = asyncio.create_task(pool.post(HEADERS, b"one"))
        rest = asyncio.create_task(two_then_three())
        assert (await first).body == b"one"  # A is idle now; B waits for its answer
        go.set()
        assert await rest == [b"two", b"three"]
        assert server.accepted == 3


@pytest.mark.parametrize("when", ["while-idle", "with-the-answer"])
async def test_bytes_nobody_asked_for_keep_a_connection_from_reuse(when: str) -> None:
    stray = ok(b"stray")
    first_answered = asyncio.Event()

    async def answer_then_stray(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (request := await read_request(reader)) is not None:
            server.requests.append(request)
            if len(server.requests) > 1:
                writer.write(ok(b"second"))
            elif when == "with-the-answer":
                writer.write(ok(b"first") + stray)
            else:
                writer.write(ok(b"first"))
                await first_answered.wait()
                writer.write(stray)
            await writer.drain()
        server.closed_by_client += 1

    async with serving(answer_then_stray) as server, pooled(server.url()) as pool:
        assert (await pool.post(HEADERS, b"")).body == b"first"
        first_answered.set()
        await settle()
        assert (await pool.post(HEADERS, b"")).body == b"second"
        assert server.accepted == 2
        await until(lambda: server.closed_by_client == 1)


# ------------------------------------------------------------------ framing
CHUNKED = (
    b"HTTP/1.1 200 OK\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Trailer: X-Checksum\r\n\r\n"
    b"4\r\nWiki\r\n"
    b"5;name=value\r\npedia\r\n"
    b"E\r\n in\r\n\r\nchunks.\r\n"
    b"0\r\n"
    b"X-Checksum: abc\r\n"
    b"\r\n"
)


@pytest.mark.parametrize("delivery", ["byte-by-byte", "in-one-piece"])
@pytest.mark.timeout(10)
async def test_a_chunked_answer_with_extensions_and_trailers(delivery: str) -> None:
    async def chunked(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (request := await read_request(reader)) is not None:
            server.requests.append(request)
            if delivery == "byte-by-byte":
                await trickle(writer, CHUNKED)
            else:
                writer.write(CHUNKED)
                await writer.drain()

    async with serving(chunked) as server, pooled(server.url()) as pool:
        for _ in range(2):  # the whole answer, trailers included, was consumed: reused
            response = await pool.post(HEADERS, b"")
            assert response.status == 200
            assert response.body == b"Wikipedia in\r\n\r\nchunks."
            assert "x-checksum" not in response.headers  # trailers are not headers
        assert server.accepted == 1


async def test_a_close_delimited_body_is_read_to_the_end() -> None:
    body = b"0123456789" * 30_000

    async def close_delimited(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await read_request(reader)
        assert request is not None
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        for start in range(0, len(body), 65536):
            writer.write(body[start : start + 65536])
            await writer.drain()
            await asyncio.sleep(0)
        # the handler ends: the server closes the connection, which ends the body

    async with serving(close_delimited) as server, pooled(server.url()) as pool:
        for _ in range(2):  # the second one cannot reuse the closed connection
            response = await pool.post(HEADERS, b"")
            assert (response.status, response.body) == (200, body)
        assert server.accepted == 2


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"HTTP/1.1 204 No Content\r\n\r\n", id="204"),
        pytest.param(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", id="204-length-0"),
        pytest.param(b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n", id="304"),
    ],
)
@pytest.mark.timeout(10)
async def test_answers_without_a_body(answer: bytes) -> None:
    async with serving(answering(answer)) as server, pooled(server.url()) as pool:
        for _ in range(2):  # answered at once, and the connection is reused
            response = await pool.post(HEADERS, b"")
            assert response.body == b""
            assert response.status in (204, 304)
        assert server.accepted == 1


@pytest.mark.parametrize("split", [False, True], ids=["in-one-piece", "interim-first"])
async def test_interim_answers_are_skipped(split: bool) -> None:
    interim = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    )
    final = ok(b"final", "X-Final: yes")

    async def with_interim(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (request := await read_request(reader)) is not None:
            server.requests.append(request)
            if split:
                await trickle(writer, interim)
                writer.write(final)
            else:
                writer.write(interim + final)
            await writer.drain()

    async with serving(with_interim) as server, pooled(server.url()) as pool:
        for _ in range(2):
            response = await pool.post(HEADERS, b"")
            assert (response.status, response.body) == (200, b"final")
            assert response.headers["x-final"] == "yes"
            assert "link" not in response.headers  # the interim answer's headers are dropped
        assert server.accepted == 1


# ------------------------------------------------------------------ broken answers
CLOSED = "closed the connection before the whole response"
TRUNCATED = [  # the server sends this and closes
    pytest.param(b"", id="closed-before-answering"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Len", id="closed-in-the-headers"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", id="closed-mid-body"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npe",
        id="closed-mid-chunks",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n",
        id="closed-in-the-trailers",
    ),
]
STATUS = "a malformed HTTP response: (Expected|Invalid status)"
LENGTH = "a malformed HTTP response: Invalid character in Content-Length"
CHUNK = "a malformed HTTP response: Invalid character in chunk size"
MALFORMED = [  # the server sends this and keeps the connection open: the client must hang up
    pytest.param(b"HTTP/2 200 OK\r\n\r\n", STATUS, id="http2-status-line"),
    pytest.param(b"ICY 200 OK\r\n\r\n", STATUS, id="not-http"),
    pytest.param(b"HTTP/1.1 2x0 OK\r\n\r\n", STATUS, id="status-not-digits"),
    pytest.param(b"HTTP/1.1 20\r\n\r\n", STATUS, id="status-too-short"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", LENGTH, id="length-words"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", LENGTH, id="length-negative"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 1.5\r\n\r\nab", LENGTH, id="length-fraction"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab", LENGTH, id="length-list"),
    pytest.param(
        "HTTP/1.1 200 OK\r\nContent-Length: \u00b2\r\n\r\nab".encode(),
        LENGTH,
        id="length-superscript-digit",
    ),
    pytest.param(
        "HTTP/1.1 200 OK\r\nContent-Length: \u0662\r\n\r\nab".encode(),
        LENGTH,
        id="length-arabic-indic-digit",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
        "Expected LF after chunk data",
        id="chunk-without-crlf",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        CHUNK,
        id="chunk-size-not-hex",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nab\r\n0\r\n\r\n",
        CHUNK,
        id="chunk-size-empty",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\n0\r\n\r\n",
        CHUNK,
        id="chunk-size-negative",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n",
        CHUNK,
        id="chunk-size-0x",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\n"
        + b"a" * 16
        + b"\r\n0\r\n\r\n",
        CHUNK,
        id="chunk-size-underscore",
    ),
    # what the hand-written parser took and llhttp refuses (issue 14: request smuggling and
    # desynchronised keep-alive connections start with answers like these)
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nab\r\n0\r\n\r\n",
        "Transfer-Encoding can't be present with Content-Length",
        id="length-and-chunked",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "Duplicate Content-Length",
        id="two-lengths",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nX-A: one\r\n  two\r\nContent-Length: 2\r\n\r\nab",
        "a malformed HTTP response",
        id="folded-header",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nX-\x00A: one\r\nContent-Length: 2\r\n\r\nab",
        "Invalid header token",
        id="nul-in-header-name",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nab",
        "Invalid header field char",
        id="space-before-colon",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        "an unsupported Transfer-Encoding: 'xchunked'",
        id="xchunked",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nab",
        "Chunk size overflow",
        id="chunk-size-overflow",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\nab",
        "Content-Length 1048577 exceeds the 1048576-byte cap",
        id="length-over-the-cap",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (b"80000\r\n" + b"c" * 0x80000 + b"\r\n") * 3,
        "body exceeds the 1048576-byte cap",
        id="chunks-over-the-cap",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\n\r\n" + b"c" * (1024 * 1024 + 1),
        "body exceeds the 1048576-byte cap",
        id="close-delimited-over-the-cap",
    ),
]


def _answer_once(answer: bytes, *, then_close: bool) -> Handler:
    async def once(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await read_request(reader)
        assert request is not None
        writer.write(answer)
        await writer.drain()
        if not then_close:
            server.closed_by_client += await client_closed(reader)

    return once


@pytest.mark.parametrize(
    ("answer", "message"),
    [pytest.param(*case.values, CLOSED, id=case.id) for case in TRUNCATED] + MALFORMED,
)
@pytest.mark.timeout(10)
async def test_a_broken_answer_is_a_connection_error(
    answer: bytes, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncio")
    handler = _answer_once(answer, then_close=message == CLOSED)
    async with (
        serving(handler) as server,
        pooled(server.url(), read_timeout=5.0, max_response_bytes=1024 * 1024) as pool,
    ):
        with pytest.raises(HTTPConnectionError, match=message) as caught:
            await pool.post(HEADERS, b"")
        assert isinstance(caught.value, ConnectionError)
        if message != CLOSED:
            await until(lambda: server.closed_by_client == 1)  # the client hung up
    # refused cleanly, not by an exception escaping into the event loop
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_the_default_cap_refuses_a_length_over_64_mib() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\nab" % (64 * 1024 * 1024 + 1)
    async with serving(_answer_once(answer, then_close=False)) as server:
        async with pooled(server.url()) as pool:
            with pytest.raises(HTTPConnectionError, match="exceeds the 67108864-byte cap"):
                await pool.post(HEADERS, b"")
        await until(lambda: server.closed_by_client == 1)  # the client hung up


@pytest.mark.parametrize("ending", [b"", b"\r\n\r\n"], ids=["streaming", "in-one-piece"])
@pytest.mark.timeout(10)
async def test_headers_over_64_kb_are_refused(ending: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"f" * (100 * 1024) + b"\r\nContent-Length: 0"

    async def huge_head(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await read_request(reader)
        assert request is not None
        writer.write(head + ending)
        await writer.drain()
        server.closed_by_client += await client_closed(reader)

    async with (
        serving(huge_head) as server,
        pooled(server.url(), read_timeout=5.0) as pool,  # refused long before a timeout
    ):
        with pytest.raises(HTTPConnectionError, match="64 KB"):
            await pool.post(HEADERS, b"")
        await until(lambda: server.closed_by_client == 1)


async def test_a_refused_connection_is_connection_refused_error() -> None:
    with socket.socket() as bound:  # bound, never listening: connecting is refused at once
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        async with pooled(f"http://127.0.0.1:{port}/") as pool:
            with pytest.raises(ConnectionRefusedError):
                await pool.post(HEADERS, b"")


# ------------------------------------------------------------------ timeouts
@pytest.mark.parametrize(
    "sent",
    [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"],
    ids=["nothing", "part-of-the-body"],
)
@pytest.mark.timeout(10)
async def test_a_silent_server_times_out_and_its_connection_is_closed(sent: bytes) -> None:
    loop = asyncio.get_running_loop()
    async with (
        serving(_answer_once(sent, then_close=False)) as server,
        pooled(server.url(), read_timeout=0.1) as pool,
    ):
        start = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await pool.post(HEADERS, b"")
        assert 0.1 <= loop.time() - start < 1.0
        await until(lambda: server.closed_by_client == 1)


@pytest.mark.timeout(10)
async def test_a_slow_but_steady_answer_does_not_time_out() -> None:
    body = b"steady"

    async def slow(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await read_request(reader)
        assert request is not None
        writer.write(ok(body)[: -len(body)])  # the head at once, then the body slowly
        await trickle(writer, body, gap=0.05)  # 0.05 s apart: 0.3 s in all

    loop = asyncio.get_running_loop()
    async with serving(slow) as server, pooled(server.url(), read_timeout=0.15) as pool:
        start = loop.time()
        response = await pool.post(HEADERS, b"")
        assert loop.time() - start > 0.15
    assert response.body == body


@contextlib.contextmanager
def full_listener() -> Iterator[int]:
    """A port whose listener never accepts and whose accept queue is full: connecting hangs
    (the kernel drops the SYN) instead of being refused."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(16):
            filler = socket.socket()
            fillers.append(filler)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            _, writable, _ = select.select([], [filler], [], 0.05)
            if not writable:  # this one hangs: the queue is full
                break
        else:
            pytest.fail("could not fill the listener's accept queue")
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.timeout(10)
async def test_connecting_times_out_when_the_server_never_accepts() -> None:
    loop = asyncio.get_running_loop()
    with full_listener() as port:
        async with pooled(f"http://127.0.0.1:{port}/", connect_timeout=0.1) as pool:
            start = loop.time()
            with pytest.raises(asyncio.TimeoutError):
                await pool.post(HEADERS, b"")
            assert 0.1 <= loop.time() - start < 1.0


# ------------------------------------------------------------------ cancellation and the limit
@pytest.mark.timeout(10)
async def test_cancelling_a_request_closes_its_connection() -> None:
    received = asyncio.Event()

    async def first_never_answers(
        server: Server, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if number > 0:
            await answering(ok(b"later"))(server, number, reader, writer)
            return
        request = await read_request(reader)
        assert request is not None
        received.set()
        server.closed_by_client += await client_closed(reader)

    async with serving(first_never_answers) as server, pooled(server.url()) as pool:
        task = asyncio.create_task(pool.post(HEADERS, b""))
        await received.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: server.closed_by_client == 1)
        assert (await pool.post(HEADERS, b"")).body == b"later"
        assert server.accepted == 2


@pytest.mark.timeout(10)
async def test_the_pool_never_opens_more_than_its_limit() -> None:
    async def slow_answers(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (request := await read_request(reader)) is not None:
            server.requests.append(request)
            await asyncio.sleep(0.02)
            writer.write(ok(request.body))
            await writer.drain()

    async with serving(slow_answers) as server, pooled(server.url(), limit=2) as pool:
        bodies = [str(n).encode() for n in range(5)]
        responses = await asyncio.gather(*(pool.post(HEADERS, body) for body in bodies))
        assert [r.body for r in responses] == bodies
        assert server.max_open == 2
        assert server.accepted == 2


# ------------------------------------------------------------------ TLS
@pytest.mark.parametrize("framing", ["content-length", "close-delimited"])
@pytest.mark.timeout(10)
async def test_tls_with_a_trusted_certificate(tls_files: TLSFiles, framing: str) -> None:
    answer = ok(b"secret") if framing == "content-length" else b"HTTP/1.1 200 OK\r\n\r\nsecret"

    async def over_tls(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (request := await read_request(reader)) is not None:
            server.requests.append(request)
            writer.write(answer)
            await writer.drain()
            if framing == "close-delimited":
                return  # closing (with TLS close_notify) ends the body

    async with (
        serving(over_tls, server_tls(tls_files)) as server,
        pooled(server.url(), ssl_context=client_tls(tls_files)) as pool,
    ):
        for _ in range(2):
            response = await pool.post(HEADERS, b"payload")
            assert (response.status, response.body) == (200, b"secret")
        assert server.accepted == (1 if framing == "content-length" else 2)
    assert [r.line for r in server.requests] == ["POST /path HTTP/1.1"] * 2
    assert server.requests[0].body == b"payload"


@pytest.mark.timeout(10)
async def test_tls_with_an_untrusted_certificate_fails(tls_files: TLSFiles) -> None:
    untrusting = ssl.create_default_context()  # the system's CAs: not our self-signed one
    async with (
        serving(answering(ok()), server_tls(tls_files)) as server,
        pooled(server.url(), ssl_context=untrusting) as pool,
    ):
        with pytest.raises(HTTPConnectionError, match="TLS") as caught:
            await pool.post(HEADERS, b"")
        assert isinstance(caught.value, OSError)
        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        assert server.requests == []


# ------------------------------------------------------------------ proxies
def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def test_proxy_authorization_comes_from_the_proxy_url() -> None:
    assert proxy_authorization("http://127.0.0.1:3128") == {}
    assert proxy_authorization("http://user:p%40ss@127.0.0.1:3128") == {
        "Proxy-Authorization": basic("user:p@ss")
    }
    assert proxy_authorization("http://us%3Aer@proxy") == {"Proxy-Authorization": basic("us:er:")}


@pytest.mark.parametrize(
    ("url", "proxy", "message"),
    [
        ("http://127.0.0.1:1/", "https://127.0.0.1:3128", "needs an SSL context"),
        ("https://127.0.0.1:1/", "https://127.0.0.1:3128", "needs an SSL context"),
        (
            "http://127.0.0.1:1/",
            "socks5://127.0.0.1:1080",
            r"^the proxy URL is not a valid http\(s\) URL .*\(not shown: it may hold",
        ),
        ("https://127.0.0.1:1/", None, "needs an SSL context"),
        ("ftp://127.0.0.1:1/", None, "^the endpoint URL is not a valid http.*'ftp://127"),
        ("http:///path", None, "^the endpoint URL is not a valid http.*'http:///path'"),
        ("http://127.0.0.1:70000/", None, "^the endpoint URL is not a valid http.*:70000/'"),
    ],
)
def test_unsupported_urls_are_refused_at_construction(
    url: str, proxy: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ConnectionPool(
            url,
            limit=1,
            ssl_context=None,
            connect_timeout=1.0,
            read_timeout=1.0,
            keepalive=1.0,
            proxy=proxy,
        )


@pytest.mark.timeout(10)
async def test_an_http_endpoint_through_a_proxy() -> None:
    async with (
        serving(answering(ok(b"via proxy"))) as target,
        serving(forward_proxy()) as proxy,
        pooled(
            target.url("/path"),
            proxy=f"http://user:p%40ss@127.0.0.1:{proxy.port}",
            proxy_headers={"X-Proxy-Note": "hello"},
        ) as pool,
    ):
        for _ in range(2):
            response = await pool.post(HEADERS, b"body")
            assert (response.status, response.body) == (200, b"via proxy")
        assert (proxy.accepted, target.accepted) == (1, 1)  # kept alive through the proxy
    assert proxy.requests[0].line == f"POST http://127.0.0.1:{target.port}/path HTTP/1.1"
    for request in target.requests:  # the proxy forwards each request as it came
        assert request.line == f"POST http://127.0.0.1:{target.port}/path HTTP/1.1"
        assert request.headers["Proxy-Authorization"] == basic("user:p@ss")
        assert request.headers["X-Proxy-Note"] == "hello"
        assert request.headers["Host"] == "dynamodb.test:8000"
        assert request.body == b"body"


@pytest.mark.timeout(10)
async def test_an_https_endpoint_through_a_proxy_tunnel(tls_files: TLSFiles) -> None:
    async with (
        serving(answering(ok(b"tunnelled")), server_tls(tls_files)) as target,
        serving(forward_proxy()) as proxy,
        pooled(
            target.url("/path"),
            ssl_context=client_tls(tls_files),
            proxy=f"http://user:p%40ss@127.0.0.1:{proxy.port}",
            proxy_headers={"X-Proxy-Note": "hello"},
        ) as pool,
    ):
        for _ in range(2):
            response = await pool.post(HEADERS, b"body")
            assert (response.status, response.body) == (200, b"tunnelled")
        assert (proxy.accepted, target.accepted) == (1, 1)  # one tunnel, kept alive
    connect = proxy.requests[0]
    authority = f"127.0.0.1:{target.port}"
    assert connect.line == f"CONNECT {authority} HTTP/1.1"
    assert connect.headers == {
        "Host": authority,
        "Proxy-Authorization": basic("user:p@ss"),
        "X-Proxy-Note": "hello",
    }
    for request in target.requests:  # inside the tunnel: nothing for the proxy
        assert request.line == "POST /path HTTP/1.1"
        assert "Proxy-Authorization" not in request.headers
        assert "X-Proxy-Note" not in request.headers
        assert request.body == b"body"


@pytest.mark.timeout(10)
async def test_a_proxy_refusing_the_tunnel_is_a_connection_error(tls_files: TLSFiles) -> None:
    refusal = (
        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
        b'Proxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 6\r\n\r\ndenied'
    )
    async with (
        serving(forward_proxy(refusal)) as proxy,
        pooled(
            "https://127.0.0.1:9/path",
            ssl_context=client_tls(tls_files),
            proxy=f"http://127.0.0.1:{proxy.port}",
        ) as pool,
    ):
        with pytest.raises(HTTPConnectionError, match="407"):
            await pool.post(HEADERS, b"")
    assert proxy.requests[0].line == "CONNECT 127.0.0.1:9 HTTP/1.1"
    assert "Proxy-Authorization" not in proxy.requests[0].headers


@pytest.mark.timeout(10)
async def test_a_proxy_that_never_answers_connect_times_out(tls_files: TLSFiles) -> None:
    loop = asyncio.get_running_loop()
    async with (
        serving(forward_proxy(silent=True)) as proxy,
        pooled(
            "https://127.0.0.1:9/path",
            ssl_context=client_tls(tls_files),
            proxy=f"http://127.0.0.1:{proxy.port}",
            connect_timeout=0.1,
            read_timeout=5.0,
        ) as pool,
    ):
        start = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await pool.post(HEADERS, b"")
        assert 0.1 <= loop.time() - start < 1.0
        await until(lambda: proxy.closed_by_client == 1)  # the half-open tunnel was closed


# ------------------------------------------------------------------ https proxies
#: The pool's refusal of TLS inside TLS where asyncio cannot do it (Python 3.10)
TLS_IN_TLS_REFUSED = r"^an https endpoint through an https proxy needs Python 3\.11 or later$"


def assert_tls_in_tls_refused(url: str, proxy: str, ssl_context: ssl.SSLContext) -> None:
    """On Python 3.10 the pool refuses TLS in TLS when it is made, naming the version."""
    with pytest.raises(ValueError, match=TLS_IN_TLS_REFUSED):
        ConnectionPool(
            url,
            limit=1,
            ssl_context=ssl_context,
            connect_timeout=1.0,
            read_timeout=1.0,
            keepalive=1.0,
            proxy=proxy,
        )


def tls_proxy_url(proxy: Server) -> str:
    """The URL of a proxy listening with TLS, with credentials (``user``, ``p@ss``) in it."""
    assert proxy.ssl_context is not None
    return f"https://user:p%40ss@127.0.0.1:{proxy.port}"


@pytest.mark.timeout(10)
async def test_an_http_endpoint_through_an_https_proxy(tls_files: TLSFiles) -> None:
    async with (
        serving(answering(ok(b"via tls proxy"))) as target,
        serving(forward_proxy(), server_tls(tls_files)) as proxy,
        pooled(
            target.url("/path"),
            ssl_context=client_tls(tls_files),  # verifies the proxy's certificate
            proxy=tls_proxy_url(proxy),
            proxy_headers={"X-Proxy-Note": "hello"},
        ) as pool,
    ):
        for _ in range(2):
            response = await pool.post(HEADERS, b"body")
            assert (response.status, response.body) == (200, b"via tls proxy")
        assert (proxy.accepted, target.accepted) == (1, 1)  # kept alive through the proxy
        await pool.close()  # closing the TLS connection to the proxy ends both legs
        await until(lambda: (proxy.open_now, target.open_now) == (0, 0))
    absolute = f"POST http://127.0.0.1:{target.port}/path HTTP/1.1"
    assert proxy.requests[0].line == absolute
    assert len(target.requests) == 2
    for request in target.requests:  # each request carries the proxy's headers
        assert request.line == absolute
        assert request.headers["Proxy-Authorization"] == basic("user:p@ss")
        assert request.headers["X-Proxy-Note"] == "hello"
        assert request.headers["Host"] == "dynamodb.test:8000"
        assert request.body == b"body"


@pytest.mark.timeout(10)
async def test_an_https_endpoint_through_an_https_proxy_is_tls_in_tls(
    tls_files: TLSFiles,
) -> None:
    if not _http.TLS_IN_TLS:
        async with (
            serving(answering(ok()), server_tls(tls_files)) as target,
            serving(forward_proxy(), server_tls(tls_files)) as proxy,
        ):
            assert_tls_in_tls_refused(
                target.url("/path"), tls_proxy_url(proxy), client_tls(tls_files)
            )
            assert (proxy.accepted, target.accepted) == (0, 0)
        return
    async with (
        serving(answering(ok(b"tls in tls")), server_tls(tls_files)) as target,
        serving(forward_proxy(), server_tls(tls_files)) as proxy,
        pooled(
            target.url("/path"),
            ssl_context=client_tls(tls_files),  # for the proxy and for the endpoint
            proxy=tls_proxy_url(proxy),
            proxy_headers={"X-Proxy-Note": "hello"},
        ) as pool,
    ):
        for _ in range(2):
            response = await pool.post(HEADERS, b"body")
            assert (response.status, response.body) == (200, b"tls in tls")
        # one TLS connection to the proxy, one CONNECT, one tunnel kept alive
        assert (proxy.accepted, target.accepted) == (1, 1)
        await pool.close()  # closing the inner TLS closes the outer one and the socket
        await until(lambda: (proxy.open_now, target.open_now) == (0, 0))
    authority = f"127.0.0.1:{target.port}"
    assert [r.line for r in proxy.requests] == [f"CONNECT {authority} HTTP/1.1"]
    assert proxy.requests[0].headers == {
        "Host": authority,
        "Proxy-Authorization": basic("user:p@ss"),
        "X-Proxy-Note": "hello",
    }
    # the target listens with TLS only and the proxy pipes raw bytes: TLS ran in the tunnel
    assert len(target.requests) == 2
    for request in target.requests:  # inside the tunnel: nothing for the proxy
        assert request.line == "POST /path HTTP/1.1"
        assert "Proxy-Authorization" not in request.headers
        assert "X-Proxy-Note" not in request.headers
        assert request.body == b"body"


@pytest.mark.parametrize("endpoint_tls", [False, True], ids=["http-endpoint", "https-endpoint"])
@pytest.mark.timeout(10)
async def test_an_https_proxy_with_an_untrusted_certificate_fails(
    tls_files: TLSFiles, endpoint_tls: bool
) -> None:
    untrusting = ssl.create_default_context()  # the system's CAs: not our self-signed one
    if endpoint_tls and not _http.TLS_IN_TLS:
        async with (
            serving(answering(ok()), server_tls(tls_files)) as target,
            serving(forward_proxy(), server_tls(tls_files)) as proxy,
        ):
            assert_tls_in_tls_refused(target.url(), tls_proxy_url(proxy), untrusting)
            assert (proxy.accepted, target.accepted) == (0, 0)
        return
    async with (
        serving(answering(ok()), server_tls(tls_files) if endpoint_tls else None) as target,
        serving(forward_proxy(), server_tls(tls_files)) as proxy,
        pooled(target.url(), ssl_context=untrusting, proxy=tls_proxy_url(proxy)) as pool,
    ):
        proxy_tls = f"TLS with the proxy 127.0.0.1:{proxy.port} failed"  # not the endpoint
        with pytest.raises(HTTPConnectionError, match=re.escape(proxy_tls)) as caught:
            await pool.post(HEADERS, b"")
        assert isinstance(caught.value, OSError)
        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        assert proxy.requests == []  # nothing was sent over the refused handshake
        assert (target.accepted, target.requests) == (0, [])


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_repr_of_a_pool_through_a_proxy_hides_its_credentials(scheme: str) -> None:
    proxy = f"{scheme}://alice:s3cr%40t@127.0.0.1:3128"
    if scheme == "https" and not _http.TLS_IN_TLS:  # the refusal names no credential
        assert_tls_in_tls_refused("https://127.0.0.1:8000/", proxy, ssl.create_default_context())
        return
    pool = ConnectionPool(
        "https://127.0.0.1:8000/",
        limit=1,
        ssl_context=ssl.create_default_context(),
        connect_timeout=1.0,
        read_timeout=1.0,
        keepalive=1.0,
        proxy=proxy,
    )
    text = repr(pool)
    tls = " (TLS)" if scheme == "https" else ""
    assert text == f"<ConnectionPool 127.0.0.1:8000 via proxy 127.0.0.1:3128{tls}>"
    for secret in ("alice", "s3cr", "%40", "@"):
        assert secret not in text


def test_tls_in_tls_is_refused_before_python_3_11(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "TLS_IN_TLS", False)  # as on Python 3.10

    def construct(url: str, proxy: str) -> ConnectionPool:
        return ConnectionPool(
            url,
            limit=1,
            ssl_context=ssl.create_default_context(),
            connect_timeout=1.0,
            read_timeout=1.0,
            keepalive=1.0,
            proxy=proxy,
        )

    with pytest.raises(ValueError, match=TLS_IN_TLS_REFUSED):
        construct("https://127.0.0.1:1/", "https://127.0.0.1:3128")
    construct("http://127.0.0.1:1/", "https://127.0.0.1:3128")  # TLS to the proxy only
    construct("https://127.0.0.1:1/", "http://127.0.0.1:3128")  # TLS in a plain tunnel


# ------------------------------------------------------------------ closing the pool
@pytest.mark.timeout(10)
async def test_close_closes_idle_connections_and_refuses_new_requests() -> None:
    async with serving(answering(ok())) as server:
        pool = ConnectionPool(
            server.url(),
            limit=2,
            ssl_context=None,
            connect_timeout=1.0,
            read_timeout=1.0,
            keepalive=30.0,
        )
        await pool.post(HEADERS, b"")
        closed = [pool.closed]
        await pool.close()
        closed.append(pool.closed)
        assert closed == [False, True]
        await until(lambda: server.closed_by_client == 1)
        with pytest.raises(HTTPConnectionError, match="closed"):
            await pool.post(HEADERS, b"")
        assert server.accepted == 1
        assert repr(pool) == f"<ConnectionPool 127.0.0.1:{server.port}>"


@pytest.mark.timeout(10)
async def test_a_request_in_flight_at_close_finishes_and_then_closes_its_connection() -> None:
    received = asyncio.Event()
    release = asyncio.Event()

    async def held(
        server: Server, _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await read_request(reader)
        assert request is not None
        received.set()
        await release.wait()
        writer.write(ok(b"done"))
        await writer.drain()
        server.closed_by_client += await client_closed(reader)

    async with serving(held) as server, pooled(server.url()) as pool:
        task = asyncio.create_task(pool.post(HEADERS, b""))
        await received.wait()
        await pool.close()
        release.set()
        assert (await task).body == b"done"
        await until(lambda: server.closed_by_client == 1)
