"""Capacity budgets against a scripted DynamoDB behind the wire seam (``MockSender``), on a
virtual clock (``_virtual_time``): the rate a budget allows is asserted exactly, without
wall-clock slack. The fake reports ConsumedCapacity as DynamoDB does (table and GSI units).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from _virtual_time import run_virtual

from dynamodb_wrapper_async import (
    BatchWriteError,
    CapacityBudget,
    CapacityError,
    CapacityUnits,
    ConsumedCapacity,
    DynamoDBConfig,
    ItemNotFoundError,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    ValidationError,
)
from dynamodb_wrapper_async._engine.capacity import TokenBucket
from dynamodb_wrapper_async._wire.mock import MockError, MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender

#: The GSI of ``pipeline_config`` (active pipelines), as the fake names it in its answers.
GSI = "ActivePipelinesIndex"


class FakeTable:
    """Answers batch writes, scans and DescribeTable; records (time, units) of each request."""

    def __init__(
        self,
        *,
        write_units: int = 200,
        read_units: int = 400,
        gsi: tuple[int, int] | None = None,
        gsi_share: float = 1.0,
        **table: Any,
    ) -> None:
        self.description: dict[str, Any] = {
            "ProvisionedThroughput": {
                "ReadCapacityUnits": read_units,
                "WriteCapacityUnits": write_units,
            },
            **table,
        }
        if gsi is not None:  # (read, write) units of the GSI, declared in DescribeTable
            self.description["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": GSI,
                    "ProvisionedThroughput": {
                        "ReadCapacityUnits": gsi[0],
                        "WriteCapacityUnits": gsi[1],
                    },
                }
            ]
        #: GSI write units per unit of the table's (0: the writes leave the GSI alone).
        self.gsi_share = gsi_share
        self.charged: list[tuple[float, float]] = []
        #: (time, units) the GSI was charged, by writes and by queries of it.
        self.gsi_charged: list[tuple[float, float]] = []
        self.describes = 0
        self.pages_per_segment = 5
        #: Leave every chunk's items unprocessed the first time it is sent (as if throttled).
        self.refuse_first = False
        self._seen: set[str] = set()

    def sender(self) -> MockSender:
        return MockSender(self.answer)

    async def answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        now = asyncio.get_running_loop().time()
        if operation == "DescribeTable":
            self.describes += 1
            return {"Table": {"TableName": request["TableName"], **self.description}}
        if operation == "BatchWriteItem":
            ((table, items),) = request["RequestItems"].items()
            assert request["ReturnConsumedCapacity"] == "INDEXES"
            first = str(items[0])
            if self.refuse_first and first not in self._seen:
                self._seen.add(first)
                return {"UnprocessedItems": {table: items}}
            units = float(len(items))
            self.charged.append((now, units))
            self.gsi_charged.append((now, units * self.gsi_share))
            return {
                "UnprocessedItems": {},
                "ConsumedCapacity": [
                    {
                        "TableName": table,
                        "CapacityUnits": units * (1 + self.gsi_share),
                        "Table": {"CapacityUnits": units},
                        "GlobalSecondaryIndexes": {GSI: {"CapacityUnits": units * self.gsi_share}},
                    }
                ],
            }
        if operation in ("DeleteItem", "GetItem"):
            units = 1.0 if operation == "DeleteItem" else 0.5
            self.charged.append((now, units))
            assert request["ReturnConsumedCapacity"] == "INDEXES"
            return {"ConsumedCapacity": {"TableName": request["TableName"], "CapacityUnits": units}}
        assert operation in ("Scan", "Query"), operation
        segment = request.get("Segment", 0)
        page = int(request.get("ExclusiveStartKey", {}).get("pipeline_id", {}).get("S", "0"))
        consumed: dict[str, Any] = {"TableName": request["TableName"], "CapacityUnits": 10.0}
        if "IndexName" in request:  # a read of the GSI consumes the GSI's units only
            assert request["IndexName"] == GSI
            consumed["GlobalSecondaryIndexes"] = {GSI: {"CapacityUnits": 10.0}}
            self.gsi_charged.append((now, 10.0))
        else:
            self.charged.append((now, 10.0))
        answer: dict[str, Any] = {
            "Items": [{"pipeline_id": {"S": f"s{segment}p{page}"}}],
            "ConsumedCapacity": consumed,
        }
        if page + 1 < self.pages_per_segment:
            answer["LastEvaluatedKey"] = {"pipeline_id": {"S": str(page + 1)}}
        return answer

    def windows(self, width: float, *, gsi: bool = False) -> list[float]:
        """Units per second in each full window of ``width`` seconds from the first request
        (of the table's units, or of the GSI's)."""
        charged = self.gsi_charged if gsi else self.charged
        start = charged[0][0]
        end = charged[-1][0]
        count = int((end - start) // width)
        return [
            sum(u for t, u in charged if start + n * width <= t < start + (n + 1) * width) / width
            for n in range(count)
        ]


def settings(**overrides: Any) -> DynamoDBConfig:
    """A config of its own table prefix: the process-wide buckets of one test are its own."""
    return DynamoDBConfig(table_prefix=f"cap{uuid.uuid4().hex[:8]}_", **overrides)


def items(count: int, prefix: str = "p") -> list[PipelineConfigUpsert]:
    return [
        PipelineConfigUpsert(
            pipeline_id=f"{prefix}{n:05d}",
            pipeline_name="n",
            source_type="s3",
            destination_type="warehouse",
        )
        for n in range(count)
    ]


def run_with(fake: FakeTable, config: DynamoDBConfig, main: Callable[[], Awaitable[Any]]) -> Any:
    async def wrapped() -> Any:
        install_sender(config, fake.sender())
        try:
            return await main()
        finally:
            await close_clients(config)

    return run_virtual(wrapped)


# ---------------------------------------------------------------- the token bucket


def test_the_bucket_starts_empty_and_hands_out_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(10.0, clock=lambda: now[0])

    assert bucket.reserve(5) == pytest.approx(0.5)  # empty: 5 units take half a second
    assert bucket.reserve(5) == pytest.approx(1.0)  # queued behind the first 5
    now[0] = 1.0
    assert bucket.reserve(1) == pytest.approx(0.1)  # repaid exactly: one more unit to wait


def test_the_bucket_holds_one_second_and_may_go_into_debt() -> None:
    now = [0.0]
    bucket = TokenBucket(10.0, clock=lambda: now[0])
    bucket.adjust(0)  # its clock starts
    now[0] = 100.0  # idle for long: still only one second of burst
    assert bucket.reserve(10) == 0.0
    assert bucket.reserve(1) == pytest.approx(0.1)
    bucket.adjust(30)  # DynamoDB reported more than estimated: debt of 31 units
    assert bucket.level == pytest.approx(-31)
    assert bucket.reserve(1) == pytest.approx(3.2)
    bucket.adjust(-100)  # a refund never fills it beyond one second
    assert bucket.level == pytest.approx(10)


def test_a_bucket_refuses_more_than_it_can_ever_hold_at_once() -> None:
    async def main() -> None:
        await TokenBucket(10.0).acquire(11)

    with pytest.raises(CapacityError, match="needs 11 capacity units"):
        run_virtual(main)


# ---------------------------------------------------------------- values and config


def test_consumed_capacity_adds_up_per_table_and_index() -> None:
    one = ConsumedCapacity()
    assert one.record(
        {
            "TableName": "t",
            "CapacityUnits": 3.0,
            "Table": {"CapacityUnits": 1.0},
            "GlobalSecondaryIndexes": {"g": {"CapacityUnits": 2.0}},
        },
        "write",
    ) == pytest.approx(1.0)  # a write budget counts the table's own units
    two = ConsumedCapacity()
    assert two.record({"TableName": "t", "CapacityUnits": 4.0}, "read") == pytest.approx(4.0)

    total = one + two

    assert total.write_units == pytest.approx(3.0)
    assert total.read_units == pytest.approx(4.0)
    assert total.tables == {"t": CapacityUnits(read=4.0, write=1.0)}
    assert total.indexes == {("t", "g"): CapacityUnits(write=2.0)}


@pytest.mark.parametrize(
    "fields",
    [
        {"write_capacity_percent": 0},
        {"read_capacity_percent": 100.5},
        {"max_write_units_per_second": 0},
        {"max_read_units_per_second": -1},
    ],
)
def test_config_refuses_a_budget_out_of_range(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=next(iter(fields))):
        DynamoDBConfig(**fields)


def test_config_reads_the_budget_from_the_environment() -> None:
    config = DynamoDBConfig.from_env(
        {"DYNAMODB_WRITE_CAPACITY_PERCENT": "50", "DYNAMODB_MAX_READ_UNITS_PER_SECOND": "120"}
    )
    assert config.write_capacity_percent == 50
    assert config.max_read_units_per_second == 120
    with pytest.raises(ValidationError, match="DYNAMODB_READ_CAPACITY_PERCENT"):
        DynamoDBConfig.from_env({"DYNAMODB_READ_CAPACITY_PERCENT": "0"})


@pytest.mark.parametrize(
    "fields", [{"write_percent": 0}, {"read_percent": 101}, {"read_units": 0}, {"write_units": "5"}]
)
def test_capacity_budget_refuses_bad_values(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=next(iter(fields))):
        CapacityBudget(**fields)


# ---------------------------------------------------------------- budgets at work


def test_a_batch_at_half_of_200_wcu_writes_100_units_a_second() -> None:
    """50% of a 200 WCU table: every 10 s window of a 30 s write holds 100 ± 10 WCU/s (the
    table's own units; the fake charges as much again on a GSI whose capacity DescribeTable
    does not give, so only the table's units are budgeted)."""
    fake = FakeTable(write_units=200)
    config = settings()

    async def main() -> Any:
        return await PipelineConfigWriteApi(config).batch_upsert(
            items(3000), capacity=CapacityBudget(write_percent=50)
        )

    result = run_with(fake, config, main)

    windows = fake.windows(10.0)
    assert len(windows) == 2  # the 30 s run has 2 full windows after its first request (+1 s)
    assert all(90 <= rate <= 110 for rate in windows), windows
    assert fake.charged[-1][0] - fake.charged[0][0] == pytest.approx(29.75, abs=0.3)
    assert result.consumed_capacity.write_units == pytest.approx(6000)
    assert result.consumed_capacity.tables == {
        config.table_name("pipeline_config"): CapacityUnits(write=3000)
    }
    assert fake.describes == 1


def test_waiting_for_capacity_does_not_use_up_the_retry_deadline() -> None:
    """A 20 s write under a 5 s retry_deadline, every chunk's first answer leaving its items
    unprocessed: chunks wait up to 20 s for their tokens, yet each still retries (the
    deadline counts from when a chunk may send, not from when it started waiting)."""
    fake = FakeTable()
    fake.refuse_first = True
    config = settings(retry_deadline=5.0, max_write_units_per_second=100)

    async def main() -> Any:
        return await PipelineConfigWriteApi(config).batch_upsert(items(2000))

    result = run_with(fake, config, main)

    assert result.processed == 2000
    assert result.retries == 80  # each of the 80 chunks once
    assert fake.charged[-1][0] >= 19.0


def test_two_api_objects_on_one_table_share_one_budget() -> None:
    """Two writers of 1000 items each at 50 WCU/s: together 20 s, not 10 s each in parallel."""
    fake = FakeTable()
    config = settings(max_write_units_per_second=50)
    other = config.model_copy()  # an equal config: another API object, another call

    async def main() -> None:
        await asyncio.gather(
            PipelineConfigWriteApi(config).batch_upsert(items(1000, "a")),
            PipelineConfigWriteApi(other).batch_upsert(items(1000, "b")),
        )

    run_with(fake, config, main)

    elapsed = fake.charged[-1][0] - fake.charged[0][0]
    assert elapsed == pytest.approx(39.5, abs=0.6)  # 2000 units at 50/s, first chunk at 0.5 s


def test_an_item_bigger_than_the_budget_is_a_capacity_error_before_any_request() -> None:
    fake = FakeTable()
    config = settings()
    big = PipelineConfigUpsert(
        pipeline_id="big", pipeline_name="n" * 5000, source_type="s3", destination_type="w"
    )

    async def main() -> None:
        await PipelineConfigWriteApi(config).batch_upsert(
            [big], capacity=CapacityBudget(write_units=2)
        )

    with pytest.raises(CapacityError, match=r"'big'.*needs 6 write units.*only 2 per second"):
        run_with(fake, config, main)
    assert fake.charged == []


def test_a_percentage_of_an_on_demand_table_without_a_maximum_is_refused() -> None:
    fake = FakeTable(write_units=0, BillingModeSummary={"BillingMode": "PAY_PER_REQUEST"})
    config = settings(write_capacity_percent=50)

    async def main() -> None:
        await PipelineConfigWriteApi(config).batch_upsert(items(3))

    with pytest.raises(CapacityError, match=r"on-demand.*max_write_units_per_second"):
        run_with(fake, config, main)


def test_an_on_demand_maximum_is_what_a_percentage_is_of() -> None:
    fake = FakeTable(
        write_units=0,
        BillingModeSummary={"BillingMode": "PAY_PER_REQUEST"},
        OnDemandThroughput={"MaxWriteRequestUnits": 40},
    )
    config = settings(write_capacity_percent=50)

    async def main() -> None:
        await PipelineConfigWriteApi(config).batch_upsert(items(400))

    run_with(fake, config, main)

    assert fake.charged[-1][0] == pytest.approx(20.0, abs=0.6)  # 400 units at 20/s


def test_a_parallel_scan_shares_one_read_budget_and_reports_what_it_read() -> None:
    """4 segments x 5 pages x 10 RCU at 20 RCU/s: 200 units take about 10 s together."""
    fake = FakeTable()
    config = settings()

    async def main() -> ConsumedCapacity:
        stream = PipelineConfigReadApi(config).scan_iter(
            segments=4, capacity=CapacityBudget(read_units=20)
        )
        found = [item async for item in stream]
        assert len(found) == 20
        return stream.consumed_capacity

    consumed = run_with(fake, config, main)

    assert consumed.read_units == pytest.approx(200)
    elapsed = fake.charged[-1][0] - fake.charged[0][0]
    assert 8.5 <= elapsed <= 10.5, elapsed


def test_without_a_budget_nothing_waits_and_the_batch_still_reports() -> None:
    fake = FakeTable()
    config = settings()

    async def main() -> Any:
        return await PipelineConfigWriteApi(config).batch_upsert(items(100))

    result = run_with(fake, config, main)

    assert fake.charged[-1][0] == 0.0
    assert result.consumed_capacity.write_units == pytest.approx(200)
    assert fake.describes == 0


def test_a_failed_batch_still_raises_batch_write_error_under_a_budget() -> None:
    """A budget changes pacing only: a table that is gone fails the batch as before."""

    async def gone(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        raise MockError("ResourceNotFoundException", "no table")

    config = settings(max_write_units_per_second=1000)

    async def main() -> None:
        install_sender(config, MockSender(gone))
        try:
            await PipelineConfigWriteApi(config).batch_upsert(items(30))
        finally:
            await close_clients(config)

    with pytest.raises(BatchWriteError):
        run_virtual(main)


def test_single_writes_and_reads_are_charged_to_the_configs_budget() -> None:
    """10 deletes at 2 WCU/s and 4 gets (half a unit each) at 1 RCU/s, one after another."""
    fake = FakeTable()
    config = settings(max_write_units_per_second=2, max_read_units_per_second=1)

    async def main() -> None:
        writes = PipelineConfigWriteApi(config)
        for n in range(10):
            await writes.delete(f"p{n}")
        reads = PipelineConfigReadApi(config)
        for n in range(4):
            with pytest.raises(ItemNotFoundError):
                await reads.get_by_id(f"p{n}")

    run_with(fake, config, main)

    deletes = [t for t, u in fake.charged if u == 1.0]
    gets = [t for t, u in fake.charged if u == 0.5]
    assert deletes[-1] == pytest.approx(5.0)  # 10 units at 2/s, from an empty bucket
    assert gets[-1] - deletes[-1] == pytest.approx(2.0)  # 2 units at 1/s


def test_a_paged_read_is_still_the_tuple_and_tells_its_consumed_capacity() -> None:
    fake = FakeTable()
    config = settings()

    async def main() -> Any:
        return await PipelineConfigReadApi(config).scan(limit=3)

    page = run_with(fake, config, main)

    items, next_key = page
    assert len(items) == 3
    assert next_key is not None
    assert page == (items, next_key)
    assert page.consumed_capacity.read_units == pytest.approx(30)  # three pages of 10


def test_a_write_budget_holds_a_gsi_with_less_capacity_to_its_share() -> None:
    """50% of a 200 WCU table whose GSI has 100 WCU, every write changing the GSI too: the
    GSI's 50 WCU/s is the tighter budget, and both hold to it, window by window."""
    fake = FakeTable(write_units=200, gsi=(400, 100))
    config = settings()

    async def main() -> Any:
        return await PipelineConfigWriteApi(config).batch_upsert(
            items(1600), capacity=CapacityBudget(write_percent=50)
        )

    result = run_with(fake, config, main)

    windows = fake.windows(10.0, gsi=True)
    assert len(windows) == 3, windows
    assert all(45 <= rate <= 55 for rate in windows), windows
    assert fake.windows(10.0) == windows  # one GSI unit per table unit
    assert result.consumed_capacity.indexes == {
        (config.table_name("pipeline_config"), GSI): CapacityUnits(write=1600)
    }


def test_a_gsi_the_writes_leave_alone_does_not_hold_them_back() -> None:
    """A GSI of 10 WCU that the writes never change (DynamoDB reports 0 units for it): after
    the first answers the table's own 100 WCU/s is the rate."""
    fake = FakeTable(write_units=200, gsi=(400, 10), gsi_share=0.0)
    config = settings(write_capacity_percent=50)

    async def main() -> Any:
        return await PipelineConfigWriteApi(config).batch_upsert(items(3000))

    run_with(fake, config, main)

    windows = fake.windows(10.0)
    assert len(windows) == 2, windows
    assert all(90 <= rate <= 110 for rate in windows), windows


def test_a_read_of_a_gsi_under_a_percentage_takes_that_share_of_the_gsis_capacity() -> None:
    """25% of a GSI of 80 RCU (the table has 400): 5 query pages of 10 RCU at 20 RCU/s."""
    fake = FakeTable(read_units=400, gsi=(80, 100))
    config = settings(read_capacity_percent=25)

    async def main() -> ConsumedCapacity:
        stream = PipelineConfigReadApi(config).query_active_pipelines_iter()
        assert len([item async for item in stream]) == 5
        return stream.consumed_capacity

    consumed = run_with(fake, config, main)

    assert consumed.indexes == {(config.table_name("pipeline_config"), GSI): CapacityUnits(50)}
    assert fake.charged == []  # the table's own capacity was not read
    elapsed = fake.gsi_charged[-1][0] - fake.gsi_charged[0][0]
    assert elapsed == pytest.approx(2.0, abs=0.3)  # 40 units after the first page, at 20/s
