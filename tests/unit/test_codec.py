"""The codec: exact wire dicts per storage rule, and properties against boto3's own codec."""

from __future__ import annotations

import decimal
import enum
import math
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dynamodb_wrapper_async import _codec
from dynamodb_wrapper_async._codec import (
    MAX_ITEM_BYTES,
    AttributeValue,
    check_item_size,
    decode_item,
    decode_value,
    encode_item,
    encode_value,
    format_datetime,
    item_size,
    parse_datetime,
)
from dynamodb_wrapper_async._json import encode_request
from dynamodb_wrapper_async.exceptions import ValidationError

UTC = timezone.utc
PLUS_2 = timezone(timedelta(hours=2))


class Color(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Plain(enum.Enum):
    A = "a"


class Inner(pydantic.BaseModel):
    retries: int
    note: str | None = None


class Outer(pydantic.BaseModel):
    name: str
    inner: Inner
    at: datetime
    color: Color
    missing: str | None = None


def _sorted_set(av: AttributeValue) -> AttributeValue:
    """Sets have no order on the wire: sort their members for comparison."""
    ((tag, value),) = av.items()
    return {tag: sorted(value)} if tag in ("SS", "NS", "BS") else av


# ---------------------------------------------------------------- encode: scalars


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"NULL": True}),
        (True, {"BOOL": True}),
        (False, {"BOOL": False}),
        (0, {"N": "0"}),
        (-42, {"N": "-42"}),
        (10**37, {"N": str(10**37)}),
        (0.1, {"N": "0.1"}),
        (1.5, {"N": "1.5"}),
        (123.0, {"N": "123.0"}),
        (1e16, {"N": "1E+16"}),
        (-0.0, {"N": "-0.0"}),
        (Decimal("1.50"), {"N": "1.50"}),
        (Decimal("-3E+5"), {"N": "-3E+5"}),
        (Decimal("0.00"), {"N": "0.00"}),
        ("", {"S": ""}),
        ("héllo", {"S": "héllo"}),
        (b"\x00\xff", {"B": b"\x00\xff"}),
        (date(2024, 1, 31), {"S": "2024-01-31"}),
        (date(5, 3, 4), {"S": "0005-03-04"}),
        (datetime(2024, 1, 31, 9, 5, tzinfo=UTC), {"S": "2024-01-31T09:05:00.000000Z"}),
        (Color.RED, {"S": "red"}),
        (Level.HIGH, {"N": "3"}),
        (Plain.A, {"S": "a"}),
    ],
)
def test_encode_scalar(value: Any, expected: AttributeValue) -> None:
    encoded = encode_value(value)
    assert encoded == expected
    assert type(next(iter(encoded.values()))) is type(next(iter(expected.values())))


class Mixed(enum.Enum):
    NAME = "n"
    COUNT = 2
    RATIO = 0.5


class Holding(enum.Enum):
    PAIR = ("a", 1)


class Bits(enum.IntFlag):
    R = 4
    W = 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Color.RED, {"S": "red"}),
        (Level.HIGH, {"N": "3"}),
        (Mixed.NAME, {"S": "n"}),
        (Mixed.COUNT, {"N": "2"}),
        (Mixed.RATIO, {"N": "0.5"}),
        (Holding.PAIR, {"L": [{"S": "a"}, {"N": "1"}]}),
        (Bits.R | Bits.W, {"N": "6"}),  # a combination no member names
    ],
)
def test_enums_encode_as_their_values_every_time(value: enum.Enum, expected: Any) -> None:
    # the first member seen may install an encoder for its class; later ones go through it
    for _ in range(3):
        assert encode_value(value) == expected
        assert encode_item({"a": value}) == {"a": expected}
        assert encode_value({"m": [value]}) == {"M": {"m": {"L": [expected]}}}


@pytest.mark.parametrize("value", [bytearray(b"ab"), memoryview(b"ab")])
def test_binary_like_values_become_bytes(value: bytearray | memoryview) -> None:
    encoded = encode_value(value)
    assert encoded == {"B": b"ab"}
    assert type(encoded["B"]) is bytes


def test_bool_is_not_a_number_and_int_subclasses_are() -> None:
    class Count(int):
        pass

    assert encode_value(True) == {"BOOL": True}
    assert encode_value(Count(7)) == {"N": "7"}
    assert type(encode_value(Count(7))["N"]) is str


def test_str_subclass_is_stored_as_plain_str() -> None:
    class Name(str):
        pass

    encoded = encode_value(Name("x"))
    assert encoded == {"S": "x"}
    assert type(encoded["S"]) is str


# ---------------------------------------------------------------- encode: containers


def test_map_list_and_null_inside() -> None:
    value = {"a": [1, None, "x"], "b": {"c": None}, "t": (True, b"z")}
    assert encode_value(value) == {
        "M": {
            "a": {"L": [{"N": "1"}, {"NULL": True}, {"S": "x"}]},
            "b": {"M": {"c": {"NULL": True}}},
            "t": {"L": [{"BOOL": True}, {"B": b"z"}]},
        }
    }


def test_empty_map_and_list_are_stored() -> None:
    assert encode_value({}) == {"M": {}}
    assert encode_value([]) == {"L": []}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b", "a"}, {"SS": ["a", "b"]}),
        (frozenset({"a"}), {"SS": ["a"]}),
        ({1, Decimal("2.5"), 0.5}, {"NS": ["0.5", "1", "2.5"]}),
        ({b"y", b"x"}, {"BS": [b"x", b"y"]}),
        ({Color.RED, "blue"}, {"SS": ["blue", "red"]}),
        ({Level.HIGH}, {"NS": ["3"]}),
    ],
)
def test_sets(value: set[Any] | frozenset[Any], expected: AttributeValue) -> None:
    assert _sorted_set(encode_value(value)) == expected


def test_pydantic_model_is_a_map_without_none_fields() -> None:
    model = Outer(
        name="n",
        inner=Inner(retries=2),
        at=datetime(2024, 1, 31, 11, 5, tzinfo=PLUS_2),
        color=Color.RED,
    )
    assert encode_value(model) == {
        "M": {
            "name": {"S": "n"},
            "inner": {"M": {"retries": {"N": "2"}}},
            "at": {"S": "2024-01-31T09:05:00.000000Z"},
            "color": {"S": "red"},
        }
    }


def test_encode_item_omits_none_and_stores_bool_keys_as_strings() -> None:
    values = {
        "pipeline_id": "p1",
        "is_active": True,
        "is_paused": False,
        "enabled": True,
        "description": None,
        "meta": {"gone": None},
    }
    assert encode_item(values, bool_string_fields=frozenset({"is_active", "is_paused"})) == {
        "pipeline_id": {"S": "p1"},
        "is_active": {"S": "true"},
        "is_paused": {"S": "false"},
        "enabled": {"BOOL": True},
        "meta": {"M": {"gone": {"NULL": True}}},
    }


def test_encode_item_bool_string_field_with_non_bool_value_is_encoded_normally() -> None:
    assert encode_item(
        {"is_active": "true", "n": 1}, bool_string_fields=frozenset({"is_active"})
    ) == {
        "is_active": {"S": "true"},
        "n": {"N": "1"},
    }


# ---------------------------------------------------------------- encode: errors name the path


@pytest.mark.parametrize(
    ("value", "path", "fragment"),
    [
        ({"source_config": {"retries": [1, 2, float("nan")]}}, "source_config.retries[2]", "NaN"),
        ({"x": [{"y": float("inf")}]}, "x[0].y", "Infinity"),
        ({"x": Decimal("NaN")}, "x", "finite"),
        ({"x": Decimal("sNaN")}, "x", "finite"),
        ({"x": Decimal("-Infinity")}, "x", "finite"),
        ({"x": set()}, "x", "empty set"),
        ({"x": {"a", 1}}, "x", "only strings, only numbers or only bytes"),
        ({"x": {True, False}}, "x", "only strings, only numbers or only bytes"),
        ({"x": {1: "a"}}, "x", "map keys must be strings, not int"),
        ({"x": [object()]}, "x[0]", "type object"),
        ({"x": {"when": datetime(2024, 1, 1)}}, "x.when", "naive datetime"),
        ({"x": timedelta(1)}, "x", "type timedelta"),
    ],
)
def test_encode_item_errors_name_the_path(value: dict[str, Any], path: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        encode_item(value)
    assert info.value.message.startswith(f"{path}: ")
    assert fragment in info.value.message


def test_encode_value_path_prefix_and_root_error() -> None:
    with pytest.raises(ValidationError, match=r"^tags\.owner\[1\]: .*type object$"):
        encode_value({"owner": ["a", object()]}, path="tags")
    with pytest.raises(ValidationError, match=r"^cannot store a value of type object$"):
        encode_value(object())


def test_number_errors_do_not_echo_the_value() -> None:
    with pytest.raises(ValidationError) as info:
        encode_value({"secret": Decimal("123456789E+200")})
    assert "123456789" not in str(info.value)


# ---------------------------------------------------------------- numbers: DynamoDB's limits


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1E-130"), "1E-130"),
        (Decimal("-1E-130"), "-1E-130"),
        (
            Decimal("9.9999999999999999999999999999999999999E+125"),
            "9.9999999999999999999999999999999999999E+125",
        ),
        (Decimal("1" * 38), "1" * 38),
        (10**38 - 1, "9" * 38),
        (10**40, "1" + "0" * 40),  # 1 significant digit: DynamoDB trims trailing zeros
        (Decimal("1.5" + "0" * 40), "1.5" + "0" * 40),
        (10**125, "1" + "0" * 125),
        (1e-130, "1E-130"),
        (1e125, "1E+125"),
        (Decimal("0E-140"), "0E-140"),  # zeros are sent as written while boto3 would send them
        (Decimal("0E+126"), "0E+126"),
        (Decimal("0E-200"), "0"),
        (Decimal("0E+300"), "0"),
    ],
)
def test_numbers_at_dynamodb_limits_are_accepted(
    value: int | float | Decimal, expected: str
) -> None:
    assert encode_value(value) == {"N": expected}


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1E-131"),
        Decimal("9.9E-131"),
        Decimal("1E+126"),
        Decimal("-1E+126"),
        Decimal("1" * 39),
        Decimal("1." + "1" * 38),
        10**126,
        -(10**126),
        10**38 + 1,
        2**500,
        1e-131,
        1e-200,
        5e-324,
        1e126,
        1e300,
        -1.7976931348623157e308,
    ],
)
def test_numbers_outside_dynamodb_limits_are_rejected(value: int | float | Decimal) -> None:
    with pytest.raises(ValidationError, match=r"^n: .*(range|38 significant digits)"):
        encode_item({"n": value})


# ---------------------------------------------------------------- datetimes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 1, 31, 9, 5, tzinfo=UTC), "2024-01-31T09:05:00.000000Z"),
        (datetime(2024, 1, 31, 11, 5, tzinfo=PLUS_2), "2024-01-31T09:05:00.000000Z"),
        (datetime(2024, 1, 1, 1, 0, 0, 7, tzinfo=PLUS_2), "2023-12-31T23:00:00.000007Z"),
        (
            datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("America/New_York")),
            "2024-07-01T16:00:00.000000Z",
        ),
        (
            datetime(2024, 1, 1, 12, tzinfo=ZoneInfo("America/New_York")),
            "2024-01-01T17:00:00.000000Z",
        ),
        (datetime(5, 1, 1, tzinfo=UTC), "0005-01-01T00:00:00.000000Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
    ],
)
def test_format_datetime_fixed_width(value: datetime, expected: str) -> None:
    assert format_datetime(value) == expected


def test_format_datetime_rejects_naive_and_out_of_range() -> None:
    with pytest.raises(ValidationError, match=r"naive datetime.*give a timezone"):
        format_datetime(datetime(2024, 1, 31))
    with pytest.raises(ValidationError, match="out of range"):
        format_datetime(datetime(1, 1, 1, tzinfo=PLUS_2))


def test_a_pinned_stamp_and_each_item_s_own_datetimes_format_as_themselves() -> None:
    now = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    _codec.pin_datetime(now)
    own = [datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=n) for n in range(4)]
    items = [{"start": t, "end": t + timedelta(hours=1), "created_at": now} for t in own]
    encoded = [_codec.encode_item(item) for item in items]
    for item, wire in zip(items, encoded, strict=True):
        assert wire == {
            name: {"S": value.isoformat()[:19] + ".000000Z"} for name, value in item.items()
        }
    _codec.pin_datetime(
        datetime(2030, 1, 1, tzinfo=UTC)
    )  # another batch: the old stamp still right
    assert format_datetime(now) == "2024-05-01T08:30:00.000000Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31T09:05:00.000000Z", datetime(2024, 1, 31, 9, 5, tzinfo=UTC)),
        ("2024-01-31T09:05:00Z", datetime(2024, 1, 31, 9, 5, tzinfo=UTC)),
        ("2024-01-31T09:05:00.123Z", datetime(2024, 1, 31, 9, 5, 0, 123000, tzinfo=UTC)),
        ("2024-01-31T11:05:00+02:00", datetime(2024, 1, 31, 9, 5, tzinfo=UTC)),
        ("2024-01-31T09:05:00.000001+00:00", datetime(2024, 1, 31, 9, 5, 0, 1, tzinfo=UTC)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC
    assert parsed.replace(tzinfo=None) == expected.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2024-01-31T09:05:00", "no timezone offset"),
        ("2024-13-01T00:00:00.000000Z", "not an ISO-8601 datetime"),
        ("yesterday", "not an ISO-8601 datetime"),
        ("", "not an ISO-8601 datetime"),
        ("2024-01-31T09:05:00+01:00Z", "not an ISO-8601 datetime"),
    ],
)
def test_parse_datetime_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        parse_datetime(text)


# ---------------------------------------------------------------- decode


@pytest.mark.parametrize(
    ("av", "expected", "kind"),
    [
        ({"S": "x"}, "x", str),
        ({"N": "10"}, 10, int),
        ({"N": "-7"}, -7, int),
        ({"N": "1.5"}, Decimal("1.5"), Decimal),
        ({"N": "1E+2"}, Decimal(100), Decimal),
        ({"N": "1e-130"}, Decimal("1E-130"), Decimal),
        ({"B": b"\x01"}, b"\x01", bytes),
        ({"B": bytearray(b"\x01")}, b"\x01", bytes),
        ({"BOOL": False}, False, bool),
        ({"NULL": True}, None, type(None)),
        ({"SS": ["a", "b"]}, {"a", "b"}, set),
        ({"NS": ["1", "2.5"]}, {1, Decimal("2.5")}, set),
        ({"BS": [b"a"]}, {b"a"}, set),
        ({"L": [{"N": "1"}, {"S": "true"}]}, [1, "true"], list),
        (
            {"M": {"at": {"S": "2024-01-31T09:05:00.000000Z"}}},
            {"at": "2024-01-31T09:05:00.000000Z"},
            dict,
        ),
    ],
)
def test_decode_value(av: AttributeValue, expected: Any, kind: type) -> None:
    decoded = decode_value(av)
    assert decoded == expected
    assert type(decoded) is kind


def test_decode_number_set_members_keep_int_or_decimal() -> None:
    assert sorted(type(n).__name__ for n in decode_value({"NS": ["1", "2.5"]})) == [
        "Decimal",
        "int",
    ]


def test_decode_item_leaves_bool_strings_and_datetimes_for_pydantic() -> None:
    item = {"is_active": {"S": "true"}, "created_at": {"S": "2024-01-31T09:05:00.000000Z"}}
    assert decode_item(item) == {"is_active": "true", "created_at": "2024-01-31T09:05:00.000000Z"}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"x": {"Q": 1}}, "x: unknown DynamoDB type tag 'Q'"),
        ({"x": {}}, "x: not an AttributeValue"),
        ({"x": {"S": "a", "N": "1"}}, "x: not an AttributeValue"),
        ({"x": {"M": {"y": {"L": [{"N": "1"}, {"N": "one"}]}}}}, "x.y[1]: malformed N value"),
        ({"x": {"M": 5}}, "x: malformed M value"),
    ],
)
def test_decode_errors_name_the_path(item: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_item(item)
    assert info.value.message.startswith(message)


# ---------------------------------------------------------------- item size


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"a": {"S": "héllo"}}, 1 + 6),
        ({"ab": {"B": b"xyz"}}, 2 + 3),
        ({"n": {"N": "0"}}, 1 + 1),
        ({"n": {"N": "1000"}}, 1 + 2),
        ({"n": {"N": "-0.00120"}}, 1 + 2),
        ({"n": {"N": "123.45"}}, 1 + 4),
        ({"n": {"N": "1.2345E+10"}}, 1 + 4),
        ({"b": {"BOOL": True}, "z": {"NULL": True}}, 2 + 2),
        ({"l": {"L": []}}, 1 + 3),
        ({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}, 1 + 3 + 2 + (2 + 2)),
        ({"m": {"M": {"ab": {"S": "xyz"}}}}, 1 + 3 + 1 + (2 + 3)),
        ({"s": {"SS": ["ab", "é"]}, "t": {"NS": ["12", "3"]}, "u": {"BS": [b"a"]}}, 5 + 5 + 2),
    ],
)
def test_item_size(item: dict[str, AttributeValue], size: int) -> None:
    assert item_size(item) == size


def _item_of_size(size: int) -> dict[str, AttributeValue]:
    # "pk" + "k" = 3 bytes, "blob" = 4 bytes, the rest binary
    return {"pk": {"S": "k"}, "blob": {"B": b"x" * (size - 7)}}


def test_check_item_size_accepts_exactly_400_kb() -> None:
    item = _item_of_size(MAX_ITEM_BYTES)
    assert item_size(item) == 409_600
    check_item_size(item, table="t", key={"pk": "k"})


def test_check_item_size_rejects_one_byte_over_naming_the_key() -> None:
    with pytest.raises(ValidationError) as info:
        check_item_size(
            _item_of_size(MAX_ITEM_BYTES + 1), table="dev_pipeline_config", key={"pk": "k"}
        )
    error = info.value
    assert "item {'pk': 'k'} is 409,601 bytes, over DynamoDB's 400 KB limit" in error.message
    assert error.key == {"pk": "k"}
    assert error.table == "dev_pipeline_config"


def test_item_size_counts_nested_encoded_items() -> None:
    encoded = encode_item({"id": "p", "cfg": {"k": [1, True]}})
    # id: 2 + 1; cfg: 3 + 3 + 1 entry + k(1) + list(3 + 2 elements + N "1"(2) + BOOL(1))
    assert item_size(encoded) == 3 + 3 + 3 + 1 + 1 + (3 + 2 + 2 + 1)


# ---------------------------------------------------------------- properties

LIMIT_CONTEXT = decimal.Context(prec=1000, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def _within_dynamodb_limits(value: Decimal) -> bool:
    """An oracle independent of the codec: DynamoDB's documented number limits."""
    if not value.is_finite():
        return False
    if value.is_zero():
        return True
    normal = value.normalize(LIMIT_CONTEXT)
    return len(normal.as_tuple().digits) <= 38 and -130 <= normal.adjusted() <= 125


@st.composite
def dynamodb_decimals(draw: st.DrawFn) -> Decimal:
    """Decimals inside DynamoDB's limits, with trailing zeros and any exponent that fits."""
    coefficient = draw(st.integers(0, 10**38 - 1))
    digits = tuple(int(d) for d in str(coefficient))
    adjusted = draw(st.integers(-130, 125))
    sign = draw(st.integers(0, 1))
    return Decimal((sign, digits, adjusted - len(digits) + 1))


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**38) + 1, 10**38 - 1)
    | dynamodb_decimals()
    | st.text()
    | st.binary()
)
sets = (
    st.frozensets(st.text(), min_size=1)
    | st.frozensets(st.integers(-(10**38) + 1, 10**38 - 1) | dynamodb_decimals(), min_size=1)
    | st.frozensets(st.binary(), min_size=1)
).map(set)
values = st.recursive(
    scalars | sets,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(min_size=1), children, max_size=4)
    ),
    max_leaves=20,
)


def _assert_round_trip(original: Any, decoded: Any) -> None:
    if isinstance(original, dict):
        assert type(decoded) is dict
        assert decoded.keys() == original.keys()
        for key, value in original.items():
            _assert_round_trip(value, decoded[key])
    elif isinstance(original, list):
        assert type(decoded) is list
        assert len(decoded) == len(original)
        for before, after in zip(original, decoded, strict=True):
            _assert_round_trip(before, after)
    elif isinstance(original, Decimal):
        assert decoded == original
        integral_text = not any(c in str(original) for c in ".eE")
        assert type(decoded) is (int if integral_text else Decimal)
    else:
        assert decoded == original
        assert type(decoded) is type(original)


@given(values)
def test_round_trip(value: Any) -> None:
    _assert_round_trip(value, decode_value(encode_value(value)))


def _unwrap(value: Any) -> Any:
    """A Python value with boto3's Binary wrappers replaced by the bytes they hold."""
    if isinstance(value, Binary):
        return value.value
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, set):
        return {_unwrap(v) for v in value}
    return value


def _canonical(av: AttributeValue) -> AttributeValue:
    """A wire value with Binary unwrapped and set members sorted (sets have no wire order)."""
    ((tag, value),) = av.items()
    if tag in ("SS", "NS", "BS"):
        return {tag: sorted(_unwrap(m) for m in value)}
    if tag == "M":
        return {"M": {k: _canonical(v) for k, v in value.items()}}
    if tag == "L":
        return {"L": [_canonical(v) for v in value]}
    return {tag: _unwrap(value)}


def _boto3(function: Callable[[Any], Any], value: Any) -> Any:
    try:
        return function(value)
    except (TypeError, ArithmeticError):
        assume(False)
        raise  # unreachable: assume(False) raises


@given(values)
def test_encode_agrees_with_boto3_type_serializer(value: Any) -> None:
    expected = _boto3(TypeSerializer().serialize, value)
    assert _canonical(encode_value(value)) == _canonical(expected)


@given(values)
def test_decode_agrees_with_boto3_type_deserializer(value: Any) -> None:
    av = encode_value(value)
    assert decode_value(av) == _unwrap(_boto3(TypeDeserializer().deserialize, av))


@given(st.decimals() | st.integers(-(10**130), 10**130))
def test_numbers_follow_dynamodb_limits_and_boto3_strings(value: Decimal | int) -> None:
    number = Decimal(value)
    try:
        text = encode_value(value)["N"]
    except ValidationError:
        assert not _within_dynamodb_limits(number)
        return
    assert _within_dynamodb_limits(number)
    assert Decimal(text) == number
    try:
        boto3_text = TypeSerializer().serialize(value)["N"]
    except (TypeError, ArithmeticError):
        return  # boto3 refuses e.g. 10**40 (its context traps Rounded); DynamoDB takes it
    assert text == boto3_text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_round_trip_or_are_out_of_range(value: float) -> None:
    in_range = value == 0 or 1e-130 <= abs(value) < 1e126
    if not in_range:
        with pytest.raises(ValidationError, match="out of DynamoDB's range"):
            encode_value(value)
        return
    text = encode_value(value)["N"]
    assert float(Decimal(text)) == value
    assert math.copysign(1, float(Decimal(text))) == math.copysign(1, value)
    assert len(Decimal(text).as_tuple().digits) <= 17


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_rejected(value: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        encode_value(value)


offsets = st.integers(-(24 * 60) + 1, 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
aware_datetimes = st.datetimes(
    min_value=datetime(2, 1, 1),
    max_value=datetime(9998, 12, 31),
    timezones=offsets | st.timezones() | st.just(UTC),
)


def _instant(value: datetime) -> datetime:
    """Naive UTC wall time: Python compares same-tzinfo datetimes by local wall time."""
    offset = value.utcoffset()
    assert offset is not None
    return value.replace(tzinfo=None) - offset


@given(aware_datetimes)
def test_datetime_round_trip_fixed_width(value: datetime) -> None:
    text = format_datetime(value)
    assert len(text) == 27
    assert text.endswith("Z")
    parsed = parse_datetime(text)
    assert parsed.tzinfo is UTC
    assert _instant(parsed) == _instant(value)


@given(aware_datetimes)
def test_datetime_text_is_isoformat_in_utc(value: datetime) -> None:
    in_utc = value.astimezone(UTC)
    assert format_datetime(value) == in_utc.isoformat(timespec="microseconds")[:-6] + "Z"


@given(aware_datetimes, aware_datetimes)
def test_datetime_string_order_is_time_order(a: datetime, b: datetime) -> None:
    assert (format_datetime(a) < format_datetime(b)) == (_instant(a) < _instant(b))
    assert (format_datetime(a) == format_datetime(b)) == (_instant(a) == _instant(b))


@given(st.dictionaries(st.text(), st.none() | st.booleans() | st.text(), max_size=6), st.data())
def test_encode_item_top_level_rules(values: dict[str, Any], data: st.DataObject) -> None:
    flagged = frozenset(data.draw(st.sets(st.sampled_from(sorted(values)))) if values else set())
    encoded = encode_item(values, bool_string_fields=flagged)
    assert set(encoded) == {k for k, v in values.items() if v is not None}
    for name, av in encoded.items():
        value = values[name]
        if isinstance(value, bool) and name in flagged:
            assert av == {"S": "true" if value else "false"}
        else:
            assert av == encode_value(value)


@given(st.dictionaries(st.text(min_size=1), values, max_size=6))
def test_size_fast_path_bound_holds(item: dict[str, Any]) -> None:
    """check_item_size skips the walk when 4 x len(repr) fits: that must bound the size."""
    wire = encode_item(item)
    assert item_size(wire) <= 4 * len(repr(wire))


@given(st.dictionaries(st.text(min_size=1), values, max_size=6))
def test_json_and_marshal_lengths_bound_the_size(item: dict[str, Any]) -> None:
    """check_item_size trusts either bound when it fits: each must bound the size."""
    wire = encode_item(item)
    size = item_size(wire)
    assert size <= len(encode_request(wire))
    assert size <= _codec._size_bound(wire)


def test_json_length_under_the_limit_is_trusted_and_over_it_is_checked() -> None:
    wire = encode_item({"text": "\U0001f600" * 102_401})  # 409,604 bytes in UTF-8
    with pytest.raises(ValidationError, match="400 KB"):
        check_item_size(wire, json_length=len(encode_request(wire)))
    small = encode_item({"text": "x" * 1000})
    check_item_size(small, json_length=len(encode_request(small)))


def test_size_fast_path_does_not_hide_large_multibyte_items() -> None:
    wire = encode_item({"text": "\U0001f600" * 102_401})  # 4 bytes per character
    with pytest.raises(ValidationError, match="400 KB"):
        check_item_size(wire)


# ------------------------------------------------------------------ fast paths
# Per-item CPU work on the write path is cut by these shortcuts; each must equal the slow path.
@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_fast_path_equals_the_decimal_path(value: float) -> None:
    try:
        slow: str | None = _codec._decimal_string(Decimal(repr(value)))
    except _codec._PathError:
        slow = None
    try:
        fast: str | None = _codec._float_string(value)
    except _codec._PathError:
        fast = None
    assert fast == slow


_wire_values = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, st.text(max_size=30)),
        st.builds(lambda b: {"B": b}, st.binary(max_size=30)),
        st.builds(lambda n: {"N": str(n)}, st.integers() | st.decimals(allow_nan=False)),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda ss: {"SS": ss}, st.lists(st.text(max_size=5), min_size=1, max_size=3)),
    ),
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=4)),
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _wire_values, max_size=6))
def test_size_bound_is_an_upper_bound(item: dict[str, Any]) -> None:
    assert _codec._size_bound(item) >= item_size(item)


def test_size_bound_counts_shared_objects_every_time() -> None:
    shared = {"S": "\u00e9" * 3000}  # 6,000 bytes, the same object 100 times: 600 KB
    item: dict[str, Any] = {"pk": {"S": "k"}, "many": {"L": [shared] * 100}}
    assert _codec._size_bound(item) >= item_size(item) > _codec.MAX_ITEM_BYTES
    with pytest.raises(ValidationError, match="over DynamoDB's 400 KB limit"):
        check_item_size(item, key={"pk": "k"})


def test_size_bound_falls_back_for_types_marshal_refuses() -> None:
    class Name(str):
        pass

    item: dict[str, Any] = {Name("pk"): {"S": "k" * 10}}
    assert _codec._size_bound(item) == 4 * len(repr(item))


# ------------------------------------------------------------------ DynamoDB's shape limits
# tests/integration/test_dynamodb_limits.py shows DynamoDB Local refusing exactly these.
def _nested(depth: int, kind: str) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        wrap = kind if kind != "mixed" else ("map" if level % 2 else "list")
        value = {"k": value} if wrap == "map" else [value]
    return value


class _Node(pydantic.BaseModel):
    child: Any = None


@pytest.mark.parametrize("kind", ["map", "list", "mixed"])
def test_nesting_up_to_dynamodb_s_limit_is_stored_and_one_more_is_refused(kind: str) -> None:
    deepest = _nested(_codec.MAX_DEPTH, kind)
    assert decode_value(encode_item({"a": deepest})["a"]) == deepest
    assert decode_value(encode_value(deepest)) == deepest
    for encode in (lambda v: encode_item({"a": v}), encode_value):
        with pytest.raises(ValidationError, match="nested deeper than DynamoDB's 32 levels"):
            encode(_nested(_codec.MAX_DEPTH + 1, kind))


def test_nesting_counts_models_and_enums_holding_containers() -> None:
    node = _Node()
    for _ in range(_codec.MAX_DEPTH - 1):
        node = _Node(child=node)
    encode_item({"a": node})
    with pytest.raises(ValidationError, match="nested deeper"):
        encode_item({"a": _Node(child=node)})


def _cycles() -> list[Any]:
    looped_dict: dict[str, Any] = {}
    looped_dict["self"] = looped_dict
    looped_list: list[Any] = []
    looped_list.append(looped_list)
    indirect: dict[str, Any] = {"items": []}
    indirect["items"].append({"parent": indirect})
    node = _Node()
    node.child = {"back": node}
    return [looped_dict, looped_list, indirect, node, (looped_list,)]


@pytest.mark.parametrize("value", _cycles(), ids=["dict", "list", "indirect", "model", "tuple"])
def test_a_container_holding_itself_is_refused_not_a_recursion_error(value: Any) -> None:
    with pytest.raises(ValidationError, match="contain themselves"):
        encode_item({"a": value})
    with pytest.raises(ValidationError, match="contain themselves"):
        encode_value(value)


@pytest.mark.parametrize("value", [{"": 1}, {"ok": {"": "x"}}, [{"": None}]])
def test_empty_map_keys_are_refused(value: Any) -> None:
    with pytest.raises(ValidationError, match=r"^a(\.ok|\[0\])?: map keys must be non-empty"):
        encode_item({"a": value})


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_datetimes_outside_the_utc_range_are_refused_not_an_overflow(moment: datetime) -> None:
    with pytest.raises(ValidationError, match="out of range once converted to UTC"):
        encode_item({"at": moment})
    with pytest.raises(ValidationError, match="out of range"):
        encode_value({"nested": [moment]})
