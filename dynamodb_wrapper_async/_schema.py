"""Table schemas compiled from a model's ``Meta``: keys, indexes, index choice (pure)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from .exceptions import ValidationError

KeyType = Literal["S", "N", "B"]
FieldKind = Literal["str", "number", "bytes", "bool", "datetime", "other"]
IndexKind = Literal["table", "gsi", "lsi"]
#: What an index holds besides its keys and the table's: every field (``"ALL"``), none
#: (``"KEYS_ONLY"``), or the fields named (a tuple: DynamoDB's ``INCLUDE``).
Projection = Literal["ALL", "KEYS_ONLY"] | tuple[str, ...]


@dataclass(frozen=True)
class Capacity:
    """Provisioned throughput of a table or a GSI, in capacity units per second.

    Attributes:
        read: Read capacity units.
        write: Write capacity units.
    """

    read: int
    write: int

    def __post_init__(self) -> None:
        for name in ("read", "write"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"Capacity.{name} must be a positive integer, got {value!r}"
                raise TypeError(msg)

    def throughput(self) -> dict[str, int]:
        """The ``ProvisionedThroughput`` of a CreateTable or UpdateTable request."""
        return {"ReadCapacityUnits": self.read, "WriteCapacityUnits": self.write}


@dataclass(frozen=True)
class GSI:
    """A global secondary index declared in a model's ``Meta.gsis``.

    Attributes:
        name: The index name.
        partition_key: The field holding the index's partition key.
        sort_key: The field holding the index's sort key, if any.
        projection: ``"ALL"`` (default), ``"KEYS_ONLY"`` or a tuple of the fields to include.
        capacity: Its provisioned throughput when the table is provisioned (default: the
            table's).
    """

    name: str
    partition_key: str
    sort_key: str | None = None
    projection: Projection = "ALL"
    capacity: Capacity | None = None


@dataclass(frozen=True)
class LSI:
    """A local secondary index declared in ``Meta.lsis``: the table's partition key with
    another sort key. It can only be created with its table.

    Attributes:
        name: The index name.
        sort_key: The field holding the index's sort key.
        projection: ``"ALL"`` (default), ``"KEYS_ONLY"`` or a tuple of the fields to include.
    """

    name: str
    sort_key: str
    projection: Projection = "ALL"


@dataclass(frozen=True)
class KeyAttribute:
    """One key attribute: its name and DynamoDB scalar type."""

    name: str
    type: KeyType


@dataclass(frozen=True)
class KeyLimit:
    """What DynamoDB requires of one key attribute's values (see ``_keys``).

    ``max_bytes`` is the tightest limit of the keys it is part of (2,048 bytes as a partition
    key, 1,024 as a sort key); ``role`` names those keys for error messages.
    """

    name: str
    type: KeyType
    max_bytes: int
    role: str


@dataclass(frozen=True)
class IndexSchema:
    """The key schema of the table (``name`` None) or of one GSI or LSI.

    Attributes:
        name: The index name (None: the table).
        partition_key: The partition key attribute.
        sort_key: The sort key attribute, if any.
        kind: ``"table"``, ``"gsi"`` or ``"lsi"``.
        projection: What the index holds: ``"ALL"``, ``"KEYS_ONLY"`` or the fields included.
        holds: Every field the index holds (None: all of them).
        capacity: A GSI's provisioned throughput (None: on-demand, or the table's).
    """

    name: str | None
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    kind: IndexKind = "table"
    projection: Projection = "ALL"
    holds: frozenset[str] | None = None
    capacity: Capacity | None = None

    def check_projection(self, fields: Iterable[str]) -> None:
        """Refuse fields this index does not hold (a query of it could never return them).

        Raises:
            ValidationError: A field is not projected into the index.
        """
        if self.holds is None:
            return
        missing = sorted(set(fields) - self.holds)
        if missing:
            msg = (
                f"index {self.name} holds only {sorted(self.holds)}: it cannot return {missing}"
                " (query the table, or project those fields into the index)"
            )
            raise ValidationError(msg)

    @property
    def key_names(self) -> tuple[str, ...]:
        """The key attribute names, partition key first."""
        if self.sort_key is None:
            return (self.partition_key.name,)
        return (self.partition_key.name, self.sort_key.name)

    def describe(self) -> str:
        """Say ``table (a, b)`` or ``index Name (a, b)`` for error messages."""
        where = "table" if self.name is None else f"index {self.name}"
        return f"{where} ({', '.join(self.key_names)})"


@dataclass(frozen=True)
class TableSchema:
    """What every consumer needs to know about a model's table, compiled once from ``Meta``."""

    model_name: str
    table_name: str
    primary: IndexSchema
    indexes: tuple[IndexSchema, ...] = ()
    ttl_attribute: str | None = None
    field_kinds: Mapping[str, FieldKind] = field(default_factory=dict)
    bool_string_fields: frozenset[str] = frozenset()
    capacity: Capacity | None = None

    @property
    def global_indexes(self) -> tuple[IndexSchema, ...]:
        """The GSIs."""
        return tuple(index for index in self.indexes if index.kind == "gsi")

    @property
    def local_indexes(self) -> tuple[IndexSchema, ...]:
        """The LSIs."""
        return tuple(index for index in self.indexes if index.kind == "lsi")

    @property
    def key_names(self) -> tuple[str, ...]:
        """The table's key attribute names, partition key first."""
        return self.primary.key_names

    @functools.cached_property
    def fields(self) -> frozenset[str]:
        """Every field of the model."""
        return frozenset(self.field_kinds)

    @functools.cached_property
    def key_limits(self) -> tuple[KeyLimit, ...]:
        """The rules of every table and GSI key attribute, table key attributes first."""
        limits: dict[str, tuple[KeyType, int, list[str]]] = {}
        for index in (self.primary, *self.indexes):
            where = "table" if index.name is None else f"GSI {index.name}"
            for attribute, role, max_bytes in (
                (index.partition_key, "partition key", 2048),
                (index.sort_key, "sort key", 1024),
            ):
                if attribute is None:
                    continue
                key_type, known, roles = limits.get(attribute.name, (attribute.type, max_bytes, []))
                roles.append(f"{where} {role}")
                limits[attribute.name] = (key_type, min(known, max_bytes), roles)
        return tuple(
            KeyLimit(name, key_type, max_bytes, " and ".join(roles))
            for name, (key_type, max_bytes, roles) in limits.items()
        )

    @functools.cached_property
    def key_rules(self) -> tuple[tuple[str, KeyType, int, KeyLimit], ...]:
        """``key_limits`` as (name, type, longest surely-fine length, limit) for hot loops.

        A string of at most ``max_bytes // 4`` characters is within the limit whatever its
        characters (none takes over 4 UTF-8 bytes); longer ones are measured exactly. Numbers
        have no byte limit (at most 38 digits): any length of their text is fine.
        """
        surely_fine = {"S": 4, "B": 1}
        return tuple(
            (
                limit.name,
                limit.type,
                limit.max_bytes // surely_fine[limit.type]
                if limit.type in surely_fine
                else 1 << 30,
                limit,
            )
            for limit in self.key_limits
        )

    @functools.cached_property
    def index_fields(self) -> frozenset[str]:
        """The fields that are a key of some GSI (and so must be valid key values)."""
        return frozenset(limit.name for limit in self.key_limits)

    def key_attributes(self) -> tuple[KeyAttribute, ...]:
        """Every distinct attribute used by the table key or an index key."""
        seen: dict[str, KeyAttribute] = {}
        for index in (self.primary, *self.indexes):
            for attribute in (index.partition_key, index.sort_key):
                if attribute is not None:
                    seen.setdefault(attribute.name, attribute)
        return tuple(seen.values())

    def index(self, name: str | None) -> IndexSchema:
        """Return the table's key schema (``None``) or the GSI or LSI called ``name``."""
        if name is None:
            return self.primary
        for index in self.indexes:
            if index.name == name:
                return index
        known = ", ".join(index.name or "" for index in self.indexes) or "none"
        msg = f"{self.model_name} has no index {name!r} (indexes: {known})"
        raise ValidationError(msg, table=self.table_name)

    def find_index(self, partition_key: str, sort_key: str | None = None) -> IndexSchema:
        """Pick the table key, or the GSI or LSI, whose key attributes are the names given.

        Raises:
            ValidationError: No key schema matches; the message lists them all.
        """
        for index in (self.primary, *self.indexes):
            if index.partition_key.name != partition_key:
                continue
            if sort_key is None or (index.sort_key is not None and index.sort_key.name == sort_key):
                return index
        schemas = "; ".join(index.describe() for index in (self.primary, *self.indexes))
        wanted = partition_key if sort_key is None else f"{partition_key}, {sort_key}"
        msg = f"no key schema of {self.model_name} has keys ({wanted}); key schemas: {schemas}"
        raise ValidationError(
            msg,
            table=self.table_name,
        )

    def key_of(self, values: Mapping[str, Any], index: IndexSchema | None = None) -> dict[str, Any]:
        """Return the key fields of ``values`` for ``index`` (default: the table key).

        Raises:
            ValidationError: A key field is missing, None or an empty string.
        """
        key: dict[str, Any] = {}
        for name in (index or self.primary).key_names:
            value = values.get(name)
            if value is None or value == "":
                msg = f"{self.model_name} key field {name!r} must be given and non-empty"
                raise ValidationError(
                    msg,
                    table=self.table_name,
                )
            key[name] = value
        return key


def compile_schema(model_name: str, meta: type, field_types: Mapping[str, Any]) -> TableSchema:
    """Compile a ``Meta`` class into a :class:`TableSchema`, checking it against the fields.

    Raises:
        TypeError: ``Meta`` names unknown fields, repeats an index name, keys an index on a
            field that is not a string, number, bytes, bool or datetime, or declares a bad
            projection, capacity or local index.
    """
    return _MetaCompiler(model_name, meta, field_types).compile()


class _MetaCompiler:
    """Checks one ``Meta`` against its model's fields, part by part."""

    def __init__(self, model_name: str, meta: type, field_types: Mapping[str, Any]) -> None:
        self.model_name = model_name
        self.meta = meta
        self.kinds = {name: _kind_of(annotation) for name, annotation in field_types.items()}

    def fail(self, message: str) -> TypeError:
        return TypeError(f"{self.model_name}.Meta.{message}")

    def compile(self) -> TableSchema:
        table_name = getattr(self.meta, "table_name", None)
        if not isinstance(table_name, str) or not table_name:
            msg = "table_name must be a non-empty string"
            raise self.fail(msg)
        sort_name = getattr(self.meta, "sort_key", None)
        primary = IndexSchema(
            None,
            self.attribute("partition_key", getattr(self.meta, "partition_key", None)),
            None if sort_name is None else self.attribute("sort_key", sort_name),
        )
        capacity = getattr(self.meta, "capacity", None)
        if capacity is not None and not isinstance(capacity, Capacity):
            msg = f"capacity must be Capacity(read=..., write=...), got {capacity!r}"
            raise self.fail(msg)
        indexes = (*self.global_indexes(primary, capacity), *self.local_indexes(primary))
        names = [index.name for index in indexes]
        repeated = sorted({str(name) for name in names if names.count(name) > 1})
        if repeated:
            msg = f"declares index {repeated[0]!r} twice"
            raise self.fail(msg)
        ttl = getattr(self.meta, "ttl_attribute", None)
        if ttl is not None and (ttl not in self.kinds or self.kinds[ttl] != "number"):
            msg = f"ttl_attribute must name a numeric field, got {ttl!r}"
            raise self.fail(msg)
        kinds = self.kinds
        schema = TableSchema(self.model_name, table_name, primary, indexes, ttl, kinds)
        bool_keys = frozenset(a.name for a in schema.key_attributes() if kinds[a.name] == "bool")
        return TableSchema(
            self.model_name, table_name, primary, indexes, ttl, kinds, bool_keys, capacity
        )

    def attribute(self, role: str, name: object) -> KeyAttribute:
        if not isinstance(name, str) or name not in self.kinds:
            msg = f"{role} names unknown field {name!r}"
            raise self.fail(msg)
        key_type = _KEY_TYPES.get(self.kinds[name])
        if key_type is None:
            msg = f"{role}: field {name!r} is not a scalar key type"
            raise self.fail(msg)
        return KeyAttribute(name, key_type)

    def global_indexes(self, primary: IndexSchema, capacity: Capacity | None) -> list[IndexSchema]:
        indexes = []
        for gsi in getattr(self.meta, "gsis", ()):
            if not isinstance(gsi, GSI):
                msg = f"gsis must hold GSI(...) entries, got {gsi!r}"
                raise self.fail(msg)
            role = f"gsis[{gsi.name}]"
            partition = self.attribute(f"{role}.partition_key", gsi.partition_key)
            sort = (
                None if gsi.sort_key is None else self.attribute(f"{role}.sort_key", gsi.sort_key)
            )
            keys = {*primary.key_names, partition.name, *([sort.name] if sort else [])}
            holds = self.holds(role, gsi.projection, frozenset(keys))
            indexes.append(
                IndexSchema(gsi.name, partition, sort, "gsi", gsi.projection, holds,
                            gsi.capacity or capacity)
            )  # fmt: skip
        return indexes

    def local_indexes(self, primary: IndexSchema) -> list[IndexSchema]:
        indexes = []
        for lsi in getattr(self.meta, "lsis", ()):
            if not isinstance(lsi, LSI):
                msg = f"lsis must hold LSI(...) entries, got {lsi!r}"
                raise self.fail(msg)
            role = f"lsis[{lsi.name}]"
            if primary.sort_key is None:
                msg = f"{role}: a local index needs a table with a sort key"
                raise self.fail(msg)
            sort = self.attribute(f"{role}.sort_key", lsi.sort_key)
            holds = self.holds(role, lsi.projection, frozenset({*primary.key_names, sort.name}))
            indexes.append(
                IndexSchema(lsi.name, primary.partition_key, sort, "lsi", lsi.projection, holds)
            )
        return indexes

    def holds(self, role: str, projection: object, keys: frozenset[str]) -> frozenset[str] | None:
        """The fields an index with ``projection`` holds (None: all)."""
        if projection == "ALL":
            return None
        if projection == "KEYS_ONLY":
            return keys
        if (
            isinstance(projection, tuple)
            and projection
            and all(isinstance(name, str) for name in projection)
        ):
            unknown = sorted(set(projection) - set(self.kinds))
            if unknown:
                msg = f"{role}.projection names unknown fields {unknown}"
                raise self.fail(msg)
            return keys | frozenset(projection)
        msg = (
            f"{role}.projection must be 'ALL', 'KEYS_ONLY' or a tuple of field names, "
            f"got {projection!r}"
        )
        raise self.fail(msg)


_KEY_TYPES: dict[FieldKind, KeyType] = {
    "str": "S",
    "datetime": "S",
    "bool": "S",
    "number": "N",
    "bytes": "B",
}


def _kind_of(annotation: Any) -> FieldKind:
    """Classify a field annotation, looking through Optional, Annotated and Literal."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind_of(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        kinds = {_kind_of(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else "other"
    if origin is Literal:
        kinds = {_kind_of(type(arg)) for arg in typing.get_args(annotation)}
        return kinds.pop() if len(kinds) == 1 else "other"
    if not isinstance(annotation, type):
        return "other"
    for base, kind in _KINDS:
        if issubclass(annotation, base):
            return kind
    return "other"


_KINDS: tuple[tuple[type, FieldKind], ...] = (
    (bool, "bool"),
    (dt.datetime, "datetime"),
    (str, "str"),
    (enum.Enum, "str"),
    (int, "number"),
    (float, "number"),
    (decimal.Decimal, "number"),
    (bytes, "bytes"),
)
