"""Stored as given, or refused: strict scalars in stored models, DTOs and updates (13.5).

Each row of the README's "What each field kind accepts" table is held here, for a model the
user declares (the domain models share the same base), and reads stay lax enough to read
back exactly what the library stored.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

import pytest

from dynamodb_wrapper_async import DynamoModel, ValidationError, WriteModel
from dynamodb_wrapper_async._codec import decode_item, encode_item

UTC = dt.timezone.utc
PLUS_1 = dt.timezone(dt.timedelta(hours=1))
NINE_FIVE_UTC = dt.datetime(2024, 1, 31, 9, 5, tzinfo=UTC)


class Colour(str, enum.Enum):
    RED = "red"


class Reading(DynamoModel):
    key: str
    count: int = 0
    ratio: float | None = None
    amount: decimal.Decimal | None = None
    on: bool = False
    label: str | None = None
    blob: bytes | None = None
    at: dt.datetime | None = None
    day: dt.date | None = None
    colour: Colour | None = None
    names: list[str] | None = None
    ids: set[int] | None = None
    extra: dict[str, Any] | None = None

    class Meta:
        table_name = "readings"
        partition_key = "key"


class ReadingUpsert(WriteModel):
    key: str
    count: int = 0


ACCEPTED: list[tuple[str, Any, Any]] = [
    ("count", 12, 12),
    ("ratio", 1.5, 1.5),
    ("ratio", 2, 2.0),
    ("amount", decimal.Decimal("1.10"), decimal.Decimal("1.10")),
    ("amount", 0.1, decimal.Decimal("0.1")),
    ("amount", 7, decimal.Decimal(7)),
    ("on", True, True),
    ("label", "x", "x"),
    ("blob", b"\x00", b"\x00"),
    ("at", dt.datetime(2024, 1, 31, 10, 5, tzinfo=PLUS_1), NINE_FIVE_UTC),
    ("at", "2024-01-31T10:05:00+01:00", NINE_FIVE_UTC),
    ("at", "2024-01-31T09:05:00.000000Z", NINE_FIVE_UTC),
    ("day", dt.date(2024, 1, 31), dt.date(2024, 1, 31)),
    ("colour", "red", Colour.RED),
    ("names", ("a", "b"), ["a", "b"]),
    ("ids", frozenset({1}), {1}),
    ("extra", {"n": [1, ("t",)]}, {"n": [1, ("t",)]}),
]  # fmt: skip
REFUSED: list[tuple[str, Any]] = [
    ("count", "12"),
    ("count", True),
    ("count", 12.0),
    ("ratio", "1.5"),
    ("ratio", True),
    ("ratio", decimal.Decimal("0.1000000000000000000001")),
    ("ratio", 2**53 + 1),
    ("amount", "1.5"),
    ("amount", True),
    ("amount", float("inf")),
    ("on", "yes"),
    ("on", 1),
    ("label", b"bytes"),
    ("label", 5),
    ("blob", "text"),
    ("at", dt.datetime(2024, 1, 31)),
    ("at", "2024-01-31T09:05:00"),
    ("at", 1_706_691_900),
    ("at", dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14)))),
    ("day", "2024-01-31"),
    ("day", dt.datetime(2024, 1, 31, tzinfo=UTC)),
    ("colour", "blue"),
    ("colour", b"red"),
    ("colour", True),
    ("names", "ab"),
    ("names", [1]),
    ("ids", {"1"}),
]


@pytest.mark.parametrize(("field", "given", "stored"), ACCEPTED)
def test_accepted_values_are_stored_as_given(field: str, given: Any, stored: Any) -> None:
    item = Reading(key="k", **{field: given})
    assert getattr(item, field) == stored
    assert type(getattr(item, field)) is type(stored)
    encode_item(item.__dict__)  # and the codec stores it


@pytest.mark.parametrize(("field", "given"), REFUSED)
def test_lax_conversions_are_refused(field: str, given: Any) -> None:
    with pytest.raises(ValidationError, match=f"invalid Reading: {field}"):
        Reading(key="k", **{field: given})
    item = Reading(key="k")
    with pytest.raises(ValidationError, match=field):
        setattr(item, field, given)  # assignment validates the same way


def test_dtos_are_strict_too() -> None:
    bad: Any
    for bad in ("12", True, 12.0):
        with pytest.raises(ValidationError, match="count"):
            ReadingUpsert(key="k", count=bad)


def test_reads_stay_lax_for_what_the_library_stored() -> None:
    item = Reading(
        key="k", count=3, ratio=0.25, amount=decimal.Decimal("2.50"), on=True,
        at=dt.datetime(2024, 1, 31, 9, 5, tzinfo=UTC), day=dt.date(2024, 1, 31),
        colour=Colour.RED, names=["a"], ids={1, 2}, extra={"n": 1},
    )  # fmt: skip
    stored = decode_item(encode_item(item.__dict__, bool_string_fields=frozenset({"on"})))
    assert stored["ratio"] == decimal.Decimal("0.25")  # numbers come back as Decimal
    assert stored["on"] == "true"  # a GSI-key bool comes back as a string
    with pytest.raises(ValidationError):
        Reading.model_validate(stored)  # strict: not what a caller may give
    assert Reading.from_stored(stored) == item


def test_strictness_survives_a_deferred_build() -> None:
    class Later(DynamoModel):
        key: str
        child: Child | None = None

        class Meta:
            table_name = "later"
            partition_key = "key"

    class Child(WriteModel):
        n: int

    Later.model_rebuild()
    with pytest.raises(ValidationError, match=r"child\.n"):
        Later.model_validate({"key": "k", "child": {"n": "1"}})
    assert Later.model_validate({"key": "k", "child": {"n": 1}}).child == Child(n=1)
