"""A user-declared fourth model gets create_tables, async and sync APIs without new plumbing."""

from __future__ import annotations

import datetime as dt

import pytest

import dynamodb_wrapper_sync as sync
from dynamodb_wrapper_async import (
    GSI,
    ConflictError,
    DynamoDBConfig,
    DynamoModel,
    ReadApi,
    ValidationError,
    ViewModel,
    WriteApi,
    WriteModel,
    create_tables,
    delete_tables,
)


class Sensor(DynamoModel):
    site: str
    sensor_id: str
    online: bool = True
    reading: float = 0.0
    seen_at: dt.datetime | None = None

    class Meta:
        table_name = "sensors"
        partition_key = "site"
        sort_key = "sensor_id"
        gsis = (GSI("OnlineIndex", partition_key="online", sort_key="sensor_id"),)


class SensorView(ViewModel):
    site: str | None = None
    sensor_id: str | None = None
    online: bool | None = None
    reading: float | None = None
    seen_at: dt.datetime | None = None


class SensorUpsert(WriteModel):
    site: str
    sensor_id: str
    online: bool = True
    reading: float = 0.0
    seen_at: dt.datetime | None = None


class SensorReadApi(ReadApi[Sensor, SensorView]):
    model = Sensor
    view = SensorView


class SensorWriteApi(WriteApi[Sensor, SensorUpsert]):
    model = Sensor
    upsert_model = SensorUpsert


async def test_custom_model_async_and_sync(config: DynamoDBConfig, uid: str) -> None:
    infos = await create_tables(config, [Sensor])
    assert infos[0].name == config.table_name("sensors")
    assert infos[0].indexes == ("OnlineIndex",)
    try:
        writes, reads = SensorWriteApi(config), SensorReadApi(config)
        for n in range(4):
            await writes.create(
                SensorUpsert(site=uid, sensor_id=f"s{n}", online=n != 2, reading=n / 10)
            )
        with pytest.raises(ConflictError):
            await writes.create(SensorUpsert(site=uid, sensor_id="s0"))
        got = await reads.get_by_id(uid, "s1")
        assert (got.reading, got.online) == (0.1, True)
        offline, _ = await reads.query_by_composite_key_range(
            "online", False, filters={"site": uid}
        )
        assert [s.sensor_id for s in offline] == ["s2"]
        changed = await writes.update((uid, "s3"), {"reading": 9.5})
        assert changed.reading == 9.5
        with pytest.raises(ValidationError, match="sensor_id"):
            await reads.get_by_id(uid)

        blocking = sync.ReadApi(SensorReadApi(config))
        assert blocking.get_by_id(uid, "s3").reading == 9.5
        assert [s.sensor_id for s in blocking.query_by_composite_key_range_iter("site", uid)] == [
            "s0", "s1", "s2", "s3",
        ]  # fmt: skip
        sync.WriteApi(SensorWriteApi(config)).delete({"site": uid, "sensor_id": "s0"})
        remaining = [
            s.sensor_id async for s in reads.query_by_composite_key_range_iter("site", uid)
        ]
        assert remaining == ["s1", "s2", "s3"]
    finally:
        await delete_tables(config, [Sensor])
