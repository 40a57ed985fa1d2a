"""The batch engine: 25-item writes and 100-key reads, concurrent, retried, in order per key.

Writes: a fixed pool of worker tasks, run in one anyio task group, pulls chunks from one
shared iterator, so memory stays bounded however long the input is, no task is created per
chunk, and a failure or a cancellation in one worker stops and awaits all the others. A
``_Sequencer`` puts each item in a chunk so that a key's writes apply in stream order: a later
item for a key replaces the earlier one in the chunk being filled, and supersedes one in a
chunk already sent (that one is never sent again; if a request holding it is in flight, the
later item's chunk waits for that request's answer first). Every attempt, failed request or
``UnprocessedItems``, is retried here on one budget per chunk: ``max_retries`` bounds the
attempts in a row that got nothing through, the deadline bounds the chunk and, counted from
the last time any chunk got something through, the call: a call that gets nothing through
ends within the deadline, its chunks not yet sent then given up unsent. What is still not
written after the retries is raised with exactly those items.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio
from anyio.abc import TaskGroup

from .. import _telemetry
from .._capacity import ConsumedCapacity
from .._codec import decode_value
from .._json import EncodedJSON
from .._types import Item, Response
from ..config import DynamoDBConfig
from ..exceptions import BatchWriteError, DynamoDBWrapperError, RetryableError
from . import gateway as _gateway
from .capacity import Charge, Reservation, write_units
from .progress import ProgressCallback
from .retry import AdaptiveLimit, CallProgress, RetryBudget

logger = logging.getLogger("dynamodb_wrapper")

WRITE_CHUNK = 25
READ_CHUNK = 100

T = TypeVar("T")
Key = tuple[Any, ...]

#: Failures a retry may cure (ours subclasses the builtin ConnectionError).
_CURABLE = (RetryableError, ConnectionError)


@dataclass
class BatchResult:
    """Counts of a finished batch.

    Every item of the input is counted once: ``processed + duplicates`` plus the items a
    ``BatchWriteError`` names is the number of items given.

    Attributes:
        processed: Items written or deleted.
        duplicates: Items superseded by a later item with the same key before they were
            written (dropped from their chunk, or never sent again after a partial answer).
        retries: Retries of unprocessed items and failed requests, summed over chunks.
        lowest_concurrency: The fewest requests allowed in flight while throttled (equal
            to ``max_concurrency`` when nothing was throttled).
        consumed_capacity: The capacity units DynamoDB reported for the batch's requests
            (write units, per table and index).
    """

    processed: int = 0
    duplicates: int = 0
    retries: int = 0
    lowest_concurrency: int = 0
    consumed_capacity: ConsumedCapacity = field(default_factory=ConsumedCapacity)


@dataclass(eq=False, slots=True)
class WriteRequest(Generic[T]):
    """One item of a batch write: its key (for ordering and errors), the request, the input.

    The request (a PutRequest or DeleteRequest) is encoded as JSON when the item is read from
    the input: the encoding is done once however often the item is retried, and the item's
    wire dicts are freed at once instead of living, for the garbage collector to walk, while
    the item waits for its chunk.
    """

    key: Key
    request: EncodedJSON
    original: T
    key_names: tuple[str, ...]
    #: A later item of the stream has the same key: this one must not be sent again.
    superseded: bool = field(default=False, repr=False)
    #: Set when a request that may hold an earlier write of this key has been answered.
    after: asyncio.Event | None = field(default=None, repr=False)
    chunk: _Chunk[T] | None = field(default=None, repr=False)


class _Chunk(Generic[T]):
    """Up to 25 requests with distinct keys, and what its sending must wait for."""

    __slots__ = ("absorbed", "in_flight", "requests", "waits")

    def __init__(self) -> None:
        self.requests: dict[Key, WriteRequest[T]] = {}
        #: Items replaced inside this chunk by a later item with the same key.
        self.absorbed = 0
        #: Set while one of this chunk's requests is on the wire; set() when it is answered.
        self.in_flight: asyncio.Event | None = None
        #: Answers of earlier requests (holding earlier writes of our keys) to wait for.
        self.waits: set[asyncio.Event] = set()

    @property
    def size(self) -> int:
        """Items of the input this chunk settles (duplicates it absorbed included)."""
        return len(self.requests) + self.absorbed


class _Sequencer(Generic[T]):
    """Keeps a key's writes in stream order: one unsettled request per key, O(1) per item.

    ``latest`` holds the newest request of each key whose chunk has not settled, so its size
    is bounded by the chunks in flight (``max_concurrency + 1`` times 25).
    """

    def __init__(self) -> None:
        self.latest: dict[Key, WriteRequest[T]] = {}

    def add(self, chunk: _Chunk[T], request: WriteRequest[T]) -> None:
        """Put ``request`` in ``chunk`` (being filled), superseding an earlier one of its key."""
        earlier = self.latest.get(request.key)
        if earlier is not None and earlier.chunk is not None:
            earlier.superseded = True
            # The earlier write may be on the wire (wait for that request's answer), or be
            # waiting itself for an older request of this key that is (wait for that one).
            request.after = earlier.chunk.in_flight or earlier.after
            if earlier.chunk is chunk:
                del chunk.requests[request.key]  # re-added below: last wins
                chunk.absorbed += 1
        if request.after is not None:
            chunk.waits.add(request.after)
        request.chunk = chunk
        chunk.requests[request.key] = request
        self.latest[request.key] = request

    def settled(self, chunk: _Chunk[T]) -> None:
        """Forget the keys of a chunk that is done (unless a later item took them over)."""
        for key, request in chunk.requests.items():
            if self.latest.get(key) is request:
                del self.latest[key]
            request.chunk = None
            request.after = None


@dataclass
class _Failures(Generic[T]):
    items: list[T] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    cause: DynamoDBWrapperError | None = None


async def _chunks(
    source: Iterable[WriteRequest[T]] | AsyncIterable[WriteRequest[T]],
    sequencer: _Sequencer[T],
) -> AsyncGenerator[_Chunk[T], None]:
    chunk: _Chunk[T] = _Chunk()
    if isinstance(source, AsyncIterable):
        async for request in source:
            sequencer.add(chunk, request)
            if len(chunk.requests) == WRITE_CHUNK:
                yield chunk
                chunk = _Chunk()
    else:
        for request in source:
            sequencer.add(chunk, request)
            if len(chunk.requests) == WRITE_CHUNK:
                yield chunk
                chunk = _Chunk()
                await asyncio.sleep(0)  # let workers run between chunks of a sync source
    if chunk.requests:
        yield chunk


@_telemetry.job("batch_write")
async def batch_write(
    config: DynamoDBConfig,
    table: str,
    requests: Iterable[WriteRequest[T]] | AsyncIterable[WriteRequest[T]],
    *,
    progress: ProgressCallback | None = None,
    capacity: Charge | None = None,
) -> BatchResult:
    """Write ``requests`` (PutRequest/DeleteRequest dicts) in concurrent 25-item chunks.

    A key's writes are applied in the order of ``requests``, whatever the concurrency and the
    retries. A cancelled call stops every worker and returns only once they have stopped.

    Raises:
        BatchWriteError: Some items were not written after every retry; it carries exactly
            those originals (``unprocessed_items``) and their keys.
    """
    result = BatchResult()
    limit = AdaptiveLimit(config.max_concurrency)
    _telemetry.watch_limit(limit, table)
    failures: _Failures[T] = _Failures()
    sequencer: _Sequencer[T] = _Sequencer()
    call = CallProgress()
    chunks = _chunks(requests, sequencer)
    lock = asyncio.Lock()
    crashed: list[BaseException] = []
    if capacity is not None:
        await capacity.prepare()  # resolve a percentage once, before the workers start
        result.consumed_capacity = capacity.meter

    async def next_chunk() -> _Chunk[T] | None:
        async with lock:
            return await anext(chunks, None)

    async def work(chunk: _Chunk[T]) -> None:
        done, duplicates, retries, left, cause = await _write_chunk(
            config, table, chunk, limit, call, capacity
        )
        sequencer.settled(chunk)
        result.processed += done
        result.duplicates += duplicates
        result.retries += retries
        if left:
            failures.items.extend(request.original for request in left)
            failures.keys.extend(dict(zip(r.key_names, r.key, strict=True)) for r in left)
            failures.cause = failures.cause or cause
        if progress is not None:
            progress(chunk.size)

    async def worker(group: TaskGroup) -> None:
        try:
            while (chunk := await next_chunk()) is not None:
                await work(chunk)
        except Exception as error:  # noqa: BLE001 - bad input, a callback's error: stop them all
            crashed.append(error)
            group.cancel_scope.cancel()

    try:
        async with anyio.create_task_group() as group:
            for _ in range(config.max_concurrency):
                group.start_soon(worker, group)
    finally:
        _telemetry.forget_limit(limit)
        await chunks.aclose()
    if crashed:
        raise crashed[0]
    result.lowest_concurrency = limit.lowest
    if failures.items:
        msg = (
            f"{len(failures.items)} of {len(failures.items) + result.processed} items were not "
            f"written to {table}"
        )
        raise BatchWriteError(
            msg,
            operation="BatchWriteItem",
            table=table,
            aws_code=failures.cause.aws_code if failures.cause else None,
            retries=result.retries,
            unprocessed_items=failures.items,
            unprocessed_keys=failures.keys,
        ) from failures.cause
    return result


async def _write_chunk(
    config: DynamoDBConfig,
    table: str,
    chunk: _Chunk[T],
    limit: AdaptiveLimit,
    call: CallProgress,
    capacity: Charge | None = None,
) -> tuple[int, int, int, list[WriteRequest[T]], DynamoDBWrapperError | None]:
    """Write one chunk; return (written, superseded, retries, not written, last error)."""
    _check_capacity(capacity, chunk)
    for answered in chunk.waits:
        await answered.wait()
    chunk.waits.clear()
    budget = RetryBudget(_gateway.retry_policy(config), call=call)
    pending = list(chunk.requests.values())
    written = 0
    cause: DynamoDBWrapperError | None = None
    while True:
        reserved = await _paced(capacity, pending, budget)
        async with limit:
            # No await between dropping what was superseded and marking the chunk in flight:
            # a later item of the same key either sees it superseded or waits for this answer.
            pending = _unsuperseded(pending)
            if not pending:
                break
            if budget.remaining <= 0:  # the call got nothing through for its whole deadline
                return _outcome(chunk, written, budget, pending, cause)
            in_flight = chunk.in_flight = asyncio.Event()
            try:
                response: Response | None = await _gateway.call(
                    config,
                    "BatchWriteItem",
                    {"RequestItems": {table: [request.request for request in pending]}},
                    table=table,
                    retry=False,
                    budget=budget,
                    capacity=capacity,
                    reserved=reserved,
                )
            except DynamoDBWrapperError as error:
                if not isinstance(error, _CURABLE):
                    return _outcome(chunk, written, budget, _unsuperseded(pending), error)
                cause, response = error, None
            finally:
                chunk.in_flight = None
                in_flight.set()
        if response is not None:
            unprocessed = response.get("UnprocessedItems", {}).get(table, [])
            if not unprocessed:
                limit.succeeded()
                budget.made_progress()
                written += len(pending)
                break
            left = _match(pending, unprocessed)
            if len(left) < len(pending):
                written += len(pending) - len(left)
                budget.made_progress()
            pending, cause = left, None
        limit.throttled()  # a failed request or unprocessed items: DynamoDB is throttling
        delay = budget.next_delay()
        if delay is None:
            return _outcome(chunk, written, budget, _unsuperseded(pending), cause)
        logger.debug("retrying %d items on %s (retry %d)", len(pending), table, budget.attempts)
        await asyncio.sleep(delay)
    return _outcome(chunk, written, budget, [], None)


async def _paced(
    capacity: Charge | None, pending: list[WriteRequest[T]], budget: RetryBudget
) -> Reservation | None:
    """Wait for the units of ``pending`` (holding no slot; the deadline skips the wait).

    Without a budget nothing waits and nothing is corrected: the answer is only metered,
    so the units are not counted (a few µs per item less).
    """
    if capacity is None:
        return None
    if capacity.budget is None:
        return Reservation(0.0)
    units = float(sum(write_units(request.request) for request in pending))
    reserved = await capacity.acquire(units)
    budget.waited(reserved.waited)
    return reserved


def _check_capacity(capacity: Charge | None, chunk: _Chunk[T]) -> None:
    """Raise CapacityError, naming the item, for an item that can never fit the budget."""
    if capacity is None or capacity.budget is None:
        return
    for request in chunk.requests.values():
        units = write_units(request.request)
        if units > 1:
            key = dict(zip(request.key_names, request.key, strict=True))
            capacity.check(units, f"the item with key {key!r:.300}")


def _unsuperseded(requests: list[WriteRequest[T]]) -> list[WriteRequest[T]]:
    return [request for request in requests if not request.superseded]


def _outcome(
    chunk: _Chunk[T],
    written: int,
    budget: RetryBudget,
    left: list[WriteRequest[T]],
    cause: DynamoDBWrapperError | None,
) -> tuple[int, int, int, list[WriteRequest[T]], DynamoDBWrapperError | None]:
    """(written, superseded, retries, not written, last error): the superseded are what the
    chunk settles (duplicates it absorbed included) but did not write and does not report."""
    return written, chunk.size - written - len(left), budget.attempts, left, cause


def _match(
    pending: list[WriteRequest[T]], unprocessed: list[dict[str, Any]]
) -> list[WriteRequest[T]]:
    """Find our requests among the unprocessed ones DynamoDB sent back, by key.

    If any returned request cannot be matched, every pending request is kept: writing an
    item twice is harmless, losing one is not.
    """
    by_key = {request.key: request for request in pending}
    matched: list[WriteRequest[T]] = []
    for returned in unprocessed:
        body = returned.get("PutRequest", {}).get("Item") or returned.get("DeleteRequest", {}).get(
            "Key"
        )
        try:
            key = tuple(decode_value(body[name]) for name in pending[0].key_names)
            matched.append(by_key[key])
        except (KeyError, TypeError, IndexError, DynamoDBWrapperError):
            return pending
    return matched


@_telemetry.job("batch_get")
async def batch_get_items(
    config: DynamoDBConfig,
    table: str,
    keys: Sequence[Item],
    key_names: Sequence[str],
    extra: dict[str, Any],
    convert: Callable[[list[Item]], list[T]],
    capacity: Charge | None = None,
) -> list[T]:
    """Read ``keys`` (distinct wire keys) in concurrent 100-key chunks; retry UnprocessedKeys.

    ``extra`` holds ProjectionExpression, ConsistentRead and the attribute maps. Each page
    of items is converted by ``convert`` (a page in, a list out) as it arrives, so raw
    responses do not pile up (holding them all made the garbage collector walk them again and
    again). Every chunk runs to its end even if another fails, so the error names every key
    that was not read. The chunks run in one anyio task group: a cancelled call returns only
    once every chunk has stopped.

    Raises:
        RetryableError: Keys were not read after every retry; ``unprocessed_keys`` holds
            exactly those keys (plain values), the last failure is the cause.
        DynamoDBWrapperError: A failure no retry can cure (e.g. TableNotFoundError).
    """
    chunks = [list(keys[i : i + READ_CHUNK]) for i in range(0, len(keys), READ_CHUNK)]
    limit = asyncio.Semaphore(config.max_concurrency)
    found: list[T] = []
    unread: list[Item] = []
    causes: list[DynamoDBWrapperError] = []
    call = CallProgress()
    crashed: list[BaseException] = []
    if capacity is not None:
        await capacity.prepare()

    async def read(chunk: list[Item], group: TaskGroup) -> None:
        try:
            async with limit:
                pending, cause = await _read_chunk(
                    config, table, chunk, extra, found, convert, call, capacity
                )
        except Exception as error:  # noqa: BLE001 - e.g. a stored item ``convert`` refuses
            crashed.append(error)
            group.cancel_scope.cancel()
            return
        unread.extend(pending)
        if cause is not None:
            causes.append(cause)

    async with anyio.create_task_group() as group:  # a cancelled call awaits every chunk
        for chunk in chunks:
            group.start_soon(read, chunk, group)
    if crashed:
        raise crashed[0]
    for cause in causes:
        if not isinstance(cause, _CURABLE):
            raise cause
    if unread:
        msg = f"{len(unread)} of {len(keys)} keys of {table} were not read after the retries"
        raise RetryableError(
            msg,
            operation="BatchGetItem",
            table=table,
            aws_code=causes[-1].aws_code if causes else None,
            retries=max((c.retries for c in causes), default=0),
            unprocessed_keys=[
                {name: decode_value(key[name]) for name in key_names} for key in unread
            ],
        ) from (causes[-1] if causes else None)
    return found


async def _read_chunk(
    config: DynamoDBConfig,
    table: str,
    chunk: list[Item],
    extra: dict[str, Any],
    found: list[T],
    convert: Callable[[list[Item]], list[T]],
    call: CallProgress,
    capacity: Charge | None = None,
) -> tuple[list[Item], DynamoDBWrapperError | None]:
    """Read one chunk into ``found``; return (keys not read, the error that stopped it)."""
    budget = RetryBudget(_gateway.retry_policy(config), call=call)
    if budget.remaining <= 0:  # the call got nothing through for its whole deadline
        return chunk, None
    pending = chunk

    def page(response: Response) -> tuple[list[T], list[Item]]:
        unread = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        return convert(response.get("Responses", {}).get(table, [])), unread

    while True:
        try:
            items, unread = await _gateway.call_converted(
                config,
                "BatchGetItem",
                {"RequestItems": {table: {"Keys": pending, **extra}}},
                page,
                table=table,
                budget=budget,
                capacity=capacity,
            )
        except DynamoDBWrapperError as error:
            return pending, error
        found.extend(items)
        if len(unread) < len(pending):
            budget.made_progress()
        if not unread:
            return [], None
        pending = unread
        delay = budget.next_delay()
        if delay is None:
            return pending, None
        await asyncio.sleep(delay)
