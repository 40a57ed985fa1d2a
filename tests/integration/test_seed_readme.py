"""The seed README's snippets, run through dynamodb_wrapper_sync with only imports changed.

Each test sets the environment the way a user would, so ``DynamoDBConfig.from_env()`` is the
config, on a fresh table prefix; the fixed ids of the README ("my-pipeline", "table-123", ...)
then cannot collide with other tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

# ---------------------------------------------------------------- the README's imports
from boto3.dynamodb.conditions import Attr

from dynamodb_wrapper_async import DynamoDBConfig
from dynamodb_wrapper_sync import (
    DynamoDBConfig as SyncDynamoDBConfig,
)
from dynamodb_wrapper_sync import (
    PipelineConfig,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigView,
    PipelineConfigWriteApi,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    TableConfigReadApi,
    TableConfigUpsert,
    TableConfigWriteApi,
    create_tables,
    delete_tables,
)
from dynamodb_wrapper_sync.exceptions import (
    ConflictError,
    ConnectionError,
    ItemNotFoundError,
    RetryableError,
    ValidationError,
)
from dynamodb_wrapper_sync.models import PipelineRunLogUpsert
from dynamodb_wrapper_sync.utils import to_user_timezone, to_utc


@pytest.fixture
def env_config(backend: DynamoDBConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point the environment at the backend with a fresh prefix; create the three tables."""
    keys = backend.credentials()
    assert backend.endpoint_url is not None
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", str(keys["aws_access_key_id"]))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", str(keys["aws_secret_access_key"]))
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", backend.endpoint_url)
    monkeypatch.setenv("DYNAMODB_TABLE_PREFIX", f"seed_{uuid.uuid4().hex[:6]}_")
    monkeypatch.setenv("DYNAMODB_USER_TIMEZONE", "America/New_York")
    config = SyncDynamoDBConfig.from_env()
    create_tables(config)
    yield config
    delete_tables(config)


def test_quick_start(env_config: Any) -> None:
    # Configuration
    config = SyncDynamoDBConfig.from_env()
    assert config == env_config

    # Write API - Validated operations (run first so the reads below find something)
    write_api = PipelineConfigWriteApi(config)
    write_api.create_pipeline(
        PipelineConfigUpsert(
            pipeline_id="my-pipeline", pipeline_name="Mine", source_type="s3",
            destination_type="warehouse",
        )
    )  # fmt: skip

    # Read API - Optimized queries
    read_api = PipelineConfigReadApi(config)

    # Get pipeline with projection (reduced data transfer)
    pipeline = read_api.get_by_id(
        "my-pipeline", projection=["pipeline_id", "pipeline_name", "is_active"]
    )
    assert (pipeline.pipeline_id, pipeline.pipeline_name, pipeline.is_active) == (
        "my-pipeline",
        "Mine",
        True,
    )
    assert pipeline.source_type is None

    # Query active pipelines with pagination
    active_pipelines, next_key = read_api.query_active_pipelines(limit=50, last_key=None)
    assert [p.pipeline_id for p in active_pipelines] == ["my-pipeline"]
    assert next_key is None

    # Create pipeline with validation
    pipeline_data = PipelineConfigUpsert(
        pipeline_id="new-pipeline",
        pipeline_name="Data Processing Pipeline",
        source_type="s3",
        destination_type="warehouse",
    )
    created_pipeline = write_api.create_pipeline(pipeline_data)
    assert isinstance(created_pipeline, PipelineConfig)
    assert created_pipeline.version == 1

    # Update with conditional expression
    write_api.update_pipeline(
        "new-pipeline",
        {"is_active": False},
        condition_expression=Attr("is_active").eq(True),  # Only if currently active
    )
    assert read_api.get_by_id("new-pipeline").is_active is False
    with pytest.raises(ConflictError):
        write_api.update_pipeline(
            "new-pipeline", {"is_active": False}, condition_expression=Attr("is_active").eq(True)
        )


def test_advanced_query_patterns(env_config: Any) -> None:
    config = env_config
    writer = PipelineRunLogsWriteApi(config)
    writer.start_run("run-1", "my-pipeline")
    writer.start_run("run-2", "my-pipeline")
    writer.complete_run("run-2", "my-pipeline", "failed", error_message="disk full")

    read_api = PipelineRunLogsReadApi(config)
    now = datetime.now(timezone.utc)

    # Time-range queries with composite keys
    logs, next_key = read_api.query_by_composite_key_range(
        partition_key="pipeline_id",
        partition_value="my-pipeline",
        sort_key="created_at",
        sort_condition="between",
        sort_value=datetime(2024, 1, 1, tzinfo=timezone.utc),
        sort_value2=now,
        limit=100,
    )
    assert [log.run_id for log in logs] == ["run-1", "run-2"]
    assert next_key is None

    # Scan with filters and projections
    all_failed_runs, _ = read_api.scan_for_all_runs(
        projection=["run_id", "pipeline_id", "status", "error_message"],
        filters={"status": "failed"},
        limit=50,
    )
    assert [(r.run_id, r.error_message) for r in all_failed_runs] == [("run-2", "disk full")]


def test_flexible_queries_and_projections(env_config: Any) -> None:
    config = env_config
    tables = TableConfigWriteApi(config)
    tables.create_table_config(
        TableConfigUpsert(
            table_id="table-123", pipeline_id="my-pipeline", table_name="orders",
            table_type="source",
        )
    )  # fmt: skip
    tables.create_table_config(
        TableConfigUpsert(
            table_id="table-456", pipeline_id="my-pipeline", table_name="orders_out",
            table_type="destination",
        )
    )  # fmt: skip

    # Efficient queries with field projections
    table_api = TableConfigReadApi(config)

    # Get only specific fields to reduce data transfer
    table_summary = table_api.get_by_id(
        "table-123", projection=["table_id", "table_name", "table_type", "is_active"]
    )
    assert (table_summary.table_name, table_summary.table_type) == ("orders", "source")

    # Query with filters and pagination
    active_tables, next_token = table_api.query_by_pipeline(
        pipeline_id="my-pipeline",
        filters={"is_active": True, "table_type": "source"},
        limit=20,
        last_key=None,
    )
    assert [t.table_id for t in active_tables] == ["table-123"]
    assert next_token is None

    # Time-based queries with GSI
    recent_configs, _ = table_api.query_recent_configs(
        since=datetime(2024, 1, 1, tzinfo=timezone.utc), limit=50
    )
    assert [t.table_id for t in recent_configs] == ["table-456", "table-123"]  # newest first


def test_timezone_management(env_config: Any) -> None:
    # Convert user input to UTC before storage
    user_time = datetime.now(timezone.utc)
    utc_time = to_utc(user_time)  # Handler responsibility

    # Create run log with UTC time
    run_log_data = PipelineRunLogUpsert(
        run_id="run-123",
        pipeline_id="my-pipeline",
        status="running",  # type: ignore[arg-type]  # the seed passes the status as a str
        start_time=utc_time,  # Always UTC at gateway
    )
    PipelineRunLogsWriteApi(env_config).create_run_log(run_log_data)
    stored = PipelineRunLogsReadApi(env_config).get_by_id("run-123", "my-pipeline")
    assert stored.start_time == utc_time

    # Convert back to user timezone for display
    display_time = to_user_timezone(utc_time, "America/New_York")
    assert display_time == utc_time
    assert str(display_time.tzinfo) == "America/New_York"
    assert to_user_timezone(utc_time).tzinfo == display_time.tzinfo  # DYNAMODB_USER_TIMEZONE


def test_data_models_and_programmatic_config(env_config: Any) -> None:
    read_api = PipelineConfigReadApi(env_config)
    PipelineConfigWriteApi(env_config).create_pipeline(
        PipelineConfigUpsert(
            pipeline_id="pipeline-1", pipeline_name="P1", source_type="s3",
            destination_type="warehouse",
        )
    )  # fmt: skip

    # View models for efficient reads
    pipeline_view: PipelineConfigView = read_api.get_by_id("pipeline-1")
    assert pipeline_view.pipeline_name == "P1"

    # DTOs for validated writes
    pipeline_dto = PipelineConfigUpsert(
        pipeline_id="new-pipeline",
        pipeline_name="My Pipeline",
        source_type="s3",
        destination_type="warehouse",
    )
    assert pipeline_dto.is_active is True

    config = SyncDynamoDBConfig(
        aws_access_key_id="your-key",
        aws_secret_access_key="your-secret",
        region_name="us-east-1",
        table_prefix="prod_",
        user_timezone="America/New_York",
    )
    assert "your-secret" not in repr(config)
    assert config.table_name("pipeline_config") == "prod_pipeline_config"


def test_error_handling(env_config: Any) -> None:
    read_api = PipelineConfigReadApi(env_config)
    outcome = ""
    try:
        read_api.get_by_id("non-existent")
    except ItemNotFoundError:
        outcome = "Pipeline not found"
    except ConnectionError:
        outcome = "DynamoDB connection issue"
    assert outcome == "Pipeline not found"

    with pytest.raises(ValidationError):
        read_api.get_by_id("x", projection=["no_such_field"])

    unreachable = SyncDynamoDBConfig(
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        max_retries=1,
        connect_timeout=1,
    )
    try:
        PipelineConfigReadApi(unreachable).get_by_id("non-existent")
    except ItemNotFoundError:
        outcome = "Pipeline not found"
    except ConnectionError:
        outcome = "DynamoDB connection issue"
    assert outcome == "DynamoDB connection issue"
    assert issubclass(RetryableError, Exception)
