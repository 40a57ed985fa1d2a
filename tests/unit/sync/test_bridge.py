"""blocking / blocking_iter keep signatures and docs, stream lazily and close on the loop."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator

import pytest

from dynamodb_wrapper_async import ItemStream
from dynamodb_wrapper_sync._bridge import Facade, blocking, blocking_iter


class Core:
    def __init__(self) -> None:
        self.pages_fetched = 0
        self.closed = False

    async def add(self, a: int, b: int = 1, *, scale: int = 1) -> int:
        """Return (a + b) * scale."""
        await asyncio.sleep(0)
        return (a + b) * scale

    async def fail(self) -> None:
        """Raise a LookupError."""
        raise LookupError("nope")

    def numbers_iter(self, pages: int, *, size: int = 3) -> ItemStream[int]:
        """Stream pages of numbers."""

        async def produce() -> AsyncIterator[list[int]]:
            try:
                for page in range(pages):
                    self.pages_fetched += 1
                    await asyncio.sleep(0)
                    yield [page * size + i for i in range(size)]
            finally:
                self.closed = True

        return ItemStream(produce)


class Sync(Facade[Core]):
    def __init__(self) -> None:
        self.async_api = Core()

    add = blocking(Core.add)
    fail = blocking(Core.fail)
    numbers_iter = blocking_iter(Core.numbers_iter)


def test_wrappers_keep_name_doc_signature_and_wrapped() -> None:
    assert Sync.add.__wrapped__ is Core.add  # type: ignore[attr-defined]
    assert Sync.add.__doc__ == "Return (a + b) * scale."
    assert Sync.add.__name__ == "add"
    assert inspect.signature(Sync.add) == inspect.signature(Core.add)
    assert Sync.numbers_iter.__wrapped__ is Core.numbers_iter  # type: ignore[attr-defined]


def test_blocking_calls_and_errors() -> None:
    api = Sync()
    assert api.add(2, 3, scale=10) == 50
    with pytest.raises(LookupError, match="nope"):
        api.fail()


def test_blocking_iter_yields_everything_page_by_page() -> None:
    api = Sync()
    stream = api.numbers_iter(4)
    assert api.async_api.pages_fetched == 0  # creating the stream does no I/O
    assert next(stream) == 0
    assert api.async_api.pages_fetched == 1  # one page per round trip, no more
    assert list(stream) == list(range(1, 12))
    assert api.async_api.pages_fetched == 4


def test_break_and_close_release_the_query_on_the_loop() -> None:
    api = Sync()
    with api.numbers_iter(100) as stream:
        for number in stream:
            if number == 4:
                break
    assert api.async_api.closed
    assert api.async_api.pages_fetched == 2


def test_pages_view() -> None:
    api = Sync()
    stream = api.numbers_iter(3, size=2)
    assert next(stream) == 0
    assert list(stream.pages()) == [[1], [2, 3], [4, 5]]
