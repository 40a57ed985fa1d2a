"""Table definitions from Meta on both backends: provisioned billing, LSIs, GSI projections,
and create_tables adding a GSI that Meta declares but the table lacks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dynamodb_wrapper_async import (
    GSI,
    LSI,
    Capacity,
    DynamoDBConfig,
    DynamoModel,
    ReadApi,
    ValidationError,
    ViewModel,
    WriteApi,
    WriteModel,
    close_clients,
    create_tables,
    delete_tables,
)


class Reading(DynamoModel):
    site: str
    sensor: str
    taken_at: str
    level: int = 0
    owner: str = "ops"
    note: str | None = None

    class Meta:
        table_name = "readings"
        partition_key = "site"
        sort_key = "sensor"
        capacity = Capacity(read=7, write=3)
        gsis = (
            GSI("ByOwner", partition_key="owner", sort_key="level", projection="KEYS_ONLY"),
            GSI("ByLevel", partition_key="level", projection=("note",),
                capacity=Capacity(read=2, write=1)),
        )  # fmt: skip
        lsis = (LSI("ByTime", sort_key="taken_at", projection=("level",)),)


class ReadingView(ViewModel):
    site: str | None = None
    sensor: str | None = None
    taken_at: str | None = None
    level: int | None = None
    owner: str | None = None
    note: str | None = None


class ReadingUpsert(WriteModel):
    site: str
    sensor: str
    taken_at: str
    level: int = 0
    owner: str = "ops"
    note: str | None = None


class Readings(ReadApi[Reading, ReadingView]):
    model = Reading
    view = ReadingView


class ReadingWrites(WriteApi[Reading, ReadingUpsert]):
    model = Reading
    upsert_model = ReadingUpsert


class ReadingBefore(DynamoModel):
    """The same table as declared before a GSI was added to Meta."""

    site: str
    sensor: str
    taken_at: str
    level: int = 0
    owner: str = "ops"
    note: str | None = None

    class Meta:
        table_name = "readings"
        partition_key = "site"
        sort_key = "sensor"
        lsis = (LSI("ByTime", sort_key="taken_at", projection=("level",)),)


class ReadingWithoutItsLSI(DynamoModel):
    site: str
    sensor: str
    taken_at: str

    class Meta:
        table_name = "readings"
        partition_key = "site"
        sort_key = "sensor"
        lsis = (LSI("ByTaken", sort_key="taken_at"),)


@pytest.fixture
async def private(backend: DynamoDBConfig) -> AsyncIterator[DynamoDBConfig]:
    config = backend.model_copy(
        update={"table_prefix": f"{backend.table_prefix}{uuid.uuid4().hex[:4]}_"}
    )
    yield config
    await delete_tables(config, [Reading])
    await close_clients(config)


def describe(raw_client: Any, config: DynamoDBConfig) -> dict[str, Any]:
    table: dict[str, Any] = raw_client.describe_table(TableName=config.table_name("readings"))[
        "Table"
    ]
    return table


async def test_the_table_is_created_as_meta_declares_it(
    private: DynamoDBConfig, raw_client: Any
) -> None:
    (info,) = await create_tables(private, [Reading])
    assert (info.created, info.indexes, info.local_indexes) == (
        True,
        ("ByOwner", "ByLevel"),
        ("ByTime",),
    )
    table = describe(raw_client, private)
    assert table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"
    throughput = table["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (7, 3)
    gsis = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert gsis["ByOwner"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert gsis["ByLevel"]["Projection"]["ProjectionType"] == "INCLUDE"
    assert gsis["ByLevel"]["Projection"]["NonKeyAttributes"] == ["note"]
    owner_units = gsis["ByOwner"]["ProvisionedThroughput"]
    level_units = gsis["ByLevel"]["ProvisionedThroughput"]
    assert (owner_units["ReadCapacityUnits"], owner_units["WriteCapacityUnits"]) == (7, 3)
    assert (level_units["ReadCapacityUnits"], level_units["WriteCapacityUnits"]) == (2, 1)
    (lsi,) = table["LocalSecondaryIndexes"]
    assert lsi["IndexName"] == "ByTime"
    assert [k["AttributeName"] for k in lsi["KeySchema"]] == ["site", "taken_at"]
    assert lsi["Projection"]["ProjectionType"] == "INCLUDE"
    assert lsi["Projection"]["NonKeyAttributes"] == ["level"]

    again = await create_tables(private, [Reading])
    assert (again[0].created, again[0].added_indexes) == (False, ())


async def test_queries_choose_the_lsi_and_projections_must_fit_the_index(
    private: DynamoDBConfig,
) -> None:
    await create_tables(private, [Reading])
    writes, reads = ReadingWrites(private), Readings(private)
    for n, when in enumerate(["2026-12-03", "2026-12-01", "2026-12-02"]):
        await writes.create(
            ReadingUpsert(site="s1", sensor=f"z{n}", taken_at=when, level=n, note=f"n{n}")
        )
    by_time, _ = await reads.query_by_composite_key_range(
        "site", "s1", "taken_at", "gte", "2026-12-02"
    )
    assert [(v.taken_at, v.sensor) for v in by_time] == [("2026-12-02", "z2"), ("2026-12-03", "z0")]
    levels, _ = await reads.query_by_composite_key_range(
        "site", "s1", "taken_at", "gte", "2026-12-01", projection=["level"]
    )
    assert sorted(v.level or 0 for v in levels) == [0, 1, 2]
    with pytest.raises(
        ValidationError, match=r"index ByTime holds only .* cannot return \['note'\]"
    ):
        await reads.query_by_composite_key_range(
            "site", "s1", "taken_at", "gte", "2026-12-01", projection=["note"]
        )
    with pytest.raises(ValidationError, match=r"index ByOwner holds only"):
        await reads.query_by_composite_key_range("owner", "ops", projection=["note"])
    keys_only, _ = await reads.query_by_composite_key_range("owner", "ops", "level", "gte", 1)
    assert [(v.sensor, v.level, v.note) for v in keys_only] == [("z1", 1, None), ("z2", 2, None)]


async def test_a_gsi_declared_later_is_added_to_the_existing_table(
    private: DynamoDBConfig, raw_client: Any
) -> None:
    (before,) = await create_tables(private, [ReadingBefore])
    assert before.indexes == ()
    await ReadingWrites(private).create(
        ReadingUpsert(site="s", sensor="a", taken_at="t", level=4, note="kept")
    )
    (after,) = await create_tables(private, [Reading])
    assert (after.created, after.added_indexes) == (False, ("ByOwner", "ByLevel"))
    table = describe(raw_client, private)
    statuses = {i["IndexName"]: i["IndexStatus"] for i in table["GlobalSecondaryIndexes"]}
    assert statuses == {"ByOwner": "ACTIVE", "ByLevel": "ACTIVE"}
    found, _ = await Readings(private).query_by_composite_key_range("level", 4)
    assert [(v.sensor, v.note) for v in found] == [("a", "kept")]


async def test_a_missing_lsi_is_refused_not_left_out(private: DynamoDBConfig) -> None:
    await create_tables(private, [ReadingBefore])
    with pytest.raises(ValidationError, match="without the local index ByTaken"):
        await create_tables(private, [ReadingWithoutItsLSI])
