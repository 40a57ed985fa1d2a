"""Static checks (mypy, not pytest): the facade's methods keep the core's exact types."""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias, TypeVar

from typing_extensions import assert_type

import dynamodb_wrapper_async as core
from dynamodb_wrapper_sync import (  # Page: the tuple (items, next_key), with consumed_capacity
    Append,
    BatchResult,
    DynamoDBConfig,
    Increment,
    Page,
    PipelineConfig,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigView,
    PipelineConfigWriteApi,
    PipelineRunLog,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    PipelineRunLogView,
    ReadApi,
    SyncItemStream,
    TableConfig,
    TableConfigReadApi,
    TableConfigUpsert,
    TableConfigView,
    TableConfigWriteApi,
    TableInfo,
    create_tables,
    delete_tables,
)

T = TypeVar("T")
Tuple: TypeAlias = tuple[list[T], str | None]


def check(config: DynamoDBConfig, since: dt.datetime, dto: PipelineConfigUpsert) -> None:
    pipelines = PipelineConfigReadApi(config)
    assert_type(pipelines.get_by_id("p"), PipelineConfigView)
    assert_type(pipelines.batch_get(["p"]), list[PipelineConfigView])
    assert_type(pipelines.query_active_pipelines(limit=5), Page[PipelineConfigView])
    assert_type(pipelines.query_active_pipelines_iter(), SyncItemStream[PipelineConfigView])
    assert_type(pipelines.scan(limit=1), Page[PipelineConfigView])
    as_tuple: Tuple[PipelineConfigView] = pipelines.scan(limit=1)  # still the tuple
    assert_type(as_tuple[1], str | None)
    assert_type(pipelines.scan(limit=1).consumed_capacity, core.ConsumedCapacity)
    assert_type(pipelines.scan_iter(last_key="k"), SyncItemStream[PipelineConfigView])
    assert_type(
        pipelines.query_by_composite_key_range_iter("pipeline_id", "p", last_key="k"),
        SyncItemStream[PipelineConfigView],
    )

    tables = TableConfigReadApi(config)
    assert_type(tables.query_by_pipeline("p", limit=10), Page[TableConfigView])
    assert_type(tables.query_recent_configs(since), Page[TableConfigView])
    assert_type(tables.query_recent_configs_iter(since), SyncItemStream[TableConfigView])
    assert_type(
        tables.query_recent_configs_iter(since, last_key="k"), SyncItemStream[TableConfigView]
    )
    assert_type(tables.query_by_pipeline_iter("p", last_key="k"), SyncItemStream[TableConfigView])

    runs = PipelineRunLogsReadApi(config)
    assert_type(runs.get_by_id("r", "p"), PipelineRunLogView)
    assert_type(
        runs.query_by_composite_key_range("pipeline_id", "p", "created_at", "gte", since),
        Page[PipelineRunLogView],
    )
    assert_type(runs.scan_for_all_runs(limit=5), Page[PipelineRunLogView])
    assert_type(runs.scan_for_all_runs_iter(segments=4), SyncItemStream[PipelineRunLogView])
    assert_type(runs.scan_for_all_runs_iter(last_key="k"), SyncItemStream[PipelineRunLogView])
    assert_type(
        runs.query_by_status_iter("failed", last_key="k"), SyncItemStream[PipelineRunLogView]
    )
    assert_type(runs.query_by_status("failed"), Page[PipelineRunLogView])
    assert_type(runs.query_runs_for_pipeline_iter("p"), SyncItemStream[PipelineRunLogView])

    writes = PipelineConfigWriteApi(config)
    assert_type(writes.create_pipeline(dto), PipelineConfig)
    assert_type(writes.upsert_pipeline(dto), PipelineConfig)
    assert_type(writes.update_pipeline("p", {"is_active": False}), PipelineConfig)
    assert_type(writes.delete_pipeline("p"), None)
    assert_type(writes.batch_upsert([dto]), BatchResult)
    stored = writes.create_pipeline(dto)
    assert_type(writes.batch_upsert([stored], keep_managed_fields=True), BatchResult)

    table_writes = TableConfigWriteApi(config)
    table_dto = TableConfigUpsert(table_id="t", pipeline_id="p", table_name="n", table_type="s")
    assert_type(table_writes.create_table_config(table_dto), TableConfig)

    run_writes = PipelineRunLogsWriteApi(config)
    assert_type(run_writes.start_run("r", "p"), PipelineRunLog)
    assert_type(run_writes.complete_run("r", "p", "success"), PipelineRunLog)
    assert_type(
        run_writes.add_run_progress("r", "p", records_processed=5, metrics={"rows": 5}), None
    )
    assert_type(
        run_writes.update_run_log("r", "p", {"records_failed": Increment(1)}), PipelineRunLog
    )
    assert_type(Append(["late"]), core.Append)

    assert_type(create_tables(config), list[TableInfo])
    assert_type(delete_tables(config), list[str])

    generic = ReadApi(core.PipelineConfigReadApi(config))
    assert_type(generic, ReadApi[PipelineConfig, PipelineConfigView])
