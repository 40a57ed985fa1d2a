import datetime as dt
import re
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
    ValidationError,
)

FIXED_WIDTH = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def pipeline(pipeline_id: str, **extra: Any) -> PipelineConfigUpsert:
    values: dict[str, Any] = {
        "pipeline_id": pipeline_id,
        "pipeline_name": "Data Processing Pipeline",
        "source_type": "s3",
        "destination_type": "warehouse",
        "source_config": {"bucket": "raw", "retries": 3, "ratio": 0.25},
        **extra,
    }
    return PipelineConfigUpsert(**values)


async def test_create_get_and_conflict(config: DynamoDBConfig, uid: str) -> None:
    write, read = PipelineConfigWriteApi(config), PipelineConfigReadApi(config)
    created = await write.create_pipeline(pipeline(uid, description="demo"))
    assert created.version == 1
    assert created.created_at == created.updated_at
    assert created.created_at.tzinfo == dt.timezone.utc

    got = await read.get_by_id(uid, consistent_read=True)
    assert got.pipeline_name == "Data Processing Pipeline"
    assert got.source_config == {"bucket": "raw", "retries": 3, "ratio": 0.25}
    assert got.is_active is True
    assert got.created_at == created.created_at

    with pytest.raises(ConflictError) as caught:
        await write.create_pipeline(pipeline(uid))
    assert caught.value.key == {"pipeline_id": uid}
    assert caught.value.table == config.table_name("pipeline_config")


async def test_projection_returns_only_requested_fields(config: DynamoDBConfig, uid: str) -> None:
    await PipelineConfigWriteApi(config).create_pipeline(pipeline(uid))
    read = PipelineConfigReadApi(config)
    view = await read.get_by_id(uid, projection=["pipeline_id", "pipeline_name", "is_active"])
    assert view.pipeline_name == "Data Processing Pipeline"
    assert view.is_active is True
    assert view.source_type is None
    assert view.created_at is None
    with pytest.raises(ValidationError, match="no_such_field"):
        await read.get_by_id(uid, projection=["pipeline_id", "no_such_field"])


async def test_missing_item_raises_item_not_found(config: DynamoDBConfig, uid: str) -> None:
    with pytest.raises(ItemNotFoundError) as caught:
        await PipelineConfigReadApi(config).get_by_id(f"missing-{uid}")
    assert caught.value.key == {"pipeline_id": f"missing-{uid}"}


async def test_raw_storage_format(config: DynamoDBConfig, raw_client: Any, uid: str) -> None:
    await PipelineConfigWriteApi(config).create_pipeline(pipeline(uid, is_active=False))
    raw = raw_client.get_item(
        TableName=config.table_name("pipeline_config"), Key={"pipeline_id": {"S": uid}}
    )["Item"]
    assert raw["is_active"] == {"S": "false"}
    assert FIXED_WIDTH.match(raw["created_at"]["S"])
    assert FIXED_WIDTH.match(raw["updated_at"]["S"])
    assert raw["source_config"]["M"]["ratio"] == {"N": "0.25"}
    assert "description" not in raw  # None is omitted, not stored as NULL


async def test_upsert_keeps_created_at_and_advances_version(
    config: DynamoDBConfig, uid: str
) -> None:
    write = PipelineConfigWriteApi(config)
    first = await write.upsert_pipeline(pipeline(uid, description="v1"))
    assert first.version == 1
    second = await write.upsert_pipeline(pipeline(uid, pipeline_name="Renamed"))
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    assert second.version == 2
    assert second.pipeline_name == "Renamed"
    assert second.description is None  # an upsert sets the whole record


async def test_update_with_condition_and_version(config: DynamoDBConfig, uid: str) -> None:
    write = PipelineConfigWriteApi(config)
    await write.create_pipeline(pipeline(uid, description="to remove"))
    updated = await write.update_pipeline(
        uid,
        {"is_active": False, "description": None},
        condition_expression=Attr("is_active").eq(True),
    )
    assert updated.is_active is False
    assert updated.description is None
    assert updated.version == 2

    with pytest.raises(ConflictError, match="condition"):
        await write.update_pipeline(
            uid, {"pipeline_name": "x"}, condition_expression=Attr("is_active").eq(True)
        )
    with pytest.raises(ConflictError, match="expected 1, found 2") as caught:
        await write.update_pipeline(uid, {"pipeline_name": "x"}, expected_version=1)
    assert caught.value.key == {"pipeline_id": uid}
    third = await write.update_pipeline(uid, {"pipeline_name": "x"}, expected_version=2)
    assert third.version == 3


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        ({"no_such": 1}, "unknown fields"),
        ({"is_active": "maybe"}, "is_active"),
        ({"pipeline_id": "other"}, "cannot update"),
        ({"version": 9}, "cannot update"),
        ({"pipeline_name": None}, "required"),
        ({}, "non-empty"),
        ({"tags": {"a": 1}}, "tags"),
    ],
)
async def test_bad_updates_fail_before_any_request(
    config: DynamoDBConfig, updates: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        # the item does not exist: a request would have raised ItemNotFoundError instead
        await PipelineConfigWriteApi(config).update_pipeline("never-created", updates)


async def test_update_and_delete_missing_item(config: DynamoDBConfig, uid: str) -> None:
    write = PipelineConfigWriteApi(config)
    with pytest.raises(ItemNotFoundError):
        await write.update_pipeline(f"missing-{uid}", {"pipeline_name": "x"})
    await write.create_pipeline(pipeline(uid))
    with pytest.raises(ConflictError):
        await write.delete_pipeline(uid, condition=Attr("pipeline_name").eq("other"))
    await write.delete_pipeline(uid)
    with pytest.raises(ItemNotFoundError):
        await PipelineConfigReadApi(config).get_by_id(uid)
    with pytest.raises(ItemNotFoundError):
        await write.delete_pipeline(uid)


async def test_query_active_pipelines_pages(config: DynamoDBConfig, uid: str) -> None:
    write, read = PipelineConfigWriteApi(config), PipelineConfigReadApi(config)
    for n in range(7):
        await write.create_pipeline(pipeline(f"{uid}-{n}", pipeline_name=uid, is_active=n != 3))
    seen: list[str] = []
    last_key = None
    while True:
        page, last_key = await read.query_active_pipelines(
            filters={"pipeline_name": uid}, limit=2, last_key=last_key
        )
        assert len(page) <= 2
        seen.extend(p.pipeline_id or "" for p in page)
        if last_key is None:
            break
    assert sorted(seen) == sorted(f"{uid}-{n}" for n in range(7) if n != 3)
    assert seen == [f"{uid}-{n}" for n in (6, 5, 4, 2, 1, 0)]  # most recently updated first
    streamed = [
        p.pipeline_id
        async for p in read.query_active_pipelines_iter(filters={"pipeline_name": uid})
    ]
    assert streamed == seen


async def test_batch_get(config: DynamoDBConfig, uid: str) -> None:
    write, read = PipelineConfigWriteApi(config), PipelineConfigReadApi(config)
    for n in range(3):
        await write.create_pipeline(pipeline(f"{uid}-{n}"))
    ids = [f"{uid}-{n}" for n in (0, 1, 2, 1)] + [f"{uid}-missing"]
    found = await read.batch_get(ids, projection=["pipeline_id"])
    assert sorted(p.pipeline_id or "" for p in found) == [f"{uid}-{n}" for n in range(3)]
