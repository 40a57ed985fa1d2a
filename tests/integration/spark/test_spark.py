"""RDD helpers: executors write and read through the sync facade (standalone cluster)."""

from __future__ import annotations

import pickle
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from pydantic import Field

import dynamodb_wrapper_sync as sync
from dynamodb_wrapper_async import (
    DynamoDBConfig,
    DynamoModel,
    ReadApi,
    ViewModel,
    WriteApi,
    WriteModel,
    create_tables,
    delete_tables,
)
from dynamodb_wrapper_sync.spark import PartitionWriter, read_table, spark_schema, write_dataframe

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]


class Event(DynamoModel):
    event_id: str
    source: str
    amount: int
    score: float
    tags: list[str] = Field(default_factory=list)

    class Meta:
        table_name = "spark_events"
        partition_key = "event_id"


class EventView(ViewModel):
    event_id: str | None = None
    source: str | None = None
    amount: int | None = None
    score: float | None = None
    tags: list[str] | None = None


class EventUpsert(WriteModel):
    event_id: str
    source: str
    amount: int
    score: float
    tags: list[str] = Field(default_factory=list)


class EventReadApi(ReadApi[Event, EventView]):
    model = Event
    view = EventView


class EventWriteApi(WriteApi[Event, EventUpsert]):
    model = Event
    upsert_model = EventUpsert


def events_frame(spark: Any, count: int, partitions: int) -> Any:
    return spark.range(count, numPartitions=partitions).selectExpr(
        "concat('ev-', lpad(cast(id as string), 7, '0')) as event_id",
        "concat('src-', cast(id % 5 as string)) as source",
        "id as amount",
        "id / 4.0 as score",
        "array('a', concat('b', cast(id % 3 as string))) as tags",
    )


@pytest.fixture
async def events(config: DynamoDBConfig) -> Any:
    await create_tables(config, [Event])
    yield config
    await delete_tables(config, [Event])


def test_api_objects_pickle_into_closures(config: DynamoDBConfig) -> None:
    writer: PartitionWriter[Any] = PartitionWriter(sync.WriteApi(EventWriteApi(config)))
    clone = pickle.loads(pickle.dumps(writer))
    assert clone.write_api.async_api.config == config


@pytest.mark.slow
def test_50k_rows_written_by_executors_and_read_back(
    spark: Any, events: DynamoDBConfig, raw_client: Any
) -> None:
    if events.table_prefix.startswith("t_moto_"):
        pytest.skip("the 50k-row run uses DynamoDB Local; moto gets the smaller test below")
    count, partitions = 50_000, 8  # the 200k-row run is the data source's (test_data_source_write)
    written = spark.sparkContext.accumulator(0)
    stats = write_dataframe(
        events_frame(spark, count, partitions),
        sync.WriteApi(EventWriteApi(events)),
        accumulator=written,
    )
    # Complete when the job returns: nothing is pending on the executors.
    stored = raw_client.scan(TableName=events.table_name("spark_events"), Select="COUNT")
    total = stored["Count"]
    while "LastEvaluatedKey" in stored:
        stored = raw_client.scan(
            TableName=events.table_name("spark_events"),
            Select="COUNT",
            ExclusiveStartKey=stored["LastEvaluatedKey"],
        )
        total += stored["Count"]
    assert total == count
    assert sum(s["processed"] for s in stats) == count
    assert written.value == count
    assert len(stats) == partitions

    # Each Python worker builds its client in its first task and reuses it in every later one:
    # the count of clients a worker has created does not move between its tasks.
    created_per_worker: dict[int, set[int]] = defaultdict(set)
    for s in stats:
        created_per_worker[s["pid"]].add(s["clients_created"])
    assert len(created_per_worker) <= 2 < partitions  # 2 executors: workers ran several tasks
    assert all(len(counts) == 1 for counts in created_per_worker.values()), stats

    frame = read_table(spark, sync.ReadApi(EventReadApi(events)), segments=partitions)
    assert frame.rdd.getNumPartitions() == partitions
    assert frame.count() == count
    assert frame.select("event_id").distinct().count() == count
    totals = {
        r["source"]: r["sum(amount)"] for r in frame.groupBy("source").sum("amount").collect()
    }
    assert totals == {f"src-{k}": sum(range(k, count, 5)) for k in range(5)}


def test_small_job_on_each_backend(spark: Any, events: DynamoDBConfig) -> None:
    stats = write_dataframe(events_frame(spark, 2_000, 4), sync.WriteApi(EventWriteApi(events)))
    assert sum(s["processed"] for s in stats) == 2_000
    frame = read_table(
        spark, sync.ReadApi(EventReadApi(events)), segments=3, projection=["event_id", "tags"]
    )
    assert frame.columns == ["event_id", "tags"]
    rows = {r["event_id"]: r["tags"] for r in frame.collect()}
    assert len(rows) == 2_000
    assert rows["ev-0000004"] == ["a", "b1"]


def test_schema_from_model() -> None:
    pytest.importorskip("pyspark")
    schema = spark_schema(sync.PipelineRunLogView)
    kinds = {f.name: f.dataType.simpleString() for f in schema.fields}
    assert kinds["run_id"] == "string"
    assert kinds["status"] == "string"
    assert kinds["records_processed"] == "bigint"
    assert kinds["duration_seconds"] == "double"
    assert kinds["created_at"] == "timestamp"
    assert kinds["metrics"] == "string"  # free-form dict[str, Any]: JSON


def test_read_transform_write_back_with_the_rdd_helpers(
    spark: Any, config: DynamoDBConfig, raw_client: Any
) -> None:
    """Maps come out as JSON and timestamps as Spark timestamps; both go back in unchanged."""
    import datetime as dt

    from pyspark.sql.functions import col, concat, lit

    source = f"rdd-{uuid.uuid4().hex[:8]}"
    start = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)
    sync.PipelineRunLogsWriteApi(config).batch_upsert(
        sync.PipelineRunLogUpsert(
            run_id=f"{source}-{n}",
            pipeline_id=source,
            status=sync.RunStatus.SUCCESS,
            start_time=start,
            metrics={"rows": n, "ratio": Decimal("0.25"), "nested": {"ok": True}},
        )
        for n in range(50)
    )
    logs = read_table(
        spark,
        sync.PipelineRunLogsReadApi(config),
        segments=2,
        filters=Attr("pipeline_id").eq(source),
    )
    assert dict(logs.dtypes)["metrics"] == "string"
    assert dict(logs.dtypes)["start_time"] == "timestamp"
    copies = logs.withColumn("run_id", concat(col("run_id"), lit("-copy"))).drop(
        "created_at", "updated_at", "version"
    )
    stats = write_dataframe(copies, sync.PipelineRunLogsWriteApi(config))
    assert sum(s["processed"] for s in stats) == 50
    item = raw_client.get_item(
        TableName=config.table_name("pipeline_run_logs"),
        Key={"run_id": {"S": f"{source}-7-copy"}, "pipeline_id": {"S": source}},
    )["Item"]
    assert item["start_time"] == {"S": "2024-05-06T07:08:09.123456Z"}
    assert item["metrics"] == {
        "M": {
            "rows": {"N": "7"},
            "ratio": {"N": "0.25"},
            "nested": {"M": {"ok": {"BOOL": True}}},
        }
    }
