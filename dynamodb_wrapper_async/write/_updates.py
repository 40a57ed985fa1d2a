"""Checking an update's values against the model (pure): plain fields and markers.

A marker (``Increment``/``Append``) may name a field or a dotted path into a map field
(``"metrics.rows"``): the path must lead through maps (``dict[str, ...]``) or nested models
of the model, and end at a number (an increment) or a list (an append).
"""

from __future__ import annotations

import decimal
import functools
import types
import typing
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, Union

import pydantic
from boto3.dynamodb.conditions import Attr, ConditionBase
from pydantic_core import SchemaValidator

from .._markers import Append, Increment, Marker
from .._validated import describe_errors
from ..exceptions import ValidationError
from ..models._strict import StrictScalars

__all__ = ["bound_condition", "check_marker", "field_validator", "marker_path"]

_NUMBERS = (int, float, Decimal)


def marker_path(path: str, model: type[pydantic.BaseModel]) -> tuple[str, ...]:
    """Split a marker's dotted ``path`` into its field and map keys, refusing odd ones."""
    parts = tuple(path.split("."))
    if any(not part or "[" in part or "]" in part for part in parts):
        msg = f"invalid update path {path!r}: a field, then map keys separated by '.'"
        raise ValidationError(msg)
    if parts[0] not in model.model_fields:
        msg = f"unknown field {parts[0]!r} in update path {path!r} for {model.__name__}"
        raise ValidationError(msg)
    return parts


def check_marker(
    model: type[pydantic.BaseModel], path: str, parts: Sequence[str], marker: Marker
) -> Marker:
    """Return ``marker`` checked for the field or map path ``parts`` (its values coerced).

    Raises:
        ValidationError: The target is not a number (Increment) or a list (Append), the
            amount is not a number (a bool is not), or appended values do not validate.
    """
    target = _resolve(model, path, parts)
    if isinstance(marker, Increment):
        return Increment(_checked_amount(model, path, target, marker.amount))
    values = marker.values
    if not isinstance(values, list):
        msg = f"Append on {path!r} needs a list of values, got {type(values).__name__}"
        raise ValidationError(msg)
    item_type = _list_item(target)
    if item_type is None:
        msg = f"Append needs a list field; {model.__name__}.{path} is {_describe(target)}"
        raise ValidationError(msg)
    try:
        if len(parts) == 1:  # the model's own rules: strict scalars, validators, constraints
            checked = getattr(field_validator(model, path).validate_python({path: values}), path)
        else:
            checked = pydantic.TypeAdapter(list[item_type]).validate_python(values)  # type: ignore[valid-type]
    except pydantic.ValidationError as error:
        msg = f"invalid values to append to {path!r}: {describe_errors(error)}"
        raise ValidationError(msg) from None
    return Append(list(checked))


def bound_condition(
    model: type[pydantic.BaseModel], name: str, amount: int | Decimal
) -> ConditionBase | None:
    """Return the condition that keeps field ``name`` within its bounds after ``amount``.

    ``records_processed: int = Field(ge=0)`` incremented by -5 needs a stored value of at
    least 5 (a missing one counts as 0); None when no bound can be crossed.
    """
    info = model.model_fields.get(name)
    if info is None or not amount:
        return None
    conditions: list[ConditionBase] = []
    for check in info.metadata:
        for attr, kind in (("ge", "lower"), ("gt", "lower"), ("le", "upper"), ("lt", "upper")):
            bound = getattr(check, attr, None)
            if not isinstance(bound, _NUMBERS) or (kind == "lower") != (amount < 0):
                continue
            limit = Decimal(str(bound)) - Decimal(amount)  # the stored value must pass it
            method = {"ge": "gte", "gt": "gt", "le": "lte", "lt": "lt"}[attr]
            condition: ConditionBase = getattr(Attr(name), method)(limit)
            if _passes(Decimal(0), attr, limit):  # a missing attribute starts at 0
                condition = Attr(name).not_exists() | condition
            conditions.append(condition)
    if not conditions:
        return None
    return functools.reduce(lambda a, b: a & b, conditions)


def _passes(value: Decimal, attr: str, limit: Decimal) -> bool:
    return {
        "ge": value >= limit,
        "gt": value > limit,
        "le": value <= limit,
        "lt": value < limit,
    }[attr]


@functools.lru_cache(maxsize=512)
def field_validator(model: type[pydantic.BaseModel], name: str) -> SchemaValidator:
    """Validate one field's value as the model does: its constraints, validators, strictness."""
    info = model.model_fields[name]
    validators = {
        f"_{index}": pydantic.field_validator(name, mode=d.info.mode)(d.func)
        for index, d in enumerate(model.__pydantic_decorators__.field_validators.values())
        if name in d.info.fields and d.info.mode in ("before", "after", "plain", "wrap")
    }
    base = StrictScalars if issubclass(model, StrictScalars) else pydantic.BaseModel
    single = pydantic.create_model(  # type: ignore[call-overload]
        f"{model.__name__}_{name}",
        __base__=base,
        __validators__=validators,
        **{name: (info.annotation, info)},
    )
    validator: SchemaValidator = single.__pydantic_validator__  # type: ignore[assignment]
    return validator


# ---------------------------------------------------------------- types along a path


def _resolve(model: type[pydantic.BaseModel], path: str, parts: Sequence[str]) -> Any:
    """Return the annotation at ``parts`` (field, then map keys or nested model fields)."""
    annotation: Any = model.model_fields[parts[0]].annotation
    for depth, part in enumerate(parts[1:], start=1):
        inner = _unwrap(annotation)
        if inner is Any:
            return Any
        origin = typing.get_origin(inner) or inner
        if isinstance(origin, type) and issubclass(origin, Mapping | dict):
            args = typing.get_args(inner)
            annotation = args[1] if len(args) == 2 else Any  # (key type, value type)
        elif _is_class(inner) and issubclass(inner, pydantic.BaseModel):
            if part not in inner.model_fields:
                msg = f"{model.__name__}.{path}: {inner.__name__} has no field {part!r}"
                raise ValidationError(msg)
            annotation = inner.model_fields[part].annotation
        else:
            where = ".".join(parts[:depth])
            msg = (
                f"{model.__name__}.{path}: {where} is {_describe(inner)}, not a map "
                "(a dotted path leads through dict fields or nested models)"
            )
            raise ValidationError(msg)
    return annotation


def _unwrap(annotation: Any) -> Any:
    """Look through Annotated and Optional (a union with None of one other type)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _is_class(annotation: Any) -> bool:
    """A plain class, not a generic alias (Python 3.10 calls ``list[int]`` a type, and
    ``issubclass`` then raises)."""
    return isinstance(annotation, type) and typing.get_origin(annotation) is None


def _number_kind(annotation: Any) -> Literal["int", "any", None]:
    """``"int"`` for int fields, ``"any"`` for other numbers (or Any), None for non-numbers."""
    inner = _unwrap(annotation)
    if inner is Any:
        return "any"
    origin = typing.get_origin(inner)
    if origin is Union or origin is types.UnionType:
        kinds = {_number_kind(arg) for arg in typing.get_args(inner) if arg is not type(None)}
        if None in kinds:
            return None
        return "int" if kinds == {"int"} else "any"
    if not _is_class(inner) or issubclass(inner, bool):
        return None
    if issubclass(inner, int):
        return "int"
    return "any" if issubclass(inner, float | Decimal) else None


def _list_item(annotation: Any) -> Any:
    """The item type of a list annotation (Any for ``list``/Any), or None if not a list."""
    inner = _unwrap(annotation)
    if inner is Any or inner is list:
        return Any
    if typing.get_origin(inner) is list:
        args = typing.get_args(inner)
        return args[0] if args else Any
    return None


def _checked_amount(
    model: type[pydantic.BaseModel], path: str, target: Any, amount: Any
) -> int | Decimal:
    kind = _number_kind(target)
    if kind is None:
        msg = f"Increment needs a numeric field; {model.__name__}.{path} is {_describe(target)}"
        raise ValidationError(msg)
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        msg = f"Increment of {path!r} needs an int, float or Decimal, got {type(amount).__name__}"
        raise ValidationError(msg)
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            msg = f"Increment of {path!r} needs a finite number"
            raise ValidationError(msg)
        if kind == "int":
            try:
                integral = amount == amount.to_integral_value()
            except decimal.InvalidOperation:
                integral = False
            if not integral:
                msg = f"Increment of the int field {path!r} needs a whole number"
                raise ValidationError(msg)
            return int(amount)
    return amount


def _describe(annotation: Any) -> str:
    inner = _unwrap(annotation)
    name = getattr(inner, "__name__", None)
    return (
        f"a {name}" if isinstance(name, str) and typing.get_origin(inner) is None else repr(inner)
    )
