"""JSON text for free-form values (``dict[str, Any]``): numbers keep every digit."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import json
from collections.abc import Callable, Mapping
from typing import Any

import pydantic

UTC = dt.timezone.utc


def to_json(value: Any) -> str:
    """Return JSON text of a free-form value, numbers with their exact digits.

    Decimals keep every digit (``json`` would need floats), sets become sorted arrays, bytes
    base64 strings, datetimes ISO-8601 UTC strings, models objects of their set fields.
    """
    if type(value) is dict and not value:
        return "{}"  # the commonest free-form value: a default, empty map
    parts: list[str] = []
    _dump(value, parts.append)
    return "".join(parts)


def _dump(value: Any, out: Callable[[str], Any]) -> None:  # noqa: PLR0912 - one case per type
    if value is None:
        out("null")
    elif value is True or value is False:
        out("true" if value else "false")
    elif isinstance(value, str):
        out(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, (int, decimal.Decimal)) and not isinstance(value, enum.Enum):
        out(str(value))
    elif isinstance(value, float):
        out(json.dumps(value))
    elif isinstance(value, Mapping):
        out("{")
        for n, (key, item) in enumerate(sorted(value.items(), key=lambda kv: str(kv[0]))):
            out("," if n else "")
            out(json.dumps(str(key), ensure_ascii=False))
            out(":")
            _dump(item, out)
        out("}")
    elif isinstance(value, (list, tuple, set, frozenset)):
        out("[")
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        for n, item in enumerate(items):
            out("," if n else "")
            _dump(item, out)
        out("]")
    elif isinstance(value, (bytes, bytearray)):
        out(json.dumps(base64.b64encode(value).decode("ascii")))
    elif isinstance(value, enum.Enum):
        _dump(value.value, out)
    elif isinstance(value, dt.datetime) and value.utcoffset() is not None:
        out(json.dumps(value.astimezone(UTC).isoformat()))
    elif isinstance(value, pydantic.BaseModel):
        _dump(value.model_dump(exclude_none=True), out)
    else:
        out(json.dumps(str(value), ensure_ascii=False))
