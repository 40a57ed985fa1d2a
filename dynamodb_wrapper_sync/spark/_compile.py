"""Field annotations -> :class:`SparkType` nodes (the table in ``_types``), compiled once."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union

import pydantic

from ._types import (
    DEFAULT_DECIMAL,
    Array,
    Decimal,
    Enumeration,
    Json,
    Long,
    Map,
    Scalar,
    SetKind,
    SparkType,
    Struct,
    Timestamp,
)


def spark_type_of(annotation: Any, metadata: Sequence[Any] = (), *, where: str = "") -> SparkType:
    """Compile a field annotation (with its pydantic metadata) into its :class:`SparkType`."""
    kind: SparkType = _compile(annotation, tuple(metadata), where, ())
    return kind


def _compile(  # noqa: PLR0911 - one return per kind of annotation
    annotation: Any, metadata: tuple[Any, ...], where: str, seen: tuple[type, ...]
) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _compile(args[0], metadata + tuple(args[1:]), where, seen)
    if origin is Union or origin is types.UnionType:
        present = [a for a in args if a is not type(None)]
        return _compile(present[0], metadata, where, seen) if len(present) == 1 else Json()
    if origin is Literal:
        return _literal(args)
    if origin in (list, tuple, set, frozenset) or origin in _SEQUENCES:
        if not args or (origin is tuple and (len(args) != 2 or args[1] is not Ellipsis)):
            return Json()
        element = _compile(args[0], (), where, seen)
        if isinstance(element, Json):
            return Json()
        kind: SetKind = "list"
        if origin in (set, frozenset, tuple):
            kind = origin.__name__
        return Array(element, kind)
    if origin in (dict, Mapping) or annotation is dict:
        if len(args) != 2 or args[0] is not str:
            return Json()
        value = _compile(args[1], (), where, seen)
        return Json() if isinstance(value, Json) else Map(value)
    if not isinstance(annotation, type):
        return Json()
    return _compile_class(annotation, metadata, where, seen)


def _compile_class(  # noqa: PLR0911 - one return per kind of class
    annotation: type, metadata: tuple[Any, ...], where: str, seen: tuple[type, ...]
) -> SparkType:
    if issubclass(annotation, enum.Enum):
        return _literal(tuple(member.value for member in annotation))
    if issubclass(annotation, bool):
        return Scalar("boolean", bool)
    if issubclass(annotation, dt.datetime):
        return Timestamp()
    if issubclass(annotation, str):
        return Scalar("string", str)
    if issubclass(annotation, int):
        return Long()
    if issubclass(annotation, float):
        return Scalar("double", float)
    if issubclass(annotation, decimal.Decimal):
        return _decimal(metadata, where)
    if issubclass(annotation, bytes):
        return Scalar("binary", bytes)
    if issubclass(annotation, pydantic.BaseModel):
        if annotation in seen:
            return Json()  # a recursive model has no fixed Spark schema
        inner = (*seen, annotation)
        fields = tuple(
            (name, _compile(info.annotation, tuple(info.metadata), f"{where}.{name}", inner))
            for name, info in annotation.model_fields.items()
        )
        return Struct(annotation.__name__, fields)
    return Json()


def _literal(values: tuple[Any, ...]) -> SparkType:
    kinds = {type(value) for value in values}
    if kinds <= {str}:
        return Enumeration(Scalar("string", str))
    if kinds <= {int}:
        return Enumeration(Long())
    if kinds <= {bool}:
        return Enumeration(Scalar("boolean", bool))
    return Json()


def _decimal(metadata: tuple[Any, ...], where: str) -> Decimal:
    digits = next((m.max_digits for m in metadata if getattr(m, "max_digits", None)), None)
    places = next(
        (m.decimal_places for m in metadata if getattr(m, "decimal_places", None) is not None),
        None,
    )
    if digits is None and places is None:
        return Decimal(*DEFAULT_DECIMAL)
    precision = min(int(digits or DEFAULT_DECIMAL[0]), 38)
    scale = int(places if places is not None else 0)
    if not 0 <= scale <= precision:
        msg = f"{where}: decimal_places {scale} does not fit max_digits {precision}"
        raise TypeError(msg)
    return Decimal(precision, scale)


_SEQUENCES = (Sequence, typing.Sequence)
