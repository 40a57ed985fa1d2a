"""ItemStream: what ``*_iter`` methods return; an async iterator of items that also has pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Generic, TypeVar

from ._capacity import ConsumedCapacity

T = TypeVar("T")


class ItemStream(AsyncIterator[T], Generic[T]):
    """Streams the items of every page of a query or scan.

    Creating it does no I/O; the first ``async for`` step sends the first request. Use
    ``pages()`` to receive whole pages (lists) instead of items. Closing it (``aclose()``,
    ``async with``, or breaking out of ``async for`` and letting it be collected) closes the
    underlying page generator.

    ``consumed_capacity`` adds up, as pages arrive, the read units DynamoDB reported.
    """

    def __init__(
        self,
        pages: Callable[[], AsyncIterator[list[T]]],
        consumed_capacity: ConsumedCapacity | None = None,
    ) -> None:
        self.consumed_capacity = consumed_capacity or ConsumedCapacity()
        self._factory = pages
        self._pages: AsyncIterator[list[T]] | None = None
        self._buffer: list[T] = []
        self._position = 0
        self._closed = False

    def pages(self) -> AsyncIterator[list[T]]:
        """Return the page iterator (each page a list of items); call once per stream."""
        if self._closed:
            msg = "this ItemStream is closed"
            raise RuntimeError(msg)
        if self._pages is None:
            self._pages = self._factory()
        return self._pages

    def __aiter__(self) -> ItemStream[T]:
        return self

    async def __anext__(self) -> T:
        if self._closed:
            raise StopAsyncIteration
        while self._position >= len(self._buffer):
            self._buffer = await anext(self.pages())
            self._position = 0
        item = self._buffer[self._position]
        self._position += 1
        return item

    async def aclose(self) -> None:
        """Stop streaming and release the page generator."""
        self._closed = True
        pages, self._pages = self._pages, None
        closer = getattr(pages, "aclose", None)
        if closer is not None:
            await closer()

    async def __aenter__(self) -> ItemStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
