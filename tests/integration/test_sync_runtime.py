"""The sync facade against a real backend: running loops, threads, fork, secrets in errors."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import traceback
import uuid
from typing import Any

import pytest

from dynamodb_wrapper_async import DynamoDBConfig
from dynamodb_wrapper_sync import (
    ItemNotFoundError,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
)
from dynamodb_wrapper_sync.exceptions import ConnectionError, DynamoDBWrapperError


def create(config: DynamoDBConfig, pipeline_id: str) -> None:
    PipelineConfigWriteApi(config).create_pipeline(
        PipelineConfigUpsert(
            pipeline_id=pipeline_id, pipeline_name="n", source_type="s3",
            destination_type="warehouse",
        )
    )  # fmt: skip


def test_sync_calls_inside_asyncio_run(config: DynamoDBConfig, uid: str) -> None:
    def cell() -> str | None:  # what a notebook cell does while the kernel's loop runs
        create(config, uid)
        return PipelineConfigReadApi(config).get_by_id(uid).pipeline_id

    async def kernel() -> str | None:
        return cell()

    assert asyncio.run(kernel()) == uid


@pytest.mark.timeout(60)
def test_sync_calls_from_eight_threads(config: DynamoDBConfig, uid: str) -> None:
    errors: list[BaseException] = []
    read = PipelineConfigReadApi(config)

    def worker(n: int) -> None:
        try:
            for i in range(5):
                create(config, f"{uid}-{n}-{i}")
                assert read.get_by_id(f"{uid}-{n}-{i}").pipeline_id == f"{uid}-{n}-{i}"
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    found = read.batch_get([f"{uid}-{n}-{i}" for n in range(8) for i in range(5)])
    assert len(found) == 40


@pytest.mark.timeout(60)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 3.12+: fork() with threads
def test_forked_child_uses_its_own_loop_and_client(config: DynamoDBConfig, uid: str) -> None:
    create(config, uid)  # the parent has a loop thread and a pooled client now
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            read = PipelineConfigReadApi(config)
            if read.get_by_id(uid).pipeline_id == uid:
                create(config, f"{uid}-child")
                code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 45
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
    assert PipelineConfigReadApi(config).get_by_id(f"{uid}-child").pipeline_id == f"{uid}-child"


def test_sync_iterators_and_errors_cross_unchanged(config: DynamoDBConfig, uid: str) -> None:
    for n in range(5):
        create(config, f"{uid}-{n}")
    read = PipelineConfigReadApi(config)
    with read.scan_iter(filters={"pipeline_name": "n"}, segments=2) as stream:
        ids = {p.pipeline_id for p in stream}
    assert {f"{uid}-{n}" for n in range(5)} <= ids
    with pytest.raises(ItemNotFoundError) as caught:
        read.get_by_id(f"{uid}-missing")
    assert caught.value.key == {"pipeline_id": f"{uid}-missing"}


SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY"
TOKEN = "FwoGZXIvYXdzSESSIONTOKENSECRET"


def test_no_secret_in_any_error_text(config: DynamoDBConfig, caplog: Any) -> None:
    """Bad credentials and unreachable endpoints fail without echoing the keys."""
    caplog.set_level("DEBUG")
    bad_keys = config.model_copy(
        update={
            "aws_access_key_id": "AKIDBADBADBAD",
            "aws_secret_access_key": SECRET,
            "aws_session_token": TOKEN,
            "max_retries": 1,
        }
    )
    unreachable = DynamoDBConfig(
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKIDBADBADBAD",
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        max_retries=1,
        connect_timeout=1,
    )
    # Local backends accept any keys, so the first fails as "not found"; nobody listens on
    # port 9, so the second cannot connect. Either way an error must come, and hide the keys.
    expected: list[tuple[DynamoDBConfig, type[DynamoDBWrapperError]]] = [
        (bad_keys, ItemNotFoundError),
        (unreachable, ConnectionError),
    ]
    for settings, error_class in expected:
        assert SECRET not in repr(settings)
        with pytest.raises(error_class) as caught:
            PipelineConfigReadApi(settings).get_by_id(f"{uuid.uuid4()}")
        error = caught.value
        chain = [error, error.__cause__, error.__context__]
        text = " ".join(f"{link} {link!r}" for link in chain if link is not None)
        text += "".join(traceback.format_exception(error))
        assert SECRET not in text
        assert TOKEN not in text
    assert SECRET not in caplog.text
    assert TOKEN not in caplog.text
