"""``format("dynamodb")`` on a standalone cluster: exact types both ways, pushdown, copies."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

import pytest
from spark_models import Address, Everything, EverythingCopy, Level

from dynamodb_wrapper_async import DynamoDBConfig
from dynamodb_wrapper_sync import WriteApi, create_tables, delete_tables
from dynamodb_wrapper_sync.spark import register
from dynamodb_wrapper_sync.spark._options import api_classes

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]

UTC = dt.timezone.utc
ITEMS = 240


#: The tests that also run on moto's server; the rest run on DynamoDB Local only (moto's
#: server takes minutes for what DynamoDB Local does in seconds under Spark's concurrency).
MOTO_TOO = {"test_schema_follows_the_model", "test_read_then_copy_keeps_every_attribute"}


@pytest.fixture(autouse=True)
def _dynamodb_local_for_the_rest(request: pytest.FixtureRequest, backend: DynamoDBConfig) -> None:
    if backend.table_prefix.startswith("t_moto_") and request.node.originalname not in MOTO_TOO:
        pytest.skip("runs on DynamoDB Local; moto runs the schema and copy tests of this module")


def options(config: DynamoDBConfig, model: str = "spark_models:Everything") -> dict[str, str]:
    creds = config.credentials()
    return {
        "model": model,
        "endpoint_url": str(config.endpoint_url),
        "region_name": config.region_name,
        "table_prefix": config.table_prefix,
        "aws_access_key_id": str(creds["aws_access_key_id"]),
        "aws_secret_access_key": str(creds["aws_secret_access_key"]),
    }


def everything(n: int) -> Everything:
    stamp = dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=n, microseconds=n)
    return Everything(
        item_id=f"item-{n % 12:02d}",
        seq=n,
        name=f"näme {n} ☃",
        count=n * 1_000_003 - 2**40,
        ratio=n / 7,
        price=decimal.Decimal(f"{n}.{n % 9 + 1}"),
        amount=decimal.Decimal(f"12345678901234567890.{n:04d}1"),
        active=n % 3 == 0,
        payload=bytes([n % 256, 0, 255]),
        level=Level.HIGH if n % 4 == 0 else Level.LOW,
        happened_at=stamp,
        tags=["a", f"t{n % 5}"],
        scores=[n, -n, 2**53 + n],
        labels={f"l{n % 3}", "all"},
        address=Address(city=f"city {n % 7}", since=stamp if n % 2 else None),
        history=[Address(city="x", zip_code=str(n))] if n % 5 else [],
        counters={"a": n, "b": -1},
        extra={"depth": {"k": [1, "two", decimal.Decimal("3.25")]}, "flag": n % 2 == 0},
        note=None if n % 6 else f"note {n}",
        created_at=stamp - dt.timedelta(days=400),
        updated_at=stamp,
        version=n % 9 + 1,
    )


@pytest.fixture(scope="module")
def tables(spark: Any, backend: DynamoDBConfig) -> Iterator[DynamoDBConfig]:
    register(spark)
    create_tables(backend, [Everything, EverythingCopy])
    write_api = WriteApi(api_classes(Everything)[1](backend))
    write_api.batch_upsert([everything(n) for n in range(ITEMS)], keep_managed_fields=True)
    yield backend
    delete_tables(backend, [Everything, EverythingCopy])


def raw_items(raw_client: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    items: dict[tuple[str, str], dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = raw_client.scan(**kwargs)
        for item in page["Items"]:
            items[item["item_id"]["S"], item["seq"]["N"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def load(spark: Any, config: DynamoDBConfig, **extra: str) -> Any:
    return spark.read.format("dynamodb").options(**options(config), **extra).load()


def test_schema_follows_the_model(spark: Any, tables: DynamoDBConfig) -> None:
    kinds = dict(load(spark, tables).dtypes)
    assert kinds == {
        "item_id": "string",
        "seq": "bigint",
        "name": "string",
        "count": "bigint",
        "ratio": "double",
        "price": "decimal(12,4)",
        "amount": "decimal(38,18)",
        "active": "boolean",
        "payload": "binary",
        "level": "string",
        "happened_at": "timestamp",
        "tags": "array<string>",
        "scores": "array<bigint>",
        "labels": "array<string>",
        "address": "struct<city:string,zip_code:string,since:timestamp>",
        "history": "array<struct<city:string,zip_code:string,since:timestamp>>",
        "counters": "map<string,bigint>",
        "extra": "string",
        "note": "string",
        "created_at": "timestamp",
        "updated_at": "timestamp",
        "version": "bigint",
    }


def test_read_then_copy_keeps_every_attribute(
    spark: Any, tables: DynamoDBConfig, raw_client: Any
) -> None:
    frame = load(spark, tables, segments="3")
    assert frame.rdd.getNumPartitions() == 3
    (
        frame.write.format("dynamodb")
        .options(**options(tables, "spark_models:EverythingCopy"))
        .option("keep_managed_fields", "true")
        .mode("append")
        .save()
    )
    source = raw_items(raw_client, tables.table_name("spark_everything"))
    copy = raw_items(raw_client, tables.table_name("spark_everything_copy"))
    assert len(source) == ITEMS
    assert copy.keys() == source.keys()
    for key, item in source.items():
        assert _sets_sorted(copy[key]) == _sets_sorted(item), key  # attribute by attribute


def _sets_sorted(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB sets have no order (moto keeps insertion order): compare them as sets."""
    return {
        name: {kind: sorted(v) if kind in {"SS", "NS", "BS"} else v for kind, v in value.items()}
        for name, value in item.items()
    }


def test_values_come_out_exact(spark: Any, tables: DynamoDBConfig) -> None:
    rows = {r["seq"]: r for r in load(spark, tables).collect()}
    assert len(rows) == ITEMS
    for n in (0, 7, 239):
        row, want = rows[n], everything(n)
        assert row["count"] == want.count
        assert row["price"] == want.price
        assert row["amount"] == want.amount  # no float on the way: 24 significant digits
        assert row["payload"] == want.payload
        assert row["level"] == want.level.value
        assert row["happened_at"].astimezone(UTC) == want.happened_at
        assert row["scores"] == want.scores
        assert row["labels"] == sorted(want.labels)
        assert row["counters"] == want.counters
        assert row["address"]["city"] == want.address.city
        assert row["note"] == want.note


def test_arrow_and_rows_give_the_same_frame(spark: Any, tables: DynamoDBConfig) -> None:
    arrow = load(spark, tables).orderBy("item_id", "seq").collect()
    rows = load(spark, tables, arrow="false").orderBy("item_id", "seq").collect()
    assert arrow == rows


CONDITIONS = [
    "count > -1099400000000",
    "active",
    "NOT active",
    "level = 'high' AND seq >= 100",
    "price <= 50.5",
    "name LIKE 'näme 1%'",
    "name LIKE '%9 ☃'",
    "note IS NULL",
    "note IS NOT NULL AND note <> 'note 12'",
    "seq IN (1, 2, 3, 500)",
    "happened_at >= timestamp'2024-01-01 02:00:00+00:00'",
    "item_id = 'item-03'",
    "item_id = 'item-03' AND seq > 100 AND seq < 200",
    "item_id = 'item-03' AND name LIKE '%1%'",
    "level = 'low' AND happened_at < timestamp'2024-01-01 01:00:00+00:00'",
    "item_id = 'item-05' OR seq = 4",
]


@pytest.fixture(scope="module")
def unpushed(spark: Any, tables: DynamoDBConfig) -> Any:
    """The table as a local DataFrame: filters on it are Spark's alone."""
    frame = load(spark, tables)
    return spark.createDataFrame(frame.collect(), frame.schema).cache()


@pytest.mark.parametrize("condition", CONDITIONS)
def test_pushed_filters_give_spark_s_answer(
    spark: Any, tables: DynamoDBConfig, unpushed: Any, condition: str
) -> None:
    everything_read = load(spark, tables)
    local = unpushed
    want = sorted((r["item_id"], r["seq"]) for r in local.filter(condition).collect())
    got = sorted((r["item_id"], r["seq"]) for r in everything_read.filter(condition).collect())
    assert got == want
    assert want  # every condition matches something, so the comparison means something


def test_a_partition_key_equality_is_one_query(spark: Any, tables: DynamoDBConfig) -> None:
    frame = load(spark, tables, segments="4").filter("item_id = 'item-03'")
    assert frame.rdd.getNumPartitions() == 1
    assert frame.count() == ITEMS // 12
    gsi = load(spark, tables, segments="4").filter("level = 'high'")
    assert gsi.rdd.getNumPartitions() == 1
    assert gsi.count() == ITEMS // 4


def test_columns_option_reads_a_projection(spark: Any, tables: DynamoDBConfig) -> None:
    frame = load(spark, tables, columns="seq, counters")
    assert frame.columns == ["seq", "counters"]
    assert sorted(r["seq"] for r in frame.collect()) == list(range(ITEMS))
    typed = spark.read.format("dynamodb").options(**options(tables)).schema("seq bigint").load()
    assert typed.count() == ITEMS
