"""A Spark job's capacity budget on the standalone cluster (2 executors of 1 core): 4 tasks
writing at 50% of a 200 WCU table hold the job to 100 ± 10 WCU/s, each task taking
``1 / min(partitions, default parallelism)`` of the budget."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

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


@pytest.mark.timeout(180)
def test_a_job_of_4_tasks_at_half_of_200_wcu_writes_100_wcu_a_second(
    spark: Any, gauges: DynamoDBConfig
) -> None:
    api = sync.WriteApi(GaugeWriteApi(gauges))
    write_dataframe(frame(spark, 400, 4, "warm"), api)  # Python workers started, no budget
    parallelism = spark.sparkContext.defaultParallelism

    started = time.monotonic()
    stats = write_dataframe(
        frame(spark, 2000, 4, "job"), api, capacity=CapacityBudget(write_percent=50)
    )
    elapsed = time.monotonic() - started

    assert len(stats) == 4
    assert sum(s["processed"] for s in stats) == 2000
    table = gauges.table_name("spark_gauges")
    units = sum(s["consumed_capacity"].tables[table].write for s in stats)
    assert units == pytest.approx(2000)  # one reported unit per item
    assert sum(s["write_units"] for s in stats) == pytest.approx(2000)
    rate = units / elapsed
    assert 90 <= rate <= 110, (rate, elapsed, parallelism)
