"""Worker processes of test_counters.py: each reports progress through the sync facade."""

from __future__ import annotations

from dynamodb_wrapper_async import DynamoDBConfig
from dynamodb_wrapper_sync import Increment, PipelineRunLogsWriteApi


def report_progress(
    config: DynamoDBConfig, run_id: str, pipeline_id: str, calls: int, step: int, worker: int
) -> list[int]:
    """Add ``step`` records ``calls`` times; return the versions the updates left.

    Even workers call ``add_run_progress`` (it returns nothing), odd ones ``update_run_log``
    with Increments (each returns the run as it stored it).
    """
    writes = PipelineRunLogsWriteApi(config)
    versions = []
    for _ in range(calls):
        if worker % 2 == 0:
            writes.add_run_progress(
                run_id, pipeline_id, records_processed=step, metrics={"rows": step}
            )
        else:
            run = writes.update_run_log(
                run_id,
                pipeline_id,
                {"records_processed": Increment(step), "metrics.rows": Increment(step)},
            )
            versions.append(run.version)
    return versions


def add_progress(
    config: DynamoDBConfig, run_id: str, pipeline_id: str, calls: int, transaction: bool
) -> None:
    """Add 1 record ``calls`` times: by ``add_run_progress``, or by a one-action
    ``transact_write`` of an Increment when ``transaction``."""
    writes = PipelineRunLogsWriteApi(config)
    for _ in range(calls):
        if transaction:
            key = (run_id, pipeline_id)
            writes.transact_write([writes.update_action(key, {"records_processed": Increment(1)})])
        else:
            writes.add_run_progress(run_id, pipeline_id, records_processed=1)
