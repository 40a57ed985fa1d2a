"""200,000 items from a generator: bounded memory, every item stored (DynamoDB Local)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from dynamodb_wrapper_async import DynamoDBConfig

COUNT = 200_000

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, resource, sys
    from dynamodb_wrapper_async import (
        DynamoDBConfig, PipelineRunLogUpsert, PipelineRunLogsWriteApi, RunStatus, close_clients,
    )

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    async def main() -> None:
        config = DynamoDBConfig.model_validate_json(sys.argv[1])
        count, pipeline = int(sys.argv[2]), sys.argv[3]
        api = PipelineRunLogsWriteApi(config)
        # warm up: client, models, codec, so the baseline includes fixed costs
        await api.batch_upsert(
            PipelineRunLogUpsert(run_id=f"warm-{n}", pipeline_id=pipeline + "-warm")
            for n in range(100)
        )
        baseline = peak_mb()
        runs = (
            PipelineRunLogUpsert(
                run_id=f"run-{n:07d}", pipeline_id=pipeline, status=RunStatus.SUCCESS,
                records_processed=n, metrics={"rows": n, "stage": "load", "ok": True},
            )
            for n in range(count)
        )
        result = await api.batch_upsert(runs)
        await close_clients()
        print(json.dumps({"processed": result.processed, "growth_mb": peak_mb() - baseline}))

    asyncio.run(main())
    """
)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_generator_of_200k_items_streams_with_bounded_memory(
    own_tables: DynamoDBConfig, raw_client: Any, uid: str
) -> None:
    config = own_tables
    if config.table_prefix.startswith("t_moto_"):
        pytest.skip("moto's server runs in this process, so its storage would count as ours")
    payload = config.model_dump_json()
    keys = config.credentials()
    settings = json.loads(payload) | {
        "aws_access_key_id": keys["aws_access_key_id"],
        "aws_secret_access_key": keys["aws_secret_access_key"],
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(settings), str(COUNT), uid],
        capture_output=True,
        text=True,
        timeout=580,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["processed"] == COUNT
    assert report["growth_mb"] < 150, report

    stored = 0
    paginator = raw_client.get_paginator("query")
    for page in paginator.paginate(
        TableName=config.table_name("pipeline_run_logs"),
        IndexName="PipelineRunsIndex",
        KeyConditionExpression="pipeline_id = :p",
        ExpressionAttributeValues={":p": {"S": uid}},
        Select="COUNT",
    ):
        stored += page["Count"]
    assert stored == COUNT
