"""A real Spark standalone cluster for the Spark tests: a master and two workers, each its own
JVM on 127.0.0.1, started with the launcher the pyspark package ships and stopped by PID."""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WORKERS = 2
STARTUP_SECONDS = 180
HERE = Path(__file__).parent  # spark_models.py: importable by name here and on executors
sys.path.insert(0, str(HERE))


def _require_pyspark() -> Any:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        return importlib.import_module("pyspark")  # in CI a missing pyspark is a failure
    return pytest.importorskip("pyspark")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cluster_env() -> dict[str, str]:
    """The JVMs' environment: no AWS or DynamoDB settings of the developer, loopback only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_"))}
    env.update(
        SPARK_LOCAL_IP="127.0.0.1",
        PYSPARK_PYTHON=sys.executable,  # executors need our venv, not the system python
        AWS_EC2_METADATA_DISABLED="true",
        SPARK_NO_DAEMONIZE="1",
    )
    return env


@dataclass
class Cluster:
    """A running standalone cluster: its master URL and the JVM processes."""

    master_url: str
    processes: list[subprocess.Popen[bytes]]
    logs: Path

    def stop(self) -> None:
        """Stop every JVM by its PID, worker first; kill what does not stop in time."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in reversed(self.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _launch(spark_class: Path, args: list[str], log: Path, env: dict[str, str]) -> Any:
    with log.open("wb") as out:
        # spark-class ends in `exec java ...`: the PID is the JVM's own
        return subprocess.Popen(
            [str(spark_class), *args], stdout=out, stderr=subprocess.STDOUT, env=env
        )


def _wait_for(log: Path, text: str, count: int, processes: list[Any]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(text) >= count:
            return
        if any(p.poll() is not None for p in processes):
            msg = f"a Spark JVM exited during startup; see {log.parent}"
            raise RuntimeError(msg)
        time.sleep(0.5)
    msg = f"{count}x {text!r} not seen in {log} within {STARTUP_SECONDS}s"
    raise RuntimeError(msg)


@pytest.fixture(scope="session")
def spark_cluster() -> Iterator[Cluster]:
    """Start a master and two 1-core workers; stop them all at the end of the session."""
    pyspark = _require_pyspark()
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    logs = Path(tempfile.mkdtemp(prefix="spark-cluster-"))
    env = _cluster_env()
    port = _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    master = _launch(
        spark_class,
        [
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(_free_port())),
        ],
        logs / "master.log",
        env,
    )
    cluster = Cluster(master_url, [master], logs)
    try:
        _wait_for(logs / "master.log", "I have been elected leader", 1, cluster.processes)
        for n in range(WORKERS):
            work_dir = logs / f"worker-{n}"
            work_dir.mkdir()
            cluster.processes.append(
                _launch(
                    spark_class,
                    [
                        "org.apache.spark.deploy.worker.Worker",
                        master_url,
                        *("--host", "127.0.0.1", "--cores", "1", "--memory", "1g"),
                        *("--webui-port", str(_free_port()), "--work-dir", str(work_dir)),
                    ],
                    logs / f"worker-{n}.log",
                    env,
                )
            )
        _wait_for(logs / "master.log", "Registering worker", WORKERS, cluster.processes)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def spark(spark_cluster: Cluster) -> Iterator[Any]:
    """A SparkSession whose executors run on the standalone cluster (one per worker)."""
    from pyspark.sql import SparkSession

    names = ("SPARK_LOCAL_IP", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "PYTHONPATH")
    saved = {k: os.environ.get(k) for k in names}
    python_path = os.pathsep.join(p for p in (str(HERE), saved["PYTHONPATH"]) if p)
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
    _wait_for_executors(session, WORKERS)
    try:
        yield session
    finally:
        session.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _wait_for_executors(session: Any, count: int) -> None:
    """Block until ``count`` executors have registered (the driver is not one)."""
    tracker = session.sparkContext._jsc.sc().statusTracker()  # no public API for it
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if len(tracker.getExecutorInfos()) - 1 >= count:
            return
        time.sleep(0.5)
    msg = f"{count} executors did not register within {STARTUP_SECONDS}s"
    raise RuntimeError(msg)
