"""Update markers (pure): ``Increment`` and ``Append``, values of ``WriteApi.update``'s dict.

A marker changes a stored value in place instead of replacing it, so concurrent writers do
not lose each other's changes: ``{"records_processed": Increment(500)}`` is compiled to
``SET #f = if_not_exists(#f, 0) + 500`` and ``{"warnings": Append(["late"])}`` to
``SET #f = list_append(if_not_exists(#f, []), ["late"])``. A marker is checked against the
model when the update is built (``write/_updates.py``), so a bad one names its field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Append", "Increment", "Marker"]


@dataclass(frozen=True)
class Increment:
    """Add ``amount`` (an int, float or Decimal; negative subtracts) to a numeric field.

    A missing attribute counts as 0. Floats become the Decimal the codec would store
    (``Decimal(repr(f))``); ints stay ints. A bool or a non-number is refused by the update
    that receives it, naming the field.
    """

    amount: Any

    def __post_init__(self) -> None:
        if isinstance(self.amount, float):
            object.__setattr__(self, "amount", Decimal(repr(self.amount)))


@dataclass(frozen=True)
class Append:
    """Append ``values`` (a list) to the end of a list field; a missing list counts as empty.

    Each value is validated as the list's item type by the update that receives it.
    """

    values: Any

    def __post_init__(self) -> None:
        values = self.values
        if isinstance(values, Iterable) and not isinstance(values, str | bytes | dict):
            object.__setattr__(self, "values", list(values))


#: An update value that changes the stored value in place.
Marker = Increment | Append
