"""Pipeline configuration: PipelineConfig, PipelineConfigView, PipelineConfigUpsert."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import GSI, DynamoModel, UtcDateTime, ViewModel, WriteModel

__all__ = ["PipelineConfig", "PipelineConfigUpsert", "PipelineConfigView"]

_Id = Field(min_length=1, max_length=1024)


class PipelineConfigUpsert(WriteModel):
    """Validated input for creating or upserting a pipeline configuration."""

    pipeline_id: str = _Id
    pipeline_name: str = Field(min_length=1)
    description: str | None = None
    source_type: str = Field(min_length=1)
    destination_type: str = Field(min_length=1)
    source_config: dict[str, Any] = Field(default_factory=dict)
    destination_config: dict[str, Any] = Field(default_factory=dict)
    schedule_expression: str | None = None
    is_active: bool = True
    tags: dict[str, str] = Field(default_factory=dict)


class PipelineConfig(DynamoModel):
    """A stored pipeline configuration (table ``pipeline_config``)."""

    pipeline_id: str = _Id
    pipeline_name: str
    description: str | None = None
    source_type: str
    destination_type: str
    source_config: dict[str, Any] = Field(default_factory=dict)
    destination_config: dict[str, Any] = Field(default_factory=dict)
    schedule_expression: str | None = None
    is_active: bool = True
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int = Field(default=1, ge=1)

    class Meta:
        table_name = "pipeline_config"
        partition_key = "pipeline_id"
        gsis = (GSI("ActivePipelinesIndex", partition_key="is_active", sort_key="updated_at"),)


class PipelineConfigView(ViewModel):
    """A pipeline configuration as read, possibly projected: every field is optional."""

    pipeline_id: str | None = None
    pipeline_name: str | None = None
    description: str | None = None
    source_type: str | None = None
    destination_type: str | None = None
    source_config: dict[str, Any] | None = None
    destination_config: dict[str, Any] | None = None
    schedule_expression: str | None = None
    is_active: bool | None = None
    tags: dict[str, str] | None = None
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
    version: int | None = None
