"""Strict scalars for stored models and write DTOs: a value is stored as given, or refused.

Pydantic's lax mode turns ``"12"``, ``True`` and ``12.0`` into the int 12, ``"yes"`` into
True and ``b"x"`` into ``"x"``: each would be stored differently from what the caller gave.
:class:`StrictScalars` makes every scalar of a model's fields strict, whatever type (lists,
dicts, unions, Optional) holds it:

* ``int``, ``bool``, ``str``, ``bytes`` and ``date`` take their own type only;
* ``float`` takes floats and the ints a float holds exactly (to 2**53), not Decimals;
* ``Decimal`` takes Decimals, ints and floats (a float through ``repr``, so ``0.1`` is
  ``Decimal("0.1")``), never strings or bools;
* ``datetime`` takes aware datetimes (converted to UTC) and ISO-8601 strings with an offset
  (parsed by pydantic's own parser, as fast as before); naive ones, numbers and other
  strings are refused;
* enums take their members or their values (``"failed"``), never bytes or bools.

Nested pydantic models keep their own rules: pydantic builds them apart, by reference, and
reuses their own validators. Containers keep pydantic's documented conversions (a tuple for
a list, a frozenset for a set). Reading what the library stored uses the lax
rules (``model_validate(item, strict=False, context=STORED)``): numbers come back as
Decimals, datetimes as strings, GSI-key bools as ``"true"``/``"false"``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, GetCoreSchemaHandler, ValidationInfo
from pydantic_core import CoreSchema

__all__ = ["STORED", "StrictScalars", "strict_schema", "utc_datetime"]

#: Core schema types whose ``strict`` flag is set.
_STRICT_TYPES = frozenset({"int", "bool", "str", "bytes", "date"})
#: Core schema keys that hold values, not schemas (a default of {"type": "int"} is data).
_DATA_KEYS = frozenset({"default", "metadata", "serialization", "cls", "function", "expected"})


_UTC = dt.timezone.utc


def utc_datetime(value: dt.datetime) -> dt.datetime:
    """Return an aware datetime in UTC; refuse a naive one or one out of range in UTC."""
    if value.tzinfo is _UTC:
        return value
    if value.utcoffset() is None:
        msg = "naive datetime: give a timezone, e.g. datetime(..., tzinfo=timezone.utc)"
        raise ValueError(msg)
    try:
        return value.astimezone(_UTC)
    except OverflowError:
        msg = "datetime is out of range once converted to UTC"
        raise ValueError(msg) from None


#: What starts an ISO-8601 date: pydantic would also parse "1700000000" as a Unix time.
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)


def _datetime_input(value: Any) -> Any:
    """Let through datetimes and ISO-8601 strings (parsed by pydantic); refuse the rest."""
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    got = type(value).__name__
    msg = f"expected an aware datetime or an ISO-8601 string with an offset, got {got}"
    raise ValueError(msg)


def _decimal(value: Any) -> Any:
    """Take ints and floats for a Decimal field as the exact numbers they print as."""
    if isinstance(value, bool):
        return value  # refused by the strict decimal schema
    if isinstance(value, int):
        return decimal.Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = "NaN and Infinity cannot be stored: DynamoDB numbers are finite"
            raise ValueError(msg)
        return decimal.Decimal(repr(value))
    return value


_EXACT_FLOAT_INT = 2**53


#: The validation context of reads of stored items: lax, and numbers are Decimals there.
_STORED_KEY = "dynamodb_wrapper.stored"
STORED = {_STORED_KEY: True}


def _float(value: Any, info: ValidationInfo) -> Any:
    """Refuse what a float field would store changed: Decimals, ints a float cannot hold."""
    if isinstance(info.context, dict) and info.context.get(_STORED_KEY):
        return value  # stored numbers read back as Decimal
    if isinstance(value, decimal.Decimal):
        msg = "expected a float, got a Decimal (a float field would round it)"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueError, not TypeError
    if type(value) is int and not -_EXACT_FLOAT_INT <= value <= _EXACT_FLOAT_INT:
        msg = "int too large for a float field to hold exactly"
        raise ValueError(msg)
    return value


_WRAPPERS: dict[str, dict[str, Any]] = {
    "decimal": {"type": "no-info", "function": _decimal},
    "float": {"type": "with-info", "function": _float},
}


#: Finds the schema a ``definition-ref`` names (pydantic builds enums apart, by reference).
Resolve = Callable[[dict[str, Any]], Any]


def _enum_input(value: Any) -> Any:
    """Refuse bytes and bools standing in for an enum's members (pydantic would take them)."""
    if isinstance(value, (bytes, bytearray, bool)):
        msg = f"expected a member or a value of the enum, got {type(value).__name__}"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueError, not TypeError
    return value


def _tightened(node: Any, resolve: Resolve | None = None) -> Any:
    """Return a copy of a core schema with strict scalars (only dicts and lists are copied)."""
    if isinstance(node, list):
        return [_tightened(item, resolve) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: value if key in _DATA_KEYS else _tightened(value, resolve)
        for key, value in node.items()
    }
    kind = out.get("type")
    if kind in _STRICT_TYPES:
        out["strict"] = True
    elif kind in _WRAPPERS:
        out["strict"] = True
        return {"type": "function-before", "function": _WRAPPERS[kind], "schema": out}
    elif kind == "datetime":  # lax inside, so pydantic's own parser reads the strings
        given = {"type": "function-before", "function": _DATETIME_INPUT, "schema": out}
        return {"type": "function-after", "function": _TO_UTC, "schema": given}
    elif kind == "enum" or (kind == "definition-ref" and _is_enum(out, resolve)):
        return {"type": "function-before", "function": _ENUM_INPUT, "schema": out}
    return out


def _is_enum(ref: dict[str, Any], resolve: Resolve | None) -> bool:
    if resolve is None:
        return False
    try:
        target = resolve(ref)
    except LookupError:  # not resolvable here (a model's own, recursive, reference)
        return False
    return isinstance(target, dict) and target.get("type") == "enum"


_DATETIME_INPUT = {"type": "no-info", "function": _datetime_input}
_TO_UTC = {"type": "no-info", "function": utc_datetime}
_ENUM_INPUT = {"type": "no-info", "function": _enum_input}


def strict_schema(schema: CoreSchema, resolve: Resolve | None = None) -> CoreSchema:
    """Return ``schema`` with strict scalars (see the module docstring).

    ``resolve`` finds referenced schemas, so enums built apart are tightened too.
    Validating with ``strict=False`` still applies the lax rules throughout.
    """
    tightened: CoreSchema = _tightened(schema, resolve)
    return tightened


class StrictScalars(BaseModel):
    """A model whose own fields validate with strict scalars: stored as given, or refused.

    Nested pydantic models keep their own rules (give them this base to make them strict).
    """

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler, /
    ) -> CoreSchema:
        return strict_schema(handler(source), handler.resolve_ref_schema)
