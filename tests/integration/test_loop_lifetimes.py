"""A client pooled for an event loop is released with the loop, close_clients() or not.

DynamoDB Local keeps connections alive (moto's server closes each one), so a leaked client
there holds its loop and a socket: the leak the first test measures in a fresh process.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import textwrap
import weakref

import pytest

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    ItemNotFoundError,
    PipelineConfigReadApi,
)
from dynamodb_wrapper_async._wire.pool import open_client_count

_LOOPS = 1000

_MANY_RUNS = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from dynamodb_wrapper_async import DynamoDBConfig, ItemNotFoundError, PipelineConfigReadApi

    endpoint, prefix = sys.argv[1].split(" ")
    config = DynamoDBConfig(
        endpoint_url=endpoint, region_name="us-east-1", table_prefix=prefix,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    loops = int(sys.argv[2])

    def rss_mb():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    def fds():
        return len(os.listdir("/proc/self/fd"))

    async def a_few_calls():
        api = PipelineConfigReadApi(config)
        for _ in range(3):
            try:
                await api.get_by_id("missing")
            except ItemNotFoundError:
                pass

    for i in range(loops):
        asyncio.run(a_few_calls())  # no close_clients()
        if i == 9:
            after_ten = {"rss": rss_mb(), "fds": fds()}
    print(json.dumps({"after_ten": after_ten, "end": {"rss": rss_mb(), "fds": fds()}}))
    """
)


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "default", "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
        env={**os.environ, "PYTHONDEVMODE": ""},
    )


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("backend", ["ddblocal"], indirect=True)
def test_a_thousand_asyncio_runs_without_close_clients_leak_nothing(
    config: DynamoDBConfig,
) -> None:
    result = _run(_MANY_RUNS, f"{config.endpoint_url} {config.table_prefix}", str(_LOOPS))
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    growth = figures["end"]["rss"] - figures["after_ten"]["rss"]
    assert growth < 50, figures
    assert figures["end"]["fds"] <= figures["after_ten"]["fds"], figures
    assert "Warning" not in result.stderr
    assert "Unclosed" not in result.stderr


_DROPPED_LOOP = textwrap.dedent(
    """
    import asyncio, gc, json, os, sys, weakref
    from dynamodb_wrapper_async import DynamoDBConfig, ItemNotFoundError, PipelineConfigReadApi

    endpoint, prefix = sys.argv[1].split(" ")
    config = DynamoDBConfig(
        endpoint_url=endpoint, region_name="us-east-1", table_prefix=prefix,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )

    async def a_call():
        try:
            await PipelineConfigReadApi(config).get_by_id("missing")
        except ItemNotFoundError:
            pass

    def fds():
        return len(os.listdir("/proc/self/fd"))

    asyncio.run(a_call())  # the first client loads what every later one shares
    before = fds()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(a_call())
    held = fds()
    dead = weakref.ref(loop)
    if sys.argv[2] == "close":
        loop.close()
    del loop
    gc.collect()
    print(json.dumps({"before": before, "held": held, "after": fds(), "alive": dead() is not None}))
    """
)


@pytest.mark.parametrize("backend", ["ddblocal"], indirect=True)
@pytest.mark.parametrize("ending", ["close", "garbage-collected"])
def test_a_loop_closed_or_dropped_releases_its_client_and_socket(
    config: DynamoDBConfig, ending: str
) -> None:
    result = _run(_DROPPED_LOOP, f"{config.endpoint_url} {config.table_prefix}", ending)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["held"] > figures["before"], figures  # the loop's kept-alive socket
    assert figures["after"] == figures["before"], figures
    assert not figures["alive"], figures
    if ending == "close":
        assert result.stderr == ""
    else:  # the loop itself was left unclosed: asyncio warns about that, once per object
        assert "Unclosed" not in result.stderr, result.stderr
        assert "ERROR" not in result.stderr, result.stderr


# ---------------------------------------------------------------- pytest-asyncio's loops
_CASES = 200
_seen: dict[str, int] = {}
_loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize("backend", ["ddblocal"], indirect=True)
@pytest.mark.parametrize("case", range(_CASES))
async def test_many_function_scoped_loops(config: DynamoDBConfig, case: int) -> None:
    """Each case runs on its own loop and leaves its client for the loop's end to close."""
    api = PipelineConfigReadApi(config)
    for _ in range(2):
        with pytest.raises(ItemNotFoundError):
            await api.get_by_id(f"missing-{case}")
    _loops.append(weakref.ref(asyncio.get_running_loop()))
    if case == 9:
        _seen["fds"] = _fds()
        _seen["clients"] = open_client_count()  # this loop's client among them


@pytest.mark.parametrize("backend", ["ddblocal"], indirect=True)
def test_after_many_function_scoped_loops_nothing_is_left(config: DynamoDBConfig) -> None:
    assert len(_loops) == _CASES, "run with test_many_function_scoped_loops, before it"
    gc.collect()
    assert [ref for ref in _loops if ref() is not None] == []
    assert _fds() <= _seen["fds"]
    assert open_client_count() == _seen["clients"] - 1
