"""transact_write and create_pipeline_with_tables on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr

from dynamodb_wrapper_async import (
    ConflictError,
    DynamoDBConfig,
    ItemNotFoundError,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    RunStatus,
    TableConfigReadApi,
    TableConfigUpsert,
    TableConfigWriteApi,
    ValidationError,
)


def pipeline(pipeline_id: str) -> PipelineConfigUpsert:
    return PipelineConfigUpsert(
        pipeline_id=pipeline_id, pipeline_name="n", source_type="s3", destination_type="dw"
    )


def table(table_id: str, pipeline_id: str, **extra: Any) -> TableConfigUpsert:
    return TableConfigUpsert(
        table_id=table_id, pipeline_id=pipeline_id, table_name=table_id, table_type="source",
        **extra,
    )  # fmt: skip


async def test_create_pipeline_with_tables_is_all_or_nothing(
    config: DynamoDBConfig, uid: str
) -> None:
    writes = PipelineConfigWriteApi(config)
    created, tables = await writes.create_pipeline_with_tables(
        pipeline(uid), [table(f"{uid}-t{n}", uid) for n in range(3)]
    )
    assert created.version == 1
    assert [t.table_id for t in tables] == [f"{uid}-t{n}" for n in range(3)]
    stored, _ = await TableConfigReadApi(config).query_by_pipeline(uid)
    assert [t.table_id for t in stored] == [f"{uid}-t{n}" for n in range(3)]

    # The pipeline exists now: the whole transaction is cancelled, the new table not written.
    with pytest.raises(ConflictError) as caught:
        await writes.create_pipeline_with_tables(pipeline(uid), [table(f"{uid}-t9", uid)])
    reasons = caught.value.cancellation_reasons
    assert [r["code"] for r in reasons] == ["ConditionalCheckFailed", "None"]
    assert reasons[0]["table"] == config.table_name("pipeline_config")
    assert reasons[0]["key"] == {"pipeline_id": uid}
    with pytest.raises(ItemNotFoundError):
        await TableConfigReadApi(config).get_by_id(f"{uid}-t9")

    with pytest.raises(ValidationError, match="do not belong"):
        await writes.create_pipeline_with_tables(pipeline(f"{uid}-x"), [table("t", "other")])


async def test_transact_write_across_three_tables(config: DynamoDBConfig, uid: str) -> None:
    pipelines = PipelineConfigWriteApi(config)
    tables = TableConfigWriteApi(config)
    runs = PipelineRunLogsWriteApi(config)
    await pipelines.create_pipeline(pipeline(uid))
    await tables.create_table_config(table(f"{uid}-old", uid))
    run = PipelineRunLogUpsert(run_id=f"{uid}-r", pipeline_id=uid, status=RunStatus.RUNNING)
    await runs.transact_write(
        [
            pipelines.update_action(uid, {"is_active": False}, expected_version=1),
            tables.delete_action(f"{uid}-old"),
            tables.create_action(table(f"{uid}-new", uid)),
            runs.create_action(run),
        ]
    )
    assert (await PipelineConfigReadApi(config).get_by_id(uid)).is_active is False
    with pytest.raises(ItemNotFoundError):
        await TableConfigReadApi(config).get_by_id(f"{uid}-old")
    assert (await TableConfigReadApi(config).get_by_id(f"{uid}-new")).table_id == f"{uid}-new"
    assert (
        await PipelineRunLogsReadApi(config).get_by_id(f"{uid}-r", uid)
    ).status is RunStatus.RUNNING

    # A failed condition cancels everything, with a reason per action.
    with pytest.raises(ConflictError) as caught:
        await runs.transact_write(
            [
                tables.update_action(f"{uid}-new", {"location": "s3://moved"}),
                pipelines.condition_check_action(uid, Attr("is_active").eq(True)),
            ]
        )
    assert [r["code"] for r in caught.value.cancellation_reasons] == [
        "None",
        "ConditionalCheckFailed",
    ]
    assert (await TableConfigReadApi(config).get_by_id(f"{uid}-new")).location is None


async def test_transaction_limits_are_checked_before_sending(
    config: DynamoDBConfig, uid: str
) -> None:
    tables = TableConfigWriteApi(config)
    with pytest.raises(ValidationError, match="1 to 100"):
        await tables.transact_write(
            [tables.create_action(table(f"{uid}-{n}", uid)) for n in range(101)]
        )
    with pytest.raises(ValidationError, match="1 to 100"):
        await tables.transact_write([])
    with pytest.raises(ValidationError, match="same item"):
        await tables.transact_write([tables.delete_action(uid), tables.delete_action(uid)])
    with pytest.raises(ValidationError, match="TransactAction"):
        await tables.transact_write(["Put"])  # type: ignore[list-item]


async def test_same_token_applies_once(config: DynamoDBConfig, uid: str) -> None:
    """A retried transaction (same ClientRequestToken, same request) is not applied twice."""
    if config.table_prefix.startswith("t_moto_"):
        pytest.skip("moto's server ignores ClientRequestToken; DynamoDB Local honours it")
    pipelines = PipelineConfigWriteApi(config)
    await pipelines.create_pipeline(pipeline(uid))
    bump = pipelines.update_action(uid, {"description": "once"})
    await pipelines.transact_write([bump], client_request_token=f"tok-{uid}")
    await pipelines.transact_write([bump], client_request_token=f"tok-{uid}")
    assert (await PipelineConfigReadApi(config).get_by_id(uid)).version == 2
