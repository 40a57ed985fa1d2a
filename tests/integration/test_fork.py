"""Fork hygiene: a forked child drops its parent's clients without touching their sockets.

The parent runs in a fresh interpreter (warnings shown, stderr captured whole) and forks
twice, with ``os.fork`` and with multiprocessing's fork start method; each child uses the
library (data and table management) and collects what it inherited. Closing an inherited
connection through the inherited loop would unregister it from the epoll set parent and
child share, and the parent's next read on it would hang until the read timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from dynamodb_wrapper_async import DynamoDBConfig

_PARENT = textwrap.dedent(
    """
    import asyncio, gc, json, multiprocessing, os, sys, time
    from dynamodb_wrapper_async import DynamoDBConfig
    from dynamodb_wrapper_async import create_tables as create_tables_async
    from dynamodb_wrapper_sync import ItemNotFoundError, PipelineConfigReadApi, create_tables

    endpoint, prefix, style = sys.argv[1:]
    config = DynamoDBConfig(
        endpoint_url=endpoint, region_name="us-east-1", table_prefix=prefix,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    loop = asyncio.new_event_loop()  # the async style: a loop kept between calls

    def table_call():
        if style == "sync":
            create_tables(config)  # the tables exist: CreateTable, DescribeTable, TTL
        else:
            loop.run_until_complete(create_tables_async(config))

    def timed_table_call():
        start = time.perf_counter()
        table_call()
        return time.perf_counter() - start

    port = int(endpoint.rsplit(":", 1)[1])

    def sockets_to_the_endpoint():  # inodes of the TCP sockets we hold to the endpoint
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    if int(fields[2].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        held = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                link = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                held.add(link[8:-1])
        return held & inodes

    def child():
        kept = parents & sockets_to_the_endpoint()
        if kept:
            print(f"the child holds {len(kept)} of its parent's sockets", file=sys.stderr)
            os._exit(3)
        gc.collect()  # what the child inherited and dropped is finalized now
        try:
            PipelineConfigReadApi(config).get_by_id("missing")
        except ItemNotFoundError:
            pass
        create_tables(config)
        asyncio.run(create_tables_async(config))
        gc.collect()

    table_call()
    timed_table_call()
    figures = {"before": timed_table_call()}
    parents = sockets_to_the_endpoint()
    figures["parent's sockets"] = len(parents)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            child()
            code = 0
        finally:
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    figures["os.fork child"] = os.waitstatus_to_exitcode(status)
    figures["after os.fork"] = timed_table_call()
    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join()
    figures["multiprocessing child"] = process.exitcode
    figures["after multiprocessing"] = timed_table_call()
    loop.close()
    print(json.dumps(figures))
    """
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("style", ["sync", "async"])
def test_forked_children_leave_the_parents_connections_alone(
    own_tables: DynamoDBConfig, style: str
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "default",
            "-c",
            _PARENT,
            f"{own_tables.endpoint_url}",
            f"{own_tables.table_prefix}",
            style,
        ],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
        env={**os.environ, "PYTHONDEVMODE": ""},
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["os.fork child"] == 0, result.stderr
    assert figures["multiprocessing child"] == 0, result.stderr
    assert result.stderr == ""  # no "Unclosed client session", no ResourceWarning
    if "ddblocal" in own_tables.table_prefix:  # moto's server closes every connection
        assert figures["parent's sockets"] > 0, figures
    # a hang on a connection the child unregistered lasts the read timeout (30 s)
    for after in ("after os.fork", "after multiprocessing"):
        assert figures[after] < own_tables.read_timeout / 10, figures
