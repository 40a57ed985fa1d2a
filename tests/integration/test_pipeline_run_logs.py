import datetime as dt

import pytest

from dynamodb_wrapper_async import (
    ConflictError,
    DynamoDBConfig,
    ItemNotFoundError,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    RunStatus,
    ValidationError,
)

UTC = dt.timezone.utc


async def test_start_and_complete_run(config: DynamoDBConfig, uid: str) -> None:
    write, read = PipelineRunLogsWriteApi(config), PipelineRunLogsReadApi(config)
    started_at = dt.datetime.now(UTC) - dt.timedelta(seconds=90)
    run = await write.start_run(f"run-{uid}", uid, start_time=started_at, metrics={"stage": 1})
    assert run.status is RunStatus.RUNNING
    done = await write.complete_run(
        f"run-{uid}", uid, "success", records_processed=1200, records_failed=3
    )
    assert done.status is RunStatus.SUCCESS
    assert done.end_time is not None
    assert done.duration_seconds is not None
    assert 89 < done.duration_seconds < 300
    assert done.records_processed == 1200
    assert done.version == 2
    with pytest.raises(ConflictError, match="already success"):
        await write.complete_run(f"run-{uid}", uid, "failed")
    with pytest.raises(ValidationError, match="complete_run status"):
        await write.complete_run(f"run-{uid}", uid, "running")
    with pytest.raises(ItemNotFoundError):
        await write.complete_run(f"run-missing-{uid}", uid, "failed")
    view = await read.get_by_id(f"run-{uid}", uid)
    assert view.status is RunStatus.SUCCESS
    with pytest.raises(ConflictError):
        await write.start_run(f"run-{uid}", uid)


async def test_composite_key_range_picks_the_index(config: DynamoDBConfig, uid: str) -> None:
    write, read = PipelineRunLogsWriteApi(config), PipelineRunLogsReadApi(config)
    before = dt.datetime.now(UTC)
    for n in range(5):
        await write.create_run_log(
            PipelineRunLogUpsert(run_id=f"{uid}-{n}", pipeline_id=uid, status=RunStatus.RUNNING)
        )
    after = dt.datetime.now(UTC)
    logs, next_key = await read.query_by_composite_key_range(
        partition_key="pipeline_id",
        partition_value=uid,
        sort_key="created_at",
        sort_condition="between",
        sort_value=before,
        sort_value2=after,
        limit=100,
    )
    assert next_key is None
    assert [log.run_id for log in logs] == [f"{uid}-{n}" for n in range(5)]
    created = [log.created_at for log in logs]
    assert all(c is not None for c in created)
    middle = logs[2].created_at
    assert middle is not None
    for condition, expected in [
        ("eq", [2]), ("lt", [0, 1]), ("lte", [0, 1, 2]), ("gt", [3, 4]), ("gte", [2, 3, 4]),
    ]:  # fmt: skip
        page, _ = await read.query_by_composite_key_range(
            "pipeline_id", uid, "created_at", condition, middle
        )
        assert [log.run_id for log in page] == [f"{uid}-{n}" for n in expected], condition
    prefix = f"{middle:%Y-%m-%d}"
    page, _ = await read.query_by_composite_key_range(
        "pipeline_id", uid, "created_at", "begins_with", prefix
    )
    assert len(page) == 5 or middle.date() != after.date()
    by_key, _ = await read.query_by_composite_key_range(
        "run_id", f"{uid}-1", "pipeline_id", "eq", uid
    )
    assert [log.run_id for log in by_key] == [f"{uid}-1"]
    with pytest.raises(ValidationError, match="key schemas"):
        await read.query_by_composite_key_range("error_message", "x", "created_at", "eq", before)
    with pytest.raises(ValidationError, match="sort_condition"):
        await read.query_by_composite_key_range("pipeline_id", uid, "created_at", "around", before)
    with pytest.raises(ValidationError):
        await read.query_by_composite_key_range("pipeline_id", uid, "created_at", "between", before)


async def test_scan_status_and_pipeline_queries(config: DynamoDBConfig, uid: str) -> None:
    write, read = PipelineRunLogsWriteApi(config), PipelineRunLogsReadApi(config)
    statuses = [RunStatus.FAILED, RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.RUNNING]
    for n, status in enumerate(statuses):
        await write.create_run_log(
            PipelineRunLogUpsert(
                run_id=f"{uid}-{n}", pipeline_id=uid, status=status, error_message=f"e{n}",
                ttl=int(dt.datetime(2100, 1, 1, tzinfo=UTC).timestamp()),
            )
        )  # fmt: skip
    failed, _ = await read.scan_for_all_runs(
        projection=["run_id", "pipeline_id", "status", "error_message", "ttl"],
        filters={"status": "failed", "pipeline_id": uid},
        limit=50,
    )
    assert sorted(r.run_id or "" for r in failed) == [f"{uid}-0", f"{uid}-2"]
    assert all(r.records_processed is None for r in failed)  # not projected
    assert all(r.ttl == 4102444800 for r in failed)

    runs, _ = await read.query_runs_for_pipeline(uid, limit=10)
    assert [r.run_id for r in runs] == [f"{uid}-{n}" for n in (3, 2, 1, 0)]
    by_status, _ = await read.query_by_status(RunStatus.FAILED, filters={"pipeline_id": uid})
    assert [r.run_id for r in by_status] == [f"{uid}-2", f"{uid}-0"]
    with pytest.raises(ValidationError, match="unknown run status"):
        await read.query_by_status("exploded")

    segments = [
        r.run_id
        async for r in read.scan_for_all_runs_iter(filters={"pipeline_id": uid}, segments=3)
    ]
    assert sorted(s or "" for s in segments) == [f"{uid}-{n}" for n in range(4)]
