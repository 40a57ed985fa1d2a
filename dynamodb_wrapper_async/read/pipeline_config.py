"""PipelineConfigReadApi: reads of pipeline configurations."""

from __future__ import annotations

from collections.abc import Sequence

from .. import _telemetry
from .._stream import ItemStream
from ..models import PipelineConfig, PipelineConfigView
from ._base import Filters, Page, ReadApi
from ._paging import PageRequest

__all__ = ["PipelineConfigReadApi"]


class PipelineConfigReadApi(ReadApi[PipelineConfig, PipelineConfigView]):
    """Reads of the ``pipeline_config`` table; results are :class:`PipelineConfigView`."""

    model = PipelineConfig
    view = PipelineConfigView

    @_telemetry.traced
    async def query_active_pipelines(
        self,
        *,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        limit: int = 50,
        last_key: str | None = None,
    ) -> Page[PipelineConfigView]:
        """Return active pipelines, most recently updated first, and the next page token."""
        return await self._page(self._active(filters, projection), limit, last_key)

    @_telemetry.traced_stream
    def query_active_pipelines_iter(
        self,
        *,
        filters: Filters | None = None,
        projection: Sequence[str] | None = None,
        last_key: str | None = None,
    ) -> ItemStream[PipelineConfigView]:
        """Stream every active pipeline, most recently updated first."""
        return self._stream(self._active(filters, projection), last_key)

    def _active(self, filters: Filters | None, projection: Sequence[str] | None) -> PageRequest:
        index = self.schema.index("ActivePipelinesIndex")
        return self._request_for(
            index, partition_value=True, filters=filters, projection=projection, scan_forward=False
        )
