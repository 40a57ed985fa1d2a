"""batch_get dedupes keys given in different forms; text that cannot be JSON is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from dynamodb_wrapper_async import (
    BatchWriteError,
    DynamoDBConfig,
    DynamoModel,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    ReadApi,
    ValidationError,
    ViewModel,
    WriteApi,
    WriteModel,
    create_tables,
    delete_tables,
)


class Meter(DynamoModel):
    meter: int
    label: str = ""

    class Meta:
        table_name = "meters"
        partition_key = "meter"


class MeterView(ViewModel):
    meter: int | None = None
    label: str | None = None


class MeterUpsert(WriteModel):
    meter: int
    label: str = ""


class MeterReadApi(ReadApi[Meter, MeterView]):
    model = Meter
    view = MeterView


class MeterWriteApi(WriteApi[Meter, MeterUpsert]):
    model = Meter
    upsert_model = MeterUpsert


def pipeline(pipeline_id: str, **fields: Any) -> PipelineConfigUpsert:
    return PipelineConfigUpsert(
        pipeline_id=pipeline_id, pipeline_name="n", source_type="s3", destination_type="w",
        **fields,
    )  # fmt: skip


async def test_one_key_in_several_forms_is_read_once(config: DynamoDBConfig, uid: str) -> None:
    writes, reads = PipelineConfigWriteApi(config), PipelineConfigReadApi(config)
    await writes.batch_upsert([pipeline(f"{uid}-a")])
    keys = [f"{uid}-a", (f"{uid}-a",), {"pipeline_id": f"{uid}-a"}, f"{uid}-a", f"{uid}-missing"]
    found = await reads.batch_get(keys)
    assert [p.pipeline_id for p in found] == [f"{uid}-a"]


async def test_a_composite_key_in_several_forms_is_read_once(
    config: DynamoDBConfig, uid: str
) -> None:
    await PipelineRunLogsWriteApi(config).batch_upsert(
        [PipelineRunLogUpsert(run_id=f"{uid}-r", pipeline_id="p1")]
    )
    keys = [(f"{uid}-r", "p1"), {"run_id": f"{uid}-r", "pipeline_id": "p1"}, (f"{uid}-r", "p2")]
    found = await PipelineRunLogsReadApi(config).batch_get(keys)
    assert [(run.run_id, run.pipeline_id) for run in found] == [(f"{uid}-r", "p1")]


async def test_equal_numbers_are_one_key(config: DynamoDBConfig) -> None:
    await create_tables(config, [Meter])
    try:
        await MeterWriteApi(config).batch_upsert([MeterUpsert(meter=1, label="one")])
        found = await MeterReadApi(config).batch_get([1, 1.0, Decimal("1.00"), {"meter": 1}, 2])
        assert [(m.meter, m.label) for m in found] == [(1, "one")]
    finally:
        await delete_tables(config, [Meter])


async def test_text_that_is_not_unicode_is_refused_before_sending(
    config: DynamoDBConfig, uid: str
) -> None:
    writes, reads = PipelineConfigWriteApi(config), PipelineConfigReadApi(config)
    # str fields refuse lone surrogates themselves; free-form dicts carry them to the codec
    broken = pipeline(f"{uid}-broken", source_config={"path": "half a pair \ud800"})
    with pytest.raises(ValidationError, match="surrogates") as raised:
        await writes.batch_upsert([broken])
    assert raised.value.key == {"pipeline_id": f"{uid}-broken"}
    with pytest.raises(ValidationError, match="surrogates"):
        await writes.create(broken)
    with pytest.raises(ValidationError, match="surrogates"):
        await writes.upsert(broken)
    assert await reads.batch_get([f"{uid}-broken"]) == []


async def test_a_failed_batch_still_names_its_items(config: DynamoDBConfig, uid: str) -> None:
    """Items encoded for the batch come back in the error as the caller gave them."""
    missing = config.model_copy(update={"table_prefix": f"nowhere-{uid}-"})
    items = [pipeline(f"{uid}-{n}") for n in range(30)]
    with pytest.raises(BatchWriteError) as raised:
        await PipelineConfigWriteApi(missing).batch_upsert(items)
    by_id = {item.pipeline_id: item for item in raised.value.unprocessed_items}
    assert sorted(by_id) == sorted(item.pipeline_id for item in items)
    assert all(by_id[item.pipeline_id] is item for item in items)  # the caller's objects
    keys = sorted(key["pipeline_id"] for key in raised.value.unprocessed_keys)
    assert keys == sorted(by_id)
