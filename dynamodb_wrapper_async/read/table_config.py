"""TableConfigReadApi: reads of table configurations, incl. the month-bucket fan-out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence

from .. import _telemetry
from .._codec import format_datetime
from .._engine.capacity import charge_for
from .._stream import ItemStream
from .._tokens import query_scope
from ..exceptions import ValidationError
from ..models import TableConfig, TableConfigView
from ..models.table_config import month_bucket
from ..utils import to_utc, utc_now
from ._base import Filters, Page, ReadApi
from ._paging import FanOut, PageRequest, collect_fanout, iterate_fanout

__all__ = ["TableConfigReadApi"]

#: The index of configs by month of their last update.
_RECENT = "RecentConfigsIndex"


class TableConfigReadApi(ReadApi[TableConfig, TableConfigView]):
    """Reads of the ``table_config`` table; results are :class:`TableConfigView`."""

    model = TableConfig
    view = TableConfigView

    @_telemetry.traced
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

    @_telemetry.traced_stream
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

    @_telemetry.traced
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
        fanout = self._recent(since, until, filters, projection)
        charge = charge_for(self.config, self.table_name, "read", index=_RECENT)
        fanout = dataclasses.replace(
            fanout,
            parts=tuple((v, dataclasses.replace(r, capacity=charge)) for v, r in fanout.parts),
        )
        return await collect_fanout(
            self.config, fanout, self.view.validate_many, limit=limit, last_key=last_key
        )

    @_telemetry.traced_stream
    def query_recent_configs_iter(
        self,
        since: dt.datetime,
        *,
        until: dt.datetime | None = None,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        last_key: str | None = None,
    ) -> ItemStream[TableConfigView]:
        """Stream configs updated in ``[since, until]``, newest first, month by month."""
        charge = charge_for(self.config, self.table_name, "read", index=_RECENT)
        parts = [
            (dataclasses.replace(request, capacity=charge), start)
            for request, start in self._recent(since, until, filters, projection).resume(last_key)
        ]
        return ItemStream(
            functools.partial(iterate_fanout, self.config, parts, self.view.validate_many),
            charge.meter if charge is not None else None,
        )

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
    ) -> FanOut:
        low = to_utc(since)
        high = to_utc(until) if until is not None else utc_now()
        if low > high:
            msg = "since must not be after until"
            raise ValidationError(msg)
        index = self.schema.index(_RECENT)
        parts = tuple(
            (
                {"S": month},
                self._request_for(
                    index, month, "between", low, high, filters, projection, scan_forward=False
                ),
            )
            for month in month_buckets(low, high)
        )
        window = f"{format_datetime(low)}/{format_datetime(high) if until else 'now'}"
        scope = query_scope(self.table_name, index.name, f"recent {window}", {})
        return FanOut(scope, index.partition_key.name, parts)


def month_buckets(low: dt.datetime, high: dt.datetime) -> list[str]:
    """Return the ``YYYY-MM`` buckets from ``high``'s month back to ``low``'s, newest first."""
    months = []
    year, month = high.year, high.month
    while (year, month) >= (low.year, low.month):
        months.append(month_bucket(dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months
