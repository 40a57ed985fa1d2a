"""Spark filters -> a DynamoDB key condition (Query) and FilterExpression, where exact.

A filter is pushed only when DynamoDB gives the very answer Spark would: top-level columns
of scalar types (strings, enums, numbers, booleans, timestamps), values of the column's own
type. Missing attributes behave as Spark's nulls (``a <> v`` also requires ``a`` to exist).
An equality on the table's partition key (or else on a GSI's) turns the read into a Query,
with one sort-key condition from the filters on that index's sort key. Everything else is
left to Spark, which evaluates it on the rows read.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from dynamodb_wrapper_async import TableSchema

from ._columns import Columns
from ._types import Decimal, Enumeration, Long, Scalar, SparkType, Timestamp

_SORT_OPS = {
    "EqualTo": "eq",
    "GreaterThan": "gt",
    "GreaterThanOrEqual": "gte",
    "LessThan": "lt",
    "LessThanOrEqual": "lte",
    "StringStartsWith": "begins_with",
}


@dataclass(frozen=True)
class Comparison:
    """One pushable filter: ``op`` on column ``name`` with ``value`` (Spark's class name)."""

    op: str
    name: str
    value: Any = None


@dataclass
class ReadPlan:
    """What the reader sends: a Query (``partition`` set) or a Scan, plus a filter."""

    comparisons: list[Comparison] = field(default_factory=list)
    partition: Comparison | None = None
    sort: Comparison | None = None

    @property
    def is_query(self) -> bool:
        """True when the read is a Query of one partition key value."""
        return self.partition is not None

    def condition(self) -> ConditionBase | None:
        """The FilterExpression as a boto3 condition (None: no filter)."""
        parts = [_condition(c) for c in self.comparisons]
        if not parts:
            return None
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part
        return combined

    def describe(self) -> str:
        """Say what is pushed, for ``explain`` readers and logs (values are not secrets)."""
        what = []
        if self.partition is not None:
            what.append(f"Query {self.partition.name} = {self.partition.value!r}")
            if self.sort is not None:
                what.append(f"sort key {self.sort.name} {self.sort.op} {self.sort.value!r}")
        what.extend(f"{c.op}({c.name}, {c.value!r})" for c in self.comparisons)
        return "; ".join(what) or "none"


def to_comparison(spark_filter: Any, columns: Columns) -> Comparison | None:  # noqa: PLR0911
    """Return the pushable form of one pyspark ``Filter``, or None (Spark evaluates it)."""
    kind_name = type(spark_filter).__name__
    if kind_name == "Not":
        child = to_comparison(spark_filter.child, columns)
        if child is not None and child.op == "EqualTo":
            return Comparison("NotEqualTo", child.name, child.value)
        return None
    attribute: tuple[str, ...] = getattr(spark_filter, "attribute", ())
    if len(attribute) != 1 or attribute[0] not in columns.names:
        return None
    name = attribute[0]
    kind = columns.kind(name)
    if kind_name in {"IsNull", "IsNotNull"}:
        return Comparison(kind_name, name)
    value = getattr(spark_filter, "value", None)
    if kind_name == "EqualNullSafe":
        return (
            Comparison("IsNull", name) if value is None else _compare("EqualTo", name, kind, value)
        )
    if kind_name == "In":
        values = tuple(value or ())
        if not 0 < len(values) <= 100 or not all(_fits(kind, v) for v in values):
            return None
        return Comparison("In", name, values)
    if kind_name in {"StringStartsWith", "StringContains"}:
        textual = _is_text(kind)
        return Comparison(kind_name, name, value) if textual and isinstance(value, str) else None
    if kind_name in _SORT_OPS:
        return _compare(kind_name, name, kind, value)
    return None


def plan(
    filters: Sequence[Any], columns: Columns, schema: TableSchema
) -> tuple[ReadPlan, list[Any]]:
    """Split ``filters`` into a read plan and the filters Spark must still evaluate."""
    pushed: list[tuple[Any, Comparison]] = []
    rest: list[Any] = []
    for spark_filter in filters:
        comparison = to_comparison(spark_filter, columns)
        if comparison is None:
            rest.append(spark_filter)
        else:
            pushed.append((spark_filter, comparison))
    read = ReadPlan()
    index_keys: tuple[str, ...] = ()
    for index in (schema.primary, *schema.indexes):
        partition = next(
            (c for _, c in pushed if c.op == "EqualTo" and c.name == index.partition_key.name),
            None,
        )
        if partition is None:
            continue
        read.partition = partition
        index_keys = index.key_names
        if index.sort_key is not None:
            read.sort = next(
                (c for _, c in pushed if c.name == index.sort_key.name and c.op in _SORT_OPS),
                None,
            )
        break
    for spark_filter, comparison in pushed:
        if comparison in (read.partition, read.sort):
            continue
        if comparison.name in index_keys:  # a Query's filter may not name the index keys
            rest.append(spark_filter)
        else:
            read.comparisons.append(comparison)
    return read, rest


def _compare(op: str, name: str, kind: SparkType, value: Any) -> Comparison | None:
    return Comparison(op, name, value) if _fits(kind, value) else None


def _is_text(kind: SparkType) -> bool:
    inner = kind.of if isinstance(kind, Enumeration) else kind
    return isinstance(inner, Scalar) and inner.name == "string"


def _fits(kind: SparkType, value: Any) -> bool:
    """Whether DynamoDB compares ``value`` with the stored attribute as Spark would."""
    inner = kind.of if isinstance(kind, Enumeration) else kind
    if isinstance(inner, Timestamp):
        return isinstance(value, dt.datetime) and value.utcoffset() is not None
    if isinstance(inner, (Long, Decimal)):
        return isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool)
    if isinstance(inner, Scalar):
        if isinstance(value, bool) is not (inner.name == "boolean"):
            return False
        if inner.name == "double":
            return isinstance(value, (int, float))
        return inner.name in {"string", "boolean"} and isinstance(value, inner.python)
    return False


def _condition(comparison: Comparison) -> ConditionBase:
    attr, value = Attr(comparison.name), comparison.value
    conditions: dict[str, Any] = {
        "EqualTo": lambda: attr.eq(value),
        "NotEqualTo": lambda: attr.exists() & attr.ne(value),
        "GreaterThan": lambda: attr.gt(value),
        "GreaterThanOrEqual": lambda: attr.gte(value),
        "LessThan": lambda: attr.lt(value),
        "LessThanOrEqual": lambda: attr.lte(value),
        "In": lambda: attr.is_in(list(value)),
        "IsNull": attr.not_exists,
        "IsNotNull": attr.exists,
        "StringStartsWith": lambda: attr.begins_with(value),
        "StringContains": lambda: attr.contains(value),
    }
    condition: ConditionBase = conditions[comparison.op]()
    return condition
