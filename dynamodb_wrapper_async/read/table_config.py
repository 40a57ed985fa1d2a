"""TableConfigReadApi: reads of table configurations, incl. the month-bucket fan-out."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence

from .._codec import format_datetime
from .._stream import ItemStream
from .._tokens import decode_token, encode_token, query_scope
from .._types import Item
from ..exceptions import ValidationError
from ..models import TableConfig, TableConfigView
from ..models.table_config import month_bucket
from ..utils import to_utc, utc_now
from ._base import Filters, Page, ReadApi
from ._paging import PageRequest, check_limit, collect_raw, decode, iterate_pages, resume_key

__all__ = ["TableConfigReadApi"]


class TableConfigReadApi(ReadApi[TableConfig, TableConfigView]):
    """Reads of the ``table_config`` table; results are :class:`TableConfigView`."""

    model = TableConfig
    view = TableConfigView

    async def query_by_pipeline(
        self,
        pipeline_id: str,
        *,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        limit: int = 100,
        last_key: str | None = None,
    ) -> Page[TableConfigView]:
        """Return the table configs of one pipeline, by table name, and the next page token.

        With ``filters``, ``limit`` still counts items returned: pages are read until
        ``limit`` items match or the pipeline's tables end.
        """
        return await self._page(self._pipeline(pipeline_id, filters, projection), limit, last_key)

    def query_by_pipeline_iter(
        self,
        pipeline_id: str,
        *,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        last_key: str | None = None,
    ) -> ItemStream[TableConfigView]:
        """Stream every table config of one pipeline, by table name."""
        return self._stream(self._pipeline(pipeline_id, filters, projection), last_key)

    async def query_recent_configs(
        self,
        since: dt.datetime,
        *,
        until: dt.datetime | None = None,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        limit: int = 100,
        last_key: str | None = None,
    ) -> Page[TableConfigView]:
        """Return configs updated in ``[since, until]`` (until: now), newest first.

        Configs are spread over one index partition per month; this queries every month
        bucket of the window concurrently and merges them newest first.
        """
        check_limit(limit)
        scope, requests = self._recent(since, until, filters, projection)
        start = None
        if last_key is not None:
            key_names = next(iter(requests.values())).key_names
            start = decode_token(last_key, scope=scope, key_names=key_names)
            resume_month = str(start["updated_month"].get("S"))
            requests = {m: r for m, r in requests.items() if m <= resume_month}
        months = list(requests)
        pages = await asyncio.gather(
            *(
                collect_raw(self.config, request, limit=limit, start=start if i == 0 else None)
                for i, request in enumerate(requests.values())
            )
        )
        merged: list[tuple[PageRequest, Item]] = []
        token = None
        for month, (items, resume) in zip(months, pages, strict=True):
            request = requests[month]
            take = items[: limit - len(merged)]
            merged.extend((request, item) for item in take)
            if len(merged) == limit:
                last_month = month == months[-1]
                exhausted = len(take) == len(items) and resume is None
                if not (last_month and exhausted):
                    key = (
                        resume
                        if len(take) == len(items) and resume
                        else resume_key(request, take[-1])
                    )
                    token = encode_token(key, scope=scope)
                break
        return [self.view.model_validate(decode(r, item)) for r, item in merged], token

    def query_recent_configs_iter(
        self,
        since: dt.datetime,
        *,
        until: dt.datetime | None = None,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
    ) -> ItemStream[TableConfigView]:
        """Stream configs updated in ``[since, until]``, newest first, month by month."""
        _, requests = self._recent(since, until, filters, projection)

        async def pages() -> AsyncIterator[list[TableConfigView]]:
            for request in requests.values():
                async for views in iterate_pages(self.config, request, self.view.validate_many):
                    yield views

        return ItemStream(pages)

    def _pipeline(
        self, pipeline_id: str, filters: Filters | None, projection: Sequence[str] | None
    ) -> PageRequest:
        index = self.schema.index("PipelineTablesIndex")
        return self._request_for(index, pipeline_id, filters=filters, projection=projection)

    def _recent(
        self,
        since: dt.datetime,
        until: dt.datetime | None,
        filters: Filters | None,
        projection: Sequence[str] | None,
    ) -> tuple[str, dict[str, PageRequest]]:
        low = to_utc(since)
        high = to_utc(until) if until is not None else utc_now()
        if low > high:
            msg = "since must not be after until"
            raise ValidationError(msg)
        index = self.schema.index("RecentConfigsIndex")
        requests = {
            month: self._request_for(
                index, month, "between", low, high, filters, projection, scan_forward=False
            )
            for month in month_buckets(low, high)
        }
        window = f"{format_datetime(low)}/{format_datetime(high) if until else 'now'}"
        scope = query_scope(self.table_name, index.name, f"recent {window}", {})
        return scope, requests


def month_buckets(low: dt.datetime, high: dt.datetime) -> list[str]:
    """Return the ``YYYY-MM`` buckets from ``high``'s month back to ``low``'s, newest first."""
    months = []
    year, month = high.year, high.month
    while (year, month) >= (low.year, low.month):
        months.append(month_bucket(dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months
