"""Concurrent paging: requests run together in one anyio task group.

A failure in one request cancels the others, and it is raised only once every one of them
has stopped, so no request outlives the call that made it; a cancelled caller cancels them
all the same way. The failure is raised as it was (our own error, with its cause), not
wrapped in the task group's ExceptionGroup.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from anyio.abc import ObjectSendStream

from ...config import DynamoDBConfig
from .pages import iterate_pages
from .request import Convert, PageRequest

T = TypeVar("T")
R = TypeVar("R")


async def run_all(functions: Sequence[Callable[[], Awaitable[R]]]) -> list[R]:
    """Run every function concurrently; return their results in the order given.

    The first failure cancels the rest and is raised once all of them have stopped.
    """
    results: dict[int, R] = {}
    failures: list[Exception] = []

    async def run(position: int, function: Callable[[], Awaitable[R]]) -> None:
        try:
            results[position] = await function()
        except Exception as error:
            failures.append(error)
            raise

    await _in_group([functools.partial(run, n, f) for n, f in enumerate(functions)], failures)
    return [results[n] for n in range(len(functions))]


async def _in_group(
    functions: Sequence[Callable[[], Coroutine[Any, Any, None]]], failures: list[Exception]
) -> None:
    """Run ``functions`` in one task group; raise the first of ``failures`` they record."""
    failed: Exception | None = None
    try:
        async with anyio.create_task_group() as group:
            for function in functions:
                group.start_soon(function)
    except Exception:  # the group's ExceptionGroup: raise its first failure as it is
        if not failures:
            raise
        failed = failures[0]
    if failed is not None:
        raise failed  # outside the except block, so the group does not become its context


@dataclass(frozen=True)
class _Failed:
    error: Exception


async def parallel_pages(
    config: DynamoDBConfig, requests: Sequence[PageRequest], convert: Convert[T]
) -> AsyncIterator[list[T]]:
    """Yield the pages of every request (parallel-scan segments) in the order they arrive.

    The segments run in a task group inside a task of their own: in the sync facade each
    page is pulled by a new task, and a task group must be left by the task that entered it.
    The buffer holds one page per segment (a segment whose next page does not fit waits).
    Closing this generator, or cancelling the task reading it, cancels every segment and
    waits until all have stopped; a failed segment stops the others and is raised here once
    they have.
    """
    send, receive = anyio.create_memory_object_stream[list[T] | _Failed](len(requests))
    runner = asyncio.create_task(_run_segments(config, requests, convert, send))
    try:
        async for page in receive:
            if isinstance(page, _Failed):
                raise page.error
            yield page
    finally:
        runner.cancel()
        await asyncio.wait({runner})
        receive.close()
        if not runner.cancelled():
            runner.result()  # it catches every failure; anything else is a bug to see


async def _run_segments(
    config: DynamoDBConfig,
    requests: Sequence[PageRequest],
    convert: Convert[T],
    send: ObjectSendStream[list[T] | _Failed],
) -> None:
    failures: list[Exception] = []

    async def pump(request: PageRequest) -> None:
        try:
            async for page in iterate_pages(config, request, convert, start=None):
                await send.send(page)
        except Exception as error:
            failures.append(error)
            raise

    async with send:
        try:
            await _in_group([functools.partial(pump, r) for r in requests], failures)
        except Exception as error:  # noqa: BLE001 - handed to the reader, which raises it
            await send.send(_Failed(error))
