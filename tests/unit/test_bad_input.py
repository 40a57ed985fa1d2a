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
    TableConfigUpsert,
    TableConfigWriteApi,
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
CYCLIC: dict[str, Any] = {}
CYCLIC["self"] = CYCLIC
DEEP: Any = 1
for _ in range(31):
    DEEP = [DEEP]
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
    # issue 13.4: what only DynamoDB refused, or what raised a raw Python error
    ("over DynamoDB's 2,048-byte limit", lambda: PipelineConfigReadApi(NOWHERE).get_by_id(
        "\u00e9" * 1025)),
    ("sort key .* over DynamoDB's 1,024-byte limit", lambda: PipelineRunLogsReadApi(
        NOWHERE).get_by_id("r", "x" * 1025)),
    ("'pipeline_id' is a string key", lambda: TableConfigReadApi(NOWHERE).query_by_pipeline(
        123)),  # type: ignore[arg-type]
    ("'pipeline_id' is a string key", lambda: PipelineRunLogsReadApi(
        NOWHERE).query_runs_for_pipeline(["a"])),  # type: ignore[arg-type]
    ("iterable .* of keys, got str", lambda: PipelineConfigReadApi(NOWHERE).batch_get("abc")),
    ("iterable .* of keys, got bytes", lambda: PipelineConfigWriteApi(NOWHERE).batch_delete(
        b"abc")),
    ("iterable .* of items, got PipelineConfigUpsert", lambda: PipelineConfigWriteApi(
        NOWHERE).batch_upsert(dto())),  # type: ignore[arg-type]
    ("batch key 1 .* 2,048-byte", lambda: PipelineConfigReadApi(NOWHERE).batch_get(
        ["ok", "x" * 2049])),
    (r"batch item 1 \(42\): .*got a int", lambda: PipelineConfigWriteApi(
        NOWHERE).batch_delete(["ok", 42])),
    ("batch item 2 .* contain themselves", lambda: PipelineConfigWriteApi(
        NOWHERE).batch_upsert([dto(), dto(pipeline_id="q"), dto(source_config=CYCLIC)])),
    ("map keys must be non-empty", lambda: PipelineConfigWriteApi(NOWHERE).create_pipeline(
        dto(source_config={"": 1}))),
    ("nested deeper than DynamoDB's 32 levels", lambda: PipelineConfigWriteApi(
        NOWHERE).create_pipeline(dto(source_config={"a": DEEP}))),
    ("out of range once converted to UTC", lambda: PipelineRunLogsWriteApi(NOWHERE).start_run(
        "r", "p", start_time=dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))))),
    ("out of range once converted to UTC", lambda: PipelineRunLogsWriteApi(
        NOWHERE).update_run_log("r", "p", {"end_time": dt.datetime(
            9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5)))})),
    ("out of range", lambda: PipelineRunLogsReadApi(NOWHERE).query_runs_for_pipeline(
        "p", since=dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))))),
    ("GSI PipelineTablesIndex sort key 'table_name' is 1,025 bytes", lambda: TableConfigWriteApi(
        NOWHERE).update_table_config("t", {"table_name": "x" * 1025})),
    ("GSI PipelineTablesIndex sort key 'table_name' is 1,026 bytes", lambda: TableConfigWriteApi(
        NOWHERE).upsert_table_config(TableConfigUpsert(
            table_id="t", pipeline_id="p", table_name="\u00e9" * 513, table_type="raw"))),
    # issue 13.5: stored as given, or refused
    ("records_processed: Input should be a valid integer", lambda: PipelineRunLogsWriteApi(
        NOWHERE).update_run_log("r", "p", {"records_processed": "12"})),
    ("is_active", lambda: PipelineConfigWriteApi(NOWHERE).update_pipeline(
        "p", {"is_active": "yes"})),
    ("error_message", lambda: PipelineRunLogsWriteApi(NOWHERE).update_run_log(
        "r", "p", {"error_message": b"bytes"})),
    ("duration_seconds", lambda: PipelineRunLogsWriteApi(NOWHERE).update_run_log(
        "r", "p", {"duration_seconds": "1.5"})),
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


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("records_processed", "12"),
        ("records_processed", True),
        ("records_processed", 12.0),
        ("duration_seconds", "1.5"),
        ("error_message", b"bytes"),
        ("start_time", "2024-01-01T00:00:00"),  # no offset
        ("start_time", 1_700_000_000),
        ("metrics", {"": 1}),
    ],
)
async def test_dto_fields_are_stored_as_given_or_refused(field: str, value: Any) -> None:
    from dynamodb_wrapper_async import PipelineRunLogUpsert
    from dynamodb_wrapper_async._codec import encode_item

    with pytest.raises(ValidationError, match=field):
        encode_item(PipelineRunLogUpsert(run_id="r", pipeline_id="p", **{field: value}).__dict__)


async def test_documented_conversions_stay() -> None:
    from dynamodb_wrapper_async import PipelineRunLogUpsert, TableConfigUpsert

    run = PipelineRunLogUpsert(
        run_id="r",
        pipeline_id="p",
        status="failed",  # type: ignore[arg-type]
        start_time="2024-01-31T10:05:00+01:00",  # type: ignore[arg-type]
        end_time=dt.datetime(2024, 1, 31, 4, 10, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        duration_seconds=3,
    )
    assert run.start_time == dt.datetime(2024, 1, 31, 9, 5, tzinfo=UTC)
    assert run.start_time.tzinfo is UTC
    assert run.end_time is not None
    assert run.end_time.tzinfo is UTC
    assert run.end_time.hour == 9
    assert run.duration_seconds == 3.0
    assert type(run.duration_seconds) is float
    table = TableConfigUpsert(
        table_id="t",
        pipeline_id="p",
        table_name="n",
        table_type="raw",
        partition_columns=("a", "b"),  # type: ignore[arg-type]
    )
    assert table.partition_columns == ["a", "b"]


async def test_a_bad_item_is_refused_before_its_chunk_is_sent_naming_position_and_key() -> None:
    """Items are checked as the batch reads them: a bad one stops the batch before its own
    chunk goes out (earlier chunks of a stream may be written already), never failing a
    chunk on the server, and the error names its position and key."""
    from dynamodb_wrapper_async._wire.mock import MockSender
    from dynamodb_wrapper_async._wire.pool import install_sender

    async def answer(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        del operation, request
        return {"UnprocessedItems": {}}

    sender = MockSender(answer)
    install_sender(NOWHERE, sender)
    items = [dto(pipeline_id=f"p{n}") for n in range(60)]
    items[55] = dto(pipeline_id="p55", source_config={"": "empty map key"})
    try:
        with pytest.raises(
            ValidationError, match=r"^batch item 55 \(key \{'pipeline_id': 'p55'\}\): source_config"
        ) as refused:
            await PipelineConfigWriteApi(NOWHERE).batch_upsert(iter(items))
    finally:
        await close_clients(NOWHERE)
    assert refused.value.key == {"pipeline_id": "p55"}
    sent = [
        put["PutRequest"]["Item"]["pipeline_id"]["S"]
        for _, request in sender.requests
        for put in request["RequestItems"][PipelineConfigWriteApi(NOWHERE).table_name]
    ]
    assert len(sent) == len(set(sent))
    assert set(sent) <= {f"p{n}" for n in range(50)}  # the chunk holding item 55 never left
