"""Bad input is a ValidationError raised before any request is sent.

The config points at a closed port with no retries: had a request been sent, the error would
be a ConnectionError instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    TableConfigReadApi,
    ValidationError,
    close_clients,
)

NOWHERE = DynamoDBConfig(
    endpoint_url="http://127.0.0.1:9",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
    max_retries=0,
    connect_timeout=0.5,
)
UTC = dt.timezone.utc
pytestmark = pytest.mark.asyncio(loop_scope="function")


def dto(**extra: Any) -> PipelineConfigUpsert:
    values: dict[str, Any] = {
        "pipeline_id": "p",
        "pipeline_name": "n",
        "source_type": "s3",
        "destination_type": "warehouse",
        **extra,
    }
    return PipelineConfigUpsert(**values)


CASES: list[tuple[str, Any]] = [
    ("NaN", lambda: PipelineConfigWriteApi(NOWHERE).create_pipeline(
        dto(source_config={"ratio": float("nan")}))),
    ("400 KB", lambda: PipelineConfigWriteApi(NOWHERE).create_pipeline(
        dto(description="x" * 410_000))),
    ("non-empty", lambda: PipelineConfigReadApi(NOWHERE).get_by_id("")),
    ("got a int", lambda: PipelineConfigReadApi(NOWHERE).get_by_id(42)),
    ("no sort key", lambda: PipelineConfigReadApi(NOWHERE).get_by_id("p", "extra")),
    ("pipeline_id", lambda: PipelineRunLogsReadApi(NOWHERE).get_by_id("r")),
    ("unknown projection", lambda: PipelineConfigReadApi(NOWHERE).get_by_id(
        "p", projection=["nope"])),
    ("limit", lambda: PipelineConfigReadApi(NOWHERE).query_active_pipelines(limit=0)),
    ("limit", lambda: PipelineConfigReadApi(NOWHERE).query_active_pipelines(limit=-3)),
    ("page token", lambda: PipelineConfigReadApi(NOWHERE).query_active_pipelines(
        last_key="garbage")),
    ("sort_condition", lambda: PipelineRunLogsReadApi(NOWHERE).query_by_composite_key_range(
        "pipeline_id", "p", "created_at", "around", "x")),
    ("key schemas", lambda: PipelineRunLogsReadApi(NOWHERE).query_by_composite_key_range(
        "records_failed", 1)),
    ("naive", lambda: PipelineRunLogsReadApi(NOWHERE).query_by_composite_key_range(
        "pipeline_id", "p", "created_at", "gt", dt.datetime(2024, 1, 1))),
    ("naive", lambda: TableConfigReadApi(NOWHERE).query_recent_configs(
        since=dt.datetime(2024, 1, 1))),
    ("no field", lambda: PipelineConfigReadApi(NOWHERE).scan(filters={"nope": 1})),
    ("boto3 Attr", lambda: PipelineConfigReadApi(NOWHERE).scan(filters=["is_active"])),
    ("unknown fields", lambda: PipelineConfigWriteApi(NOWHERE).update_pipeline(
        "p", {"colour": "red"})),
    ("is_active", lambda: PipelineConfigWriteApi(NOWHERE).update_pipeline(
        "p", {"is_active": "perhaps"})),
    ("naive", lambda: PipelineRunLogsWriteApi(NOWHERE).update_run_log(
        "r", "p", {"end_time": dt.datetime(2024, 1, 1)})),
    ("boto3 Attr", lambda: PipelineConfigWriteApi(NOWHERE).update_pipeline(
        "p", {"is_active": True}, condition_expression="is_active = true")),
    ("no field", lambda: PipelineConfigWriteApi(NOWHERE).delete_pipeline(
        "p", condition=Attr("nope").eq(1))),
    ("complete_run status", lambda: PipelineRunLogsWriteApi(NOWHERE).complete_run(
        "r", "p", "exploded")),
    ("expected PipelineConfigUpsert", lambda: PipelineConfigWriteApi(NOWHERE).create(
        "not a dto")),  # type: ignore[arg-type]
    ("segments", lambda: PipelineConfigReadApi(NOWHERE).scan_iter(segments=0).__anext__()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("message", "call"), CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)]
)
async def test_rejected_before_any_request(message: str, call: Any) -> None:
    try:
        with pytest.raises(ValidationError, match=message):
            await call()
    finally:
        await close_clients()
