"""The data source's Arrow pages: built from wire items, identical to building them from views."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field, field_validator

from dynamodb_wrapper_async import (
    DynamoModel,
    PipelineRunLog,
    UtcDateTime,
    ValidationError,
    ViewModel,
    decode_item,
)

pytest.importorskip("pyarrow")
pytest.importorskip("pyspark")
from pyspark.sql.pandas.types import to_arrow_schema

from dynamodb_wrapper_sync.spark._arrow import ArrowPages
from dynamodb_wrapper_sync.spark._columns import Columns
from dynamodb_wrapper_sync.spark._options import api_classes


class Shade(str, enum.Enum):
    LIGHT = "light"
    DARK = "dark"


class Every(DynamoModel):
    """A field of every kind the fast path covers."""

    pk: str
    flag: bool | None = None
    count: int | None = None
    ratio: float | None = None
    price: decimal.Decimal | None = Field(default=None, max_digits=10, decimal_places=3)
    at: UtcDateTime | None = None
    plain_at: dt.datetime | None = None
    shade: Shade | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    class Meta:
        table_name = "every"
        partition_key = "pk"


class CheckedView(ViewModel):
    """A view that checks more than types (a domain view could)."""

    pk: str | None = None

    @field_validator("pk")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        return value


class Listed(DynamoModel):
    pk: str
    tags: list[str] = Field(default_factory=list)

    class Meta:
        table_name = "listed"
        partition_key = "pk"


def pages_of(model: type[DynamoModel]) -> ArrowPages:
    columns = Columns.of(model)
    view = api_classes(model)[0].view
    return ArrowPages(columns, view, to_arrow_schema(columns.schema(), timezone="UTC"))


def from_views(pages: ArrowPages, items: list[dict[str, Any]]) -> Any:
    """The batch every other read would build: decoded, validated into views, converted."""
    return pages.from_views(pages.view.validate_many(map(decode_item, items)))


def outcome(build: Any) -> Any:
    try:
        return ("batch", build())
    except ValidationError as error:
        return ("error", str(error))


# ---------------------------------------------------------------- wire values, odd ones too
numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 5)
    .flatmap(lambda p: st.decimals(-(10**20), 10**20, allow_nan=False, places=p))
    .map(str),
    st.sampled_from(["3.0", "1e2", "1E+2", "-0", "007", "0.1", "12345678.1234"]),
)
offsets = st.sampled_from(["Z", "+00:00", "+05:30", "-01:00", "+23:59", ""])
fractions = st.sampled_from(["", ".5", ".123456", ".1234567"])
moments = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))
stamps = st.one_of(
    st.builds(
        lambda m, f, o: m.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + f + o,
        moments,
        fractions,
        offsets,
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2024-02-30T00:00:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01",
            "1700000000",
        ]
    ),
)
free = st.recursive(
    st.one_of(
        st.text(max_size=5).map(lambda s: {"S": s}),
        numbers.map(lambda n: {"N": n}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
    ),
    lambda inner: st.dictionaries(st.text(max_size=3), inner, max_size=3).map(lambda m: {"M": m}),
    max_leaves=6,
)
NULL = st.just({"NULL": True})
COLUMNS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "flag": st.one_of(st.booleans().map(lambda b: {"BOOL": b}), st.just({"S": "true"}), NULL),
    "count": st.one_of(numbers.map(lambda n: {"N": n}), st.just({"S": "12"})),
    "ratio": numbers.map(lambda n: {"N": n}),
    "price": numbers.map(lambda n: {"N": n}),
    "at": stamps.map(lambda s: {"S": s}),
    "plain_at": stamps.map(lambda s: {"S": s}),
    "shade": st.sampled_from(["light", "dark", "LIGHT", "grey"]).map(lambda s: {"S": s}),
    "extra": st.one_of(free, st.just({"M": {}}), st.just({"S": "{}"}), NULL),
}


@st.composite
def wire_item(draw: st.DrawFn) -> dict[str, Any]:
    item = {"pk": {"S": draw(st.text(max_size=8))}}
    for name, values in COLUMNS.items():
        if draw(st.booleans()):
            item[name] = draw(values)
    return item


EVERY = pages_of(Every)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(wire_item(), min_size=1, max_size=6))
def test_a_page_is_what_views_would_give_whatever_the_items_hold(
    items: list[dict[str, Any]],
) -> None:
    fast = outcome(lambda: EVERY(items)[0])
    slow = outcome(lambda: from_views(EVERY, items))
    assert fast[0] == slow[0], (fast, slow)
    if fast[0] == "batch":
        assert fast[1].equals(slow[1]), (fast[1].to_pylist(), slow[1].to_pylist())
    else:
        assert fast[1] == slow[1]


def stored(n: int) -> dict[str, Any]:
    """An item as the library writes it."""
    return {
        "pk": {"S": f"item-{n}"},
        "flag": {"BOOL": n % 2 == 0},
        "count": {"N": str(n * 7 - 20)},
        "ratio": {"N": str(n / 8)},
        "price": {"N": str(decimal.Decimal(n) / 1000)},
        "at": {"S": f"2024-03-{1 + n % 28:02d}T12:{n % 60:02d}:00.{n:06d}Z"},
        "plain_at": {"S": "2024-03-01T00:00:00.000000Z"},
        "shade": {"S": "dark" if n % 3 else "light"},
        "extra": {"M": {"rows": {"N": str(n)}, "tag": {"S": "x"}}} if n % 4 else {"M": {}},
    }


def test_stored_items_take_the_fast_path_and_match_the_views() -> None:
    pages = pages_of(Every)
    items = [stored(n) for n in range(500)] + [{"pk": {"S": "bare"}}]
    batch = pages(items)[0]
    assert pages.fallbacks == 0
    assert batch.equals(from_views(pages, items))
    row = batch.slice(7, 1).to_pylist()[0]
    assert row["price"] == decimal.Decimal("0.007")
    assert row["at"] == dt.datetime(2024, 3, 8, 12, 7, 0, 7, tzinfo=dt.timezone.utc)
    assert row["extra"] == '{"rows":7,"tag":"x"}'
    assert batch.slice(500, 1).to_pylist()[0]["extra"] is None  # absent: the view says None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("count", {"N": "3.0"}),  # pydantic takes a whole Decimal for an int: 3
        ("count", {"S": "12"}),  # and a numeric string
        ("shade", {"S": "grey"}),  # not a member: pydantic's error
        ("at", {"S": "2024-01-01T00:00:00"}),  # no offset: refused
        ("flag", {"NULL": True}),
        ("count", {"N": str(2**64)}),  # beyond LongType: our error naming the column
        ("price", {"N": "0.0001"}),  # finer than the column's scale
    ],
)
def test_an_odd_value_sends_its_page_through_the_views(column: str, value: Any) -> None:
    pages = pages_of(Every)
    items = [stored(1), {**stored(2), column: value}]
    fast = outcome(lambda: pages(items)[0])
    assert pages.fallbacks == 1
    slow = outcome(lambda: from_views(pages, items))
    assert fast[0] == slow[0]
    assert fast[1].equals(slow[1]) if fast[0] == "batch" else fast[1] == slow[1]


class Level(enum.IntEnum):
    LOW = 1


class OddView(ViewModel):
    """Fields the fast path leaves to pydantic: a constraint, a default, an int enum."""

    pk: str | None = Field(default=None, min_length=2)
    count: int | None = 5
    level: Level | None = None


class Odd(DynamoModel):
    pk: str
    count: int = 0
    level: Level = Level.LOW

    class Meta:
        table_name = "odd"
        partition_key = "pk"


@pytest.mark.parametrize("name", ["pk", "count", "level"])
def test_a_constraint_a_default_or_an_int_enum_leaves_the_column_to_pydantic(name: str) -> None:
    columns = Columns.of(Odd, [name])
    pages = ArrowPages(columns, OddView, to_arrow_schema(columns.schema(), timezone="UTC"))
    assert pages.fast is None


def test_a_value_its_column_cannot_hold_is_our_error_naming_the_column() -> None:
    pages = pages_of(Every)
    view: Any = pages.view
    views = [view.model_construct(pk="a", count=2**64)]  # past validation, as a bug could
    with pytest.raises(ValidationError, match="column 'count' of Every"):
        pages.from_views(views)


def test_models_with_validators_or_other_types_always_use_the_views() -> None:
    assert pages_of(Every).fast is not None
    assert pages_of(PipelineRunLog).fast is not None
    columns = Columns.of(Every, ["pk"])
    checked = ArrowPages(columns, CheckedView, to_arrow_schema(columns.schema(), timezone="UTC"))
    assert checked.fast is None  # a validator: pydantic must run it
    assert pages_of(Listed).fast is None  # lists have no fast path (yet)
    listed = pages_of(Listed)
    items = [{"pk": {"S": "a"}, "tags": {"L": [{"S": "x"}]}}]
    assert listed(items)[0].to_pylist() == [{"pk": "a", "tags": ["x"]}]
