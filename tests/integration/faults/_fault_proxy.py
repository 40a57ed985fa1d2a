"""A fault-injecting HTTP proxy in front of a DynamoDB endpoint (DynamoDB Local in the tests).

``FaultProxy`` listens on a free port of 127.0.0.1 and forwards every request to the real
server, except that, at the rates of the current :class:`Faults` plan, it

- answers a throttling error (``ProvisionedThroughputExceededException``,
  ``ThrottlingException`` or ``RequestLimitExceeded``: status 400 and the JSON body DynamoDB
  sends) without forwarding;
- answers 500 ``InternalServerError`` or 503 ``ServiceUnavailable`` without forwarding;
- resets the connection (SO_LINGER 0, so the kernel sends RST) after reading the request;
- hangs: reads the request, sleeps ``hang_seconds`` (longer than the client's read timeout),
  then closes the connection;
- forwards only a random subset of a BatchWriteItem's items (or a BatchGetItem's keys) and
  answers the rest in ``UnprocessedItems`` (``UnprocessedKeys``), so the server holds exactly
  what the response says was processed;
- cancels a TransactWriteItems (``TransactionCanceledException`` with one
  ``CancellationReasons`` entry per action) without forwarding;
- makes a write ambiguous: forwards it, lets the server apply it, then answers 500 or resets
  the connection instead of passing the server's answer on.

Each request gets at most one fault, from one draw of a ``random.Random(seed)`` that belongs to
the proxy, so a run is reproducible as far as the order in which concurrent requests arrive
is. Plans are changed at run time from the test (``proxy.configure(throttle=0.2)``), may be
limited to some operations (read from the ``X-Amz-Target`` header) and may last for a number
of requests before the next plan takes over (``proxy.schedule(plan, plan, ...)``).

DynamoDB Local does not verify SigV4 signatures (a wrong signature is accepted; only a
missing Authorization header is refused), but a rewritten request body is re-signed anyway
with ``botocore.auth.SigV4Auth`` and the test credentials, so the forwarded request is one a
verifying server would accept too.

The proxy runs its own event loop in a background thread; use it as a context manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import re
import socket
import struct
import threading
import uuid
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

__all__ = [
    "FAULT_KINDS",
    "SERVER_ERRORS",
    "THROTTLE_ERRORS",
    "FaultProxy",
    "Faults",
    "ProxyStats",
]

#: Throttling code -> (``__type`` DynamoDB sends, message). botocore takes the code from
#: the part of ``__type`` after ``#``.
THROTTLE_ERRORS: dict[str, tuple[str, str]] = {
    "ProvisionedThroughputExceededException": (
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    ),
    "ThrottlingException": (
        "com.amazon.coral.availability#ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    ),
    "RequestLimitExceeded": (
        "com.amazonaws.dynamodb.v20120810#RequestLimitExceeded",
        "Throughput exceeds the current throughput limit for your account.",
    ),
}

#: HTTP status -> (``__type``, message) of DynamoDB's server-side failures.
SERVER_ERRORS: dict[int, tuple[str, str]] = {
    500: ("com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
    503: ("com.amazonaws.dynamodb.v20120810#ServiceUnavailable", "Service unavailable"),
}

_TRANSACTION_CANCELLED = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"

#: Fault kinds, in the order the cumulative draw walks them.
FAULT_KINDS = (
    "throttle",
    "server_error",
    "reset",
    "hang",
    "partial",
    "transaction_cancel",
    "ambiguous_error",
    "ambiguous_reset",
)

_BATCH_OPERATIONS = frozenset({"BatchWriteItem", "BatchGetItem"})
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_JSON = "application/x-amz-json-1.0"


@dataclass(frozen=True)
class Faults:
    """One fault plan: the probability of each fault kind per request.

    The rates are exclusive (one draw per request picks at most one kind), so they must sum
    to at most 1. A kind drawn for an operation it does not apply to (``partial`` on a
    PutItem, ``transaction_cancel`` on anything but TransactWriteItems) means no fault.

    Attributes:
        throttle: Answer a throttling error (code drawn from ``throttle_codes``).
        server_error: Answer a 5xx (status drawn from ``server_statuses``).
        reset: Reset the connection after reading the request.
        hang: Sleep ``hang_seconds`` after reading the request, then close the connection.
        partial: BatchWriteItem/BatchGetItem: forward a random subset (possibly empty, never
            all) and answer the rest as unprocessed.
        transaction_cancel: TransactWriteItems: answer TransactionCanceledException.
        ambiguous_error: Forward (the server applies the request), then answer 500.
        ambiguous_reset: Forward (the server applies the request), then reset the connection.
        operations: Only these operations get faults (and count against ``requests``);
            None means every operation.
        requests: The plan covers this many matching requests, then the next plan of the
            schedule takes over (no faults when none is left); None means forever.
        throttle_codes: Which throttling errors to answer, chosen uniformly.
        server_statuses: Which 5xx statuses to answer, chosen uniformly.
        cancel_code: The cancellation reason of the failing action of a cancelled transaction.
        hang_seconds: How long a hang lasts before the connection is closed.
    """

    throttle: float = 0.0
    server_error: float = 0.0
    reset: float = 0.0
    hang: float = 0.0
    partial: float = 0.0
    transaction_cancel: float = 0.0
    ambiguous_error: float = 0.0
    ambiguous_reset: float = 0.0
    operations: frozenset[str] | None = None
    requests: int | None = None
    throttle_codes: tuple[str, ...] = tuple(THROTTLE_ERRORS)
    server_statuses: tuple[int, ...] = tuple(SERVER_ERRORS)
    cancel_code: str = "ConditionalCheckFailed"
    hang_seconds: float = 5.0

    def __post_init__(self) -> None:
        rates = [getattr(self, kind) for kind in FAULT_KINDS]
        if any(not 0.0 <= rate <= 1.0 for rate in rates) or sum(rates) > 1.0 + 1e-9:
            msg = f"fault rates must be in [0, 1] and sum to at most 1: {self}"
            raise ValueError(msg)
        if not self.throttle_codes or set(self.throttle_codes) - set(THROTTLE_ERRORS):
            msg = f"throttle_codes must be some of {sorted(THROTTLE_ERRORS)}"
            raise ValueError(msg)
        if not self.server_statuses or set(self.server_statuses) - set(SERVER_ERRORS):
            msg = f"server_statuses must be some of {sorted(SERVER_ERRORS)}"
            raise ValueError(msg)
        if self.requests is not None and self.requests < 1:
            msg = "requests must be None or at least 1"
            raise ValueError(msg)

    def applies_to(self, operation: str) -> bool:
        """Say whether requests of ``operation`` are subject to this plan."""
        return self.operations is None or operation in self.operations


def plan(
    *,
    operations: Iterable[str] | None = None,
    **settings: Any,
) -> Faults:
    """Build a :class:`Faults` plan; ``operations`` may be any iterable of names."""
    ops = frozenset(operations) if operations is not None else None
    return Faults(operations=ops, **settings)


@dataclass
class ProxyStats:
    """What the proxy saw and did (a snapshot; see :meth:`FaultProxy.stats`).

    Attributes:
        requests: Requests received, per operation.
        forwarded: Requests that reached the server, per operation.
        faults: Faults injected, per kind (``partial_write`` / ``partial_get`` for partial
            batches).
        throttle_codes: Throttling errors answered, per code.
        server_statuses: 5xx answers injected, per status (ambiguous ones included).
        items_forwarded: BatchWriteItem requests (items) that reached the server.
        items_withheld: BatchWriteItem items answered as unprocessed by the proxy.
        keys_forwarded: BatchGetItem keys that reached the server.
        keys_withheld: BatchGetItem keys answered as unprocessed by the proxy.
    """

    requests: Counter[str] = field(default_factory=Counter)
    forwarded: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    throttle_codes: Counter[str] = field(default_factory=Counter)
    server_statuses: Counter[int] = field(default_factory=Counter)
    items_forwarded: int = 0
    items_withheld: int = 0
    keys_forwarded: int = 0
    keys_withheld: int = 0

    def copy(self) -> ProxyStats:
        """Return a deep-enough copy (fresh counters)."""
        return dataclasses.replace(
            self,
            requests=Counter(self.requests),
            forwarded=Counter(self.forwarded),
            faults=Counter(self.faults),
            throttle_codes=Counter(self.throttle_codes),
            server_statuses=Counter(self.server_statuses),
        )


@dataclass
class _Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def operation(self) -> str:
        target = self.header("X-Amz-Target") or ""
        return target.rpartition(".")[2] or "Unknown"


@dataclass
class _Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class _Decision:
    kind: str | None
    plan: Faults
    rng: random.Random


class _DroppedError(Exception):
    """The connection was reset or closed on purpose; stop serving it."""


#: Errors that end the serving of one connection (a peer that went away, or our own drop).
_STOP_SERVING = (
    _DroppedError,
    ConnectionError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
)


class FaultProxy:
    """A fault-injecting proxy for DynamoDB's JSON protocol, run in a background thread.

    Args:
        upstream: The real endpoint, e.g. ``http://127.0.0.1:8000``.
        seed: Seeds the proxy's ``random.Random`` (fault draws, subsets, codes).
        credentials: Access key id and secret used to re-sign rewritten requests.
    """

    def __init__(
        self,
        upstream: str,
        *,
        seed: int = 0,
        credentials: tuple[str, str] = ("testing", "testing"),
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.seed = seed
        self._credentials = Credentials(*credentials)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._plans: list[Faults] = []
        self._left: int | None = None
        self._stats = ProxyStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._session: aiohttp.ClientSession | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._port = 0

    # ------------------------------------------------------------------ control (any thread)
    @property
    def url(self) -> str:
        """The proxy's endpoint URL (give it to ``DynamoDBConfig(endpoint_url=...)``)."""
        if not self._port:
            msg = "the proxy is not running"
            raise RuntimeError(msg)
        return f"http://127.0.0.1:{self._port}"

    def configure(self, *, operations: Iterable[str] | None = None, **settings: Any) -> None:
        """Replace the schedule with one plan, e.g. ``configure(throttle=0.2, partial=0.3)``.

        With no arguments every fault is off.
        """
        self.schedule(plan(operations=operations, **settings))

    def schedule(self, *plans: Faults) -> None:
        """Replace the schedule: each plan covers its ``requests`` matching requests in turn."""
        with self._lock:
            self._plans = list(plans)
            self._left = self._plans[0].requests if self._plans else None

    def stats(self) -> ProxyStats:
        """Return a snapshot of the counters."""
        with self._lock:
            return self._stats.copy()

    def reset_stats(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._stats = ProxyStats()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FaultProxy:
        """Start the proxy's thread and wait until it listens."""
        if self._thread is not None:
            msg = "the proxy is running already"
            raise RuntimeError(msg)
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="fault-proxy", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=30):
            msg = "the fault proxy did not start"
            raise RuntimeError(msg)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close every connection and the listener, then end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        try:
            future.result(timeout=30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
            self._thread = None
            self._port = 0

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self._listen())
            except BaseException as error:
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None

    async def _listen(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=120),
        )
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self._session is not None:
            await self._session.close()

    # ------------------------------------------------------------------ serving (proxy loop)
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        try:
            while (request := await _read_request(reader)) is not None:
                response = await self._handle(request, writer)
                _write_response(writer, response)
                await writer.drain()
        except _STOP_SERVING:
            pass
        except asyncio.CancelledError:
            # stop() cancels connections; on 3.11 asyncio's start_server callback logs a
            # cancelled handler task as an error, so end quietly instead
            return
        finally:
            self._connections.discard(task)
            self._writers.discard(writer)
            writer.transport.abort()

    def _decide(self, operation: str) -> _Decision:
        """Draw this request's fault (under the lock: the schedule changes from other threads)."""
        with self._lock:
            self._stats.requests[operation] += 1
            current = self._plans[0] if self._plans else Faults()
            if not self._plans or not current.applies_to(operation):
                return _Decision(None, current, random.Random(0))
            if self._left is not None:
                self._left -= 1
                if self._left <= 0:
                    self._plans.pop(0)
                    self._left = self._plans[0].requests if self._plans else None
            draw = self._rng.random()
            child = random.Random(self._rng.getrandbits(64))
            total = 0.0
            for kind in FAULT_KINDS:
                total += getattr(current, kind)
                if draw < total:
                    return _Decision(kind if _applies(kind, operation) else None, current, child)
            return _Decision(None, current, child)

    def _count(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                counter = getattr(self._stats, name)
                if isinstance(counter, Counter):
                    counter.update(value if isinstance(value, Mapping) else [value])
                else:
                    setattr(self._stats, name, counter + value)

    async def _handle(self, request: _Request, writer: asyncio.StreamWriter) -> _Response:
        operation = request.operation
        decision = self._decide(operation)
        kind = decision.kind
        if kind in {"throttle", "server_error", "reset", "hang", "transaction_cancel"}:
            return await self._refuse(request, writer, decision)
        if kind == "partial" and operation == "BatchWriteItem":
            return await self._partial_write(request, decision.rng)
        if kind == "partial" and operation == "BatchGetItem":
            return await self._partial_get(request, decision.rng)
        response = await self._forward(request, operation)
        if kind == "ambiguous_error":
            self._count(faults="ambiguous_error", server_statuses=500)
            return _error(500, *SERVER_ERRORS[500])
        if kind == "ambiguous_reset":
            self._count(faults="ambiguous_reset")
            _reset(writer)
            raise _DroppedError
        return response

    async def _refuse(
        self, request: _Request, writer: asyncio.StreamWriter, decision: _Decision
    ) -> _Response:
        """Inject a fault that keeps the request from the server."""
        kind, faults, rng = decision.kind, decision.plan, decision.rng
        if kind == "throttle":
            code = rng.choice(faults.throttle_codes)
            self._count(faults="throttle", throttle_codes=code)
            return _error(400, *THROTTLE_ERRORS[code])
        if kind == "server_error":
            status = rng.choice(faults.server_statuses)
            self._count(faults="server_error", server_statuses=status)
            return _error(status, *SERVER_ERRORS[status])
        if kind == "transaction_cancel":
            self._count(faults="transaction_cancel")
            return _transaction_cancelled(request, rng, faults.cancel_code)
        if kind == "hang":
            self._count(faults="hang")
            await asyncio.sleep(faults.hang_seconds)
            writer.close()
            raise _DroppedError
        self._count(faults="reset")
        _reset(writer)
        raise _DroppedError

    async def _forward(
        self, request: _Request, operation: str, body: bytes | None = None
    ) -> _Response:
        """Send the request (with ``body`` instead, re-signed, when given) to the server."""
        assert self._session is not None
        headers = [(k, v) for k, v in request.headers if k.lower() not in _HOP_BY_HOP]
        if body is not None:
            headers = self._resign(request, body)
        self._count(forwarded=operation)
        if operation == "BatchWriteItem":
            self._count(items_forwarded=_batch_size(body or request.body, "write"))
        elif operation == "BatchGetItem":
            self._count(keys_forwarded=_batch_size(body or request.body, "get"))
        async with self._session.request(
            request.method,
            self.upstream + request.path,
            data=request.body if body is None else body,
            headers=headers,
            skip_auto_headers=("Accept-Encoding", "User-Agent", "Accept", "Content-Type"),
        ) as answer:
            payload = await answer.read()
            answer_headers = [
                (k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP
            ]
            return _Response(answer.status, answer_headers, payload)

    def _resign(self, request: _Request, body: bytes) -> list[tuple[str, str]]:
        """Return the request's headers for ``body``, signed again (SigV4, same scope)."""
        dropped = _HOP_BY_HOP | {"authorization", "x-amz-date", "x-amz-content-sha256"}
        kept = {k: v for k, v in request.headers if k.lower() not in dropped}
        scope = _CREDENTIAL_SCOPE.search(request.header("Authorization") or "")
        region, service = scope.groups() if scope else ("us-east-1", "dynamodb")
        signed = AWSRequest(
            method=request.method, url=self.upstream + request.path, data=body, headers=kept
        )
        SigV4Auth(self._credentials, service, region).add_auth(signed)
        return list(signed.headers.items())

    async def _partial_write(self, request: _Request, rng: random.Random) -> _Response:
        body = json.loads(request.body)
        sent: dict[str, list[Any]] = {}
        withheld: dict[str, list[Any]] = {}
        for table, writes in body["RequestItems"].items():
            keep, rest = _split(writes, rng)
            if keep:
                sent[table] = keep
            if rest:
                withheld[table] = rest
        held = sum(len(rest) for rest in withheld.values())
        self._count(faults="partial_write", items_withheld=held)
        if not sent:
            return _json(200, {"UnprocessedItems": withheld})
        response = await self._forward(
            request, "BatchWriteItem", json.dumps({**body, "RequestItems": sent}).encode()
        )
        if response.status != 200:
            return response
        answer = json.loads(response.body)
        unprocessed: dict[str, list[Any]] = answer.get("UnprocessedItems") or {}
        for table, rest in withheld.items():
            unprocessed[table] = [*unprocessed.get(table, []), *rest]
        return _rewritten(response, {**answer, "UnprocessedItems": unprocessed})

    async def _partial_get(self, request: _Request, rng: random.Random) -> _Response:
        body = json.loads(request.body)
        sent: dict[str, dict[str, Any]] = {}
        withheld: dict[str, dict[str, Any]] = {}
        for table, spec in body["RequestItems"].items():
            keep, rest = _split(spec["Keys"], rng)
            if keep:
                sent[table] = {**spec, "Keys": keep}
            if rest:
                withheld[table] = {**spec, "Keys": rest}
        held = sum(len(spec["Keys"]) for spec in withheld.values())
        self._count(faults="partial_get", keys_withheld=held)
        if not sent:
            responses: dict[str, list[Any]] = {table: [] for table in body["RequestItems"]}
            return _json(200, {"Responses": responses, "UnprocessedKeys": withheld})
        response = await self._forward(
            request, "BatchGetItem", json.dumps({**body, "RequestItems": sent}).encode()
        )
        if response.status != 200:
            return response
        answer = json.loads(response.body)
        unprocessed: dict[str, dict[str, Any]] = answer.get("UnprocessedKeys") or {}
        for table, spec in withheld.items():
            before = unprocessed.get(table, {}).get("Keys", [])
            unprocessed[table] = {**spec, "Keys": [*before, *spec["Keys"]]}
        responses = answer.get("Responses") or {}
        for table in body["RequestItems"]:
            responses.setdefault(table, [])
        return _rewritten(
            response, {**answer, "Responses": responses, "UnprocessedKeys": unprocessed}
        )


# ---------------------------------------------------------------------- helpers
def _applies(kind: str, operation: str) -> bool:
    if kind == "partial":
        return operation in _BATCH_OPERATIONS
    if kind == "transaction_cancel":
        return operation == "TransactWriteItems"
    return True


def _split(values: list[Any], rng: random.Random) -> tuple[list[Any], list[Any]]:
    """Split into (forwarded, withheld): a random subset, possibly empty, never everything."""
    count = rng.randrange(len(values)) if values else 0
    chosen = set(rng.sample(range(len(values)), count))
    keep = [value for n, value in enumerate(values) if n in chosen]
    rest = [value for n, value in enumerate(values) if n not in chosen]
    return keep, rest


def _batch_size(body: bytes, kind: str) -> int:
    items = json.loads(body).get("RequestItems", {})
    if kind == "write":
        return sum(len(writes) for writes in items.values())
    return sum(len(spec.get("Keys", [])) for spec in items.values())


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort the connection so the peer gets a RST (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _json(status: int, payload: Mapping[str, Any]) -> _Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [
        ("x-amzn-RequestId", uuid.uuid4().hex.upper()),
        ("Content-Type", _JSON),
        ("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF)),
    ]
    return _Response(status, headers, body)


def _error(status: int, kind: str, message: str) -> _Response:
    return _json(status, {"__type": kind, "message": message})


def _rewritten(response: _Response, payload: Mapping[str, Any]) -> _Response:
    """The server's answer with a new JSON body (and a matching CRC32 header)."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [(k, v) for k, v in response.headers if k.lower() != "x-amz-crc32"]
    headers.append(("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF)))
    return _Response(response.status, headers, body)


def _transaction_cancelled(request: _Request, rng: random.Random, code: str) -> _Response:
    actions = len(json.loads(request.body).get("TransactItems", [])) or 1
    failing = rng.randrange(actions)
    reasons: list[dict[str, str]] = [{"Code": "None"} for _ in range(actions)]
    reasons[failing] = {"Code": code, "Message": "The conditional request failed"}
    codes = ", ".join(reason["Code"] for reason in reasons)
    message = (
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
    )
    return _json(
        400,
        {"__type": _TRANSACTION_CANCELLED, "Message": message, "CancellationReasons": reasons},
    )


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Read one HTTP/1.1 request (Content-Length bodies only); None at a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial.strip():
            raise
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    request = _Request(method, path, headers, b"")
    length = int(request.header("Content-Length") or 0)
    request.body = await reader.readexactly(length) if length else b""
    return request


_REASONS = {200: "OK", 400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}


def _write_response(writer: asyncio.StreamWriter, response: _Response) -> None:
    reason = _REASONS.get(response.status, "Unknown")
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    lines.append(f"Content-Length: {len(response.body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    writer.write(head + response.body)
