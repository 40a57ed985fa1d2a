"""create_tables / delete_tables: GSIs, TTL, prefix, idempotence, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    ItemNotFoundError,
    PipelineConfigReadApi,
    TableNotFoundError,
    create_tables,
    delete_tables,
)

EXPECTED = {
    "pipeline_config": ({"pipeline_id"}, {"ActivePipelinesIndex": ["is_active", "updated_at"]}),
    "table_config": (
        {"table_id"},
        {
            "PipelineTablesIndex": ["pipeline_id", "table_name"],
            "RecentConfigsIndex": ["updated_month", "updated_at"],
        },
    ),
    "pipeline_run_logs": (
        {"run_id", "pipeline_id"},
        {
            "PipelineRunsIndex": ["pipeline_id", "created_at"],
            "StatusRunsIndex": ["status", "created_at"],
        },
    ),
}


async def test_create_tables_builds_the_design_and_is_idempotent(
    backend: DynamoDBConfig, raw_client: Any
) -> None:
    config = backend.model_copy(update={"table_prefix": f"tt_{uuid.uuid4().hex[:6]}_"})
    first = await create_tables(config)
    assert [(t.name, t.created) for t in first] == [
        (config.table_name(base), True) for base in EXPECTED
    ]
    for base, (keys, indexes) in EXPECTED.items():
        name = config.table_name(base)
        table = raw_client.describe_table(TableName=name)["Table"]
        assert table["TableStatus"] == "ACTIVE"
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert {k["AttributeName"] for k in table["KeySchema"]} == keys
        found = {
            gsi["IndexName"]: [k["AttributeName"] for k in gsi["KeySchema"]]
            for gsi in table.get("GlobalSecondaryIndexes", [])
        }
        assert found == indexes
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        assert set(types.values()) == {"S"}
    ttl = raw_client.describe_time_to_live(TableName=config.table_name("pipeline_run_logs"))
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] in {"ENABLED", "ENABLING"}
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"

    second = await create_tables(config)
    assert [t.created for t in second] == [False, False, False]
    assert "exists" in str(second[0])

    assert sorted(await delete_tables(config)) == sorted(config.table_name(b) for b in EXPECTED)
    assert await delete_tables(config) == []
    with pytest.raises(TableNotFoundError) as caught:
        await PipelineConfigReadApi(config).get_by_id("x")
    assert caught.value.aws_code == "ResourceNotFoundException"
    assert not isinstance(caught.value, ItemNotFoundError)
