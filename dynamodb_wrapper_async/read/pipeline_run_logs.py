"""PipelineRunLogsReadApi: reads of pipeline run logs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .. import _telemetry
from .._stream import ItemStream
from ..exceptions import ValidationError
from ..models import PipelineRunLog, PipelineRunLogView, RunStatus
from ._base import Filters, Page, ReadApi, time_window
from ._paging import PageRequest

__all__ = ["PipelineRunLogsReadApi"]


def _status(value: RunStatus | str) -> RunStatus:
    try:
        return RunStatus(value)
    except ValueError:
        known = ", ".join(status.value for status in RunStatus)
        msg = f"unknown run status {value!r}; one of: {known}"
        raise ValidationError(msg) from None


class PipelineRunLogsReadApi(ReadApi[PipelineRunLog, PipelineRunLogView]):
    """Reads of the ``pipeline_run_logs`` table; results are :class:`PipelineRunLogView`.

    ``get_by_id(run_id, pipeline_id)`` reads one run (the table key is run_id + pipeline_id).
    """

    model = PipelineRunLog
    view = PipelineRunLogView

    async def scan_for_all_runs(
        self,
        *,
        projection: Sequence[str] | None = None,
        filters: Filters | None = None,
        limit: int = 100,
        last_key: str | None = None,
    ) -> Page[PipelineRunLogView]:
        """Scan every run (with optional filters): one page and the next page token."""
        return await self.scan(
            filters=filters, projection=projection, limit=limit, last_key=last_key
        )

    def scan_for_all_runs_iter(
        self,
        *,
        projection: Sequence[str] | None = None,
        filters: Filters | None = None,
        last_key: str | None = None,
        segments: int = 1,
    ) -> ItemStream[PipelineRunLogView]:
        """Stream every run; ``segments`` > 1 scans in parallel.

        ``last_key`` (a ``next_key`` of :meth:`scan_for_all_runs`) resumes a scan with
        ``segments=1``.
        """
        return self.scan_iter(
            filters=filters, projection=projection, last_key=last_key, segments=segments
        )

    @_telemetry.traced
    async def query_by_status(
        self,
        status: RunStatus | str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        limit: int = 100,
        last_key: str | None = None,
    ) -> Page[PipelineRunLogView]:
        """Return runs in ``status``, newest first, optionally within ``[since, until]``."""
        request = self._by("StatusRunsIndex", _status(status), since, until, filters, projection)
        return await self._page(request, limit, last_key)

    @_telemetry.traced_stream
    def query_by_status_iter(
        self,
        status: RunStatus | str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        last_key: str | None = None,
    ) -> ItemStream[PipelineRunLogView]:
        """Stream runs in ``status``, newest first."""
        request = self._by("StatusRunsIndex", _status(status), since, until, filters, projection)
        return self._stream(request, last_key)

    @_telemetry.traced
    async def query_runs_for_pipeline(
        self,
        pipeline_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        limit: int = 100,
        last_key: str | None = None,
    ) -> Page[PipelineRunLogView]:
        """Return the runs of one pipeline, newest first, optionally within ``[since, until]``."""
        request = self._by("PipelineRunsIndex", pipeline_id, since, until, filters, projection)
        return await self._page(request, limit, last_key)

    @_telemetry.traced_stream
    def query_runs_for_pipeline_iter(
        self,
        pipeline_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        last_key: str | None = None,
    ) -> ItemStream[PipelineRunLogView]:
        """Stream the runs of one pipeline, newest first."""
        request = self._by("PipelineRunsIndex", pipeline_id, since, until, filters, projection)
        return self._stream(request, last_key)

    def _by(
        self,
        index_name: str,
        value: object,
        since: dt.datetime | None,
        until: dt.datetime | None,
        filters: Filters | None,
        projection: Sequence[str] | None,
    ) -> PageRequest:
        condition, low, high = time_window(since, until)
        return self._request_for(
            self.schema.index(index_name), value, condition, low, high, filters, projection,
            scan_forward=False,
        )  # fmt: skip
