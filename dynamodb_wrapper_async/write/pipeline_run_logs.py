"""PipelineRunLogsWriteApi: recording runs and their lifecycle (start, progress, complete)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from .. import _telemetry
from .._codec import decode_item
from .._conflicts import restate_conflict
from .._markers import Increment
from ..exceptions import ConflictError, ValidationError
from ..models import PipelineRunLog, PipelineRunLogUpsert, RunStatus
from ..utils import to_utc, utc_now
from ._base import WriteApi
from ._transactions import transact

__all__ = ["PipelineRunLogsWriteApi"]

#: A run can be completed only from these states.
OPEN_STATES = (RunStatus.PENDING, RunStatus.RUNNING)
#: The states complete_run may set.
FINAL_STATES = (RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.CANCELLED)


class PipelineRunLogsWriteApi(WriteApi[PipelineRunLog, PipelineRunLogUpsert]):
    """Writes of the ``pipeline_run_logs`` table (key: run_id + pipeline_id)."""

    model = PipelineRunLog
    upsert_model = PipelineRunLogUpsert

    async def create_run_log(self, run: PipelineRunLogUpsert) -> PipelineRunLog:
        """Record a new run; ConflictError if (run_id, pipeline_id) exists."""
        return await self.create(run)

    async def upsert_run_log(self, run: PipelineRunLogUpsert) -> PipelineRunLog:
        """Create or replace a run, keeping created_at."""
        return await self.upsert(run)

    async def update_run_log(
        self,
        run_id: str,
        pipeline_id: str,
        updates: Mapping[str, Any],
        *,
        condition_expression: ConditionBase | None = None,
        expected_version: int | None = None,
    ) -> PipelineRunLog:
        """Change fields of a run. See :meth:`WriteApi.update`."""
        return await self.update(
            (run_id, pipeline_id),
            updates,
            condition_expression=condition_expression,
            expected_version=expected_version,
        )

    async def delete_run_log(
        self, run_id: str, pipeline_id: str, *, condition: ConditionBase | None = None
    ) -> None:
        """Delete a run."""
        await self.delete((run_id, pipeline_id), condition=condition)

    @_telemetry.traced
    async def start_run(
        self,
        run_id: str,
        pipeline_id: str,
        *,
        start_time: dt.datetime | None = None,
        metrics: Mapping[str, Any] | None = None,
        ttl: int | dt.datetime | None = None,
    ) -> PipelineRunLog:
        """Record a run in status ``running`` that started at ``start_time`` (default: now).

        Raises:
            ConflictError: The run exists already.
        """
        run = PipelineRunLogUpsert(
            run_id=run_id,
            pipeline_id=pipeline_id,
            status=RunStatus.RUNNING,
            start_time=start_time or utc_now(),
            metrics={} if metrics is None else metrics,  # type: ignore[arg-type]  # any mapping
            ttl=ttl,  # type: ignore[arg-type]  # the model converts an aware datetime
        )
        return await self.create(run)

    @_telemetry.traced
    async def complete_run(
        self,
        run_id: str,
        pipeline_id: str,
        status: RunStatus | str,
        *,
        end_time: dt.datetime | None = None,
        records_processed: int | None = None,
        records_failed: int | None = None,
        error_message: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> PipelineRunLog:
        """Finish a pending or running run: set status, end_time and duration_seconds.

        Raises:
            ValidationError: ``status`` is not success, failed or cancelled.
            ItemNotFoundError: The run does not exist.
            ConflictError: The run is already finished (or changed meanwhile).
        """
        final = _final_status(status)
        end = to_utc(end_time) if end_time is not None else utc_now()
        current = await self._current(run_id, pipeline_id)
        if current.status not in OPEN_STATES:
            msg = f"run is already {current.status.value}; only pending or running runs complete"
            raise ConflictError(
                msg,
                operation="complete_run",
                table=self.table_name,
                key={"run_id": run_id, "pipeline_id": pipeline_id},
            )
        updates: dict[str, Any] = {"status": final, "end_time": end}
        if current.start_time is not None:
            updates["duration_seconds"] = max((end - current.start_time).total_seconds(), 0.0)
        optional = {
            "records_processed": records_processed,
            "records_failed": records_failed,
            "error_message": error_message,
            "metrics": metrics,
        }
        updates.update({name: value for name, value in optional.items() if value is not None})
        return await self.update(
            (run_id, pipeline_id),
            updates,
            condition_expression=Attr("status").is_in([s.value for s in OPEN_STATES]),
            expected_version=current.version,
        )

    async def add_run_progress(
        self,
        run_id: str,
        pipeline_id: str,
        *,
        records_processed: int = 0,
        records_failed: int = 0,
        metrics: Mapping[str, int | float | Decimal] | None = None,
    ) -> None:
        """Add counts to a pending or running run, atomically: many executors may report at once.

        ``records_processed`` and ``records_failed`` are added to the stored counts, and each
        of ``metrics`` to ``metrics[name]`` (a missing one starts at 0). The update is sent as
        a one-action TransactWriteItems whose ClientRequestToken is kept for every retry, so
        it applies exactly once, whatever other writers do, also when an answer is lost. That
        costs 2 write capacity units per KB instead of 1, and returns nothing (read the run
        to see its counts).

        Raises:
            ValidationError: A negative or non-int count, or a metric that is not a number.
            ItemNotFoundError: The run does not exist.
            ConflictError: The run is finished (success, failed or cancelled).
        """
        try:
            updates = _progress_updates(records_processed, records_failed, metrics)
        except ValidationError as error:
            raise ValidationError(error.message, table=self.table_name) from None
        key = {"run_id": run_id, "pipeline_id": pipeline_id}
        action = self.update_action(
            (run_id, pipeline_id),
            updates,
            condition_expression=Attr("status").is_in([s.value for s in OPEN_STATES]),
        )
        try:
            await transact(self.config, [action], operation="add_run_progress")
        except ConflictError as error:
            reason = error.cancellation_reasons[0] if error.cancellation_reasons else {}
            if reason.get("code") != "ConditionalCheckFailed":
                raise
            if not reason.get("item"):
                raise self._not_found(key, "add_run_progress") from error
            status = decode_item(reason["item"]).get("status")
            if status in {s.value for s in OPEN_STATES}:
                raise  # another condition failed (e.g. a count bound)
            msg = f"run is already {status}; progress is added only to pending or running runs"
            raise restate_conflict(
                error, msg, operation="add_run_progress", table=self.table_name, key=key
            ) from error

    async def _current(self, run_id: str, pipeline_id: str) -> PipelineRunLog:
        wire_key, plain_key = self._key(run_id, pipeline_id)
        item = await self._get_item(wire_key, plain_key, consistent_read=True)
        if item is None:
            raise self._not_found(plain_key, "complete_run")
        return self.model.from_stored(decode_item(item))


def _final_status(status: RunStatus | str) -> RunStatus:
    try:
        final = RunStatus(status)
    except ValueError:
        final = None
    if final not in FINAL_STATES:
        allowed = ", ".join(s.value for s in FINAL_STATES)
        msg = f"complete_run status must be one of {allowed}, got {status!r}"
        raise ValidationError(msg)
    return final


def _progress_updates(
    records_processed: object, records_failed: object, metrics: object
) -> dict[str, Any]:
    """The update of :meth:`PipelineRunLogsWriteApi.add_run_progress`: Increments by path."""
    updates: dict[str, Any] = {}
    for name, count in (
        ("records_processed", records_processed),
        ("records_failed", records_failed),
    ):
        if type(count) is not int or count < 0:
            msg = f"add_run_progress {name} must be an int >= 0, got {count!r:.40}"
            raise ValidationError(msg)
        updates[name] = Increment(count)
    given = {} if metrics is None else metrics
    if not isinstance(given, Mapping):
        kind = type(given).__name__
        msg = f"add_run_progress metrics must be a mapping of name -> number, got {kind}"
        raise ValidationError(msg)
    for metric, amount in given.items():
        if not isinstance(metric, str) or not metric or set(metric) & set(".[]"):
            msg = f"metric names must be non-empty text without '.', '[' or ']': {metric!r:.80}"
            raise ValidationError(msg)
        updates[f"metrics.{metric}"] = Increment(amount)
    return updates
