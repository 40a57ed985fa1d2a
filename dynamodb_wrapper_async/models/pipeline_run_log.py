"""Pipeline run logs: PipelineRunLog, PipelineRunLogView, PipelineRunLogUpsert, RunStatus."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from pydantic import Field, field_validator

from ._base import GSI, DynamoModel, UtcDateTime, ViewModel, WriteModel

__all__ = ["PipelineRunLog", "PipelineRunLogUpsert", "PipelineRunLogView", "RunStatus"]

_Id = Field(min_length=1, max_length=1024)


class RunStatus(str, enum.Enum):
    """Lifecycle states of a pipeline run."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


def _epoch_seconds(value: Any) -> Any:
    """Accept an aware datetime for ``ttl`` and store DynamoDB's epoch seconds."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            msg = "naive datetime: give a timezone, e.g. datetime(..., tzinfo=timezone.utc)"
            raise ValueError(msg)
        return int(value.timestamp())
    return value


class PipelineRunLogUpsert(WriteModel):
    """Validated input for recording a pipeline run.

    ``ttl`` is the expiry as epoch seconds (an aware datetime is converted).
    """

    run_id: str = _Id
    pipeline_id: str = _Id
    status: RunStatus = RunStatus.PENDING
    start_time: UtcDateTime | None = None
    end_time: UtcDateTime | None = None
    duration_seconds: float | None = Field(default=None, ge=0)
    records_processed: int = Field(default=0, ge=0)
    records_failed: int = Field(default=0, ge=0)
    error_message: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    ttl: int | None = Field(default=None, ge=0)

    _ttl_from_datetime = field_validator("ttl", mode="before")(_epoch_seconds)


class PipelineRunLog(DynamoModel):
    """A stored pipeline run (table ``pipeline_run_logs``; key ``run_id`` + ``pipeline_id``)."""

    run_id: str = _Id
    pipeline_id: str = _Id
    status: RunStatus
    start_time: UtcDateTime | None = None
    end_time: UtcDateTime | None = None
    duration_seconds: float | None = Field(default=None, ge=0)
    records_processed: int = Field(default=0, ge=0)
    records_failed: int = Field(default=0, ge=0)
    error_message: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    created_at: UtcDateTime
    updated_at: UtcDateTime
    ttl: int | None = Field(default=None, ge=0)
    version: int = Field(default=1, ge=1)

    _ttl_from_datetime = field_validator("ttl", mode="before")(_epoch_seconds)

    class Meta:
        table_name = "pipeline_run_logs"
        partition_key = "run_id"
        sort_key = "pipeline_id"
        gsis = (
            GSI("PipelineRunsIndex", partition_key="pipeline_id", sort_key="created_at"),
            GSI("StatusRunsIndex", partition_key="status", sort_key="created_at"),
        )
        ttl_attribute = "ttl"


class PipelineRunLogView(ViewModel):
    """A pipeline run as read, possibly projected: every field is optional."""

    run_id: str | None = None
    pipeline_id: str | None = None
    status: RunStatus | None = None
    start_time: UtcDateTime | None = None
    end_time: UtcDateTime | None = None
    duration_seconds: float | None = None
    records_processed: int | None = None
    records_failed: int | None = None
    error_message: str | None = None
    metrics: dict[str, Any] | None = None
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
    ttl: int | None = None
    version: int | None = None
