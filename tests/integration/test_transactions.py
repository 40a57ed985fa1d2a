"""transact_write, create_pipeline_with_tables and transact_get on both backends."""

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
    PipelineConfigView,
    PipelineConfigWriteApi,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    PipelineRunLogView,
    RunStatus,
    TableConfigReadApi,
    TableConfigUpsert,
    TableConfigView,
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


# ------------------------------------------------------------------ transactional reads
async def test_transact_get_reads_three_tables_in_order(config: DynamoDBConfig, uid: str) -> None:
    await PipelineConfigWriteApi(config).create_pipeline(pipeline(uid))
    await TableConfigWriteApi(config).create_table_config(table(f"{uid}-t", uid))
    run = PipelineRunLogUpsert(run_id=f"{uid}-r", pipeline_id=uid, status=RunStatus.RUNNING)
    await PipelineRunLogsWriteApi(config).create_run_log(run)
    pipelines = PipelineConfigReadApi(config)
    tables = TableConfigReadApi(config)
    runs = PipelineRunLogsReadApi(config)

    got = await pipelines.transact_get(
        [
            runs.get_action((f"{uid}-r", uid)),
            pipelines.get_action(f"{uid}-missing"),
            tables.get_action(f"{uid}-t", projection=["table_name"]),
            pipelines.get_action({"pipeline_id": uid}),
        ]
    )
    assert [type(view).__name__ if view else None for view in got] == [
        "PipelineRunLogView", None, "TableConfigView", "PipelineConfigView",
    ]  # fmt: skip
    run_view, _, table_view, pipeline_view = got
    assert isinstance(run_view, PipelineRunLogView)
    assert run_view.status is RunStatus.RUNNING
    assert isinstance(table_view, TableConfigView)
    assert (table_view.table_id, table_view.table_name) == (f"{uid}-t", f"{uid}-t")
    if not config.table_prefix.startswith("t_moto_"):  # moto ignores the projection here
        assert table_view.pipeline_id is None  # not projected (keys always are)
    assert isinstance(pipeline_view, PipelineConfigView)
    assert pipeline_view == await pipelines.get_by_id(uid)


async def test_transact_get_limits_are_checked_before_sending(
    config: DynamoDBConfig, uid: str
) -> None:
    reads = TableConfigReadApi(config)
    with pytest.raises(ValidationError, match="1 to 100"):
        await reads.transact_get([reads.get_action(f"{uid}-{n}") for n in range(101)])
    with pytest.raises(ValidationError, match="1 to 100"):
        await reads.transact_get([])
    with pytest.raises(ValidationError, match="same item"):
        await reads.transact_get([reads.get_action(uid), reads.get_action({"table_id": uid})])
    with pytest.raises(ValidationError, match="TransactGet"):
        await reads.transact_get([uid])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="iterable of TransactGet"):
        await reads.transact_get(uid)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown projection fields"):
        reads.get_action(uid, projection=["nope"])
    if config.table_prefix.startswith("t_moto_"):
        return  # moto's server still has the old limit of 25
    # exactly 100 is allowed (DynamoDB's limit since 2022): all missing
    assert (
        await reads.transact_get([reads.get_action(f"{uid}-{n}") for n in range(100)])
        == [None] * 100
    )
