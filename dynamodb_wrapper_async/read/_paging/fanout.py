"""Fan-out: one query per partition of an index, results concatenated in the parts' order.

Used where a time-ordered index is split into partitions so no single one gets hot (table
configs by ``updated_month``): a page queries every part concurrently and merges them in
order (newest month first), and its token resumes inside the part it stopped in.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..._capacity import Page
from ..._tokens import decode_token, encode_token
from ..._types import AttributeValue, Item
from ...config import DynamoDBConfig
from ...exceptions import ValidationError
from .pages import Collected, collect, iterate_pages
from .parallel import run_all
from .request import Convert, PageRequest, check_limit

T = TypeVar("T")

#: The parts still to read: each request with the key to start after (None: its start).
Parts = Sequence[tuple[PageRequest, Item | None]]


@dataclass(frozen=True)
class FanOut:
    """Queries of several partitions of one index whose results follow each other in order.

    Attributes:
        scope: What a page token of the whole fan-out is bound to.
        partition_key: The index's partition attribute: a token's key names its part by it.
        parts: ``(partition value as stored, request)`` in the order results come in.
    """

    scope: str
    partition_key: str
    parts: tuple[tuple[AttributeValue, PageRequest], ...]

    def resume(self, token: str | None) -> Parts:
        """Return the parts a read from ``token`` covers: from the part the token stopped
        in (starting after its key) to the last one.

        Raises:
            ValidationError: The token is malformed, tampered with or from another query.
        """
        if token is None or not self.parts:
            return [(request, None) for _, request in self.parts]
        key_names = self.parts[0][1].key_names
        start = decode_token(token, scope=self.scope, key_names=key_names)
        for position, (value, request) in enumerate(self.parts):
            if start[self.partition_key] == value:
                rest = [(later, None) for _, later in self.parts[position + 1 :]]
                return [(request, start), *rest]
        msg = "invalid page token: its partition is not part of this query"
        raise ValidationError(msg, operation="decode_token")


async def collect_fanout(
    config: DynamoDBConfig,
    fanout: FanOut,
    convert: Convert[T],
    *,
    limit: int,
    last_key: str | None,
) -> Page[T]:
    """Return the first ``limit`` results of the parts, in order, and the token after them.

    Every part is read concurrently, up to ``limit`` results each (any of them may be the
    one that fills the page); a failed part cancels the others.
    """
    check_limit(limit)
    parts = fanout.resume(last_key)
    charge = parts[0][0].capacity if parts else None  # the parts share one charge
    meter = charge.meter if charge is not None else None
    reads = [
        functools.partial(
            collect, config, request, convert, limit=limit, start=start, keep_keys=True
        )
        for request, start in parts
    ]
    collected: list[Collected[T]] = await run_all(reads)
    merged: list[T] = []
    for position, part in enumerate(collected):
        taken = min(limit - len(merged), len(part.items))
        merged.extend(part.items[:taken])
        if len(merged) < limit:
            continue
        whole = taken == len(part.items)  # every result of this part is on the page
        if whole and part.resume is None and position == len(collected) - 1:
            return Page(merged, None, meter)  # the last part ended exactly here
        # Resume inside this part: after the part's own resume key if all of it was taken
        # (the next call finds nothing more there and goes on), else after the last result.
        key = part.keys[taken - 1]
        if whole and part.resume is not None:
            key = part.resume
        return Page(merged, encode_token(key, scope=fanout.scope), meter)
    return Page(merged, None, meter)


async def iterate_fanout(
    config: DynamoDBConfig, parts: Parts, convert: Convert[T]
) -> AsyncIterator[list[T]]:
    """Yield every page of the parts (from :meth:`FanOut.resume`), one part after another."""
    for request, start in parts:
        async for page in iterate_pages(config, request, convert, start=start):
            yield page
