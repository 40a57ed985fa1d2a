"""A Spark job's capacity budget on the standalone cluster (2 executors of 1 core): 4 tasks
writing at 50% of a 200 WCU table, each task taking ``1 / min(partitions, default
parallelism)`` of the budget, hold the job's 100 ± 10 WCU/s in every 10 s window.

The rate is measured on the table (its item count, polled while the job runs: every item
costs one write unit), from the last look that saw none of the job's items, so Spark's job
start is not counted.
With 2 cores the 4 tasks run in two waves of 2. A second-wave task runs in the Python worker
of a finished one (``spark.python.worker.reuse``, Spark's default), whose bucket for the
table is the process's: it filled up during the gap (one second of the share at most), so
the gap costs the window nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from _windows import rates

import dynamodb_wrapper_sync as sync
from dynamodb_wrapper_async import (
    Capacity,
    CapacityBudget,
    DynamoDBConfig,
    DynamoModel,
    WriteApi,
    WriteModel,
)
from dynamodb_wrapper_sync import create_tables, delete_tables
from dynamodb_wrapper_sync.spark import write_dataframe

pytestmark = [pytest.mark.slow, pytest.mark.spark]

#: Items of the budgeted job: 33 s at 100 WCU/s, three full 10 s windows.
JOB = 3300


class Gauge(DynamoModel):
    site: str
    reading: str

    class Meta:
        table_name = "spark_gauges"
        partition_key = "site"
        sort_key = "reading"
        capacity = Capacity(read=50, write=200)


class GaugeUpsert(WriteModel):
    site: str
    reading: str


class GaugeWriteApi(WriteApi[Gauge, GaugeUpsert]):
    model = Gauge
    upsert_model = GaugeUpsert


@pytest.fixture
def gauges(backend: DynamoDBConfig) -> Iterator[DynamoDBConfig]:
    if "ddblocal" not in backend.table_prefix:
        pytest.skip("the rate is measured on DynamoDB Local")
    private = backend.model_copy(
        update={"table_prefix": f"{backend.table_prefix}{uuid.uuid4().hex[:4]}_"}
    )
    create_tables(private, [Gauge])
    yield private
    delete_tables(private, [Gauge])


def frame(spark: Any, count: int, partitions: int, tag: str) -> Any:
    return spark.range(count, numPartitions=partitions).selectExpr(
        "concat('s', cast(id % 40 as string)) as site",
        f"concat('{tag}', lpad(cast(id as string), 6, '0')) as reading",
    )


def count_items(raw_client: Any, table: str) -> int:
    kwargs: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
    total = 0
    while True:
        page = raw_client.scan(**kwargs)
        total += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.timeout(240)
def test_a_job_of_4_tasks_at_half_of_200_wcu_holds_100_wcu_a_second(
    spark: Any, gauges: DynamoDBConfig, raw_client: Any
) -> None:
    api = sync.WriteApi(GaugeWriteApi(gauges))
    table = gauges.table_name("spark_gauges")
    write_dataframe(frame(spark, 400, 4, "warm"), api)  # Python workers started, no budget
    parallelism = spark.sparkContext.defaultParallelism
    counts: list[tuple[float, int]] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            counts.append((time.monotonic(), count_items(raw_client, table) - 400))
            done.wait(0.25)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        stats = write_dataframe(
            frame(spark, JOB, 4, "job"), api, capacity=CapacityBudget(write_percent=50)
        )
    finally:
        done.set()
        poller.join()

    assert len(stats) == 4
    assert sum(s["processed"] for s in stats) == JOB
    units = sum(s["consumed_capacity"].tables[table].write for s in stats)
    assert units == pytest.approx(JOB)  # one reported unit per item
    assert sum(s["write_units"] for s in stats) == pytest.approx(JOB)
    start = max(t for t, n in counts if n == 0)  # the last look before the first write
    windows = rates([(t, float(n)) for t, n in counts], start)
    assert len(windows) == 3, (windows, parallelism)
    assert all(90 <= rate <= 110 for rate in windows), (windows, parallelism)
