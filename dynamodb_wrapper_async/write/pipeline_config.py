"""PipelineConfigWriteApi: writes of pipeline configurations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from boto3.dynamodb.conditions import ConditionBase

from .. import _telemetry
from .._keys import check_many
from ..exceptions import ValidationError
from ..models import PipelineConfig, PipelineConfigUpsert, TableConfig, TableConfigUpsert
from ._base import WriteApi
from .table_config import TableConfigWriteApi

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

    @_telemetry.traced
    async def create_pipeline_with_tables(
        self, pipeline: PipelineConfigUpsert, tables: Sequence[TableConfigUpsert]
    ) -> tuple[PipelineConfig, list[TableConfig]]:
        """Create a pipeline and its table configs in one transaction (all or nothing).

        Raises:
            ValidationError: A table belongs to another pipeline, or there are over 99 tables.
            ConflictError: The pipeline or a table exists; see ``cancellation_reasons``.
        """
        given: object = pipeline
        if not isinstance(given, PipelineConfigUpsert):
            msg = f"expected a PipelineConfigUpsert, got {type(given).__name__}"
            raise ValidationError(msg, operation="create_pipeline_with_tables")
        check_many(tables, "TableConfigUpsert items")
        given_tables: list[object] = list(tables)
        odd = sorted(
            {type(t).__name__ for t in given_tables if not isinstance(t, TableConfigUpsert)}
        )
        if odd:
            msg = f"tables must be TableConfigUpsert items, got {', '.join(odd)}"
            raise ValidationError(msg, operation="create_pipeline_with_tables")
        tables = list(tables)
        strangers = [t.table_id for t in tables if t.pipeline_id != pipeline.pipeline_id]
        if strangers:
            msg = f"tables {strangers} do not belong to pipeline {pipeline.pipeline_id!r}"
            raise ValidationError(msg, operation="create_pipeline_with_tables")
        table_api = TableConfigWriteApi(self.config)
        actions = [self.create_action(pipeline), *(table_api.create_action(t) for t in tables)]
        await self.transact_write(actions)
        return actions[0].model, [action.model for action in actions[1:]]

    async def delete_pipeline(
        self, pipeline_id: str, *, condition: ConditionBase | None = None
    ) -> None:
        """Delete a pipeline. See :meth:`WriteApi.delete`."""
        await self.delete(pipeline_id, condition=condition)
