"""Every example runs: on the embedded backend by default, and on DYNAMODB_ENDPOINT_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dynamodb_wrapper_async import DynamoDBConfig

EXAMPLES = sorted(
    p for p in (Path(__file__).parents[2] / "examples").glob("*.py") if not p.name.startswith("_")
)


def run(example: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, str(example)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # the Spark example starts a JVM: ~100 s on a loaded 2-core machine
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_"))}


@pytest.mark.timeout(360)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_on_embedded_backend(example: Path) -> None:
    out = run(example, clean_env())
    assert "Embedded local DynamoDB" in out


@pytest.mark.timeout(360)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_on_configured_endpoint(example: Path, config: DynamoDBConfig) -> None:
    assert config.endpoint_url is not None
    keys = config.credentials()
    assert keys["aws_access_key_id"] is not None
    assert keys["aws_secret_access_key"] is not None
    env = clean_env() | {
        "DYNAMODB_ENDPOINT_URL": config.endpoint_url,
        "DYNAMODB_TABLE_PREFIX": config.table_prefix,
        "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
        "AWS_REGION": config.region_name,
    }
    out = run(example, env)
    assert "Embedded local DynamoDB" not in out


def test_basic_usage_prints_the_three_tables() -> None:
    out = run(next(p for p in EXAMPLES if p.stem == "basic_usage"), clean_env())
    for table in ("pipeline_config", "table_config", "pipeline_run_logs"):
        assert f"created {table}" in out
