"""Python values <-> DynamoDB AttributeValue wire dicts (pure: no I/O, no botocore).

Storage rules:

* Datetimes are stored as UTC fixed-width ISO-8601 strings, ``2024-01-31T09:05:00.000000Z``
  (always six fractional digits and ``Z``), so string order is time order in sort keys. Naive
  datetimes are rejected; reads return strings and pydantic turns them back into aware
  datetimes (``parse_datetime`` does the same by hand). Dates are stored as ``YYYY-MM-DD``.
* Fields named in ``bool_string_fields`` (booleans used as GSI keys) are stored at the top level
  of an item as ``"true"``/``"false"``; every other bool is a ``BOOL``.
* Numbers: ints and Decimals are stored as written (``str(value)``, the same string boto3's
  TypeSerializer sends); floats go through ``Decimal(repr(f))``, the shortest string that reads
  back as the same float, so ``0.1`` is stored as ``0.1``. Numbers must fit DynamoDB: finite, at
  most 38 significant digits, magnitude zero or between 1E-130 and 9.99...E+125. Anything else
  (NaN, Infinity, ``1e-200``, ``5e-324``, ``1e300``) is a ValidationError, never rounded.
  Numbers read back as ``int`` when the wire string has no ``.``/``e``, else as ``Decimal``.
* ``None`` attributes are omitted from items (an update REMOVEs them); ``None`` inside maps and
  lists is stored as ``NULL``. Empty strings, bytes, lists and maps are stored as they are.
* Map keys are non-empty strings, and maps and lists nest at most 31 deep below an attribute
  (DynamoDB's 32 levels, counting the item): deeper ones, and containers that hold themselves,
  are refused before Python's recursion limit could be reached.
  Sets must be non-empty and hold only strings, only numbers or only bytes.
* Enums are stored by value and pydantic models as maps of their non-None fields.
* ``check_item_size`` rejects items over DynamoDB's 400 KB before they are sent.

Every error is a ValidationError whose message starts with the attribute path, e.g.
``source_config.retries[2]: ...``.
"""

from __future__ import annotations

import enum
import marshal
import math
import re
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, NoReturn

from pydantic import BaseModel

from .exceptions import ValidationError

AttributeValue = dict[str, Any]

MAX_ITEM_BYTES = 400 * 1024
#: How many maps and lists deep an attribute's value may go: DynamoDB allows 32 levels, the
#: item itself being the first, and refuses a 32nd nested map or list.
MAX_DEPTH = 31
_TOO_DEEP = "maps and lists are nested deeper than DynamoDB's 32 levels (or contain themselves)"
_UTC = timezone.utc
_RANGE = "number is out of DynamoDB's range (zero or magnitude 1E-130 to 9.99...E+125)"
_FIXED_WIDTH = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", re.ASCII)


class _PathError(Exception):
    """Internal: a reason plus the path segments collected while the stack unwinds."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.segments: list[str | int] = []  # innermost first

    def to_validation_error(self, path: str = "") -> ValidationError:
        for segment in reversed(self.segments):
            if isinstance(segment, int):
                path = f"{path}[{segment}]"
            else:
                path = f"{path}.{segment}" if path else segment
        return ValidationError(f"{path}: {self.reason}" if path else self.reason)


def _fail(reason: str) -> NoReturn:
    raise _PathError(reason)


# ---------------------------------------------------------------- datetimes


def format_datetime(dt: datetime) -> str:
    """Format an aware datetime as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (27 characters)."""
    try:
        return _format_datetime(dt)
    except _PathError as error:
        raise error.to_validation_error() from None


class _LastFormatted:
    """Formatted datetimes kept for reuse, each an immutable pair (swapped atomically, so
    thread-safe: a pair found is always right for its datetime): the stamp of the latest
    batch (:func:`pin_datetime`) and the last datetime formatted."""

    pinned: tuple[datetime | None, str] = (None, "")
    pair: tuple[datetime | None, str] = (None, "")


def pin_datetime(dt: datetime) -> None:
    """Keep ``dt`` formatted while a batch stamps every item with it (items' own datetimes
    pass through the other slot); a later pin replaces it."""
    _LastFormatted.pinned = (dt, _format_datetime_uncached(dt))


def _format_datetime(dt: datetime) -> str:
    pinned = _LastFormatted.pinned
    if pinned[0] is dt:
        return pinned[1]
    last = _LastFormatted.pair
    if last[0] is dt:
        return last[1]
    text = _format_datetime_uncached(dt)
    _LastFormatted.pair = (dt, text)
    return text


def _format_datetime_uncached(dt: datetime) -> str:
    if dt.tzinfo is not _UTC:
        if dt.utcoffset() is None:
            _fail("naive datetime (no tzinfo): give a timezone, e.g. timezone.utc")
        try:
            dt = dt.astimezone(_UTC)
        except OverflowError:
            _fail("datetime is out of range once converted to UTC")
    # what isoformat(timespec="microseconds") gives before its "+00:00", in ~half the time
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031 - faster than f-strings
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond,
    )  # fmt: skip


def parse_datetime(text: str) -> datetime:
    """Parse a stored datetime (or any ISO-8601 text with an offset) to an aware UTC datetime."""
    try:
        if _FIXED_WIDTH.fullmatch(text):
            return datetime.fromisoformat(text[:-1]).replace(tzinfo=_UTC)
        # Python 3.10's fromisoformat does not read "Z".
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        if parsed.utcoffset() is not None:
            return parsed.astimezone(_UTC)
    except (ValueError, TypeError, OverflowError) as error:
        msg = f"not an ISO-8601 datetime: {text!r:.60}"
        raise ValidationError(msg) from error
    msg = f"datetime {text!r:.60} has no timezone offset: give one (e.g. Z or +00:00)"
    raise ValidationError(msg)


# ---------------------------------------------------------------- numbers


def _decimal_string(value: Decimal) -> str:
    if not value.is_finite():
        _fail("NaN and Infinity cannot be stored: DynamoDB numbers are finite")
    if not value:
        # boto3 sends zeros as written while their exponent fits its context; others as "0".
        return str(value) if -165 <= int(value.as_tuple().exponent) <= 126 else "0"
    if not -130 <= value.adjusted() <= 125:
        _fail(_RANGE)
    digits = value.as_tuple().digits
    if len(digits) > 38 and len("".join(map(str, digits)).strip("0")) > 38:
        _fail("number has more than the 38 significant digits DynamoDB stores")
    return str(value)


_INT_38_DIGITS = 10**38  # module constants: CPython does not fold 10**38 inside a function
_INT_MAX = 10**126


def _int_string(value: int) -> str:
    if -_INT_38_DIGITS < value < _INT_38_DIGITS:
        return str(value)
    if not -_INT_MAX < value < _INT_MAX:
        _fail(_RANGE)
    _decimal_string(Decimal(value))  # checks the significant digits
    return str(value)


def _float_string(value: float) -> str:
    text = repr(value)
    if "e" not in text and "n" not in text:
        # Positional reprs (1e-4 <= |f| < 1e16) are what str(Decimal(text)) gives back, and
        # always in DynamoDB's range: skip the Decimal round trip.
        return text
    if not math.isfinite(value):
        _fail("NaN and Infinity cannot be stored: DynamoDB numbers are finite")
    return _decimal_string(Decimal(text))


def _number_string(value: int | float | Decimal) -> str:
    if isinstance(value, Decimal):
        return _decimal_string(value)
    if isinstance(value, float):
        return _float_string(float(value))
    return _int_string(int(value))


# ---------------------------------------------------------------- encoding


def _encode(value: Any, depth: int = 0) -> AttributeValue:
    encoder = _ENCODERS.get(type(value))
    return encoder(value) if encoder is not None else _encode_nested(value, depth + 1)


def _encode_map(value: Mapping[Any, Any], depth: int) -> AttributeValue:
    if depth > MAX_DEPTH:
        _fail(_TOO_DEEP)
    if "" in value:  # one lookup per map, not a test per key
        _fail("map keys must be non-empty strings")
    out: dict[str, AttributeValue] = {}
    encoders, containers = _ENCODERS, _CONTAINERS  # dispatch inlined: runs for every value
    for key, item in value.items():
        if not isinstance(key, str):
            _fail(f"map keys must be strings, not {type(key).__qualname__}")
        encoder = encoders.get(type(item))
        try:
            if encoder is not None:
                out[key] = encoder(item)
            else:
                container = containers.get(type(item))
                out[key] = (
                    container(item, depth + 1)
                    if container is not None
                    else _encode_nested(item, depth + 1)
                )
        except _PathError as error:
            error.segments.append(key)
            raise
    return {"M": out}


def _encode_list(value: list[Any] | tuple[Any, ...], depth: int) -> AttributeValue:
    if depth > MAX_DEPTH:
        _fail(_TOO_DEEP)
    out: list[AttributeValue] = []
    encoders, containers = _ENCODERS, _CONTAINERS
    for item in value:
        encoder = encoders.get(type(item))
        try:
            if encoder is not None:
                out.append(encoder(item))
            else:
                container = containers.get(type(item))
                out.append(
                    container(item, depth + 1)
                    if container is not None
                    else _encode_nested(item, depth + 1)
                )
        except _PathError as error:
            error.segments.append(len(out))  # the failing item's index
            raise
    return {"L": out}


def _encode_set(value: AbstractSet[Any]) -> AttributeValue:
    if not value:
        _fail("empty sets cannot be stored in DynamoDB")
    if any(isinstance(v, enum.Enum) for v in value):
        value = {v.value if isinstance(v, enum.Enum) else v for v in value}
    if all(isinstance(v, str) for v in value):
        return {"SS": [str.__str__(v) for v in value]}
    if all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in value):
        return {"NS": [_number_string(v) for v in value]}
    if all(isinstance(v, (bytes, bytearray, memoryview)) for v in value):
        return {"BS": [bytes(v) for v in value]}
    _fail("a set must hold only strings, only numbers or only bytes")


_ENCODERS: dict[type, Callable[[Any], AttributeValue]] = {
    str: lambda v: {"S": v},
    int: lambda v: {"N": _int_string(v)},
    bool: lambda v: {"BOOL": v},
    type(None): lambda _: {"NULL": True},
    float: lambda v: {"N": _float_string(v)},
    Decimal: lambda v: {"N": _decimal_string(v)},
    set: _encode_set,
    frozenset: _encode_set,
    bytes: lambda v: {"B": v},
    bytearray: lambda v: {"B": bytes(v)},
    memoryview: lambda v: {"B": bytes(v)},
    datetime: lambda v: {"S": _format_datetime(v)},
    date: lambda v: {"S": v.isoformat()},
}


#: Types whose encoder needs no depth: an enum of these values may have an encoder too.
_SCALAR_TYPES = frozenset(
    {str, int, bool, type(None), float, Decimal, bytes, bytearray, datetime, date}
)


def _encode_enum(value: enum.Enum, depth: int) -> AttributeValue:
    """Encode an enum member as its value (an enum adds no nesting level).

    An enum class whose every member's value is a plain scalar (str, int, float, ...) gets
    an encoder of its own in ``_ENCODERS``, so its next members skip this fallback.
    """
    kind = type(value)
    scalars = {type(member._value_) for member in kind.__members__.values()}
    if scalars and scalars <= _SCALAR_TYPES:
        _ENCODERS[kind] = lambda member: _ENCODERS[type(member._value_)](member._value_)
    return _encode(value._value_, depth - 1)


def _encode_model(value: BaseModel, depth: int) -> AttributeValue:
    if depth > MAX_DEPTH:  # before model_dump, which would recurse through a cycle itself
        _fail(_TOO_DEEP)
    try:
        dumped = value.model_dump(mode="python", exclude_none=True)
    except (RecursionError, ValueError):  # pydantic's own cycle check raises ValueError
        _fail(_TOO_DEEP)
    return _encode_map(dumped, depth)


#: The containers, encoded with their depth: ``depth`` is 1 for an attribute's own map or list.
_CONTAINERS: dict[type, Callable[[Any, int], AttributeValue]] = {
    dict: _encode_map,
    list: _encode_list,
    tuple: _encode_list,
}

# Subclasses and other types, tried in order: Enum before its int/str mixins, datetime before date.
_FALLBACKS: tuple[tuple[type | tuple[type, ...], Callable[[Any, int], AttributeValue]], ...] = (
    (enum.Enum, _encode_enum),
    ((int, float, Decimal), lambda v, _: {"N": _number_string(v)}),  # bool cannot be subclassed
    (str, lambda v, _: {"S": str.__str__(v)}),
    ((bytes, bytearray, memoryview), lambda v, _: {"B": bytes(v)}),
    (datetime, lambda v, _: {"S": _format_datetime(v)}),
    (date, lambda v, _: {"S": v.isoformat()}),
    (BaseModel, _encode_model),
    (Mapping, _encode_map),
    ((list, tuple), _encode_list),
    (AbstractSet, lambda v, _: _encode_set(v)),
)


def _encode_nested(value: Any, depth: int) -> AttributeValue:
    """Encode a container (or any type without a fast encoder) ``depth`` levels down."""
    container = _CONTAINERS.get(type(value))
    if container is not None:
        return container(value, depth)
    for base, encoder in _FALLBACKS:
        if isinstance(value, base):
            return encoder(value, depth)
    _fail(f"cannot store a value of type {type(value).__qualname__}")


def encode_value(value: Any, *, path: str = "") -> AttributeValue:
    """Encode one Python value as an AttributeValue; errors name ``path`` and below."""
    try:
        return _encode(value)
    except _PathError as error:
        raise error.to_validation_error(path) from None


def encode_item(
    values: Mapping[str, Any], *, bool_string_fields: frozenset[str] = frozenset()
) -> dict[str, AttributeValue]:
    """Encode an item's attributes: None omitted, ``bool_string_fields`` bools as "true"/"false"."""
    out: dict[str, AttributeValue] = {}
    encoders, containers = _ENCODERS, _CONTAINERS
    for name, value in values.items():
        if value is None:
            continue
        if value is True or value is False:
            out[name] = (
                {"S": "true" if value else "false"}
                if name in bool_string_fields
                else {"BOOL": value}
            )
            continue
        encoder = encoders.get(type(value))
        try:
            if encoder is not None:
                out[name] = encoder(value)
            else:
                container = containers.get(type(value))
                out[name] = container(value, 1) if container else _encode_nested(value, 1)
        except _PathError as error:
            raise error.to_validation_error(name) from None
    return out


# ---------------------------------------------------------------- decoding


def _decode_number(text: str) -> int | Decimal:
    try:
        if "." in text or "e" in text or "E" in text:
            return Decimal(text)
        return int(text)
    except (ValueError, ArithmeticError):
        _fail("malformed N value: not a number")


def _decode(av: AttributeValue) -> Any:
    try:
        ((tag, value),) = av.items()
    except (AttributeError, ValueError):
        _fail("not an AttributeValue (a dict with exactly one type tag)")
    decoder = _DECODERS.get(tag)
    if decoder is None:
        _fail(f"unknown DynamoDB type tag {tag!r}")
    try:
        return decoder(value)
    except (TypeError, AttributeError):
        _fail(f"malformed {tag} value of type {type(value).__qualname__}")


def _decode_fast(av: AttributeValue) -> Any:
    """Decode a well-formed AttributeValue; anything odd raises a plain error (see below)."""
    ((tag, value),) = av.items()
    return value if tag == "S" else _DECODERS[tag](value)


#: What ``_decode_fast`` raises on malformed input; ``_decode`` then says exactly why.
_MALFORMED = (AttributeError, ValueError, TypeError, KeyError)


def _decode_map(value: Mapping[str, AttributeValue]) -> dict[str, Any]:
    try:  # the common case, inlined: well-formed attributes, strings most of all
        out: dict[str, Any] = {}
        for key, item in value.items():
            raw = item.get("S")  # cheaper than unpacking items() for the common string
            if raw is None or len(item) != 1:
                ((tag, raw),) = item.items()
                raw = _DECODERS[tag](raw)
            out[key] = raw
    except (*_MALFORMED, _PathError):
        return _decode_map_checked(value)
    return out


def _decode_map_checked(value: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """Decode a map attribute by attribute, saying where and why it is malformed."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        try:
            try:
                out[key] = _decode_fast(item)
            except _MALFORMED:
                out[key] = _decode(item)
        except _PathError as error:
            error.segments.append(key)
            raise
    return out


def _decode_list(value: list[AttributeValue]) -> list[Any]:
    out: list[Any] = []
    for item in value:
        try:
            try:
                out.append(_decode_fast(item))
            except _MALFORMED:
                out.append(_decode(item))
        except _PathError as error:
            error.segments.append(len(out))  # the failing item's index
            raise
    return out


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "S": lambda v: v,
    "N": _decode_number,
    "B": bytes,
    "BOOL": bool,
    "NULL": lambda _: None,
    "M": _decode_map,
    "L": _decode_list,
    "SS": set,
    "NS": lambda v: {_decode_number(n) for n in v},
    "BS": lambda v: {bytes(b) for b in v},
}


def decode_value(av: AttributeValue) -> Any:
    """Decode one AttributeValue to Python (numbers as int or Decimal, sets as sets)."""
    try:
        return _decode(av)
    except _PathError as error:
        raise error.to_validation_error() from None


def decode_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """Decode an item's attributes; datetimes and "true"/"false" stay strings for pydantic."""
    try:
        return _decode_map(item)
    except _PathError as error:
        raise error.to_validation_error() from None


# ---------------------------------------------------------------- item size


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _number_size(text: str) -> int:
    mantissa = text.partition("e")[0].partition("E")[0]
    digits = mantissa.lstrip("+-").replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


def _value_size(av: AttributeValue) -> int:
    ((tag, value),) = av.items()
    sizer = _SIZERS.get(tag)
    if sizer is None:
        msg = f"unknown DynamoDB type tag {tag!r}"
        raise ValidationError(msg)
    return sizer(value)


_SIZERS: dict[str, Callable[[Any], int]] = {
    "S": _utf8_len,
    "N": _number_size,
    "B": len,  # the encoder always sends bytes
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "M": lambda v: 3 + len(v) + item_size(v),
    "L": lambda v: 3 + len(v) + sum(map(_value_size, v)),
    "SS": lambda v: sum(map(_utf8_len, v)),
    "NS": lambda v: sum(map(_number_size, v)),
    "BS": lambda v: sum(map(len, v)),
}


def item_size(item: Mapping[str, AttributeValue]) -> int:
    """Estimate an item's size in bytes the way DynamoDB counts it ("Item sizes and formats").

    Names and strings count their UTF-8 bytes, binaries their bytes, numbers
    ``ceil(significant digits / 2) + 1``, BOOL and NULL 1, maps and lists 3 plus 1 per element
    plus their contents (map entries include their names), sets the sum of their elements.
    AWS calls its number rule approximate; rounding digit pairs up leans this estimate towards
    the upper bound, so near 400 KB it errs on the side of rejecting before sending.
    """
    return sum(_utf8_len(name) + _value_size(av) for name, av in item.items())


def _size_bound(item: Mapping[str, AttributeValue]) -> int:
    """Return an upper bound of ``item_size(item)``, computed in C.

    marshal format 2 (no back-references) writes every string as its UTF-8 bytes
    (surrogatepass, as ``_utf8_len`` counts them) plus a header, bytes as themselves plus a
    header, and every dict, list and bool with at least the bytes DynamoDB adds for them, so
    its length bounds the size from above. Types marshal refuses fall back to the repr bound:
    no value takes more UTF-8 bytes than 4x the characters of its repr.
    """
    value: Any = item  # marshal's stubs list exact builtin types; it refuses the rest
    try:
        return len(marshal.dumps(value, 2))
    except ValueError:
        return len(repr(item)) * 4


def check_item_size(
    item: Mapping[str, AttributeValue],
    *,
    table: str | None = None,
    key: Mapping[str, Any] | None = None,
    json_length: int | None = None,
) -> None:
    """Raise ValidationError, naming ``key``, if ``item`` is over DynamoDB's 400 KB limit.

    ``json_length``, the length of the item's JSON wire form if the caller encoded it, is an
    upper bound of the size too (every name, string, number and binary takes at least as many
    bytes in JSON, maps and lists more), so it saves computing one.
    """
    if json_length is not None and json_length <= MAX_ITEM_BYTES:
        return
    if _size_bound(item) <= MAX_ITEM_BYTES:
        return
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        what = f"item {dict(key)!r}" if key is not None else "item"
        msg = f"{what} is {size:,} bytes, over DynamoDB's 400 KB limit ({MAX_ITEM_BYTES:,} bytes)"
        raise ValidationError(msg, table=table, key=key)
