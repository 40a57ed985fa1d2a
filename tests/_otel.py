"""OpenTelemetry SDK providers for tests, installed as the global ones for one test only.

OpenTelemetry lets a process set its global providers once; the library looks the global
provider up on every call (``_telemetry._otel.tracer``), so a test may install fresh SDK
providers (an in-memory span exporter and metric reader) and put the unset state back
afterwards, as OpenTelemetry's own test utilities do: other tests see no provider.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import _internal as metrics_internal
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once


@dataclass
class Telemetry:
    """What the code under test exported."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Finished spans, in the order they ended (those named ``name`` only if given)."""
        spans = list(self.exporter.get_finished_spans())
        return [s for s in spans if name is None or s.name == name]

    def metrics(self) -> dict[str, list[tuple[dict[str, Any], float]]]:
        """Metric name -> [(attributes, value)] of every data point collected now."""
        data = self.reader.get_metrics_data()
        found: dict[str, list[tuple[dict[str, Any], float]]] = {}
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points = found.setdefault(metric.name, [])
                    for point in metric.data.data_points:
                        points.append((dict(point.attributes or {}), point.value))  # type: ignore[union-attr]
        return found

    def total(self, name: str, **attributes: Any) -> float:
        """The sum of a metric's points (those with ``attributes`` only if given)."""
        points = self.metrics().get(name, [])
        return sum(
            value
            for attrs, value in points
            if all(attrs.get(k.replace("__", ".")) == v for k, v in attributes.items())
        )


def _reset_globals() -> None:
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()


@contextlib.contextmanager
def installed() -> Iterator[Telemetry]:
    """Install SDK providers with in-memory exporters globally; restore the unset state."""
    exporter = InMemorySpanExporter()
    reader = InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[reader])
    _reset_globals()
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    try:
        yield Telemetry(exporter, reader)
    finally:
        _reset_globals()
        tracer_provider.shutdown()
        meter_provider.shutdown()
