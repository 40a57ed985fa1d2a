"""Basic CQRS usage through the sync facade: tables, pipelines, table configs and runs.

Run: python examples/basic_usage.py   (embedded local DynamoDB unless DYNAMODB_ENDPOINT_URL)
"""

from __future__ import annotations

from _common import example_backend
from boto3.dynamodb.conditions import Attr

from dynamodb_wrapper_sync import (
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    TableConfigReadApi,
    TableConfigUpsert,
    TableConfigWriteApi,
    create_tables,
)
from dynamodb_wrapper_sync.exceptions import ConflictError, ItemNotFoundError
from dynamodb_wrapper_sync.utils import utc_now


def main() -> None:
    with example_backend() as config:
        print("Tables:")
        for table in create_tables(config):
            print(f"  {table}")

        pipelines = PipelineConfigWriteApi(config)
        created = pipelines.upsert_pipeline(
            PipelineConfigUpsert(
                pipeline_id="orders-daily",
                pipeline_name="Daily orders load",
                source_type="s3",
                destination_type="warehouse",
                source_config={"bucket": "raw-orders", "prefix": "2024/"},
                schedule_expression="cron(0 2 * * ? *)",
            )
        )
        print(f"Upserted pipeline {created.pipeline_id} (version {created.version})")

        tables = TableConfigWriteApi(config)
        for name, kind in [("orders_raw", "source"), ("orders", "destination")]:
            tables.upsert_table_config(
                TableConfigUpsert(
                    table_id=f"orders-daily.{name}",
                    pipeline_id="orders-daily",
                    table_name=name,
                    table_type=kind,
                    data_format="parquet",
                    partition_columns=["order_date"],
                )
            )

        read = PipelineConfigReadApi(config)
        summary = read.get_by_id(
            "orders-daily", projection=["pipeline_id", "pipeline_name", "is_active"]
        )
        print(f"Read back: {summary.pipeline_name!r}, active={summary.is_active}")
        active, next_key = read.query_active_pipelines(limit=50)
        print(f"Active pipelines: {[p.pipeline_id for p in active]} (more: {next_key is not None})")

        sources, _ = TableConfigReadApi(config).query_by_pipeline(
            pipeline_id="orders-daily", filters={"table_type": "source"}, limit=20
        )
        print(f"Source tables of orders-daily: {[t.table_name for t in sources]}")

        runs = PipelineRunLogsWriteApi(config)
        run_id = f"run-{utc_now():%Y%m%dT%H%M%S%f}"
        runs.start_run(run_id, "orders-daily")
        done = runs.complete_run(run_id, "orders-daily", "success", records_processed=1200)
        print(f"Run {done.run_id}: {done.status} in {done.duration_seconds:.3f}s")
        recent, _ = PipelineRunLogsReadApi(config).query_runs_for_pipeline("orders-daily", limit=5)
        print(f"Runs of orders-daily: {[(r.run_id, str(r.status)) for r in recent]}")

        try:
            pipelines.update_pipeline(
                "orders-daily",
                {"is_active": False},
                condition_expression=Attr("is_active").eq(True),
            )
            pipelines.update_pipeline(
                "orders-daily",
                {"is_active": False},
                condition_expression=Attr("is_active").eq(True),
            )
        except ConflictError as error:
            print(f"Second conditional update refused: {error.message}")
        try:
            read.get_by_id("no-such-pipeline")
        except ItemNotFoundError:
            print("Missing pipeline -> ItemNotFoundError")


if __name__ == "__main__":
    main()
