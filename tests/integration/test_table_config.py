import datetime as dt
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    PipelineConfigReadApi,
    TableConfig,
    TableConfigReadApi,
    TableConfigUpsert,
    TableConfigWriteApi,
    ValidationError,
)
from dynamodb_wrapper_async._codec import encode_item

UTC = dt.timezone.utc


def table(table_id: str, pipeline_id: str, **extra: Any) -> TableConfigUpsert:
    values: dict[str, Any] = {
        "table_id": table_id,
        "pipeline_id": pipeline_id,
        "table_name": f"name-{table_id}",
        "table_type": "destination",
        "data_format": "parquet",
        "location": f"s3://bucket/{table_id}",
        "partition_columns": ["dt"],
        **extra,
    }
    return TableConfigUpsert(**values)


@pytest.mark.slow
async def test_limit_counts_matches_and_pages_yield_each_match_once(
    config: DynamoDBConfig, uid: str
) -> None:
    write, read = TableConfigWriteApi(config), TableConfigReadApi(config)
    tables = (
        table(f"{uid}-{n:04d}", uid, table_type="source" if n % 7 == 0 else "destination")
        for n in range(1000)
    )
    result = await write.batch_upsert(tables)
    assert result.processed == 1000
    expected = sorted(f"{uid}-{n:04d}" for n in range(1000) if n % 7 == 0)

    seen: list[str] = []
    last_key = None
    pages = 0
    while True:
        page, last_key = await read.query_by_pipeline(
            uid, filters={"table_type": "source"}, limit=10, last_key=last_key
        )
        pages += 1
        if last_key is not None:
            assert len(page) == 10
        assert all(t.table_type == "source" for t in page)
        seen.extend(t.table_id or "" for t in page)
        if last_key is None:
            break
    assert len(expected) == 143
    assert sorted(seen) == expected
    assert len(seen) == len(set(seen))
    assert pages == 15

    condition = Attr("table_type").eq("source") & Attr("is_active").eq(True)
    streamed = [t.table_id async for t in read.query_by_pipeline_iter(uid, filters=condition)]
    assert sorted(s or "" for s in streamed) == expected


async def test_filters_dict_with_bool_and_projection(config: DynamoDBConfig, uid: str) -> None:
    write, read = TableConfigWriteApi(config), TableConfigReadApi(config)
    await write.create_table_config(table(f"{uid}-a", uid, table_type="source"))
    await write.create_table_config(table(f"{uid}-b", uid, table_type="source", is_active=False))
    await write.create_table_config(table(f"{uid}-c", uid))
    active, next_token = await read.query_by_pipeline(
        pipeline_id=uid,
        filters={"is_active": True, "table_type": "source"},
        limit=20,
        last_key=None,
        projection=["table_name", "table_type"],
    )
    assert next_token is None
    assert [t.table_name for t in active] == [f"name-{uid}-a"]
    assert active[0].table_id is None  # key attributes fetched for paging are stripped


async def test_tokens_are_bound_to_their_query(config: DynamoDBConfig, uid: str) -> None:
    write, read = TableConfigWriteApi(config), TableConfigReadApi(config)
    for n in range(3):
        await write.create_table_config(table(f"{uid}-{n}", uid))
    _, token = await read.query_by_pipeline(uid, limit=1)
    assert token is not None
    assert token.replace("-", "").replace("_", "").isalnum()  # URL-safe
    with pytest.raises(ValidationError, match="page token"):
        await read.query_by_pipeline(f"{uid}-other", limit=1, last_key=token)
    with pytest.raises(ValidationError, match="page token"):
        await PipelineConfigReadApi(config).query_active_pipelines(limit=1, last_key=token)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(ValidationError, match="page token"):
        await read.query_by_pipeline(uid, limit=1, last_key=tampered)
    with pytest.raises(ValidationError, match="limit"):
        await read.query_by_pipeline(uid, limit=0)


async def test_update_moves_config_to_the_current_month(config: DynamoDBConfig, uid: str) -> None:
    write = TableConfigWriteApi(config)
    created = await write.create_table_config(table(uid, uid))
    updated = await write.update_table_config(uid, {"location": "s3://elsewhere"})
    assert updated.updated_month == f"{updated.updated_at:%Y-%m}"
    assert updated.version == created.version + 1
    with pytest.raises(ValidationError, match="cannot update"):
        await write.update_table_config(uid, {"updated_month": "1999-01"})


async def test_recent_configs_fan_out_over_months_newest_first(
    config: DynamoDBConfig, raw_client: Any, uid: str
) -> None:
    """Configs stored in earlier months (written raw) merge with this month's, newest first."""
    now = dt.datetime.now(UTC)
    stamps = [now - dt.timedelta(days=days) for days in (0, 20, 45, 75, 120, 400)]
    for n, stamp in enumerate(stamps):
        item = TableConfig(
            table_id=f"{uid}-{n}", pipeline_id=uid, table_name=f"t{n}", table_type="source",
            created_at=stamp, updated_at=stamp,
        )  # fmt: skip
        raw_client.put_item(
            TableName=config.table_name("table_config"), Item=encode_item(dict(item))
        )
    read = TableConfigReadApi(config)
    since = now - dt.timedelta(days=130)
    mine = {"pipeline_id": uid}
    everything, token = await read.query_recent_configs(since=since, filters=mine, limit=50)
    assert token is None
    assert [t.table_id for t in everything] == [f"{uid}-{n}" for n in range(5)]

    walked: list[str] = []
    last_key = None
    while True:
        page, last_key = await read.query_recent_configs(
            since=since, filters=mine, limit=2, last_key=last_key
        )
        walked.extend(t.table_id or "" for t in page)
        if last_key is None:
            break
    assert walked == [f"{uid}-{n}" for n in range(5)]
    streamed = [t.table_id async for t in read.query_recent_configs_iter(since, filters=mine)]
    assert streamed == walked
    with pytest.raises(ValidationError, match="naive"):
        await read.query_recent_configs(since=dt.datetime(2024, 1, 1))
