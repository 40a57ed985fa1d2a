"""With DEBUG logging on everywhere for a full run, no secret key or session token is logged."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator

import pytest

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    RunStatus,
    TableConfigUpsert,
    close_clients,
    create_tables,
    delete_tables,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYLOGGEDSECRET"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENLOGGED"
UTC = dt.timezone.utc


class Everything(logging.Handler):
    """Keeps every record of every logger, formatted, arguments and exceptions included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs() -> Iterator[Everything]:
    root = logging.getLogger()
    handler, level = Everything(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.timeout(120)
async def test_full_run_at_debug_level_logs_no_secret(
    backend: DynamoDBConfig, debug_logs: Everything
) -> None:
    config = backend.model_copy(
        update={
            "aws_access_key_id": "AKIAEXAMPLELOGGED",
            "aws_secret_access_key": SECRET,
            "aws_session_token": TOKEN,
            "table_prefix": f"{backend.table_prefix}logs{uuid.uuid4().hex[:4]}_",
        }
    )
    await create_tables(config)
    try:
        pipelines, runs = PipelineConfigWriteApi(config), PipelineRunLogsWriteApi(config)
        pipeline = PipelineConfigUpsert(
            pipeline_id="p1", pipeline_name="n", source_type="s3", destination_type="dl"
        )
        await pipelines.create_pipeline_with_tables(
            pipeline,
            [
                TableConfigUpsert(
                    table_id="t1", pipeline_id="p1", table_name="t", table_type="source"
                )
            ],
        )
        await pipelines.upsert_pipeline(pipeline)
        await pipelines.update_pipeline("p1", {"description": "d"}, expected_version=2)
        await runs.start_run("r1", "p1")
        await runs.complete_run("r1", "p1", RunStatus.SUCCESS, records_processed=3)
        await runs.batch_upsert(
            PipelineRunLogUpsert(run_id=f"r{n}", pipeline_id="p1") for n in range(2, 60)
        )
        reads = PipelineRunLogsReadApi(config)
        assert len(await reads.batch_get([(f"r{n}", "p1") for n in range(60)])) == 59
        page, _ = await reads.query_runs_for_pipeline("p1", limit=5)
        assert len(page) == 5
        assert len([r async for r in reads.scan_for_all_runs_iter(segments=3)]) == 59
        assert (await PipelineConfigReadApi(config).get_by_id("p1")).description == "d"
        await pipelines.delete_pipeline("p1")
    finally:
        await delete_tables(config)
        await close_clients(config)

    logged = "\n".join(debug_logs.lines)
    # DEBUG was on: botocore logged the client it built and the error answers it parsed
    # (every request, table management included, is signed by our transport, which logs none)
    assert "botocore.parsers DEBUG Response headers" in logged
    assert SECRET not in logged
    assert TOKEN not in logged
