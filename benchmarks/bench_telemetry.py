"""Client CPU per written item with capacity budgets and telemetry off and on, side by side
in one run.

Modes (each run of each mode is a fresh subprocess; the runs alternate the order of modes):

- ``absent``: OpenTelemetry never imported (the ``otel`` extra not installed or not used),
  no capacity budget;
- ``budget``: as ``absent``, with a write budget of the config (1,000,000 units per second:
  every request waits for its units and is charged what the answer reports, but never has
  to wait long);
- ``no_provider``: OpenTelemetry imported, no tracer or meter provider configured;
- ``sdk_noop``: the OTel SDK with every span exported to an exporter that drops it, and a
  meter provider with no reader;
- ``sdk_memory``: the OTel SDK with the in-memory span exporter and metric reader.

Each run writes ``--items`` pipeline configs with ``batch_upsert`` (25 per request) and
``--puts`` with ``create_pipeline`` (one request each) to the scripted sender
(``_wire/mock.py``: the request is encoded, decoded and answered in-process, no socket), and
prints the process CPU time (``time.process_time``) per item of each phase. The scripted
sender's work is the same in every mode, so the differences are telemetry's cost.

    .venv/bin/python benchmarks/bench_telemetry.py [--items 20000] [--puts 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MODES = ("absent", "budget", "no_provider", "sdk_noop", "sdk_memory")


def install(mode: str) -> Any:
    """Set up OpenTelemetry for ``mode``; return what must stay alive."""
    if mode in ("absent", "budget"):
        return None
    from opentelemetry import metrics, trace

    if mode == "no_provider":
        return None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        SimpleSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    class Dropping(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    exporter: SpanExporter = Dropping() if mode == "sdk_noop" else InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    readers = [] if mode == "sdk_noop" else [InMemoryMetricReader()]
    meter_provider = MeterProvider(metric_readers=readers)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider, exporter


def worker(mode: str, items: int, puts: int) -> dict[str, float]:
    keep = install(mode)
    from dynamodb_wrapper_async import DynamoDBConfig, PipelineConfigUpsert, PipelineConfigWriteApi
    from dynamodb_wrapper_async._wire.mock import MockSender
    from dynamodb_wrapper_async._wire.pool import install_sender

    def dtos(count: int, tag: str) -> list[PipelineConfigUpsert]:
        return [
            PipelineConfigUpsert(
                pipeline_id=f"{tag}{n:07d}", pipeline_name=f"pipeline {n}", source_type="s3",
                destination_type="warehouse", tags={"team": "data", "tier": "gold"},
            )
            for n in range(count)
        ]  # fmt: skip

    async def answer(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """What DynamoDB answers, consumed capacity included (the engine asks for it)."""
        table = request.get("TableName") or next(iter(request.get("RequestItems", {})), "")
        writes = len(request.get("RequestItems", {}).get(table, [])) or 1
        return {"ConsumedCapacity": [{"TableName": table, "CapacityUnits": float(writes)}]}

    async def main() -> dict[str, float]:
        budget = {"max_write_units_per_second": 1_000_000} if mode == "budget" else {}
        config = DynamoDBConfig(table_prefix="bench_", region_name="us-east-1", **budget)
        install_sender(config, MockSender(answer))
        api = PipelineConfigWriteApi(config)
        await api.batch_upsert(dtos(500, "w"))  # warm-up
        batch, single = dtos(items, "b"), dtos(puts, "s")
        started = time.process_time()
        await api.batch_upsert(batch)
        batch_cpu = time.process_time() - started
        started = time.process_time()
        for dto in single:
            await api.create_pipeline(dto)
        put_cpu = time.process_time() - started
        return {"batch": batch_cpu / items * 1e6, "put": put_cpu / puts * 1e6}

    result = asyncio.run(main())
    result.update(hooks(100_000 if mode in ("absent", "budget", "no_provider") else 5_000))
    imported = any(name.startswith("opentelemetry") for name in sys.modules)
    if imported != (mode not in ("absent", "budget")):
        raise RuntimeError(mode)
    del keep
    return result


def hooks(number: int) -> dict[str, float]:
    """The hooks alone, timed in a tight loop (µs): the gateway's per request (a probe, one
    attempt, its answer) and the public-call decorator's per call (minus an undecorated call)."""
    import timeit

    from dynamodb_wrapper_async import DynamoDBConfig, _telemetry

    config = DynamoDBConfig(table_prefix="bench_")
    params = {"TableName": "bench_pipeline_config", "Item": {}}

    def request() -> None:
        probe = _telemetry.request(config, "PutItem", params, "bench_pipeline_config")
        if probe is not None:
            probe.attempt(0, params, None)({})
            probe.succeeded()

    class Api:
        table_name = "bench_pipeline_config"

        @_telemetry.traced
        async def traced(self) -> None:
            return None

        async def plain(self) -> None:
            return None

    api = Api()

    def step(coroutine: Any) -> None:
        with contextlib.suppress(StopIteration):
            coroutine.send(None)

    def best(function: Any) -> float:
        return min(timeit.repeat(function, number=number, repeat=3)) / number * 1e6

    decorated = best(lambda: step(api.traced())) - best(lambda: step(api.plain()))
    return {"request_hooks": best(request), "call_decorator": decorated}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--puts", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.items, args.puts)))
        return 0
    phases = ("batch", "put", "request_hooks", "call_decorator")
    figures: dict[str, dict[str, list[float]]] = {m: {p: [] for p in phases} for m in MODES}
    for run in range(args.runs):
        order = MODES[run % len(MODES) :] + MODES[: run % len(MODES)]
        order = order if run % 2 == 0 else tuple(reversed(order))
        for mode in order:
            out = subprocess.run(
                [sys.executable, __file__, "--worker", mode, "--items", str(args.items),
                 "--puts", str(args.puts)],
                capture_output=True, text=True, check=True, cwd=REPO,
            )  # fmt: skip
            for phase, value in json.loads(out.stdout).items():
                figures[mode][phase].append(value)
    print(f"client CPU µs per written item: median of {args.runs} runs (min-max), +/- vs absent")
    print(f"{'mode':<12} {'batch_upsert':>26} {'create (1 per request)':>28}  hooks alone (min)")
    base = {phase: statistics.median(figures["absent"][phase]) for phase in ("batch", "put")}
    for mode in MODES:
        cells = []
        for phase in ("batch", "put"):
            values = figures[mode][phase]
            median = statistics.median(values)
            cells.append(
                f"{median:6.2f} ({min(values):.2f}-{max(values):.2f}) {median - base[phase]:+6.2f}"
            )
        hook = min(figures[mode]["request_hooks"])
        decorator = min(figures[mode]["call_decorator"])
        print(
            f"{mode:<12} {cells[0]:>26} {cells[1]:>28}  "
            f"{hook:.2f} per request + {decorator:.2f} per public call"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
