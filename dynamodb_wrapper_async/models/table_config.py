"""Table configuration: TableConfig, TableConfigView, TableConfigUpsert."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ._base import GSI, DynamoModel, UtcDateTime, ViewModel, WriteModel

__all__ = ["TableConfig", "TableConfigUpsert", "TableConfigView", "month_bucket"]

_Id = Field(min_length=1, max_length=1024)


def month_bucket(moment: Any) -> str:
    """Return the ``YYYY-MM`` bucket of a UTC datetime (the RecentConfigsIndex partition)."""
    return f"{moment.year:04d}-{moment.month:02d}"


class TableConfigUpsert(WriteModel):
    """Validated input for creating or upserting a table configuration."""

    table_id: str = _Id
    pipeline_id: str = _Id
    table_name: str = Field(min_length=1)
    table_type: str = Field(min_length=1)
    data_format: str | None = None
    location: str | None = None
    schema_definition: dict[str, Any] = Field(default_factory=dict)
    partition_columns: list[str] = Field(default_factory=list)
    is_active: bool = True


class TableConfig(DynamoModel):
    """A stored table configuration (table ``table_config``).

    ``updated_month`` is derived from ``updated_at`` and spreads the RecentConfigsIndex over
    one partition per month.
    """

    table_id: str = _Id
    pipeline_id: str = _Id
    table_name: str
    table_type: str
    data_format: str | None = None
    location: str | None = None
    schema_definition: dict[str, Any] = Field(default_factory=dict)
    partition_columns: list[str] = Field(default_factory=list)
    is_active: bool = True
    created_at: UtcDateTime
    updated_at: UtcDateTime
    updated_month: str = ""
    version: int = Field(default=1, ge=1)

    class Meta:
        table_name = "table_config"
        partition_key = "table_id"
        gsis = (
            GSI("PipelineTablesIndex", partition_key="pipeline_id", sort_key="table_name"),
            GSI("RecentConfigsIndex", partition_key="updated_month", sort_key="updated_at"),
        )

    @model_validator(mode="after")
    def _derive_month(self) -> TableConfig:
        month = month_bucket(self.updated_at)
        if self.updated_month != month:
            object.__setattr__(self, "updated_month", month)
        return self


class TableConfigView(ViewModel):
    """A table configuration as read, possibly projected: every field is optional."""

    table_id: str | None = None
    pipeline_id: str | None = None
    table_name: str | None = None
    table_type: str | None = None
    data_format: str | None = None
    location: str | None = None
    schema_definition: dict[str, Any] | None = None
    partition_columns: list[str] | None = None
    is_active: bool | None = None
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
    updated_month: str | None = None
    version: int | None = None
