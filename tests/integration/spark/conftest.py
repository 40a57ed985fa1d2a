"""The Spark tests' session: executors on a real standalone cluster (a master and two
workers, separate JVMs on 127.0.0.1; see ``tests/_spark_cluster.py``)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _spark_cluster import Cluster, standalone_cluster, wait_for_executors

WORKERS = 2
HERE = Path(__file__).parent  # spark_models.py: importable by name here and on executors
TESTS = HERE.parent.parent  # the tests' helpers (``_windows``...), on executors too
sys.path.insert(0, str(HERE))


def _require_pyspark() -> Any:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        return importlib.import_module("pyspark")  # in CI a missing pyspark is a failure
    return pytest.importorskip("pyspark")


@pytest.fixture(scope="session")
def spark_cluster() -> Iterator[Cluster]:
    """Start a master and two 1-core workers; stop them all at the end of the session."""
    _require_pyspark()
    with standalone_cluster(WORKERS) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def spark(spark_cluster: Cluster) -> Iterator[Any]:
    """A SparkSession whose executors run on the standalone cluster (one per worker)."""
    from pyspark.sql import SparkSession

    names = ("SPARK_LOCAL_IP", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "PYTHONPATH")
    saved = {k: os.environ.get(k) for k in names}
    python_path = os.pathsep.join(p for p in (str(HERE), str(TESTS), saved["PYTHONPATH"]) if p)
    os.environ["PYTHONPATH"] = python_path  # the driver's JVM starts the planning workers
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master(spark_cluster.master_url)
        .appName("dynamodb-wrapper-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.executor.memory", "512m")
        .config("spark.executor.cores", "1")
        .config("spark.cores.max", str(WORKERS))
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.python.worker.reuse", "true")
        .config("spark.executorEnv.AWS_EC2_METADATA_DISABLED", "true")
        .config("spark.executorEnv.PYTHONPATH", python_path)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    wait_for_executors(session, WORKERS)
    try:
        yield session
    finally:
        session.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
