"""Worker processes of test_counters.py: each reports progress through the sync facade."""

from __future__ import annotations

from dynamodb_wrapper_async import DynamoDBConfig
from dynamodb_wrapper_sync import Increment, PipelineRunLogsWriteApi


def report_progress(
    config: DynamoDBConfig, run_id: str, pipeline_id: str, calls: int, step: int, worker: int
) -> list[int]:
    """Add ``step`` records ``calls`` times; return the version each call left.

    Even workers call ``add_run_progress``, odd ones ``update_run_log`` with Increments.
    """
    writes = PipelineRunLogsWriteApi(config)
    versions = []
    for _ in range(calls):
        if worker % 2 == 0:
            run = writes.add_run_progress(
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
