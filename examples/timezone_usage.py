"""Timezone handling: store UTC, display in the user's zone.

Run: python examples/timezone_usage.py   (embedded local DynamoDB unless DYNAMODB_ENDPOINT_URL)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from _common import example_backend

from dynamodb_wrapper_sync import PipelineRunLogsReadApi, PipelineRunLogsWriteApi, create_tables
from dynamodb_wrapper_sync.exceptions import ValidationError
from dynamodb_wrapper_sync.models import PipelineRunLogUpsert, RunStatus
from dynamodb_wrapper_sync.utils import to_user_timezone, to_utc, utc_now


def main() -> None:
    with example_backend() as config:
        create_tables(config)
        # A user in Tokyo gives a local time; the handler converts it to UTC before storage.
        tokyo = timezone(timedelta(hours=9))
        local_start = datetime(2024, 1, 31, 18, 5, tzinfo=tokyo)
        utc_start = to_utc(local_start)
        print(f"User input {local_start.isoformat()} -> stored as UTC {utc_start.isoformat()}")

        run_id = f"tz-{utc_now():%H%M%S%f}"
        PipelineRunLogsWriteApi(config).create_run_log(
            PipelineRunLogUpsert(
                run_id=run_id, pipeline_id="tz-demo", status=RunStatus.RUNNING, start_time=utc_start
            )
        )
        stored = PipelineRunLogsReadApi(config).get_by_id(run_id, "tz-demo")
        assert stored.start_time == utc_start
        print(f"Read back start_time: {stored.start_time!r} (aware, UTC)")
        for zone in ("America/New_York", "Europe/Berlin", "Asia/Kolkata"):
            print(f"  shown in {zone:<17} {to_user_timezone(utc_start, zone).isoformat()}")
        print(f"  shown in config zone {config.user_timezone}: "
              f"{to_user_timezone(utc_start, config).isoformat()}")  # fmt: skip

        try:
            PipelineRunLogUpsert(run_id="x", pipeline_id="y", start_time=datetime(2024, 1, 1))
        except ValidationError as error:
            print(f"Naive datetime refused: {error.message}")


if __name__ == "__main__":
    main()
