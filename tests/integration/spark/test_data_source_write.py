"""``df.write.format("dynamodb")`` on a standalone cluster: bulk, retries, bad rows, secrets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from spark_models import Event, Stamped

from dynamodb_wrapper_async import DynamoDBConfig
from dynamodb_wrapper_sync import create_tables, delete_tables
from dynamodb_wrapper_sync.spark import register

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]

SECRET_ID = "AKIDSPARKSECRET0001"
SECRET_KEY = "spark-secret-key-never-shown-0123456789"


#: The tests that also run on moto's server (it is slow under Spark's concurrency); the rest
#: run on DynamoDB Local.
MOTO_TOO = {"test_wrong_types_and_missing_keys_fail_before_writing", "test_credentials_never_show"}


@pytest.fixture(autouse=True)
def _dynamodb_local_for_the_rest(request: pytest.FixtureRequest, backend: DynamoDBConfig) -> None:
    if backend.table_prefix.startswith("t_moto_") and request.node.originalname not in MOTO_TOO:
        pytest.skip("runs on DynamoDB Local; moto runs this module's refusal tests")


def options(config: DynamoDBConfig) -> dict[str, str]:
    creds = config.credentials()
    return {
        "model": "spark_models:Event",
        "endpoint_url": str(config.endpoint_url),
        "region_name": config.region_name,
        "table_prefix": config.table_prefix,
        "aws_access_key_id": str(creds["aws_access_key_id"]),
        "aws_secret_access_key": str(creds["aws_secret_access_key"]),
    }


def events_frame(spark: Any, count: int, partitions: int) -> Any:
    return spark.range(count, numPartitions=partitions).selectExpr(
        "concat('ev-', lpad(cast(id as string), 7, '0')) as event_id",
        "concat('src-', cast(id % 5 as string)) as source",
        "id as amount",
        "id / 4.0 as score",
        "array('a', concat('b', cast(id % 3 as string))) as tags",
    )


@pytest.fixture
def events(spark: Any, backend: DynamoDBConfig) -> Iterator[DynamoDBConfig]:
    register(spark)
    create_tables(backend, [Event])
    yield backend
    delete_tables(backend, [Event])


def stored(raw_client: Any, config: DynamoDBConfig) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"TableName": config.table_name("spark_events")}
    while True:
        page = raw_client.scan(**kwargs)
        items.update((item["event_id"]["S"], item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def save(frame: Any, config: DynamoDBConfig) -> None:
    frame.write.format("dynamodb").options(**options(config)).mode("append").save()


@pytest.mark.slow
def test_200k_rows_written_and_read_back(
    spark: Any, events: DynamoDBConfig, raw_client: Any
) -> None:
    count = 200_000
    save(events_frame(spark, count, 8), events)
    items = stored(raw_client, events)
    assert len(items) == count
    for n in (0, 1, 99_999, 199_999):
        item = items[f"ev-{n:07d}"]
        assert item["amount"] == {"N": str(n)}
        assert Decimal(item["score"]["N"]) == Decimal(repr(n / 4))
        assert item["tags"] == {"L": [{"S": "a"}, {"S": f"b{n % 3}"}]}
    frame = spark.read.format("dynamodb").options(**options(events), segments="8").load()
    assert frame.rdd.getNumPartitions() == 8
    assert frame.count() == count
    totals = {
        r["source"]: r["sum(amount)"] for r in frame.groupBy("source").sum("amount").collect()
    }
    assert totals == {f"src-{k}": sum(range(k, count, 5)) for k in range(5)}
    sample = {r["event_id"]: r for r in frame.filter("amount % 40000 = 7").collect()}
    assert sorted(sample) == [f"ev-{n:07d}" for n in range(7, count, 40_000)]
    assert sample["ev-0040007"]["score"] == 40_007 / 4
    assert sample["ev-0040007"]["tags"] == ["a", "b2"]


def test_a_task_killed_mid_partition_is_retried(
    spark: Any, events: DynamoDBConfig, raw_client: Any
) -> None:
    from pyspark.sql.functions import col, udf

    def die_once(amount: int) -> int:
        import os

        from pyspark import TaskContext

        context = TaskContext.get()
        if context is not None and context.attemptNumber() == 0 and amount == 2_500:
            os._exit(1)  # the Python worker dies in the middle of partition 1
        return amount

    frame = events_frame(spark, 8_000, 4).withColumn(
        "amount", udf(die_once, "bigint", useArrow=False)(col("amount"))
    )
    save(frame, events)
    items = stored(raw_client, events)
    assert len(items) == 8_000
    assert all(items[f"ev-{n:07d}"]["amount"] == {"N": str(n)} for n in range(8_000))


def test_timestamps_are_instants_in_the_session_zone(
    spark: Any, backend: DynamoDBConfig, raw_client: Any
) -> None:
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    register(spark)  # takes the session's zone for naive (timestamp_ntz) values
    try:
        create_tables(backend, [Stamped])
        frame = spark.sql(
            "SELECT 's-1' AS stamp_id, timestamp'2024-01-31 09:05:00' AS at, "
            "timestamp_ntz'2024-07-01 12:00:00' AS wall"
        )
        given = {**options(backend), "model": "spark_models:Stamped"}
        frame.write.format("dynamodb").options(**given).mode("append").save()
        item = raw_client.get_item(
            TableName=backend.table_name("spark_stamped"), Key={"stamp_id": {"S": "s-1"}}
        )["Item"]
        assert item["at"] == {"S": "2024-01-31T17:05:00.000000Z"}  # PST is UTC-8
        assert item["wall"] == {"S": "2024-07-01T19:00:00.000000Z"}  # PDT is UTC-7
        back = spark.read.format("dynamodb").options(**given).load().collect()[0]
        assert back["at"].astimezone(dt.timezone.utc) == dt.datetime(
            2024, 1, 31, 17, 5, tzinfo=dt.timezone.utc
        )
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
        register(spark)
        delete_tables(backend, [Stamped])


def test_wrong_types_and_missing_keys_fail_before_writing(
    spark: Any, events: DynamoDBConfig, raw_client: Any
) -> None:
    wrong = events_frame(spark, 100, 2).selectExpr("event_id", "source", "'x' AS amount", "score")
    with pytest.raises(Exception, match=r"ValidationError.*column 'amount'") as caught:
        save(wrong, events)
    assert "string column cannot hold bigint" in str(caught.value)
    no_key = events_frame(spark, 100, 2).drop("event_id")
    with pytest.raises(Exception, match=r"column 'event_id' is missing"):
        save(no_key, events)
    unknown = events_frame(spark, 10, 1).selectExpr("*", "1 AS colour")
    with pytest.raises(Exception, match=r"column 'colour': Event has no such field"):
        save(unknown, events)
    assert stored(raw_client, events) == {}


def test_a_bad_row_fails_the_job_naming_it(
    spark: Any, events: DynamoDBConfig, raw_client: Any
) -> None:
    frame = events_frame(spark, 3_000, 3).selectExpr(
        "CASE WHEN amount = 1500 THEN NULL ELSE event_id END AS event_id",
        "source",
        "amount",
        "score",
    )
    with pytest.raises(Exception, match=r"ValidationError") as caught:
        save(frame, events)
    text = str(caught.value)
    assert "row 501 of this partition" in text
    assert "event_id" in text
    assert "the 500 rows before it were written, it and the rows after it were not" in text
    items = stored(raw_client, events)
    assert "ev-0001499" in items  # before the bad row, in its partition: written
    assert "ev-0001501" not in items  # after it: not written, and not reported as done
    assert len(items) <= 2_500


def test_credentials_never_show(spark: Any, events: DynamoDBConfig, capsys: Any) -> None:
    given = {
        **options(events),
        "aws_access_key_id": SECRET_ID,
        "aws_secret_access_key": SECRET_KEY,
        "table_prefix": "missing_",  # so reads and writes fail, on either backend
    }
    frame = spark.read.format("dynamodb").options(**given).load().filter("amount > 3")
    frame.explain(True)
    plan = capsys.readouterr().out
    assert "spark_models:Event" in plan or "dynamodb" in plan.lower()
    with pytest.raises(Exception, match="TableNotFoundError") as read_error:
        frame.collect()
    with pytest.raises(Exception, match="ResourceNotFoundException") as write_error:
        events_frame(spark, 10, 1).write.format("dynamodb").options(**given).mode("append").save()
    with pytest.raises(Exception, match="not supported") as mode_error:
        events_frame(spark, 10, 1).write.format("dynamodb").options(**given).mode(
            "overwrite"
        ).save()
    assert "overwrite" in str(mode_error.value)
    for text in (plan, str(read_error.value), str(write_error.value), str(mode_error.value)):
        assert SECRET_KEY not in text
        assert SECRET_ID not in text
