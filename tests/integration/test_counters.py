"""Increment and Append on real servers: concurrent processes, bounds, finished runs.

What is stored is checked by reading the server directly (a plain boto3 client).
"""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from integration._counter_workers import report_progress

from dynamodb_wrapper_async import (
    Append,
    ConflictError,
    DynamoDBConfig,
    Increment,
    ItemNotFoundError,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    RunStatus,
    TableConfigUpsert,
    TableConfigWriteApi,
    ValidationError,
)

PROCESSES = 8
CALLS = 200
STEP = 7


def stored_run(raw: Any, config: DynamoDBConfig, run_id: str, pipeline_id: str) -> Any:
    item = raw.get_item(
        TableName=config.table_name("pipeline_run_logs"),
        Key={"run_id": {"S": run_id}, "pipeline_id": {"S": pipeline_id}},
        ConsistentRead=True,
    ).get("Item")
    assert item is not None
    return item


def only_dynamodb_local(request: pytest.FixtureRequest) -> None:
    if request.node.callspec.params.get("backend") != "ddblocal":
        pytest.skip("runs on DynamoDB Local only")


@pytest.mark.timeout(300)
async def test_8_processes_x_200_increments_end_with_the_exact_sum(
    config: DynamoDBConfig, raw_client: Any, uid: str, request: pytest.FixtureRequest
) -> None:
    """8 spawned processes, each 200 calls through the sync facade, against one run log
    (half by add_run_progress, half by update_run_log): the counts end exactly at
    8 x 200 x 7, the version is up once per call, and every update_run_log saw its own."""
    only_dynamodb_local(request)
    run_id = f"run-{uid}"
    await PipelineRunLogsWriteApi(config).start_run(run_id, uid)

    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        results = [
            pool.apply_async(report_progress, (config, run_id, uid, CALLS, STEP, worker))
            for worker in range(PROCESSES)
        ]
        versions = [version for result in results for version in result.get(timeout=240)]

    calls = PROCESSES * CALLS
    stored = stored_run(raw_client, config, run_id, uid)
    assert stored["records_processed"] == {"N": str(calls * STEP)}
    assert stored["metrics"]["M"]["rows"] == {"N": str(calls * STEP)}
    assert stored["records_failed"] == {"N": "0"}
    assert stored["version"] == {"N": str(1 + calls)}  # up exactly once per call
    # update_run_log returns the run it stored: each of its calls saw a version of its own
    assert len(versions) == len(set(versions)) == calls // 2
    assert set(versions) <= set(range(2, calls + 2))


async def test_increments_appends_and_plain_values_in_one_update(
    config: DynamoDBConfig, raw_client: Any, uid: str
) -> None:
    writes = PipelineRunLogsWriteApi(config)
    run_id = f"run-{uid}"
    await writes.start_run(run_id, uid, metrics={"stage": "load"})

    run = await writes.update_run_log(
        run_id,
        uid,
        {
            "records_processed": Increment(500),
            "duration_seconds": Increment(0.25),
            "metrics.rows": Increment(500),
            "metrics.warnings": Append(["late file"]),
            "error_message": "partial",
        },
        condition_expression=Attr("status").eq("running"),
        expected_version=1,
    )
    again = await writes.update_run_log(
        run_id,
        uid,
        {
            "records_processed": Increment(-100),
            "metrics.rows": Increment(Decimal("0.5")),
            "metrics.warnings": Append(["retried"]),
        },
        expected_version=2,
    )

    assert run.version == 2
    assert run.updated_at > run.created_at
    assert again.version == 3
    assert again.records_processed == 400
    assert again.duration_seconds == 0.25
    assert again.metrics == {
        "stage": "load",
        "rows": Decimal("500.5"),
        "warnings": ["late file", "retried"],
    }
    assert again.error_message == "partial"
    stored = stored_run(raw_client, config, run_id, uid)
    assert stored["records_processed"] == {"N": "400"}
    assert stored["metrics"]["M"]["warnings"] == {"L": [{"S": "late file"}, {"S": "retried"}]}
    assert stored["version"] == {"N": "3"}


async def test_a_list_field_grows_by_append_starting_empty(
    config: DynamoDBConfig, raw_client: Any, uid: str
) -> None:
    writes = TableConfigWriteApi(config)
    await writes.create(
        TableConfigUpsert(table_id=uid, pipeline_id="p", table_name="t", table_type="source")
    )
    await writes.update(uid, {"partition_columns": None})  # not stored at all now

    first = await writes.update(uid, {"partition_columns": Append(["day"])})
    second = await writes.update(uid, {"partition_columns": Append(["hour", "minute"])})

    assert first.partition_columns == ["day"]
    assert second.partition_columns == ["day", "hour", "minute"]
    assert second.version == 4


async def test_a_count_does_not_go_below_its_bound(
    config: DynamoDBConfig, raw_client: Any, uid: str
) -> None:
    """records_processed has ge=0: a decrement past 0 fails its condition, nothing changes."""
    writes = PipelineRunLogsWriteApi(config)
    run_id = f"run-{uid}"
    await writes.start_run(run_id, uid)
    await writes.add_run_progress(run_id, uid, records_processed=3)

    with pytest.raises(ConflictError, match="update condition failed"):
        await writes.update_run_log(run_id, uid, {"records_processed": Increment(-4)})
    run = await writes.update_run_log(run_id, uid, {"records_processed": Increment(-3)})

    assert run.records_processed == 0
    assert stored_run(raw_client, config, run_id, uid)["version"] == {"N": "3"}


async def test_run_progress_is_refused_once_the_run_is_finished(
    config: DynamoDBConfig, raw_client: Any, uid: str
) -> None:
    writes = PipelineRunLogsWriteApi(config)
    run_id = f"run-{uid}"
    await writes.start_run(run_id, uid)
    await writes.add_run_progress(
        run_id, uid, records_processed=10, records_failed=1, metrics={"files": 2}
    )
    progressed = await PipelineRunLogsReadApi(config).get_by_id(run_id, uid, consistent_read=True)
    await writes.complete_run(run_id, uid, RunStatus.FAILED)

    with pytest.raises(ConflictError, match="run is already failed; progress") as caught:
        await writes.add_run_progress(run_id, uid, records_processed=5)
    with pytest.raises(ItemNotFoundError):
        await writes.add_run_progress(f"missing-{uid}", uid, records_processed=5)
    with pytest.raises(ValidationError, match="numeric field"):
        await writes.update_run_log(run_id, uid, {"status": Increment(1)})

    assert progressed.records_processed == 10
    assert progressed.records_failed == 1
    assert progressed.metrics == {"files": 2}
    assert caught.value.operation == "add_run_progress"
    stored = stored_run(raw_client, config, run_id, uid)
    assert stored["records_processed"] == {"N": "10"}
    assert stored["status"] == {"S": "failed"}
    assert stored["version"] == {"N": "3"}
    missing = raw_client.get_item(
        TableName=config.table_name("pipeline_run_logs"),
        Key={"run_id": {"S": f"missing-{uid}"}, "pipeline_id": {"S": uid}},
        ConsistentRead=True,
    )
    assert "Item" not in missing  # the refused progress did not create the run


def test_the_readme_example_through_the_sync_facade(
    config: DynamoDBConfig, raw_client: Any, uid: str
) -> None:
    """README "Counters and appends", as written (ids made unique)."""
    from dynamodb_wrapper_sync import Append as SyncAppend
    from dynamodb_wrapper_sync import Increment as SyncIncrement
    from dynamodb_wrapper_sync import PipelineRunLogsWriteApi as SyncRunLogsWriteApi

    run_id = f"run-42-{uid}"
    runs = SyncRunLogsWriteApi(config)
    runs.start_run(run_id, uid)

    def report(rows: Any) -> None:
        count = sum(1 for _ in rows)
        runs.add_run_progress(run_id, uid, records_processed=count, metrics={"files": 1})

    for partition in (range(10), range(5), range(0)):
        report(iter(partition))
    run = runs.update_run_log(
        run_id,
        uid,
        {"records_failed": SyncIncrement(3), "metrics.warnings": SyncAppend(["late file"])},
    )

    assert run.records_processed == 15
    assert run.records_failed == 3
    assert run.metrics == {"files": 3, "warnings": ["late file"]}
    assert run.version == 5
    assert stored_run(raw_client, config, run_id, uid)["version"] == {"N": "5"}


async def test_markers_in_a_transaction(config: DynamoDBConfig, raw_client: Any, uid: str) -> None:
    writes = PipelineRunLogsWriteApi(config)
    await writes.start_run(f"a-{uid}", uid)
    await writes.start_run(f"b-{uid}", uid)

    await writes.transact_write(
        [
            writes.update_action((f"a-{uid}", uid), {"records_processed": Increment(5)}),
            writes.update_action(
                (f"b-{uid}", uid),
                {"records_failed": Increment(2), "metrics.warnings": Append(["x"])},
                expected_version=1,
            ),
        ]
    )

    first = stored_run(raw_client, config, f"a-{uid}", uid)
    second = stored_run(raw_client, config, f"b-{uid}", uid)
    assert first["records_processed"] == {"N": "5"}
    assert second["records_failed"] == {"N": "2"}
    assert second["metrics"]["M"]["warnings"] == {"L": [{"S": "x"}]}
    assert first["version"] == second["version"] == {"N": "2"}
