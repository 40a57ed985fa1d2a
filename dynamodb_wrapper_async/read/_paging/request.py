"""A paged Query or Scan request and the rules its pages follow (pure)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..._codec import decode_item
from ..._tokens import decode_token
from ..._types import Item
from ...exceptions import ValidationError

if TYPE_CHECKING:
    from ..._engine.capacity import Charge

Operation = Literal["Query", "Scan"]
T = TypeVar("T")

#: Turns a page of decoded items into results, one per item and in order (a view's
#: ``validate_many``); it runs as the response is parsed.
Convert = Callable[[list[dict[str, Any]]], list[T]]

#: Turns a page of raw wire items (AttributeValue maps) into results: a stream's own codec.
RawConvert = Callable[[list[Item]], list[T]]

#: DynamoDB returns at most 1 MB per page; without a filter we ask for exactly what we need.
MAX_PAGE = 1000


@dataclass(frozen=True)
class PageRequest:
    """A Query or Scan request and what paging needs to know about it.

    Attributes:
        operation: ``"Query"`` or ``"Scan"``.
        table: Physical table name.
        params: The request, without ``Limit`` and ``ExclusiveStartKey``.
        scope: What a page token of this request is bound to.
        key_names: Attributes of a LastEvaluatedKey (table key plus index key).
        strip: Attributes fetched only to build page tokens; removed before validation.
        filtered: Whether a FilterExpression may drop items of a page.
        raw: Whether streamed pages reach the converter as wire items, undecoded (the
            attributes in ``strip`` too).
        capacity: The call's charge on the table's read budget and its meter (None: none).
    """

    operation: Operation
    table: str
    params: Mapping[str, Any]
    scope: str
    key_names: Collection[str]
    strip: frozenset[str] = frozenset()
    filtered: bool = False
    raw: bool = False
    capacity: Charge | None = field(default=None, compare=False, repr=False)

    def for_segment(self, segment: int, total: int) -> PageRequest:
        """Return this scan restricted to one parallel-scan segment (its own token scope)."""
        params = {**self.params, "Segment": segment, "TotalSegments": total}
        return replace(self, params=params, scope=f"{self.scope}/{segment}of{total}")

    def start_key(self, token: str | None) -> Item | None:
        """Decode a ``last_key`` token of this request (None starts at the beginning).

        Raises:
            ValidationError: The token is malformed, tampered with or from another query.
        """
        if token is None:
            return None
        return decode_token(token, scope=self.scope, key_names=self.key_names)

    def params_for(self, *, limit: int | None, start: Item | None) -> dict[str, Any]:
        """Return the request of one page: at most ``limit`` items, after ``start``.

        ``Limit`` caps the items DynamoDB *evaluates*, before the filter; a filtered
        request reads whole pages instead, or it could stop short of matches.
        """
        params = dict(self.params)
        if limit is not None and not self.filtered:
            params["Limit"] = min(limit, MAX_PAGE)
        if start is not None:
            params["ExclusiveStartKey"] = start
        return params

    def resume_key(self, item: Item) -> Item:
        """Return the key that resumes this request right after ``item`` (a raw item)."""
        return {name: item[name] for name in self.key_names}

    def decode_page(self, items: list[Item]) -> list[Any]:
        """Return a streamed page's items as its converter takes them (see ``raw``)."""
        return items if self.raw else [self.decode(item) for item in items]

    def decode(self, item: Item) -> dict[str, Any]:
        """Decode a raw item, dropping attributes fetched only for paging."""
        values = decode_item(item)
        for name in self.strip:
            values.pop(name, None)
        return values


def check_limit(limit: object) -> None:
    """Reject a limit that is not a positive integer, before any request."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        msg = f"limit must be a positive integer, got {limit!r}"
        raise ValidationError(msg)
