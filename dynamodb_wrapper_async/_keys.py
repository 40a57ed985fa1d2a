"""DynamoDB's rules for key values, checked on the wire form before any request (pure).

DynamoDB refuses a whole request (a whole 25-item batch chunk) for one key value it cannot
index, so every item and key is checked here first. What DynamoDB Local refuses, and so
this module does (tests/integration/test_dynamodb_limits.py holds the two together):

* a table or GSI key value of the wrong type for its key schema (S, N or B);
* an empty string or binary as a table or GSI key value;
* a partition key value over 2,048 bytes, a sort key value over 1,024 bytes (UTF-8 bytes of
  a string, bytes of a binary), for the table key and for every GSI key alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from ._schema import KeyLimit, TableSchema
from .exceptions import ValidationError

PARTITION_KEY_BYTES = 2048
SORT_KEY_BYTES = 1024
_TYPE_NAMES = {"S": "string", "N": "number", "B": "binary"}


def key_problem(limit: KeyLimit, value: Mapping[str, Any]) -> str | None:
    """Say what is wrong with the wire ``value`` of key attribute ``limit``, or None."""
    raw = value.get(limit.type)
    if raw is None or len(value) != 1:
        got = _TYPE_NAMES.get(next(iter(value), ""), "list, map, set or bool")
        return f"{limit.role} {limit.name!r} must be a {_TYPE_NAMES[limit.type]}, got a {got}"
    if limit.type == "N":
        return None
    size = len(raw)
    if not size:
        return f"{limit.role} {limit.name!r} cannot be empty"
    if limit.type == "S" and size * 4 > limit.max_bytes and not raw.isascii():
        size = len(raw.encode("utf-8", "surrogatepass"))
    if size > limit.max_bytes:
        return (
            f"{limit.role} {limit.name!r} is {size:,} bytes, over DynamoDB's "
            f"{limit.max_bytes:,}-byte limit"
        )
    return None


def first_key_problem(schema: TableSchema, wire: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Say what is wrong with the first bad table or GSI key value of ``wire``, or None.

    Attributes absent from ``wire`` are not checked (an item without a GSI key is simply not
    in that index; the table key's presence is checked where the key is taken). Per item on
    the write path, so the common case (short, well-typed values) costs a few lookups.
    """
    for name, key_type, longest, limit in schema.key_rules:
        value = wire.get(name)
        if value is None:
            continue
        raw = value.get(key_type)
        if raw is None or not 0 < len(raw) <= longest:  # our wire dicts have one type tag
            problem = key_problem(limit, value)  # the exact check, for what may be wrong
            if problem is not None:
                return f"{schema.model_name} {problem}"
    return None


def check_key_values(
    schema: TableSchema,
    wire: Mapping[str, Mapping[str, Any]],
    *,
    table: str | None = None,
    key: Mapping[str, Any] | None = None,
) -> None:
    """Raise ValidationError, naming ``table`` and ``key``, at :func:`first_key_problem`."""
    problem = first_key_problem(schema, wire)
    if problem is not None:
        raise ValidationError(problem, table=table, key=key)


def check_many(source: object, what: str) -> None:
    """Refuse a ``source`` that is not an iterable of ``what`` (a string, a mapping, one model).

    A string or bytes is iterable, but as characters; a mapping as its field names; a pydantic
    model as (name, value) pairs: each would be taken as a batch of nonsense.
    """
    single = (str, bytes, bytearray, memoryview, Mapping, BaseModel)
    if isinstance(source, single) or not isinstance(source, (Iterable, AsyncIterable)):
        msg = f"expected an iterable (or async iterable) of {what}, got {type(source).__name__}"
        raise ValidationError(msg)
