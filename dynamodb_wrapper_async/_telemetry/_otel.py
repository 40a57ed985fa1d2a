"""The OTel-using half of ``_telemetry``: loaded only once the process imported OpenTelemetry.

Spans follow OpenTelemetry's semantic conventions for DynamoDB (``db.system.name``
``aws.dynamodb``, ``rpc.*``, ``aws.dynamodb.*``). Attributes are taken from request
parameters that hold no item data (table and index names, projection, limit, segments) and
from the config's endpoint host and port only: never keys, item values, credentials, an
endpoint's user info or signed headers.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson
from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ..config import DynamoDBConfig

SCOPE = "dynamodb_wrapper"


class Instruments:
    """The engine's metrics, made by one meter provider."""

    def __init__(self, provider: metrics.MeterProvider) -> None:
        meter = provider.get_meter(SCOPE)
        self.provider = provider
        self.requests = meter.create_counter(
            "dynamodb_wrapper.requests", unit="{request}", description="DynamoDB requests sent"
        )
        self.retries = meter.create_counter(
            "dynamodb_wrapper.retries",
            unit="{request}",
            description="Requests that retry a failed request or unprocessed items",
        )
        self.throttled = meter.create_counter(
            "dynamodb_wrapper.throttled_requests",
            unit="{request}",
            description="Requests DynamoDB refused with a throttling error",
        )
        self.unprocessed = meter.create_counter(
            "dynamodb_wrapper.unprocessed_items",
            unit="{item}",
            description="Items or keys a batch request returned unprocessed",
        )
        self.written = meter.create_counter(
            "dynamodb_wrapper.items_written", unit="{item}", description="Items written or deleted"
        )
        self.read = meter.create_counter(
            "dynamodb_wrapper.items_read", unit="{item}", description="Items returned by reads"
        )
        self.capacity = meter.create_counter(
            "dynamodb_wrapper.capacity_units",
            unit="{capacity_unit}",
            description="Capacity units DynamoDB reported consumed (ConsumedCapacity)",
        )
        meter.create_observable_gauge(
            "dynamodb_wrapper.batch.concurrency_limit",
            callbacks=[_observe],
            unit="{request}",
            description="Requests the running batch writes may have in flight (AIMD), per table",
        )


# The API's getters cost ~1.4 µs each (they look the environment up on every call), too much
# for every request; the API keeps the providers set in these module globals, read directly
# when they exist (None until set), through the public getters otherwise.
_UNSET: Any = object()
_metrics_api = sys.modules.get("opentelemetry.metrics._internal", metrics)
trace.get_tracer_provider(), metrics.get_meter_provider()  # providers named in the environment


def _configured(provider: Any, api_package: str) -> bool:
    """A provider of the API package itself (its default proxy, NoOp) records nothing."""
    if provider is None:
        return False
    module: str = type(provider).__module__
    return module != api_package and not module.startswith(api_package + ".")


def tracer_provider() -> trace.TracerProvider | None:
    """The configured tracer provider, or None (none set, or the API's own no-op ones)."""
    provider = getattr(trace, "_TRACER_PROVIDER", _UNSET)
    if provider is None:  # the usual case without a provider: nothing more to look at
        return None
    if provider is _UNSET:
        provider = trace.get_tracer_provider()
    return provider if _configured(provider, trace.__name__) else None


def meter_provider() -> metrics.MeterProvider | None:
    """The configured meter provider, or None (none set, or the API's own no-op ones)."""
    provider = getattr(_metrics_api, "_METER_PROVIDER", _UNSET)
    if provider is None:
        return None
    if provider is _UNSET:
        provider = metrics.get_meter_provider()
    return provider if _configured(provider, metrics.__name__) else None


_tracer: tuple[trace.TracerProvider, trace.Tracer] | None = None


def tracer() -> trace.Tracer | None:
    """Our tracer of the configured tracer provider; None if none is configured."""
    global _tracer  # noqa: PLW0603 - a one-slot cache of the global provider's tracer
    provider = tracer_provider()
    if provider is None:
        return None
    if _tracer is None or _tracer[0] is not provider:
        _tracer = (provider, provider.get_tracer(SCOPE))
    return _tracer[1]


def tracing() -> bool:
    """Whether a tracer provider is configured."""
    return tracer_provider() is not None


def instruments() -> Instruments:
    """The counters of the configured meter provider (no-ops while none is configured)."""
    global _instruments  # noqa: PLW0603 - a one-slot cache of the global provider's meters
    provider = meter_provider()
    if provider is None:
        return _NOOP
    if _instruments.provider is not provider:
        _instruments = Instruments(provider)
    return _instruments


def probe(
    config: DynamoDBConfig, operation: str, params: Mapping[str, Any], table: str | None
) -> Probe | None:
    """The probe of one gateway call, or None when no provider is configured."""
    if tracer_provider() is None and meter_provider() is None:
        return None
    return Probe(config, operation, params, table)


_THROTTLES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
#: Request parameter -> span attribute (values with no item data in them).
_REQUEST_ATTRIBUTES = (
    ("IndexName", "aws.dynamodb.index_name"),
    ("ProjectionExpression", "aws.dynamodb.projection"),
    ("Limit", "aws.dynamodb.limit"),
    ("Segment", "aws.dynamodb.segment"),
    ("TotalSegments", "aws.dynamodb.total_segments"),
    ("Select", "aws.dynamodb.select"),
    ("ScanIndexForward", "aws.dynamodb.scan_forward"),
    ("ConsistentRead", "aws.dynamodb.consistent_read"),
    ("AttributesToGet", "aws.dynamodb.attributes_to_get"),
)


@functools.lru_cache(maxsize=64)
def _server(config: DynamoDBConfig) -> tuple[tuple[str, Any], ...]:
    """``server.address``/``server.port`` and ``cloud.region`` of a config: the host only
    (``hostname`` drops any user info of an endpoint URL)."""
    if config.endpoint_url:
        try:
            parts = urlsplit(config.endpoint_url)
            host = parts.hostname or ""
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:  # malformed: the transport refuses it; nothing to tell here
            return (("cloud.region", config.region_name),)
    else:
        host, port = f"dynamodb.{config.region_name}.amazonaws.com", 443
    return (("server.address", host), ("server.port", port), ("cloud.region", config.region_name))


@functools.lru_cache(maxsize=1024)
def _metric_attributes(operation: str, table: str | None) -> Mapping[str, str]:
    attributes = {"db.system.name": "aws.dynamodb", "db.operation.name": operation}
    if table is not None:
        attributes["db.collection.name"] = table
    return attributes


def _table_names(params: Mapping[str, Any], table: str | None) -> list[str]:
    if "RequestItems" in params:
        return list(params["RequestItems"])
    if "TransactItems" in params:
        names: dict[str, None] = {}
        for action in params["TransactItems"]:
            for body in action.values():
                if isinstance(body, Mapping) and "TableName" in body:
                    names[body["TableName"]] = None
        return list(names)
    name = params.get("TableName", table)
    return [name] if isinstance(name, str) else []


def _request_attributes(
    config: DynamoDBConfig, operation: str, params: Mapping[str, Any], table: str | None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "db.system.name": "aws.dynamodb",
        "db.system": "dynamodb",
        "db.operation.name": operation,
        "rpc.system": "aws-api",
        "rpc.service": "DynamoDB",
        "rpc.method": operation,
    }
    attributes.update(_server(config))
    names = _table_names(params, table)
    if names:
        attributes["aws.dynamodb.table_names"] = names
        if len(names) == 1:
            attributes["db.collection.name"] = names[0]
    for parameter, attribute in _REQUEST_ATTRIBUTES:
        value = params.get(parameter)
        if value is not None:
            attributes[attribute] = list(value) if isinstance(value, list) else value
    return attributes


def _sent_items(operation: str, params: Mapping[str, Any]) -> int:
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params.get("RequestItems", {}).values())
    if operation == "TransactWriteItems":
        return len(params.get("TransactItems", ()))
    return 1


def _count_items(
    ins: Instruments,
    operation: str,
    params: Mapping[str, Any],
    response: Mapping[str, Any],
    metric: Any,
) -> int:
    """Count the items written or read and the unprocessed ones; return the unprocessed."""
    unprocessed = 0
    if operation == "BatchWriteItem":
        unprocessed = sum(map(len, response.get("UnprocessedItems", {}).values()))
        ins.written.add(_sent_items(operation, params) - unprocessed, metric)
    elif operation == "BatchGetItem":
        unread = response.get("UnprocessedKeys", {}).values()
        unprocessed = sum(len(keys.get("Keys", ())) for keys in unread)
        ins.read.add(sum(map(len, response.get("Responses", {}).values())), metric)
    elif operation in ("Query", "Scan"):
        ins.read.add(response.get("Count", 0), metric)
    elif operation == "GetItem":
        ins.read.add(1 if "Item" in response else 0, metric)
    elif operation == "TransactGetItems":
        ins.read.add(sum(1 for each in response.get("Responses", ()) if "Item" in each), metric)
    elif operation in _WRITES:
        ins.written.add(_sent_items(operation, params), metric)
    if unprocessed:
        ins.unprocessed.add(unprocessed, metric)
    return unprocessed


class Probe:
    """What one gateway call reports: a span per attempt, and the engine's counters."""

    __slots__ = ("_attributes", "_ins", "_metric", "_operation", "_params", "_span", "_tracer")

    def __init__(
        self,
        config: DynamoDBConfig,
        operation: str,
        params: Mapping[str, Any],
        table: str | None,
    ) -> None:
        self._operation = operation
        self._params = params
        self._metric = _metric_attributes(operation, table)
        self._ins = instruments()
        self._tracer = tracer()
        self._attributes = (
            _request_attributes(config, operation, params, table) if self._tracer else None
        )
        self._span: Span | None = None

    def attempt(
        self, number: int, params: Mapping[str, Any], convert: Callable[[Any], Any] | None
    ) -> Callable[[Any], Any]:
        """An attempt starts (``number`` retries before it); return the converter to send
        with: it reads the response for the span and the counters, then converts it."""
        self._params = params
        self._ins.requests.add(1, self._metric)
        if number:
            self._ins.retries.add(1, self._metric)
        if self._tracer is not None:
            if self._span is not None:  # the last attempt was cancelled
                self._span.end()
            self._span = self._tracer.start_span(
                f"DynamoDB.{self._operation}", kind=SpanKind.CLIENT, attributes=self._attributes
            )
            self._span.set_attribute("dynamodb_wrapper.attempt", number + 1)

        def read(response: Any) -> Any:
            self._answered(response)
            return response if convert is None else convert(response)

        return read

    def _answered(self, response: Mapping[str, Any]) -> None:
        span, operation = self._span, self._operation
        unprocessed = _count_items(self._ins, operation, self._params, response, self._metric)
        consumed = response.get("ConsumedCapacity")
        if consumed is not None:
            consumed = consumed if isinstance(consumed, list) else [consumed]
            self._capacity(consumed)
        if span is None:
            return
        if consumed is not None:
            span.set_attribute(
                "aws.dynamodb.consumed_capacity", [orjson.dumps(c).decode() for c in consumed]
            )
        if "Count" in response:
            span.set_attribute("aws.dynamodb.count", response["Count"])
        if "ScannedCount" in response:
            span.set_attribute("aws.dynamodb.scanned_count", response["ScannedCount"])
        if operation in ("BatchWriteItem", "BatchGetItem"):
            span.set_attribute("dynamodb_wrapper.unprocessed_items", unprocessed)
        request_id = response.get("ResponseMetadata", {}).get("RequestId")
        if isinstance(request_id, str):
            span.set_attribute("aws.request_id", request_id)

    def _capacity(self, consumed: Iterable[Mapping[str, Any]]) -> None:
        kind = "read" if self._operation in _READS else "write"
        for each in consumed:
            attributes = dict(self._metric)
            if isinstance(each.get("TableName"), str):
                attributes["db.collection.name"] = each["TableName"]
            read, write = each.get("ReadCapacityUnits"), each.get("WriteCapacityUnits")
            if read is None and write is None:
                units = each.get("CapacityUnits")
                if units:
                    self._ins.capacity.add(
                        float(units), {**attributes, "dynamodb_wrapper.capacity": kind}
                    )
                continue
            if read:
                self._ins.capacity.add(
                    float(read), {**attributes, "dynamodb_wrapper.capacity": "read"}
                )
            if write:
                self._ins.capacity.add(
                    float(write), {**attributes, "dynamodb_wrapper.capacity": "write"}
                )

    def succeeded(self) -> None:
        """The attempt was answered (its converter has run)."""
        if self._span is not None:
            self._span.end()
            self._span = None

    def cancelled(self) -> None:
        """The call was cancelled while an attempt was in flight."""
        if self._span is not None:
            self._span.set_attributes({"dynamodb_wrapper.cancelled": True})
            self._span.end()
            self._span = None

    def failed(self, error: BaseException, code: str | None, *, retried: bool) -> None:
        """The attempt failed with ``error`` (AWS error ``code``, if any); ``retried``: the
        gateway retries it."""
        if code in _THROTTLES:
            self._ins.throttled.add(1, self._metric)
        span = self._span
        if span is None:
            return
        error_type = code or type(error).__qualname__
        span.set_attribute("error.type", error_type)
        span.set_attribute("dynamodb_wrapper.retried", retried)
        span.set_status(Status(StatusCode.ERROR, error_type))
        span.end()
        self._span = None


# ---------------------------------------------------------------- parent spans
@contextlib.contextmanager
def call_span(name: str, table: str | None) -> Iterator[Span]:
    """The current span of a public API call."""
    attributes: dict[str, Any] = {"db.system.name": "aws.dynamodb"}
    if table is not None:
        attributes["aws.dynamodb.table_names"] = [table]
        attributes["db.collection.name"] = table
    chosen = tracer() or trace.get_tracer(SCOPE)
    with chosen.start_as_current_span(
        name,
        kind=SpanKind.INTERNAL,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as error:
            _error(span, error)
            raise


@contextlib.contextmanager
def job_span(name: str, table: str) -> Iterator[Span]:
    """The current span of a batch job; ERROR when the job raises."""
    with call_span(f"dynamodb_wrapper.{name}", table) as span:
        yield span


async def stream_pages(
    name: str, table: str | None, pages: Callable[[], AsyncIterator[list[Any]]]
) -> AsyncGenerator[list[Any], None]:
    """The pages of ``pages()``, each requested with the stream's span current."""
    chosen = tracer() or trace.get_tracer(SCOPE)
    attributes: dict[str, Any] = {"db.system.name": "aws.dynamodb"}
    if table is not None:
        attributes["aws.dynamodb.table_names"] = [table]
        attributes["db.collection.name"] = table
    span = chosen.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)
    current = trace.set_span_in_context(span)
    iterator = pages()
    items = 0
    try:
        while True:
            token = otel_context.attach(current)
            try:
                page = await anext(iterator)
            except StopAsyncIteration:
                return
            finally:
                otel_context.detach(token)
            items += len(page)
            yield page
    except Exception as error:
        _error(span, error)
        raise
    finally:
        span.set_attribute("dynamodb_wrapper.items_read", items)
        span.end()
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            await closer()


def job_result(span: Span, result: Any) -> None:
    """Put a batch job's counts on its span (a ``BatchResult``, or the items read)."""
    for field in ("processed", "duplicates", "retries", "lowest_concurrency"):
        value = getattr(result, field, None)
        if isinstance(value, int):
            span.set_attribute(f"dynamodb_wrapper.{field}", value)
    if isinstance(result, list):
        span.set_attribute("dynamodb_wrapper.items_read", len(result))


def _error(span: Span, error: Exception) -> None:
    """Mark ``span`` failed: ``error.type`` is the exception class (our messages hold no
    secrets, but the status holds only the class and the AWS code, to be sure)."""
    error_type = type(error).__qualname__
    span.set_attribute("error.type", error_type)
    code = getattr(error, "aws_code", None)
    if isinstance(code, str):
        span.set_attribute("aws.error_code", code)
    items = getattr(error, "unprocessed_items", None) or getattr(error, "unprocessed_keys", None)
    if isinstance(items, list):
        span.set_attribute("dynamodb_wrapper.unprocessed_items", len(items))
    span.set_status(Status(StatusCode.ERROR, error_type))


# ---------------------------------------------------------------- the AIMD level
_limits: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def watch_limit(limit: Any, table: str) -> None:
    """Count ``limit`` (an ``AdaptiveLimit``) in the concurrency gauge while it lives."""
    instruments()  # registers the gauge with the current meter provider
    _limits[limit] = table


def forget_limit(limit: Any) -> None:
    """Stop counting ``limit`` in the gauge."""
    _limits.pop(limit, None)


def _observe(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    levels: dict[str, int] = {}
    for limit, table in list(_limits.items()):
        levels[table] = levels.get(table, 0) + limit.limit
    return [
        metrics.Observation(level, {"db.system.name": "aws.dynamodb", "db.collection.name": table})
        for table, level in levels.items()
    ]


_NOOP = Instruments(metrics.NoOpMeterProvider())  # what is counted while no provider is set
_instruments = _NOOP
