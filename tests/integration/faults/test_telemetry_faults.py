"""OpenTelemetry through the fault proxy: throttles, retries and unprocessed items are
counted exactly as the proxy reports injecting them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from _otel import Telemetry, installed
from integration.faults._fault_proxy import FaultProxy, plan

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    RunStatus,
)

MakeConfig = Callable[..., DynamoDBConfig]


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    with installed() as exported:
        yield exported


def run_logs(pipeline_id: str, count: int) -> Iterator[PipelineRunLogUpsert]:
    for n in range(count):
        yield PipelineRunLogUpsert(
            run_id=f"run-{n:06d}", pipeline_id=pipeline_id, status=RunStatus.SUCCESS
        )


async def test_faults_are_counted_as_the_proxy_injected_them(
    telemetry: Telemetry,
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    uid: str,
) -> None:
    faulty = via_proxy(config)
    table = faulty.table_name("pipeline_run_logs")
    proxy.schedule(
        plan(throttle=0.5, server_error=0.25, reset=0.25, requests=6),
        plan(partial=1.0, requests=6),
        plan(throttle=0.4, partial=0.4, requests=20),
    )

    result = await PipelineRunLogsWriteApi(faulty).batch_upsert(run_logs(uid, 200))

    stats = proxy.stats()
    throttles = sum(stats.throttle_codes.values())
    assert result.processed == 200
    assert throttles > 0
    assert stats.items_withheld > 0
    assert telemetry.total("dynamodb_wrapper.requests") == stats.requests["BatchWriteItem"]
    assert telemetry.total("dynamodb_wrapper.throttled_requests") == throttles
    assert telemetry.total("dynamodb_wrapper.unprocessed_items") == stats.items_withheld
    assert telemetry.total("dynamodb_wrapper.retries") == result.retries
    assert telemetry.total("dynamodb_wrapper.retries") == stats.requests["BatchWriteItem"] - 8
    assert telemetry.total("dynamodb_wrapper.items_written", db__collection__name=table) == 200
    attempts = telemetry.spans("DynamoDB.BatchWriteItem")
    assert len(attempts) == stats.requests["BatchWriteItem"]
    failed = [s for s in attempts if s.attributes and "error.type" in s.attributes]
    assert len(failed) == sum(stats.faults.values()) - stats.faults["partial_write"]
