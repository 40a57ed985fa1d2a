"""The model <-> Spark type mapping and the filter planner, without a cluster."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import zoneinfo
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from dynamodb_wrapper_async import GSI, DynamoModel, UtcDateTime, ValidationError
from dynamodb_wrapper_sync.spark._columns import Columns
from dynamodb_wrapper_sync.spark._compile import spark_type_of
from dynamodb_wrapper_sync.spark._filters import plan
from dynamodb_wrapper_sync.spark._json import to_json
from dynamodb_wrapper_sync.spark._options import SourceOptions
from dynamodb_wrapper_sync.spark._types import ColumnError, Decimal, Long

pytest.importorskip("pyspark")
from pyspark.sql import datasource as ds
from pyspark.sql import types as T  # noqa: N812

UTC = dt.timezone.utc


class Colour(str, enum.Enum):
    RED = "red"


class Inner(BaseModel):
    name: str
    at: UtcDateTime | None = None


class Sample(DynamoModel):
    pk: str
    sk: int
    price: decimal.Decimal = Field(max_digits=6, decimal_places=2)
    colour: Colour
    mode: Literal["a", "b"]
    inner: Inner
    counts: dict[str, int]
    free: dict[str, Any]
    either: int | str
    labels: frozenset[str]
    status: str
    score: float

    class Meta:
        table_name = "sample"
        partition_key = "pk"
        sort_key = "sk"
        gsis = (GSI("StatusIndex", partition_key="status", sort_key="score"),)


def test_schema_of_every_kind() -> None:
    kinds = {f.name: f.dataType.simpleString() for f in Columns.of(Sample).schema().fields}
    assert kinds == {
        "pk": "string",
        "sk": "bigint",
        "price": "decimal(6,2)",
        "colour": "string",
        "mode": "string",
        "inner": "struct<name:string,at:timestamp>",
        "counts": "map<string,bigint>",
        "free": "string",
        "either": "string",
        "labels": "array<string>",
        "status": "string",
        "score": "double",
    }


def test_round_trips() -> None:
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    stamp = dt.datetime(2024, 7, 1, 12, tzinfo=UTC)
    inner = spark_type_of(Inner)
    spark_value = inner.to_spark(Inner(name="n", at=stamp))
    assert spark_value == {"name": "n", "at": stamp}
    naive = dt.datetime(2024, 7, 1, 14)  # 14:00 in Paris (CEST) is 12:00 UTC
    assert inner.from_spark({"name": "n", "at": naive}, paris) == {"name": "n", "at": stamp}
    labels = spark_type_of(frozenset[str])
    assert labels.to_spark(frozenset({"b", "a"})) == ["a", "b"]
    assert labels.from_spark(["a", "b"], None) == frozenset({"a", "b"})
    counts = spark_type_of(dict[str, int])
    assert counts.from_spark([("a", 1)], None) == {"a": 1}  # Arrow's map shape
    assert spark_type_of(Colour).to_spark(Colour.RED) == "red"


def test_decimals_are_exact_or_refused() -> None:
    kind = Decimal(6, 2)
    assert kind.to_spark(decimal.Decimal("1234.5")) == decimal.Decimal("1234.5")
    with pytest.raises(ColumnError, match="does not fit decimal"):
        kind.to_spark(decimal.Decimal("1.234"))
    with pytest.raises(ColumnError):
        kind.to_spark(decimal.Decimal("12345"))
    for zeros in ("1.5000", "0.0000", "1E+3", "-0.000"):  # trailing zeros: the value fits
        assert kind.to_spark(decimal.Decimal(zeros)) == decimal.Decimal(zeros)
    wide = Decimal()
    assert str(wide.from_spark(decimal.Decimal("1.500000000000000000"), None)) == "1.5"
    digits = decimal.Decimal("12345678901234567890.123456789012345678")
    assert wide.from_spark(digits, None) == digits  # 38 digits, not rounded to 28
    assert "no float" in str(wide.check(T.DoubleType()))


def test_records_convert_whole_columns_like_values_row_by_row() -> None:
    reader = Columns.of(Sample).reader_of(["pk", "sk", "price", "status"], UTC)
    columns: list[list[Any]] = [["a", None], [1, 2], [decimal.Decimal("1.50"), None], ["x", "y"]]
    kept = {"pk", "sk", "price"}
    expected = [
        {k: v for k, v in reader.values(row).items() if k in kept}
        for row in zip(*columns, strict=True)
    ]
    assert (
        reader.records(columns, kept)
        == expected
        == [
            {"pk": "a", "sk": 1, "price": decimal.Decimal("1.5")},
            {"sk": 2},
        ]
    )
    with pytest.raises(ValidationError, match="column 'price'"):
        reader.records([["a"], [1], ["not a number"], ["x"]])
    # a JSON null is a value (the field is given as None), a null cell is not (its default)
    free = Columns.of(Sample).reader_of(["pk", "free"], UTC)
    cells: list[list[Any]] = [["a", "b"], ["null", None]]
    rows = [free.values(row) for row in zip(*cells, strict=True)]
    assert free.records(cells) == rows == [{"pk": "a", "free": None}, {"pk": "b"}]


def test_longs_beyond_64_bits_are_refused() -> None:
    assert Long().to_spark(2**63 - 1) == 2**63 - 1
    with pytest.raises(ColumnError, match="64-bit"):
        Long().to_spark(2**63)


def test_free_form_json_keeps_numbers() -> None:
    value = {"b": decimal.Decimal("0.1000000000000000000001"), "a": [1, True, None], "s": {"y"}}
    text = to_json(value)
    assert text == '{"a":[1,true,null],"b":0.1000000000000000000001,"s":["y"]}'
    back = spark_type_of(dict[str, Any]).from_spark(text, None)
    assert back["b"] == value["b"]
    with pytest.raises(ColumnError, match="not valid JSON"):
        spark_type_of(dict[str, Any]).from_spark("{oops", None)


def test_write_schema_check_names_each_bad_column() -> None:
    frame = T.StructType(
        [
            T.StructField("sk", T.StringType()),
            T.StructField("colour", T.StringType()),
            T.StructField("nope", T.LongType()),
        ]
    )
    with pytest.raises(ValidationError) as caught:
        Columns.of(Sample).check_input(frame, required=("pk", "sk"))
    text = str(caught.value)
    assert "column 'sk': a string column cannot hold bigint values" in text
    assert "column 'nope': Sample has no such field" in text
    assert "column 'pk' is missing" in text
    assert "colour" not in text


def test_plan_picks_a_query_and_keeps_only_exact_filters() -> None:
    columns = Columns.of(Sample)
    schema = Sample.table_schema()
    eq_pk = ds.EqualTo(("pk",), "p1")
    sk_range = ds.GreaterThan(("sk",), 5)
    sk_other = ds.LessThan(("sk",), 50)
    suffix = ds.StringEndsWith(("status",), "x")
    not_red = ds.Not(ds.EqualTo(("colour",), "red"))
    nested = ds.EqualTo(("inner", "name"), "n")
    read, rest = plan([eq_pk, sk_range, sk_other, suffix, not_red, nested], columns, schema)
    assert read.is_query
    assert read.partition is not None
    assert (read.partition.name, read.sort.name if read.sort else None) == ("pk", "sk")
    assert set(rest) == {sk_other, suffix, nested}  # a Query's filter may not name its keys
    assert [c.op for c in read.comparisons] == ["NotEqualTo"]
    scan, rest = plan([sk_range, ds.In(("colour",), ("red",))], columns, schema)
    assert not scan.is_query
    assert rest == []
    gsi, _ = plan([ds.EqualTo(("status",), "ok")], columns, schema)
    assert gsi.partition is not None
    assert gsi.partition.name == "status"
    naive, rest = plan([ds.GreaterThan(("sk",), "5")], columns, schema)
    assert rest  # a value of another type is left to Spark
    assert not naive.comparisons


def test_options_hide_credentials_and_name_mistakes() -> None:
    given = {
        "model": "dynamodb_wrapper_async:PipelineRunLog",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t-value",
        "aws_access_key_id": "AKIDVALUE",
    }
    parsed = SourceOptions.parse(given)
    assert "s3cr3t-value" not in repr(parsed)
    assert "AKIDVALUE" not in repr(parsed)
    assert parsed.config().credentials()["aws_secret_access_key"] == "s3cr3t-value"
    with pytest.raises(ValidationError, match="unknown dynamodb options \\['segmnets'\\]"):
        SourceOptions.parse({**given, "segmnets": "4"})
    with pytest.raises(ValidationError, match="cannot import"):
        SourceOptions.parse({**given, "model": "no_such_module:Model"})
    with pytest.raises(ValidationError, match="positive integer"):
        SourceOptions.parse({**given, "segments": "0"})
