"""PipelineConfigWriteApi: writes of pipeline configurations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.conditions import ConditionBase

from ..models import PipelineConfig, PipelineConfigUpsert
from ._base import WriteApi

__all__ = ["PipelineConfigWriteApi"]


class PipelineConfigWriteApi(WriteApi[PipelineConfig, PipelineConfigUpsert]):
    """Writes of the ``pipeline_config`` table."""

    model = PipelineConfig
    upsert_model = PipelineConfigUpsert

    async def create_pipeline(self, pipeline: PipelineConfigUpsert) -> PipelineConfig:
        """Create a pipeline; ConflictError if its id exists. See :meth:`WriteApi.create`."""
        return await self.create(pipeline)

    async def upsert_pipeline(self, pipeline: PipelineConfigUpsert) -> PipelineConfig:
        """Create or replace a pipeline, keeping created_at. See :meth:`WriteApi.upsert`."""
        return await self.upsert(pipeline)

    async def update_pipeline(
        self,
        pipeline_id: str,
        updates: Mapping[str, Any],
        *,
        condition_expression: ConditionBase | None = None,
        expected_version: int | None = None,
    ) -> PipelineConfig:
        """Change fields of a pipeline. See :meth:`WriteApi.update`."""
        return await self.update(
            pipeline_id,
            updates,
            condition_expression=condition_expression,
            expected_version=expected_version,
        )

    async def delete_pipeline(
        self, pipeline_id: str, *, condition: ConditionBase | None = None
    ) -> None:
        """Delete a pipeline. See :meth:`WriteApi.delete`."""
        await self.delete(pipeline_id, condition=condition)
