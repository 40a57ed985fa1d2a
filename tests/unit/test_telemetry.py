"""OpenTelemetry spans and metrics against the scripted sender (``MockSender``): span names
and attributes, an attempt span per retry, parent spans of public calls and batch jobs, and
exact counts of throttles, retries and unprocessed items with scripted faults. Each test
installs SDK providers with in-memory exporters for itself (``_otel.installed``).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from _otel import Telemetry, installed
from opentelemetry.trace import SpanKind, StatusCode

from dynamodb_wrapper_async import (
    BatchWriteError,
    DynamoDBConfig,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    RetryableError,
)
from dynamodb_wrapper_async._wire.mock import MockError, MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender

ASYNC = pytest.mark.asyncio(loop_scope="function")
TABLE = "fake_pipeline_config"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "endpoint-password-0451"


def throttle() -> MockError:
    return MockError("ProvisionedThroughputExceededException", "slow down")


def pipelines(count: int) -> list[PipelineConfigUpsert]:
    return [
        PipelineConfigUpsert(
            pipeline_id=f"p{n:05d}", pipeline_name=f"n{n}", source_type="s3",
            destination_type="warehouse",
        )
        for n in range(count)
    ]  # fmt: skip


class Script:
    """Answers from a script: a list of faults per operation, then success."""

    def __init__(self, **faults: list[str]) -> None:
        self.faults = faults
        self.requests: list[str] = []
        self.gauge: list[float] = []
        self.telemetry: Telemetry | None = None

    async def answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(operation)
        if self.telemetry is not None and operation == "BatchWriteItem":
            self.gauge.append(self.telemetry.total("dynamodb_wrapper.batch.concurrency_limit"))
        script = self.faults.get(operation, [])
        fault = script.pop(0) if script else "ok"
        if fault == "throttle":
            raise throttle()
        if fault == "invalid":
            raise MockError("ValidationException", "no such attribute")
        if operation == "BatchWriteItem":
            ((table, writes),) = request["RequestItems"].items()
            left = writes[: int(fault)] if fault.isdigit() else []
            return {
                "UnprocessedItems": {table: left} if left else {},
                "ConsumedCapacity": [
                    {"TableName": table, "CapacityUnits": len(writes) - len(left)}
                ],
            }
        if operation == "PutItem":
            return {"ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 1.0}}
        if operation in ("Query", "Scan"):
            items = [
                {"pipeline_id": {"S": f"p{n}"}, "is_active": {"S": "true"},
                 "updated_at": {"S": "2026-01-01T00:00:00.000000+00:00"}}
                for n in range(3)
            ]  # fmt: skip
            return {"Items": items, "Count": 3, "ScannedCount": 5}
        raise AssertionError(operation)


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    with installed() as exported:
        yield exported


@pytest.fixture
async def settings() -> AsyncIterator[DynamoDBConfig]:
    config = DynamoDBConfig(
        table_prefix="fake_",
        max_concurrency=4,
        endpoint_url=f"http://{KEY_ID}:{PASSWORD}@127.0.0.1:8123",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    yield config
    await close_clients(config)


def attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


def _assert_no_secret(telemetry: Telemetry) -> None:
    for span in telemetry.spans():
        text = json.dumps(
            [attrs(span), [attrs(e) for e in span.events],
             span.status.description],
            default=str,
        )  # fmt: skip
        for secret in (SECRET, KEY_ID, PASSWORD):
            assert secret not in text
    for secret in (SECRET, KEY_ID, PASSWORD):
        assert secret not in json.dumps(telemetry.metrics(), default=str)


@ASYNC
async def test_a_write_is_a_client_span_under_the_public_call(
    telemetry: Telemetry, settings: DynamoDBConfig
) -> None:
    install_sender(settings, MockSender(Script().answer))
    await PipelineConfigWriteApi(settings).create_pipeline(pipelines(1)[0])

    (call,) = telemetry.spans("PipelineConfigWriteApi.create")
    (attempt,) = telemetry.spans("DynamoDB.PutItem")
    assert attempt.kind is SpanKind.CLIENT
    assert attempt.parent is not None
    assert attempt.parent.span_id == call.context.span_id
    attributes = attrs(attempt)
    assert attributes["db.system.name"] == "aws.dynamodb"
    assert attributes["rpc.system"] == "aws-api"
    assert attributes["rpc.service"] == "DynamoDB"
    assert attributes["rpc.method"] == "PutItem"
    assert attributes["aws.dynamodb.table_names"] == (TABLE,)
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["server.port"] == 8123
    assert attributes["dynamodb_wrapper.attempt"] == 1
    (consumed,) = attributes["aws.dynamodb.consumed_capacity"]
    assert json.loads(consumed) == {"TableName": TABLE, "CapacityUnits": 1.0}
    assert attempt.status.status_code is StatusCode.UNSET
    assert telemetry.total("dynamodb_wrapper.requests", rpc__method="PutItem") == 0  # wrong key
    assert telemetry.total("dynamodb_wrapper.requests", db__operation__name="PutItem") == 1
    assert telemetry.total("dynamodb_wrapper.items_written") == 1
    assert (
        telemetry.total("dynamodb_wrapper.capacity_units", dynamodb_wrapper__capacity="write") == 1
    )
    _assert_no_secret(telemetry)


@ASYNC
async def test_each_retry_is_an_attempt_span_and_is_counted(
    telemetry: Telemetry, settings: DynamoDBConfig
) -> None:
    install_sender(settings, MockSender(Script(PutItem=["throttle", "throttle"]).answer))
    await PipelineConfigWriteApi(settings).create_pipeline(pipelines(1)[0])

    attempts = telemetry.spans("DynamoDB.PutItem")
    assert [attrs(s)["dynamodb_wrapper.attempt"] for s in attempts] == [1, 2, 3]
    assert [s.status.status_code for s in attempts] == [
        StatusCode.ERROR, StatusCode.ERROR, StatusCode.UNSET,
    ]  # fmt: skip
    first = attrs(attempts[0])
    assert first["error.type"] == "ProvisionedThroughputExceededException"
    assert first["dynamodb_wrapper.retried"] is True
    (call,) = telemetry.spans("PipelineConfigWriteApi.create")
    assert {s.parent.span_id for s in attempts if s.parent} == {call.context.span_id}
    assert telemetry.total("dynamodb_wrapper.requests") == 3
    assert telemetry.total("dynamodb_wrapper.throttled_requests") == 2
    assert telemetry.total("dynamodb_wrapper.retries") == 2
    _assert_no_secret(telemetry)


@ASYNC
async def test_batch_faults_are_counted_exactly(
    telemetry: Telemetry, settings: DynamoDBConfig
) -> None:
    # 100 items: 4 chunks; one answer leaves 7 items unprocessed, one is throttled
    script = Script(BatchWriteItem=["7", "throttle"])
    install_sender(settings, MockSender(script.answer))
    result = await PipelineConfigWriteApi(settings).batch_upsert(pipelines(100))

    assert result.processed == 100
    assert result.retries == 2
    assert len(script.requests) == 6
    assert telemetry.total("dynamodb_wrapper.requests") == 6
    assert telemetry.total("dynamodb_wrapper.throttled_requests") == 1
    assert telemetry.total("dynamodb_wrapper.retries") == 2
    assert telemetry.total("dynamodb_wrapper.unprocessed_items") == 7
    assert telemetry.total("dynamodb_wrapper.items_written", db__collection__name=TABLE) == 100
    assert telemetry.total("dynamodb_wrapper.capacity_units") == 100

    (call,) = telemetry.spans("PipelineConfigWriteApi.batch_upsert")
    (job,) = telemetry.spans("dynamodb_wrapper.batch_write")
    assert job.parent is not None
    assert job.parent.span_id == call.context.span_id
    job_attributes = attrs(job)
    assert job_attributes["dynamodb_wrapper.processed"] == 100
    assert job_attributes["dynamodb_wrapper.retries"] == 2
    attempts = telemetry.spans("DynamoDB.BatchWriteItem")
    assert len(attempts) == 6
    assert {s.parent.span_id for s in attempts if s.parent} == {job.context.span_id}
    assert sorted(attrs(s)["dynamodb_wrapper.attempt"] for s in attempts) == [
        1, 1, 1, 1, 2, 2,
    ]  # fmt: skip
    assert sum(attrs(s).get("dynamodb_wrapper.unprocessed_items", 0) for s in attempts) == 7
    _assert_no_secret(telemetry)


@ASYNC
async def test_a_failed_job_has_an_error_status(
    telemetry: Telemetry, settings: DynamoDBConfig
) -> None:
    install_sender(settings, MockSender(Script(BatchWriteItem=["invalid"] * 2).answer))
    with pytest.raises(BatchWriteError):
        await PipelineConfigWriteApi(settings).batch_upsert(pipelines(50))

    (job,) = telemetry.spans("dynamodb_wrapper.batch_write")
    assert job.status.status_code is StatusCode.ERROR
    attributes = attrs(job)
    assert attributes["error.type"] == "BatchWriteError"
    assert attributes["aws.error_code"] == "ValidationException"
    assert attributes["dynamodb_wrapper.unprocessed_items"] == 50
    (call,) = telemetry.spans("PipelineConfigWriteApi.batch_upsert")
    assert call.status.status_code is StatusCode.ERROR
    failed = [
        s
        for s in telemetry.spans("DynamoDB.BatchWriteItem")
        if s.status.status_code is StatusCode.ERROR
    ]
    assert len(failed) == 2
    assert attrs(failed[0])["error.type"] == "ValidationException"
    assert attrs(failed[0])["dynamodb_wrapper.retried"] is False


@ASYNC
async def test_the_concurrency_gauge_follows_the_aimd_level(
    telemetry: Telemetry, settings: DynamoDBConfig
) -> None:
    script = Script(BatchWriteItem=["throttle"])
    script.telemetry = telemetry
    install_sender(settings, MockSender(script.answer))
    await PipelineConfigWriteApi(settings).batch_upsert(pipelines(25))
    # max_concurrency 4: the limit is 4 until the throttle halves it to 2
    assert script.gauge == [4, 2]
    assert telemetry.total("dynamodb_wrapper.batch.concurrency_limit") == 0  # the job ended


@ASYNC
async def test_a_query_span_carries_the_read_attributes(
    telemetry: Telemetry, settings: DynamoDBConfig
) -> None:
    install_sender(settings, MockSender(Script().answer))
    items, _ = await PipelineConfigReadApi(settings).query_active_pipelines(
        projection=["pipeline_id"], limit=3
    )
    assert len(items) == 3
    (attempt,) = telemetry.spans("DynamoDB.Query")
    attributes = attrs(attempt)
    assert attributes["aws.dynamodb.index_name"] == "ActivePipelinesIndex"
    assert attributes["aws.dynamodb.limit"] == 3
    assert attributes["aws.dynamodb.scan_forward"] is False
    assert isinstance(attributes["aws.dynamodb.projection"], str)
    assert attributes["aws.dynamodb.count"] == 3
    assert attributes["aws.dynamodb.scanned_count"] == 5
    (call,) = telemetry.spans("PipelineConfigReadApi.query_active_pipelines")
    assert attempt.parent is not None
    assert attempt.parent.span_id == call.context.span_id
    assert telemetry.total("dynamodb_wrapper.items_read") == 3


@ASYNC
async def test_no_provider_no_span(settings: DynamoDBConfig) -> None:
    from dynamodb_wrapper_async._telemetry import _otel

    install_sender(settings, MockSender(Script(PutItem=["throttle"]).answer))
    await PipelineConfigWriteApi(settings).create_pipeline(pipelines(1)[0])
    assert _otel.tracer() is None
    assert _otel.probe(settings, "PutItem", {"TableName": TABLE}, TABLE) is None
    with installed() as telemetry:
        assert _otel.tracer() is not None
        assert telemetry.spans() == []
    assert _otel.tracer() is None


def test_opentelemetry_is_never_imported_by_the_library() -> None:
    code = """
import asyncio, sys
from dynamodb_wrapper_async import DynamoDBConfig, PipelineConfigUpsert, PipelineConfigWriteApi
from dynamodb_wrapper_async._wire.mock import MockSender
from dynamodb_wrapper_async._wire.pool import install_sender

async def main():
    config = DynamoDBConfig(table_prefix="fake_")
    async def answer(operation, request):
        return {}
    install_sender(config, MockSender(answer))
    api = PipelineConfigWriteApi(config)
    await api.create_pipeline(PipelineConfigUpsert(
        pipeline_id="p1", pipeline_name="n", source_type="s3", destination_type="w"))
    await api.batch_upsert([PipelineConfigUpsert(
        pipeline_id=f"p{n}", pipeline_name="n", source_type="s3", destination_type="w")
        for n in range(30)])

asyncio.run(main())
print(sorted(m for m in sys.modules if m.startswith("opentelemetry")))
"""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


@ASYNC
async def test_get_retry_exhaustion_is_an_error_attempt(
    telemetry: Telemetry, settings: DynamoDBConfig
) -> None:
    limited = settings.model_copy(update={"max_retries": 1})
    install_sender(limited, MockSender(Script(PutItem=["throttle"] * 5).answer))
    try:
        with pytest.raises(RetryableError):
            await PipelineConfigWriteApi(limited).create_pipeline(pipelines(1)[0])
    finally:
        await close_clients(limited)
    attempts = telemetry.spans("DynamoDB.PutItem")
    assert len(attempts) == 2
    assert attrs(attempts[-1])["dynamodb_wrapper.retried"] is False
    (call,) = telemetry.spans("PipelineConfigWriteApi.create")
    assert call.status.status_code is StatusCode.ERROR
    assert telemetry.total("dynamodb_wrapper.throttled_requests") == 2
    assert telemetry.total("dynamodb_wrapper.retries") == 1


@ASYNC
async def test_a_cancelled_attempt_still_ends_its_span(
    telemetry: Telemetry, settings: DynamoDBConfig
) -> None:
    started = asyncio.Event()

    async def hang(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError

    install_sender(settings, MockSender(hang))
    task = asyncio.ensure_future(PipelineConfigWriteApi(settings).create_pipeline(pipelines(1)[0]))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (attempt,) = telemetry.spans("DynamoDB.PutItem")
    assert attrs(attempt)["dynamodb_wrapper.cancelled"] is True
    assert len(telemetry.spans("PipelineConfigWriteApi.create")) == 1


@ASYNC
async def test_a_stream_is_a_span_over_its_pages(
    telemetry: Telemetry, settings: DynamoDBConfig
) -> None:
    install_sender(settings, MockSender(Script().answer))
    reader = PipelineConfigReadApi(settings)
    async with reader.scan_iter(segments=2) as stream:
        scanned = [item async for item in stream]
    queried = [item async for item in reader.query_active_pipelines_iter()]

    assert len(scanned) == 6
    assert len(queried) == 3
    (scan,) = telemetry.spans("PipelineConfigReadApi.scan_iter")
    assert attrs(scan)["dynamodb_wrapper.items_read"] == 6
    segments = telemetry.spans("DynamoDB.Scan")
    assert sorted(attrs(s)["aws.dynamodb.segment"] for s in segments) == [0, 1]
    assert {attrs(s)["aws.dynamodb.total_segments"] for s in segments} == {2}
    assert {s.parent.span_id for s in segments if s.parent} == {scan.context.span_id}
    (query,) = telemetry.spans("PipelineConfigReadApi.query_active_pipelines_iter")
    (page,) = telemetry.spans("DynamoDB.Query")
    assert page.parent is not None
    assert page.parent.span_id == query.context.span_id


def test_sync_facade_calls_are_children_of_the_callers_span(telemetry: Telemetry) -> None:
    from opentelemetry import trace

    import dynamodb_wrapper_sync as sync
    from dynamodb_wrapper_sync._runner import run

    config = DynamoDBConfig(table_prefix="fake_", region_name="eu-west-1")

    async def install() -> None:
        install_sender(config, MockSender(Script().answer))

    run(install())
    try:
        with trace.get_tracer("test").start_as_current_span("caller") as caller:
            sync.PipelineConfigWriteApi(config).create_pipeline(pipelines(1)[0])
            streamed = list(sync.PipelineConfigReadApi(config).scan_iter(segments=2))
    finally:
        run(close_clients(config))
    assert len(streamed) == 6
    (call,) = telemetry.spans("PipelineConfigWriteApi.create")
    assert call.parent is not None
    assert call.parent.span_id == caller.get_span_context().span_id
    (scan,) = telemetry.spans("PipelineConfigReadApi.scan_iter")
    assert scan.parent is not None
    assert scan.parent.span_id == caller.get_span_context().span_id
    segments = telemetry.spans("DynamoDB.Scan")
    assert {s.parent.span_id for s in segments if s.parent} == {scan.context.span_id}
