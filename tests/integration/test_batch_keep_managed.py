"""``batch_upsert(keep_managed_fields=True)``: copies keep each item's own stamps and version."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import dynamodb_wrapper_sync as sync
from dynamodb_wrapper_async import (
    DynamoDBConfig,
    PipelineRunLog,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    RunStatus,
    ValidationError,
)

UTC = dt.timezone.utc


def old_run(uid: str, n: int) -> PipelineRunLog:
    return PipelineRunLog(
        run_id=f"{uid}-{n}",
        pipeline_id="p-keep",
        status=RunStatus.SUCCESS,
        records_processed=n,
        created_at=dt.datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
        updated_at=dt.datetime(2022, 1, 2, 3, 4, 5, n, tzinfo=UTC),
        version=7 + n,
    )


def stored(raw_client: Any, config: DynamoDBConfig, run_id: str) -> dict[str, Any] | None:
    answer = raw_client.get_item(
        TableName=config.table_name("pipeline_run_logs"),
        Key={"run_id": {"S": run_id}, "pipeline_id": {"S": "p-keep"}},
        ConsistentRead=True,
    )
    item: dict[str, Any] | None = answer.get("Item")
    return item


async def test_items_keep_their_own_stamps_and_version(
    config: DynamoDBConfig, raw_client: Any, uid: str
) -> None:
    runs = [old_run(uid, n) for n in range(60)]
    result = await PipelineRunLogsWriteApi(config).batch_upsert(runs, keep_managed_fields=True)
    assert result.processed == 60
    for run in (runs[0], runs[31], runs[59]):
        item = stored(raw_client, config, run.run_id)
        assert item is not None
        assert item["created_at"] == {"S": "2021-03-04T05:06:07.891011Z"}
        assert item["updated_at"] == {"S": f"2022-01-02T03:04:05.{run.updated_at.microsecond:06d}Z"}
        assert item["version"] == {"N": str(run.version)}
        assert item["records_processed"] == {"N": str(run.records_processed)}


async def test_default_still_stamps_now(config: DynamoDBConfig, raw_client: Any, uid: str) -> None:
    before = dt.datetime.now(UTC)
    dto = PipelineRunLogUpsert(run_id=f"{uid}-d", pipeline_id="p-keep")
    await PipelineRunLogsWriteApi(config).batch_upsert([dto])
    item = stored(raw_client, config, f"{uid}-d")
    assert item is not None
    assert item["version"] == {"N": "1"}
    assert item["created_at"]["S"] >= f"{before:%Y-%m-%dT%H:%M:%S}"


async def test_a_dto_is_refused_when_keeping(config: DynamoDBConfig, uid: str) -> None:
    dto = PipelineRunLogUpsert(run_id=f"{uid}-x", pipeline_id="p-keep")
    with pytest.raises(ValidationError, match="full PipelineRunLog items"):
        await PipelineRunLogsWriteApi(config).batch_upsert([dto], keep_managed_fields=True)


@pytest.mark.parametrize(
    ("field", "value", "wanted"),
    [
        ("created_at", None, "an aware datetime"),
        ("updated_at", dt.datetime(2022, 1, 1), "an aware datetime"),
        ("version", None, "a positive int"),
        ("version", 0, "a positive int"),
        ("version", True, "a positive int"),
    ],
)
async def test_missing_or_bad_managed_values_name_the_item(
    config: DynamoDBConfig, raw_client: Any, uid: str, field: str, value: Any, wanted: str
) -> None:
    good = old_run(uid, 1)
    # model_construct bypasses validation, as a copy tool building items by hand might
    bad = PipelineRunLog.model_construct(**{**good.__dict__, "run_id": f"{uid}-bad", field: value})
    with pytest.raises(ValidationError) as caught:
        await PipelineRunLogsWriteApi(config).batch_upsert([bad], keep_managed_fields=True)
    assert f"PipelineRunLog.{field} must be {wanted}" in str(caught.value)
    assert caught.value.key == {"run_id": f"{uid}-bad", "pipeline_id": "p-keep"}
    assert stored(raw_client, config, f"{uid}-bad") is None  # nothing was sent


def test_the_sync_facade_takes_the_keyword(
    config: DynamoDBConfig, raw_client: Any, uid: str
) -> None:
    run = old_run(uid, 3)
    result = sync.PipelineRunLogsWriteApi(config).batch_upsert([run], keep_managed_fields=True)
    assert result.processed == 1
    item = stored(raw_client, config, run.run_id)
    assert item is not None
    assert item["version"] == {"N": "10"}
