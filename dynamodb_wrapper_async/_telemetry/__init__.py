"""OpenTelemetry spans and metrics of the engine, free when OpenTelemetry is not in use.

Nothing here imports ``opentelemetry`` unless the process already has (a tracer or meter
provider can only be configured by importing it), so with the ``otel`` extra absent or
unused every hook is one dict lookup. The OTel-using half is ``_otel``, loaded on first use.

Hooks (each a no-op, returning None where it returns anything, when OTel is not in use):

- :func:`request`: the probe of one gateway call; it starts a ``DynamoDB.<Operation>``
  client span per attempt and counts requests, retries, throttles, unprocessed items,
  items written or read and the capacity units DynamoDB reports.
- :func:`traced`: a decorator giving a public API coroutine method a parent span;
  :func:`traced_stream` the same for the stream a ``*_iter`` method returns.
- :func:`job`: a decorator giving a batch job (``batch_write``, ``batch_get_items``) a span,
  whose status is ERROR when the job raises.
- :func:`watch_limit`: reports an ``AdaptiveLimit``'s level as a gauge while it lives.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from .._stream import ItemStream

if TYPE_CHECKING:
    from ..config import DynamoDBConfig
    from ._otel import Probe

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T")

__all__ = ["forget_limit", "job", "request", "traced", "traced_stream", "watch_limit"]

_modules = sys.modules


_loaded: Any = None


def _load() -> Any:
    """The OTel half (imported once, on first use), or None if OpenTelemetry is not in use."""
    global _loaded  # noqa: PLW0603 - the module, once imported
    if _loaded is None:
        if "opentelemetry" not in _modules:
            return None
        from . import _otel  # noqa: PLC0415 - loaded only once OpenTelemetry is in use

        _loaded = _otel
    return _loaded


def request(
    config: DynamoDBConfig, operation: str, params: Mapping[str, Any], table: str | None
) -> Probe | None:
    """Return the probe of one gateway call, or None when OpenTelemetry is not in use."""
    if "opentelemetry" not in _modules:
        return None
    otel = _load()
    return otel.probe(config, operation, params, table) if otel is not None else None


def watch_limit(limit: Any, table: str) -> None:
    """Report ``limit.limit`` (an ``AdaptiveLimit``) in the concurrency gauge while it lives."""
    if "opentelemetry" in _modules:
        _load().watch_limit(limit, table)


def forget_limit(limit: Any) -> None:
    """Stop reporting ``limit`` (its batch job ended)."""
    if "opentelemetry" in _modules:
        _load().forget_limit(limit)


def traced(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Give a public coroutine method of an API object (with ``table_name``) a parent span
    named ``<Class>.<method>``."""
    name = method.__name__

    @functools.wraps(method)
    async def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if "opentelemetry" not in _modules:
            return await method(self, *args, **kwargs)
        otel = _load()
        if otel.tracer_provider() is None:
            return await method(self, *args, **kwargs)
        table = getattr(self, "table_name", None)
        with otel.call_span(f"{type(self).__name__}.{name}", table):
            return await method(self, *args, **kwargs)

    return call


def traced_stream(
    method: Callable[Concatenate[S, P], ItemStream[T]],
) -> Callable[Concatenate[S, P], ItemStream[T]]:
    """Give the stream a ``*_iter`` method returns a span named ``<Class>.<method>``, from its
    first page to its end or close; its requests' attempt spans are its children."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> ItemStream[T]:
        stream = method(self, *args, **kwargs)  # bad input fails here, before any span
        if "opentelemetry" not in _modules:
            return stream
        otel = _load()
        if otel.tracer_provider() is None:
            return stream
        span_name = f"{type(self).__name__}.{name}"
        table = getattr(self, "table_name", None)
        return ItemStream(lambda: otel.stream_pages(span_name, table, stream.pages))

    return call


def job(
    name: str,
) -> Callable[
    [Callable[Concatenate[DynamoDBConfig, str, P], Coroutine[Any, Any, R]]],
    Callable[Concatenate[DynamoDBConfig, str, P], Coroutine[Any, Any, R]],
]:
    """Give a batch job ``(config, table, ...)`` a span named ``dynamodb_wrapper.<name>``."""

    def decorate(
        function: Callable[Concatenate[DynamoDBConfig, str, P], Coroutine[Any, Any, R]],
    ) -> Callable[Concatenate[DynamoDBConfig, str, P], Coroutine[Any, Any, R]]:
        @functools.wraps(function)
        async def run(
            config: DynamoDBConfig, table: str, /, *args: P.args, **kwargs: P.kwargs
        ) -> R:
            if "opentelemetry" not in _modules:
                return await function(config, table, *args, **kwargs)
            otel = _load()
            if otel.tracer_provider() is None:
                return await function(config, table, *args, **kwargs)
            with otel.job_span(name, table) as span:
                result = await function(config, table, *args, **kwargs)
                otel.job_result(span, result)
                return result

        return run

    return decorate
