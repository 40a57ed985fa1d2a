"""A Spark standalone cluster on 127.0.0.1: a master and workers, each its own JVM, started with
the ``spark-class`` launcher the pyspark package ships and stopped by PID (tests, benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTUP_SECONDS = 180


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


@contextmanager
def standalone_cluster(workers: int = 2, *, memory: str = "1g") -> Iterator[Cluster]:
    """Start a master and ``workers`` 1-core workers; stop every JVM on the way out."""
    import pyspark

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
        for n in range(workers):
            work_dir = logs / f"worker-{n}"
            work_dir.mkdir()
            cluster.processes.append(
                _launch(
                    spark_class,
                    [
                        "org.apache.spark.deploy.worker.Worker",
                        master_url,
                        *("--host", "127.0.0.1", "--cores", "1", "--memory", memory),
                        *("--webui-port", str(_free_port()), "--work-dir", str(work_dir)),
                    ],
                    logs / f"worker-{n}.log",
                    env,
                )
            )
        _wait_for(logs / "master.log", "Registering worker", workers, cluster.processes)
        yield cluster
    finally:
        cluster.stop()


def wait_for_executors(session: Any, count: int) -> None:
    """Block until ``count`` executors have registered (the driver is not one)."""
    tracker = session.sparkContext._jsc.sc().statusTracker()  # no public API for it
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if len(tracker.getExecutorInfos()) - 1 >= count:
            return
        time.sleep(0.5)
    msg = f"{count} executors did not register within {STARTUP_SECONDS}s"
    raise RuntimeError(msg)
