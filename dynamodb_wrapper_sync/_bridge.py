"""Facade base class and the ParamSpec wrappers that turn core coroutines into blocking calls.

A sync API class holds the core object in ``async_api`` and declares each method as
``name = blocking(CoreClass.name)`` or ``name = blocking_iter(CoreClass.name_iter)``; the
wrapper keeps the core method's signature, docstring and ``__wrapped__``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from typing_extensions import Self

from dynamodb_wrapper_async import ConsumedCapacity, ItemStream

from ._runner import run

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
CoreT = TypeVar("CoreT")
CoreT_co = TypeVar("CoreT_co", covariant=True)


class Facade(Generic[CoreT_co]):
    """Base of the blocking API classes.

    Attributes:
        async_api: The core (async) API object every method delegates to.
    """

    async_api: CoreT_co

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.async_api!r})"

    def close(self) -> None:
        """Close the pooled client of this API's config (the next call opens a new one)."""
        closer = getattr(self.async_api, "aclose", None)
        if closer is not None:
            run(closer())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {"async_api": self.async_api}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.async_api = state["async_api"]


def blocking(
    method: Callable[Concatenate[CoreT, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Facade[CoreT], P], R]:
    """Wrap a core coroutine method as a blocking method of a :class:`Facade` subclass."""

    @functools.wraps(method)
    def call(self: Facade[CoreT], /, *args: P.args, **kwargs: P.kwargs) -> R:
        return run(method(self.async_api, *args, **kwargs))

    return call


def blocking_iter(
    method: Callable[Concatenate[CoreT, P], ItemStream[T]],
) -> Callable[Concatenate[Facade[CoreT], P], SyncItemStream[T]]:
    """Wrap a core ``*_iter`` method as a blocking iterator that pulls a page per round trip."""

    @functools.wraps(method)
    def call(self: Facade[CoreT], /, *args: P.args, **kwargs: P.kwargs) -> SyncItemStream[T]:
        return SyncItemStream(method(self.async_api, *args, **kwargs))

    return call


def passthrough(
    method: Callable[Concatenate[CoreT, P], R],
) -> Callable[Concatenate[Facade[CoreT], P], R]:
    """Expose a pure core method (no I/O, e.g. a transaction action builder) unchanged."""

    @functools.wraps(method)
    def call(self: Facade[CoreT], /, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(self.async_api, *args, **kwargs)

    return call


def blocking_function(
    function: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, R]:
    """Wrap a core coroutine function (not a method) as a blocking function."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return run(function(*args, **kwargs))

    return call


class SyncItemStream(Iterator[T], Generic[T]):
    """A blocking iterator over an :class:`ItemStream`, fetching one page per loop round trip.

    Close it (``close()``, ``with``, or let it be collected after ``break``) to release the
    query; the async page generator is closed on the loop.
    """

    def __init__(self, stream: ItemStream[T]) -> None:
        self._stream = stream
        self._pages: AsyncIterator[list[T]] | None = None
        self._buffer: list[T] = []
        self._position = 0
        self._done = False

    @property
    def consumed_capacity(self) -> ConsumedCapacity:
        """The read units DynamoDB reported for the pages fetched so far."""
        return self._stream.consumed_capacity

    def __iter__(self) -> SyncItemStream[T]:
        return self

    def __next__(self) -> T:
        while self._position >= len(self._buffer):
            if self._done:
                raise StopIteration
            page = run(self._next_page())
            if page is None:
                self._done = True
                raise StopIteration
            self._buffer, self._position = page, 0
        item = self._buffer[self._position]
        self._position += 1
        return item

    def pages(self) -> Iterator[list[T]]:
        """Yield the remaining pages (lists of items) instead of single items."""
        if self._position < len(self._buffer):
            rest, self._buffer = self._buffer[self._position :], []
            yield rest
        while not self._done:
            page = run(self._next_page())
            if page is None:
                self._done = True
                return
            yield page

    async def _next_page(self) -> list[T] | None:
        if self._pages is None:
            self._pages = self._stream.pages()
        try:
            return await anext(self._pages)
        except StopAsyncIteration:
            return None

    def close(self) -> None:
        """Stop iterating and close the query on the loop."""
        if self._done and self._pages is None:
            return
        self._done = True
        self._buffer = []
        if self._pages is not None:
            run(self._stream.aclose())
            self._pages = None

    def __enter__(self) -> SyncItemStream[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if self._pages is not None and not self._done:
            with contextlib.suppress(Exception):  # a finaliser never raises
                self.close()
