"""One paged Query or Scan: limit counts items returned, next_key resumes after the last one.

Paged reads and streams turn a page into results the same way: each response is decoded and
converted (validated into views) as it is parsed, with the cyclic garbage collector paused
(``gateway.call_converted``), so a 1 MB page's raw dicts never reach the collector.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from ..._capacity import Page
from ..._engine import gateway as _gateway
from ..._tokens import encode_token
from ..._types import Item, Response
from ...config import DynamoDBConfig
from .request import Convert, PageRequest, check_limit

T = TypeVar("T")

#: One converted page: results, their resume keys (if kept), the cut key, LastEvaluatedKey.
_Page: TypeAlias = "tuple[list[T], list[Item], Item | None, Item | None]"


@dataclass
class Collected(Generic[T]):
    """What :func:`collect` read.

    Attributes:
        items: The results, at most the limit asked for.
        resume: The key that resumes right after the last result (None: the request ended).
        keys: With ``keep_keys``, the key that resumes right after each result.
    """

    items: list[T] = field(default_factory=list)
    resume: Item | None = None
    keys: list[Item] = field(default_factory=list)


async def collect(
    config: DynamoDBConfig,
    request: PageRequest,
    convert: Convert[T],
    *,
    limit: int,
    start: Item | None,
    keep_keys: bool = False,
) -> Collected[T]:
    """Return up to ``limit`` results and the key that resumes right after the last one.

    Keeps requesting while a filter leaves the page short and the index has more. When it
    stops in the middle of a DynamoDB page, the resume key is rebuilt from the last item
    returned, not taken from LastEvaluatedKey (which would skip the rest of that page), as
    PynamoDB's ``last_evaluated_key`` does. Items past the limit are never converted.
    """
    collected: Collected[T] = Collected()
    while True:
        need = limit - len(collected.items)

        def page(response: Response, need: int = need) -> _Page[T]:
            items = response.get("Items", [])
            taken = items[:need] if len(items) > need else items
            keys = [request.resume_key(item) for item in taken] if keep_keys else []
            cut = request.resume_key(taken[-1]) if len(items) > need else None
            results = convert([request.decode(item) for item in taken])
            return results, keys, cut, evaluated_key(response)

        params = request.params_for(limit=need, start=start)
        results, keys, cut, evaluated = await _gateway.call_converted(
            config, request.operation, params, page, table=request.table,
            capacity=request.capacity,
        )  # fmt: skip
        collected.items.extend(results)
        collected.keys.extend(keys)
        if cut is not None:  # stopped inside this page: resume right after its last item
            collected.resume = cut
            return collected
        if evaluated is None or len(collected.items) == limit:
            collected.resume = evaluated
            return collected
        start = evaluated


async def collect_page(
    config: DynamoDBConfig,
    request: PageRequest,
    convert: Convert[T],
    *,
    limit: int,
    last_key: str | None,
) -> Page[T]:
    """Return up to ``limit`` results and the token that resumes right after them (with the
    read units consumed, when the request is metered)."""
    check_limit(limit)
    start = request.start_key(last_key)
    collected = await collect(config, request, convert, limit=limit, start=start)
    resume = collected.resume
    token = None if resume is None else encode_token(resume, scope=request.scope)
    return Page(collected.items, token, request.capacity.meter if request.capacity else None)


async def iterate_pages(
    config: DynamoDBConfig, request: PageRequest, convert: Convert[T], *, start: Item | None
) -> AsyncIterator[list[T]]:
    """Yield every non-empty page of results from right after ``start`` (or the beginning)."""

    def page(response: Response) -> tuple[list[T], Item | None]:
        items = response.get("Items", [])
        return convert(request.decode_page(items)), evaluated_key(response)

    if request.capacity is not None:
        await request.capacity.prepare()  # page_params needs the bucket's size
    while True:
        params = request.params_for(limit=None, start=start)
        if request.capacity is not None:
            params = request.capacity.page_params(params)
        results, start = await _gateway.call_converted(
            config, request.operation, params, page, table=request.table,
            capacity=request.capacity,
        )  # fmt: skip
        if results:
            yield results
        if start is None:
            return


def evaluated_key(response: Response) -> Item | None:
    """Return a page's LastEvaluatedKey: None when the request has no more pages."""
    key: Item | None = response.get("LastEvaluatedKey")
    return key
