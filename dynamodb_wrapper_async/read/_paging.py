"""One paged Query or Scan: limit counts items returned, next_key resumes after the last one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from .._codec import decode_item
from .._engine import gateway as _gateway
from .._tokens import decode_token, encode_token
from .._types import Item, Response
from ..config import DynamoDBConfig
from ..exceptions import ValidationError

Operation = Literal["Query", "Scan"]
T = TypeVar("T")

#: DynamoDB returns at most 1 MB per page; without a filter we ask for exactly what we need.
_MAX_PAGE = 1000


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
    """

    operation: Operation
    table: str
    params: Mapping[str, Any]
    scope: str
    key_names: Collection[str]
    strip: frozenset[str] = frozenset()
    filtered: bool = False
    segment: tuple[int, int] | None = field(default=None)

    def for_segment(self, segment: int, total: int) -> PageRequest:
        """Return this scan restricted to one parallel-scan segment."""
        params = {**self.params, "Segment": segment, "TotalSegments": total}
        return replace(self, params=params, segment=(segment, total))


def check_limit(limit: object) -> None:
    """Reject a limit that is not a positive integer, before any request."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        msg = f"limit must be a positive integer, got {limit!r}"
        raise ValidationError(msg)


def start_key(request: PageRequest, token: str | None) -> Item | None:
    """Decode a ``last_key`` token for ``request`` (None starts at the beginning)."""
    if token is None:
        return None
    return decode_token(token, scope=request.scope, key_names=request.key_names)


async def fetch(
    config: DynamoDBConfig, request: PageRequest, *, limit: int | None, start: Item | None
) -> tuple[list[Item], Item | None]:
    """Send one request; return its raw items and LastEvaluatedKey."""
    params = _page_params(request, limit=limit, start=start)
    response = await _gateway.call(config, request.operation, params, table=request.table)
    return response.get("Items", []), response.get("LastEvaluatedKey")


def _page_params(request: PageRequest, *, limit: int | None, start: Item | None) -> dict[str, Any]:
    params = dict(request.params)
    if limit is not None and not request.filtered:
        params["Limit"] = min(limit, _MAX_PAGE)
    if start is not None:
        params["ExclusiveStartKey"] = start
    return params


async def collect_raw(
    config: DynamoDBConfig, request: PageRequest, *, limit: int, start: Item | None
) -> tuple[list[Item], Item | None]:
    """Return up to ``limit`` raw items and the key that resumes right after the last one.

    Keeps requesting while a filter leaves the page short and the index has more; when it
    stops in the middle of a DynamoDB page, the resume key is rebuilt from the last item.
    """
    collected: list[Item] = []
    while True:
        items, evaluated = await fetch(config, request, limit=limit - len(collected), start=start)
        need = limit - len(collected)
        if len(items) > need:
            collected.extend(items[:need])
            return collected, resume_key(request, collected[-1])
        collected.extend(items)
        if evaluated is None or len(collected) == limit:
            return collected, evaluated
        start = evaluated


def resume_key(request: PageRequest, item: Item) -> Item:
    """Return the key that resumes a request right after ``item``."""
    return {name: item[name] for name in request.key_names}


async def collect_page(
    config: DynamoDBConfig, request: PageRequest, *, limit: int, last_key: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Return up to ``limit`` decoded items and the token that resumes right after them."""
    check_limit(limit)
    start = start_key(request, last_key)
    items, resume = await collect_raw(config, request, limit=limit, start=start)
    token = None if resume is None else encode_token(resume, scope=request.scope)
    return [decode(request, item) for item in items], token


async def iterate_pages(
    config: DynamoDBConfig,
    request: PageRequest,
    convert: Callable[[list[dict[str, Any]]], list[T]],
    *,
    last_key: str | None = None,
) -> AsyncIterator[list[T]]:
    """Yield every page of items, decoded and passed through ``convert``, from ``last_key``
    (or the start) to the end.

    Each page is decoded and converted as its response is parsed (``call_converted``), so a
    1 MB page's raw dicts never reach the garbage collector.
    """
    start = start_key(request, last_key)

    def page(response: Response) -> tuple[list[T], Item | None]:
        items = response.get("Items", [])
        return convert([decode(request, item) for item in items]), response.get("LastEvaluatedKey")

    while True:
        params = _page_params(request, limit=None, start=start)
        items, evaluated = await _gateway.call_converted(
            config, request.operation, params, page, table=request.table
        )
        if items:
            yield items
        if evaluated is None:
            return
        start = evaluated


def decode(request: PageRequest, item: Item) -> dict[str, Any]:
    """Decode a raw item, dropping attributes fetched only for paging."""
    values = decode_item(item)
    for name in request.strip:
        values.pop(name, None)
    return values
