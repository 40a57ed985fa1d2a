"""The one mapping between a model's field types and Spark's, used by schema, reader and writer.

Each field annotation compiles once into a :class:`SparkType` node that knows its Spark
``DataType``, how to turn a model value into a Spark value (``to_spark``: what pyarrow and
pyspark accept for that type) and a Spark value back into model input (``from_spark``), and
which DataFrame column types it can be written from (``check``).

| model annotation | Spark type |
|---|---|
| ``datetime`` | ``TimestampType`` (UTC instants; naive values taken in the given zone) |
| ``Decimal`` | ``DecimalType(p, s)`` from ``max_digits``/``decimal_places``, else (38, 18) |
| ``int`` | ``LongType`` (values beyond 64 bits are an error naming the column) |
| ``float``, ``bool``, ``str``, ``bytes`` | ``DoubleType``, ``BooleanType``, ``StringType``,
  ``BinaryType`` |
| ``Enum`` / ``Literal`` | ``StringType`` (``LongType`` for int values) |
| ``list[X]`` / ``tuple[X, ...]`` / ``set[X]`` | ``ArrayType(X)`` (sets sorted) |
| nested pydantic model | ``StructType`` of its fields |
| ``dict[str, X]`` | ``MapType(StringType, X)`` |
| anything else (``dict[str, Any]``, unions) | ``StringType`` holding JSON, parsed back on write |
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._json import to_json

UTC = dt.timezone.utc
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
DEFAULT_DECIMAL = (38, 18)  # Spark's own choice for Python Decimals
_EXACT = decimal.Context(prec=200)  # wide enough never to round a DynamoDB number (38 digits)
_ONE = decimal.Decimal(1)

SetKind = Literal["list", "set", "frozenset", "tuple"]


class ColumnError(ValueError):
    """A value that does not fit its column's Spark type; the caller names the column."""


@dataclass(frozen=True)
class SparkType:
    """A model type as Spark sees it. Subclasses override the three conversions."""

    def data_type(self) -> Any:
        """Return the pyspark ``DataType``."""
        raise NotImplementedError

    def to_spark(self, value: Any) -> Any:
        """Return ``value`` (a model value, not None) as Spark holds it."""
        return value

    def from_spark(self, value: Any, zone: dt.tzinfo | None) -> Any:
        """Return a Spark value (not None) as model input.

        Naive datetimes are taken in ``zone``, or in the process's local time when it is None
        (pyspark's ``Row`` conversion makes naive local datetimes of Spark's instants).
        """
        del zone
        return value

    def check(self, spark_type: Any) -> str | None:
        """Say why a column of ``spark_type`` cannot be written to this type (None: it can)."""
        return None if spark_type == self.data_type() else _mismatch(spark_type, self)

    def describe(self) -> str:
        """The Spark type in Spark's own notation, e.g. ``bigint``."""
        return str(self.data_type().simpleString())


def _mismatch(spark_type: Any, wanted: SparkType) -> str:
    return f"a {spark_type.simpleString()} column cannot hold {wanted.describe()} values"


@dataclass(frozen=True)
class Scalar(SparkType):
    """String, boolean, double or binary: the value is the same on both sides."""

    name: Literal["string", "boolean", "double", "binary"]
    python: type

    def data_type(self) -> Any:
        from pyspark.sql import types as T  # noqa: N812, PLC0415 - pyspark is an extra

        return {
            "string": T.StringType,
            "boolean": T.BooleanType,
            "double": T.DoubleType,
            "binary": T.BinaryType,
        }[self.name]()

    def to_spark(self, value: Any) -> Any:
        if self.name == "double":
            return float(value)
        if self.name == "binary":
            return bytes(value)
        return value

    def from_spark(self, value: Any, zone: dt.tzinfo | None) -> Any:
        if self.name == "binary":
            return bytes(value)
        if self.name == "double":
            return float(value)  # the model says float: a decimal column is rounded to one
        return value

    def check(self, spark_type: Any) -> str | None:
        name = spark_type.typeName()
        if self.name == "double" and name in {
            "float",
            "double",
            "decimal",
            "integer",
            "long",
            "short",
        }:
            return None
        return None if name == self.name else _mismatch(spark_type, self)


@dataclass(frozen=True)
class Long(SparkType):
    """``int``: a 64-bit ``LongType``; wider values are refused, never wrapped."""

    def data_type(self) -> Any:
        from pyspark.sql import types as T  # noqa: N812, PLC0415

        return T.LongType()

    def to_spark(self, value: Any) -> Any:
        number = int(value)
        if not LONG_MIN <= number <= LONG_MAX:
            msg = f"{number} does not fit Spark's 64-bit LongType"
            raise ColumnError(msg)
        return number

    def check(self, spark_type: Any) -> str | None:
        if spark_type.typeName() in {"byte", "short", "integer", "long"}:
            return None
        return _mismatch(spark_type, self)


@dataclass(frozen=True)
class Decimal(SparkType):
    """``Decimal``: ``DecimalType(precision, scale)``; a value that does not fit is refused."""

    precision: int = DEFAULT_DECIMAL[0]
    scale: int = DEFAULT_DECIMAL[1]

    def data_type(self) -> Any:
        from pyspark.sql import types as T  # noqa: N812, PLC0415

        return T.DecimalType(self.precision, self.scale)

    def to_spark(self, value: Any) -> Any:
        number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(value)
        # by value: trailing zeros (1.5000, 0.0000) fit a scale their digits exceed
        sign, digits, exponent = number.normalize(_EXACT).as_tuple()
        del sign
        assert isinstance(exponent, int)  # noqa: S101 - stored numbers are finite
        fraction = max(0, -exponent)
        whole = max(0, len(digits) + exponent) if number else 0
        if fraction > self.scale or whole > self.precision - self.scale:
            msg = f"{number} does not fit {self.describe()} (no rounding)"
            raise ColumnError(msg)
        return number

    def from_spark(self, value: Any, zone: dt.tzinfo | None) -> Any:
        number = decimal.Decimal(value)
        # drop the zeros Spark's fixed scale appended: 1.500000000000000000 -> 1.5, 3.000 -> 3
        if number == number.to_integral_value():
            return number.quantize(_ONE, context=_EXACT)
        return _EXACT.normalize(number)

    def check(self, spark_type: Any) -> str | None:
        if spark_type.typeName() in {"decimal", "byte", "short", "integer", "long"}:
            return None
        return f"{_mismatch(spark_type, self)}: cast it to decimal (no float on the way)"


@dataclass(frozen=True)
class Timestamp(SparkType):
    """``datetime``: ``TimestampType``, an instant; the model holds it as an aware UTC value."""

    def data_type(self) -> Any:
        from pyspark.sql import types as T  # noqa: N812, PLC0415

        return T.TimestampType()

    def to_spark(self, value: Any) -> Any:
        if value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def from_spark(self, value: Any, zone: dt.tzinfo | None) -> Any:
        if value.tzinfo is None and zone is not None:
            return value.replace(tzinfo=zone).astimezone(UTC)
        return value.astimezone(UTC)  # naive without a zone: the process's local time

    def check(self, spark_type: Any) -> str | None:
        if spark_type.typeName() in {"timestamp", "timestamp_ntz"}:
            return None
        return _mismatch(spark_type, self)


@dataclass(frozen=True)
class Enumeration(SparkType):
    """An ``Enum`` (or ``Literal``): stored by value, a string (or a long) in Spark."""

    of: SparkType

    def data_type(self) -> Any:
        return self.of.data_type()

    def to_spark(self, value: Any) -> Any:
        return self.of.to_spark(value.value if isinstance(value, enum.Enum) else value)

    def check(self, spark_type: Any) -> str | None:
        return self.of.check(spark_type)


@dataclass(frozen=True)
class Array(SparkType):
    """``list``, ``tuple`` and ``set``: an ``ArrayType``; sets come out sorted."""

    element: SparkType
    kind: SetKind = "list"

    def data_type(self) -> Any:
        from pyspark.sql import types as T  # noqa: N812, PLC0415

        return T.ArrayType(self.element.data_type(), containsNull=True)

    def to_spark(self, value: Any) -> Any:
        values = sorted(value) if self.kind in {"set", "frozenset"} else value
        convert = self.element.to_spark
        return [None if v is None else convert(v) for v in values]

    def from_spark(self, value: Any, zone: dt.tzinfo | None) -> Any:
        convert = self.element.from_spark
        values = [None if v is None else convert(v, zone) for v in value]
        return {"set": set, "frozenset": frozenset, "tuple": tuple}.get(self.kind, list)(values)

    def check(self, spark_type: Any) -> str | None:
        if spark_type.typeName() != "array":
            return _mismatch(spark_type, self)
        return self.element.check(spark_type.elementType)


@dataclass(frozen=True)
class Map(SparkType):
    """``dict[str, X]``: ``MapType(StringType, X)``."""

    value: SparkType

    def data_type(self) -> Any:
        from pyspark.sql import types as T  # noqa: N812, PLC0415

        return T.MapType(T.StringType(), self.value.data_type(), valueContainsNull=True)

    def to_spark(self, value: Any) -> Any:
        convert = self.value.to_spark
        return {k: None if v is None else convert(v) for k, v in value.items()}

    def from_spark(self, value: Any, zone: dt.tzinfo | None) -> Any:
        pairs = value.items() if isinstance(value, Mapping) else value  # Arrow: (key, value)s
        convert = self.value.from_spark
        return {k: None if v is None else convert(v, zone) for k, v in pairs}

    def check(self, spark_type: Any) -> str | None:
        if spark_type.typeName() != "map" or spark_type.keyType.typeName() != "string":
            return _mismatch(spark_type, self)
        return self.value.check(spark_type.valueType)


@dataclass(frozen=True)
class Struct(SparkType):
    """A nested pydantic model: a ``StructType`` of its fields."""

    name: str
    fields: tuple[tuple[str, SparkType], ...] = field(default=())

    def data_type(self) -> Any:
        from pyspark.sql import types as T  # noqa: N812, PLC0415

        return T.StructType(
            [T.StructField(name, kind.data_type(), nullable=True) for name, kind in self.fields]
        )

    def to_spark(self, value: Any) -> Any:
        get = value.get if isinstance(value, Mapping) else functools.partial(getattr, value)
        out = {}
        for name, kind in self.fields:
            item = get(name, None)
            out[name] = None if item is None else kind.to_spark(item)
        return out

    def from_spark(self, value: Any, zone: dt.tzinfo | None) -> Any:
        values = value.asDict() if hasattr(value, "asDict") else dict(value)
        kinds = dict(self.fields)
        return {
            name: kinds[name].from_spark(item, zone) if name in kinds else item
            for name, item in values.items()
            if item is not None
        }

    def check(self, spark_type: Any) -> str | None:
        if spark_type.typeName() != "struct":
            return _mismatch(spark_type, self)
        kinds = dict(self.fields)
        for column in spark_type.fields:
            kind = kinds.get(column.name)
            if kind is None:
                return f"{self.name} has no field {column.name!r}"
            problem = kind.check(column.dataType)
            if problem is not None:
                return f"field {column.name!r}: {problem}"
        return None

    def describe(self) -> str:
        return f"struct {self.name}"


@dataclass(frozen=True)
class Json(SparkType):
    """Free-form values (``dict[str, Any]``, unions): a JSON string, numbers kept exact."""

    def data_type(self) -> Any:
        from pyspark.sql import types as T  # noqa: N812, PLC0415

        return T.StringType()

    def to_spark(self, value: Any) -> Any:
        return to_json(value)

    def from_spark(self, value: Any, zone: dt.tzinfo | None) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value, parse_float=decimal.Decimal)
            except ValueError as error:
                msg = f"not valid JSON ({error.msg} at character {error.pos})"  # type: ignore[attr-defined]
                raise ColumnError(msg) from None
        return value  # a map or struct column written to a free-form field

    def check(self, spark_type: Any) -> str | None:
        if spark_type.typeName() in {"string", "map", "struct", "array"}:
            return None
        return f"{_mismatch(spark_type, self)}: give a JSON string"

    def describe(self) -> str:
        return "JSON string"
