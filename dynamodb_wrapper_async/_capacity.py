"""Capacity budgets and consumed capacity: the public value types (pure, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from .exceptions import ValidationError

__all__ = [
    "CapacityBudget",
    "CapacityUnits",
    "ConsumedCapacity",
    "Direction",
    "Page",
    "reported_units",
]

T = TypeVar("T")

#: Which capacity a request consumes.
Direction = Literal["read", "write"]


def _check(name: str, value: object, *, percent: bool) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        msg = f"{name} must be a number, got {value!r}"
        raise ValidationError(msg)
    if percent and not 0 < value <= 100:
        msg = f"{name} must be in (0, 100], got {value!r}"
        raise ValidationError(msg)
    if not percent and not value > 0:
        msg = f"{name} must be > 0, got {value!r}"
        raise ValidationError(msg)


@dataclass(frozen=True)
class CapacityBudget:
    """How much of a table's capacity a call (or every call of a config) may consume.

    Give a percentage of the table's capacity (provisioned: the table's own read or write
    capacity units; on-demand: its ``OnDemandThroughput`` maximum; a write's units on each
    GSI are held to the same share of that GSI's capacity, and a read of a GSI to that share
    of the GSI's), or absolute units per second (a write's units on the table itself, every
    unit of a read); absolute units win when both are given. Unset directions are not
    limited.

    Example: ``CapacityBudget(write_percent=50)``, ``CapacityBudget(read_units=100)``.
    """

    read_percent: float | None = None
    write_percent: float | None = None
    read_units: float | None = None
    write_units: float | None = None

    def __post_init__(self) -> None:
        _check("read_percent", self.read_percent, percent=True)
        _check("write_percent", self.write_percent, percent=True)
        _check("read_units", self.read_units, percent=False)
        _check("write_units", self.write_units, percent=False)

    def limit(self, direction: Direction) -> tuple[float | None, float | None]:
        """Return (units per second, percent) set for ``direction`` (None: not set)."""
        if direction == "read":
            return self.read_units, self.read_percent
        return self.write_units, self.write_percent

    def limits(self, direction: Direction) -> bool:
        """Whether this budget limits ``direction`` at all."""
        units, percent = self.limit(direction)
        return units is not None or percent is not None


@dataclass(frozen=True)
class CapacityUnits:
    """Read and write capacity units."""

    read: float = 0.0
    write: float = 0.0

    def __add__(self, other: CapacityUnits) -> CapacityUnits:
        return CapacityUnits(self.read + other.read, self.write + other.write)


@dataclass
class ConsumedCapacity:
    """Capacity units DynamoDB reported as consumed (``ReturnConsumedCapacity=INDEXES``).

    Attributes:
        read_units: Read units in all, tables and indexes together.
        write_units: Write units in all, tables and indexes together.
        tables: Per table, the units the table itself consumed (its indexes excluded).
        indexes: Per ``(table, index)``, the units of that secondary index.
    """

    read_units: float = 0.0
    write_units: float = 0.0
    tables: dict[str, CapacityUnits] = field(default_factory=dict)
    indexes: dict[tuple[str, str], CapacityUnits] = field(default_factory=dict)

    def __add__(self, other: ConsumedCapacity) -> ConsumedCapacity:
        total = ConsumedCapacity()
        total.add(self)
        total.add(other)
        return total

    def add(self, other: ConsumedCapacity) -> None:
        """Add ``other``'s units to these, in place."""
        self.read_units += other.read_units
        self.write_units += other.write_units
        for table, units in other.tables.items():
            self.tables[table] = self.tables.get(table, CapacityUnits()) + units
        for index, units in other.indexes.items():
            self.indexes[index] = self.indexes.get(index, CapacityUnits()) + units

    def record(self, reported: Mapping[str, Any], direction: Direction) -> float:
        """Add one ``ConsumedCapacity`` entry of a response; return the units the table
        itself consumed (for writes) or the whole entry's units (for reads).

        A write is charged on the table and, separately, on each GSI it changes: a table's
        write bucket counts the table's own units (each GSI has its own bucket). A read of an
        index consumes that index's units only: a read budget counts every unit of the entry.
        """
        table = str(reported.get("TableName", ""))
        total = reported_units(reported, direction)
        own_entry = reported.get("Table")
        own = reported_units(own_entry, direction) if isinstance(own_entry, Mapping) else None
        index_units = 0.0
        for group in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for name, entry in (reported.get(group) or {}).items():
                units = reported_units(entry, direction)
                index_units += units
                self.indexes[(table, name)] = self.indexes.get(
                    (table, name), CapacityUnits()
                ) + _as_units(units, direction)
        if own is None:
            own = max(0.0, total - index_units)
        self.tables[table] = self.tables.get(table, CapacityUnits()) + _as_units(own, direction)
        if direction == "read":
            self.read_units += total
            return total
        self.write_units += total
        return own


def reported_units(entry: Mapping[str, Any], direction: Direction) -> float:
    """The units of ``direction`` in one entry (a table's, an index's) of a ConsumedCapacity."""
    specific = entry.get("ReadCapacityUnits" if direction == "read" else "WriteCapacityUnits")
    value = specific if specific is not None else entry.get("CapacityUnits", 0.0)
    return float(value or 0.0)


def _as_units(units: float, direction: Direction) -> CapacityUnits:
    return CapacityUnits(read=units) if direction == "read" else CapacityUnits(write=units)


class Page(tuple[list[T], "str | None"], Generic[T]):
    """What a paged read returns: the tuple ``(items, next_key)``, which also tells
    ``consumed_capacity``, the read units DynamoDB reported for the page."""

    consumed_capacity: ConsumedCapacity

    def __new__(
        cls,
        items: list[T],
        next_key: str | None,
        consumed_capacity: ConsumedCapacity | None = None,
    ) -> Page[T]:
        page = super().__new__(cls, (items, next_key))
        page.consumed_capacity = consumed_capacity or ConsumedCapacity()
        return page

    def __getnewargs__(self) -> tuple[list[T], str | None]:
        return self[0], self[1]
