"""The batch engine: 25-item writes and 100-key reads, concurrent, retried, nothing dropped.

A fixed pool of worker tasks pulls chunks from one shared iterator, so memory stays bounded
however long the input is, and no task is created per chunk. Each chunk is deduplicated by key
(last wins). Whole-request failures are retried by the gateway; ``UnprocessedItems`` and
``UnprocessedKeys`` are retried here with backoff; both draw on one retry budget per chunk
(one count, one deadline). What is still not done after the retries is raised with exactly
those items or keys.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .._codec import decode_value
from .._json import EncodedJSON
from .._types import Item, Response
from ..config import DynamoDBConfig
from ..exceptions import BatchWriteError, DynamoDBWrapperError, RetryableError
from . import gateway as _gateway
from .progress import ProgressCallback
from .retry import AdaptiveLimit, RetryBudget

logger = logging.getLogger("dynamodb_wrapper")

WRITE_CHUNK = 25
READ_CHUNK = 100

T = TypeVar("T")


@dataclass
class BatchResult:
    """Counts of a finished batch.

    Attributes:
        processed: Items written or deleted (after removing duplicates).
        duplicates: Items dropped because a later item in the same chunk had the same key.
        retries: Retries of unprocessed items and failed requests, summed over chunks.
        lowest_concurrency: The fewest requests allowed in flight while throttled (equal
            to ``max_concurrency`` when nothing was throttled).
    """

    processed: int = 0
    duplicates: int = 0
    retries: int = 0
    lowest_concurrency: int = 0


@dataclass
class WriteRequest(Generic[T]):
    """One item of a batch write: its key (for dedupe and errors), the request, the input.

    The request (a PutRequest or DeleteRequest) is encoded as JSON when the item is read from
    the input: the encoding is done once however often the item is retried, and the item's
    wire dicts are freed at once instead of living, for the garbage collector to walk, while
    the item waits for its chunk.
    """

    key: tuple[Any, ...]
    request: EncodedJSON
    original: T
    key_names: tuple[str, ...]


@dataclass
class _Failures(Generic[T]):
    items: list[T] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    cause: DynamoDBWrapperError | None = None


async def _chunks(
    source: Iterable[WriteRequest[T]] | AsyncIterable[WriteRequest[T]], size: int
) -> AsyncGenerator[list[WriteRequest[T]], None]:
    chunk: list[WriteRequest[T]] = []
    if isinstance(source, AsyncIterable):
        async for request in source:
            chunk.append(request)
            if len(chunk) == size:
                yield chunk
                chunk = []
    else:
        for request in source:
            chunk.append(request)
            if len(chunk) == size:
                yield chunk
                chunk = []
                await asyncio.sleep(0)  # let workers run between chunks of a sync source
    if chunk:
        yield chunk


def _dedupe(chunk: Sequence[WriteRequest[T]]) -> tuple[list[WriteRequest[T]], int]:
    latest: dict[tuple[Any, ...], WriteRequest[T]] = {}
    for request in chunk:
        latest.pop(request.key, None)
        latest[request.key] = request
    return list(latest.values()), len(chunk) - len(latest)


async def batch_write(
    config: DynamoDBConfig,
    table: str,
    requests: Iterable[WriteRequest[T]] | AsyncIterable[WriteRequest[T]],
    *,
    progress: ProgressCallback | None = None,
) -> BatchResult:
    """Write ``requests`` (PutRequest/DeleteRequest dicts) in concurrent 25-item chunks.

    Raises:
        BatchWriteError: Some items were not written after every retry; it carries exactly
            those originals (``unprocessed_items``) and their keys.
    """
    result = BatchResult()
    limit = AdaptiveLimit(config.max_concurrency)
    failures: _Failures[T] = _Failures()
    chunks = _chunks(requests, WRITE_CHUNK)
    lock = asyncio.Lock()

    async def next_chunk() -> list[WriteRequest[T]] | None:
        async with lock:
            return await anext(chunks, None)

    async def worker() -> None:
        while (chunk := await next_chunk()) is not None:
            unique, duplicates = _dedupe(chunk)
            result.duplicates += duplicates
            done, retries, left, cause = await _write_chunk(config, table, unique, limit)
            result.processed += done
            result.retries += retries
            if left:
                failures.items.extend(request.original for request in left)
                failures.keys.extend(dict(zip(r.key_names, r.key, strict=True)) for r in left)
                failures.cause = failures.cause or cause
            if progress is not None:
                progress(len(chunk))

    try:
        await asyncio.gather(*(worker() for _ in range(config.max_concurrency)))
    finally:
        await chunks.aclose()
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
    config: DynamoDBConfig, table: str, chunk: list[WriteRequest[T]], limit: AdaptiveLimit
) -> tuple[int, int, list[WriteRequest[T]], DynamoDBWrapperError | None]:
    """Write one chunk; return (written, retries, not written, last error)."""
    budget = RetryBudget(_gateway.retry_policy(config))
    pending = chunk
    while True:
        try:
            async with limit:
                response = await _gateway.call(
                    config,
                    "BatchWriteItem",
                    {"RequestItems": {table: [request.request for request in pending]}},
                    table=table,
                    on_retry=limit.throttled,
                    budget=budget,
                )
        except DynamoDBWrapperError as error:
            if isinstance(error, RetryableError):
                limit.throttled()
            return len(chunk) - len(pending), budget.attempts, pending, error
        unprocessed = response.get("UnprocessedItems", {}).get(table, [])
        if not unprocessed:
            limit.succeeded()
            return len(chunk), budget.attempts, [], None
        limit.throttled()
        if len(unprocessed) < len(pending):
            budget.made_progress()
        pending = _match(pending, unprocessed)
        delay = budget.next_delay()
        if delay is None:
            return len(chunk) - len(pending), budget.attempts, pending, None
        logger.debug("retrying %d unprocessed items on %s", len(pending), table)
        await asyncio.sleep(delay)


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


async def batch_get_items(
    config: DynamoDBConfig,
    table: str,
    keys: Sequence[Item],
    key_names: Sequence[str],
    extra: dict[str, Any],
    convert: Callable[[list[Item]], list[T]],
) -> list[T]:
    """Read ``keys`` (distinct wire keys) in concurrent 100-key chunks; retry UnprocessedKeys.

    ``extra`` holds ProjectionExpression, ConsistentRead and the attribute maps. Each page
    of items is converted by ``convert`` (a page in, a list out) as it arrives, so raw
    responses do not pile up (holding them all made the garbage collector walk them again and
    again). Every chunk runs to its end even if another fails, so the error names every key
    that was not read.

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

    async def read(chunk: list[Item]) -> None:
        async with limit:
            pending, cause = await _read_chunk(config, table, chunk, extra, found, convert)
        unread.extend(pending)
        if cause is not None:
            causes.append(cause)

    await asyncio.gather(*(read(chunk) for chunk in chunks))
    curable = (RetryableError, ConnectionError)  # ours subclasses the builtin
    for cause in causes:
        if not isinstance(cause, curable):
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
) -> tuple[list[Item], DynamoDBWrapperError | None]:
    """Read one chunk into ``found``; return (keys not read, the error that stopped it)."""
    budget = RetryBudget(_gateway.retry_policy(config))
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
            )
        except DynamoDBWrapperError as error:
            return pending, error
        found.extend(items)
        if not unread:
            return [], None
        if len(unread) < len(pending):
            budget.made_progress()
        pending = unread
        delay = budget.next_delay()
        if delay is None:
            return pending, None
        await asyncio.sleep(delay)
