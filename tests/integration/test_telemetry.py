"""OpenTelemetry against a real server (moto server and DynamoDB Local): spans name the real
tables and endpoint, carry the ConsumedCapacity the server returns, and never a secret."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from _otel import Telemetry, installed

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    close_clients,
)
from dynamodb_wrapper_async._engine import gateway

SECRET = "sEcReT/telemetry+0123456789abcdefghijKLMN"
KEY_ID = "AKIATELEMETRYTEST0001"
TOKEN = "session-token-telemetry-test-0001"


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    with installed() as exported:
        yield exported


@pytest.fixture
async def keyed(config: DynamoDBConfig) -> AsyncIterator[DynamoDBConfig]:
    """The session's tables, reached with credentials that must never be exported."""
    made = config.model_copy(
        update={
            "aws_access_key_id": KEY_ID,
            "aws_secret_access_key": SECRET,
            "aws_session_token": TOKEN,
        }
    )
    yield made
    await close_clients(made)


def attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


def pipelines(uid: str, count: int) -> list[PipelineConfigUpsert]:
    return [
        PipelineConfigUpsert(
            pipeline_id=f"{uid}-{n:03d}", pipeline_name=f"n{n}", source_type="s3",
            destination_type="warehouse",
        )
        for n in range(count)
    ]  # fmt: skip


def assert_no_secret(telemetry: Telemetry) -> None:
    exported = json.dumps(
        [
            [attrs(s), [attrs(e) for e in s.events], s.status.description, s.name]
            for s in telemetry.spans()
        ],
        default=str,
    ) + json.dumps(telemetry.metrics(), default=str)
    for secret in (SECRET, KEY_ID, TOKEN, "Authorization", "Signature="):
        assert secret not in exported


async def test_spans_name_the_server_and_tables(
    telemetry: Telemetry, keyed: DynamoDBConfig, uid: str
) -> None:
    table = keyed.table_name("pipeline_config")
    writer = PipelineConfigWriteApi(keyed)
    await writer.create_pipeline(pipelines(uid, 1)[0])
    result = await writer.batch_upsert(pipelines(uid, 60)[1:])
    got = await PipelineConfigReadApi(keyed).batch_get([f"{uid}-{n:03d}" for n in range(60)])

    assert result.processed == 59
    assert len(got) == 60
    endpoint = urlsplit(keyed.endpoint_url or "")
    attempts = [s for s in telemetry.spans() if s.name.startswith("DynamoDB.")]
    assert {s.name for s in attempts} == {
        "DynamoDB.PutItem", "DynamoDB.BatchWriteItem", "DynamoDB.BatchGetItem",
    }  # fmt: skip
    for span in attempts:
        assert attrs(span)["aws.dynamodb.table_names"] == (table,)
        assert attrs(span)["server.address"] == endpoint.hostname
        assert attrs(span)["server.port"] == endpoint.port
    assert telemetry.total("dynamodb_wrapper.items_written", db__collection__name=table) == 60
    assert telemetry.total("dynamodb_wrapper.items_read", db__collection__name=table) == 60
    (job,) = telemetry.spans("dynamodb_wrapper.batch_write")
    assert attrs(job)["dynamodb_wrapper.processed"] == 59
    assert_no_secret(telemetry)


async def test_spans_carry_the_consumed_capacity_the_server_returns(
    telemetry: Telemetry, keyed: DynamoDBConfig, uid: str
) -> None:
    if not keyed.table_prefix.startswith("t_ddblocal_"):
        pytest.skip("moto reports one capacity unit per BatchWriteItem, whatever it holds")
    table = keyed.table_name("pipeline_config")
    items = [
        {"PutRequest": {"Item": {"pipeline_id": {"S": f"{uid}-{n}"}, "note": {"S": "x"}}}}
        for n in range(10)
    ]
    await gateway.call(
        keyed,
        "BatchWriteItem",
        {"RequestItems": {table: items}, "ReturnConsumedCapacity": "TOTAL"},
        table=table,
    )
    (span,) = telemetry.spans("DynamoDB.BatchWriteItem")
    consumed = [json.loads(each) for each in attrs(span)["aws.dynamodb.consumed_capacity"]]
    assert [c["TableName"] for c in consumed] == [table]
    assert consumed[0]["CapacityUnits"] == 10.0  # ten items under 1 KB: one unit each
    assert telemetry.total("dynamodb_wrapper.capacity_units", db__collection__name=table) == 10
    assert_no_secret(telemetry)
