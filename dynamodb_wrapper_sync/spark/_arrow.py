"""DynamoDB pages as Arrow record batches: straight from the wire items when that is exact.

A page is first built column by column from the wire items (strings looked up, numbers and
timestamps parsed by Arrow's vectorised casts). That fast path covers a column only when the
view's field does nothing pydantic's lax validation would not also do: a plain ``str``,
``bool``, ``int``, ``float``, ``Decimal``, ``datetime`` (or ``UtcDateTime``), string enum or
``dict[str, Any]``, optional, with no validators or constraints. It also gives up on the
first value that is not what the library itself stores (another type tag, a number Arrow
will not parse, an unknown enum value, a timestamp without an offset...): the page is then
decoded and validated into views, as every other read does, so results and errors are the
same either way; the fast path only skips work.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dynamodb_wrapper_async import UtcDateTime, ValidationError, ViewModel, decode_item

from ._columns import Columns
from ._json import to_json
from ._types import Decimal, Enumeration, Json, Long, Scalar, SparkType, Timestamp

#: What the fast path accepts as a timestamp: ISO 8601 with seconds and an offset, which
#: pydantic and Arrow read alike (anything else is read by pydantic, in the slow path).
_ISO_INSTANT = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
_FIRST = pa.scalar(dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc), pa.timestamp("us", "UTC"))
_LAST = pa.scalar(dt.datetime(9999, 12, 30, tzinfo=dt.timezone.utc), pa.timestamp("us", "UTC"))

Extract = Callable[[list[dict[str, Any]]], pa.Array]


class _NotExactError(ValueError):
    """A page the fast path cannot build exactly: it is built from views instead."""


class ArrowPages:
    """Builds one Arrow record batch per DynamoDB page of ``columns`` (read as ``view``)."""

    def __init__(self, columns: Columns, view: type[ViewModel], schema: pa.Schema) -> None:
        self.columns = columns
        self.view = view
        self.schema = schema
        extractors = [
            _extractor(name, kind, field.type, view)
            for name, kind, field in zip(columns.names, columns.kinds, schema, strict=True)
        ]
        #: One extractor per column, or None when some column has no exact fast path.
        self.fast: tuple[Extract, ...] | None = (
            tuple(e for e in extractors if e is not None)
            if all(e is not None for e in extractors) and _plain_model(view)
            else None
        )
        #: Pages the fast path gave up on (built from views instead).
        self.fallbacks = 0

    def __call__(self, items: list[dict[str, Any]]) -> list[pa.RecordBatch]:
        """Return the page of raw ``items`` as one record batch (in a list: a stream page)."""
        if self.fast is not None:
            try:
                arrays = [extract(items) for extract in self.fast]
                return [pa.RecordBatch.from_arrays(arrays, schema=self.schema)]
            except (KeyError, TypeError, ValueError, AttributeError, ValidationError):
                self.fallbacks += 1  # pyarrow's ArrowInvalid/ArrowTypeError: Value/TypeError
        return [self.from_views(self.view.validate_many(map(decode_item, items)))]

    def from_views(self, views: Sequence[Any]) -> pa.RecordBatch:
        """Return validated views as one record batch (a ValidationError names the column)."""
        columns = self.columns
        arrays = []
        for name, kind, arrow_field in zip(columns.names, columns.kinds, self.schema, strict=True):
            values = columns.column_values(name, kind, views)
            try:
                arrays.append(pa.array(values, type=arrow_field.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as error:
                msg = f"column {name!r} of {columns.model_name}: {error}"
                raise ValidationError(msg, operation="spark read") from None
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def _plain_model(view: type[ViewModel]) -> bool:
    """Whether validating ``view`` checks field types only (no validators, default config)."""
    decorators = view.__pydantic_decorators__
    hooks = (
        decorators.validators,
        decorators.field_validators,
        decorators.root_validators,
        decorators.model_validators,
    )
    return not any(hooks) and set(view.model_config) <= {"extra"}


def _extractor(
    name: str, kind: SparkType, arrow_type: pa.DataType, view: type[ViewModel]
) -> Extract | None:
    """Return the fast path of column ``name``, or None when it has no exact one."""
    field = view.model_fields.get(name)
    if field is None or field.metadata or field.default is not None:
        return None
    if field.default_factory is not None:
        return None
    python = _optional_of(field.annotation)
    if isinstance(kind, Enumeration):
        if not _is_string_enum(python):
            return None
        return _enum_values(name, frozenset(member.value for member in python))
    build = _BUILDERS.get((_kind_name(kind), python))
    return None if build is None else build(name, arrow_type)


def _kind_name(kind: SparkType) -> str:
    if isinstance(kind, Scalar):
        return kind.name
    return {Long: "long", Decimal: "decimal", Timestamp: "timestamp", Json: "json"}.get(
        type(kind), ""
    )


def _optional_of(annotation: Any) -> Any:
    """Return ``X`` of ``X | None`` (else ``annotation`` itself)."""
    if typing.get_origin(annotation) in {typing.Union, types.UnionType}:
        rest = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _is_string_enum(python: Any) -> bool:
    return (
        isinstance(python, type)
        and issubclass(python, enum.Enum)
        and python._missing_.__func__ is enum.Enum._missing_.__func__  # type: ignore[attr-defined]
        and all(type(member.value) is str for member in python)
    )


def _values(items: list[dict[str, Any]], name: str, tag: str) -> list[Any]:
    """Each item's ``tag`` value of ``name`` (None where missing; KeyError: another tag)."""
    return [None if (value := item.get(name)) is None else value[tag] for item in items]


def _tagged(name: str, tag: str, arrow_type: pa.DataType) -> Extract:
    return lambda items: pa.array(_values(items, name, tag), type=arrow_type)


def _numbers(name: str, arrow_type: pa.DataType) -> Extract:
    """Numbers parsed by Arrow: an int with a fraction, or too big, leaves the fast path."""
    return lambda items: pc.cast(pa.array(_values(items, name, "N"), pa.string()), arrow_type)


def _timestamps(name: str, arrow_type: pa.DataType) -> Extract:
    def extract(items: list[dict[str, Any]]) -> pa.Array:
        text = pa.array(_values(items, name, "S"), pa.string())
        if pc.all(pc.match_substring_regex(text, _ISO_INSTANT)).as_py() is False:
            raise _NotExactError
        instants = pc.cast(text, arrow_type)
        bounds = pc.min_max(instants)
        low, high = bounds["min"], bounds["max"]
        if low.is_valid and (pc.less(low, _FIRST).as_py() or pc.greater(high, _LAST).as_py()):
            raise _NotExactError  # near the ends of datetime's range: let pydantic decide
        return instants

    return extract


def _enum_values(name: str, allowed: frozenset[str]) -> Extract:
    known = allowed | {None}

    def extract(items: list[dict[str, Any]]) -> pa.Array:
        values = _values(items, name, "S")
        if not known.issuperset(values):
            raise _NotExactError
        return pa.array(values, pa.string())

    return extract


def _json_maps(name: str) -> Extract:
    def extract(items: list[dict[str, Any]]) -> pa.Array:
        maps = _values(items, name, "M")
        return pa.array([None if m is None else to_json(decode_item(m)) for m in maps], pa.string())

    return extract


#: The fast path of each (column kind, view field type) that has one (enums apart).
_BUILDERS: dict[tuple[str, Any], Callable[[str, pa.DataType], Extract]] = {
    ("string", str): lambda name, _: _tagged(name, "S", pa.string()),
    ("boolean", bool): lambda name, _: _tagged(name, "BOOL", pa.bool_()),
    ("double", float): _numbers,
    ("long", int): _numbers,
    ("decimal", decimal.Decimal): _numbers,
    ("timestamp", dt.datetime): _timestamps,
    ("timestamp", UtcDateTime): _timestamps,
    ("json", dict[str, Any]): lambda name, _: _json_maps(name),
}
