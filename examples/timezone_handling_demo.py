"""Timezone compliance: UTC in storage, sortable strings, windows across DST changes.

Run: python examples/timezone_handling_demo.py
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from _common import example_backend

from dynamodb_wrapper_sync import PipelineRunLogsReadApi, PipelineRunLogsWriteApi, create_tables
from dynamodb_wrapper_sync.models import PipelineRunLogUpsert, RunStatus
from dynamodb_wrapper_sync.utils import to_user_timezone, utc_now


def main() -> None:
    with example_backend() as config:
        create_tables(config)
        new_york = ZoneInfo("America/New_York")
        # Around the 2024-03-10 DST change, wall-clock hours are ambiguous; UTC is not.
        starts = [
            datetime(2024, 3, 10, 1, 30, tzinfo=new_york) + timedelta(hours=h) for h in range(3)
        ]
        pipeline_id = f"dst-{utc_now():%H%M%S%f}"
        writer = PipelineRunLogsWriteApi(config)
        for n, start in enumerate(starts):
            writer.create_run_log(
                PipelineRunLogUpsert(run_id=f"{pipeline_id}-{n}", pipeline_id=pipeline_id,
                                     status=RunStatus.SUCCESS, start_time=start)
            )  # fmt: skip

        reader = PipelineRunLogsReadApi(config)
        window_start = datetime(2024, 3, 10, 0, 0, tzinfo=new_york)
        runs = list(reader.query_runs_for_pipeline_iter(pipeline_id))
        print(f"{len(runs)} runs of {pipeline_id}, newest first:")
        for run in runs:
            assert run.start_time is not None
            local = to_user_timezone(run.start_time, "America/New_York")
            print(f"  {run.run_id}: UTC {run.start_time:%H:%M} | New York {local:%H:%M %Z}")
        print(f"Window start {window_start.isoformat()} = UTC "
              f"{window_start.astimezone(timezone.utc).isoformat()}")  # fmt: skip


if __name__ == "__main__":
    main()
