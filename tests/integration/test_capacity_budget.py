"""Capacity budgets on DynamoDB Local (which reports ConsumedCapacity but never throttles):
a bulk write and a parallel scan hold their share of a provisioned table, window by window.

Rates are measured from what DynamoDB reported: the write from each chunk's settled items
(every item here costs exactly the one table write unit the result reports per item), the
scan from the stream's ``consumed_capacity`` read after every page.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest
from _windows import rates

from dynamodb_wrapper_async import (
    GSI,
    Capacity,
    CapacityBudget,
    DynamoDBConfig,
    DynamoModel,
    ReadApi,
    ViewModel,
    WriteApi,
    WriteModel,
    close_clients,
    create_tables,
    delete_tables,
)

pytestmark = [pytest.mark.slow]


class Meter(DynamoModel):
    site: str
    reading: str
    owner: str = "ops"
    note: str | None = None

    class Meta:
        table_name = "meters"
        partition_key = "site"
        sort_key = "reading"
        capacity = Capacity(read=400, write=200)
        gsis = (
            GSI("ByOwner", partition_key="owner", sort_key="reading", projection="KEYS_ONLY",
                capacity=Capacity(read=50, write=200)),
        )  # fmt: skip


class Tally(DynamoModel):
    """A table whose GSI has a tenth of the table's write capacity."""

    site: str
    reading: str
    owner: str = "ops"

    class Meta:
        table_name = "tallies"
        partition_key = "site"
        sort_key = "reading"
        capacity = Capacity(read=50, write=200)
        gsis = (
            GSI("ByOwner", partition_key="owner", sort_key="reading", projection="KEYS_ONLY",
                capacity=Capacity(read=50, write=20)),
        )  # fmt: skip


class TallyUpsert(WriteModel):
    site: str
    reading: str
    owner: str = "ops"


class TallyWrites(WriteApi[Tally, TallyUpsert]):
    model = Tally
    upsert_model = TallyUpsert


class MeterView(ViewModel):
    site: str | None = None
    reading: str | None = None
    owner: str | None = None
    note: str | None = None


class MeterUpsert(WriteModel):
    site: str
    reading: str
    owner: str = "ops"
    note: str | None = None


class Meters(ReadApi[Meter, MeterView]):
    model = Meter
    view = MeterView


class MeterWrites(WriteApi[Meter, MeterUpsert]):
    model = Meter
    upsert_model = MeterUpsert


@pytest.fixture
async def meters(backend: DynamoDBConfig) -> AsyncIterator[DynamoDBConfig]:
    if "ddblocal" not in backend.table_prefix:
        pytest.skip("moto reports no ConsumedCapacity per index; DynamoDB Local does")
    private = backend.model_copy(
        update={"table_prefix": f"{backend.table_prefix}{uuid.uuid4().hex[:4]}_"}
    )
    await create_tables(private, [Meter, Tally])
    yield private
    await delete_tables(private, [Meter, Tally])
    await close_clients(private)


@pytest.mark.timeout(120)
async def test_a_bulk_write_at_half_of_200_wcu_holds_100_wcu_a_second(
    meters: DynamoDBConfig,
) -> None:
    """3,000 one-unit items at 50% of 200 WCU: 30 s, 100 ± 10 WCU/s in every 10 s window."""
    settled: list[tuple[float, float]] = []
    done = [0.0]

    def progress(count: int) -> None:
        done[0] += count
        settled.append((time.monotonic(), done[0]))

    started = time.monotonic()
    result = await MeterWrites(meters).batch_upsert(
        (MeterUpsert(site=f"s{n % 50}", reading=f"{n:06d}") for n in range(3000)),
        progress=progress,
        capacity=CapacityBudget(write_percent=50),
    )

    table = meters.table_name("meters")
    consumed = result.consumed_capacity
    assert result.processed == 3000
    assert consumed.tables[table].write == pytest.approx(3000)  # one unit per item, reported
    assert consumed.indexes[(table, "ByOwner")].write == pytest.approx(3000)  # 50% of 200 too
    assert consumed.write_units == pytest.approx(6000)
    windows = rates(settled, started)
    assert len(windows) == 3, windows
    assert all(90 <= rate <= 110 for rate in windows), windows


@pytest.mark.timeout(150)
async def test_a_parallel_scan_at_a_quarter_of_400_rcu_holds_100_rcu_a_second(
    meters: DynamoDBConfig,
) -> None:
    """A 4-segment scan of ~3,500 RCU at 25% of 400 RCU: 100 ± 10 RCU/s in each of the
    three full 10 s windows, measured from the stream's consumed capacity as pages arrive."""
    note = "x" * 3900  # about 4 KB an item: half a read unit each, eventually consistent
    await MeterWrites(meters).batch_upsert(
        MeterUpsert(site=f"s{n % 97}", reading=f"{n:06d}", note=note) for n in range(7000)
    )
    stream = Meters(meters).scan_iter(segments=4, capacity=CapacityBudget(read_percent=25))
    marks: list[tuple[float, float]] = []
    count = 0
    started = time.monotonic()
    async for page in stream.pages():
        count += len(page)
        marks.append((time.monotonic(), stream.consumed_capacity.read_units))

    assert count == 7000
    total = stream.consumed_capacity.read_units
    assert total >= 3300, total  # enough for 33 s at 100 RCU/s
    windows = rates(marks, started)
    assert len(windows) == 3, windows
    assert all(90 <= rate <= 110 for rate in windows), windows


@pytest.mark.timeout(120)
async def test_a_write_budget_holds_the_gsi_with_the_least_capacity(
    meters: DynamoDBConfig,
) -> None:
    """50% of a 200 WCU table whose GSI has 20 WCU, every item changing the GSI: 100 items
    at the GSI's 10 WCU/s take about 8.5 s (at the table's 100 WCU/s they would take 1 s).

    The first chunk of 25 goes out before any answer says how much of it the GSI takes: the
    other 75 units wait for the GSI (7.5 s), the first's debt included."""
    started = time.monotonic()
    result = await TallyWrites(meters).batch_upsert(
        (TallyUpsert(site=f"s{n % 10}", reading=f"{n:06d}") for n in range(100)),
        capacity=CapacityBudget(write_percent=50),
    )
    elapsed = time.monotonic() - started

    table = meters.table_name("tallies")
    assert result.processed == 100
    assert result.consumed_capacity.indexes[(table, "ByOwner")].write == pytest.approx(100)
    assert elapsed >= 7.5, elapsed  # a busy machine only makes it slower
