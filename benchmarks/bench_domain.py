"""The domain workload: run logs given as plain dicts, written through a slow link.

N pipeline run logs arrive as plain dicts, as a pipeline has them (JSON-shaped: datetimes as
ISO-8601 strings, the status as a string, a nested ``metrics`` map with floats). Each client
writes all of them into a fresh ``pipeline_run_logs`` table (the library's own, with its two
GSIs) through a latency proxy, 10 ms one way by default. Runs rotate the clients' order;
each client runs in a fresh interpreter, so none works on a heap the ones before it grew.

- ``ours_sync``: ``dynamodb_wrapper_sync.PipelineRunLogsWriteApi.batch_upsert`` of a
  generator that builds each dict into a ``PipelineRunLogUpsert`` (validated, datetimes
  parsed): DTO construction is inside the measurement. This is the figure the workload is
  about.
- ``ours_async``: the same through the async API.
- ``boto3_batch_writer``: the resource's ``batch_writer``, each dict's floats turned into
  Decimals first (boto3 refuses floats) and stamped with ``created_at``, ``updated_at`` and
  ``version`` as ``batch_upsert`` stamps them, so every table holds the same items.
- ``aiodynamo``: its ``batch_write`` per 25 items, at most 32 in flight, the same stamped
  dicts.
- ``pydynox_fanout``: pydynox's async ``batch_write`` per 25 items, at most 32 in flight.

The peers validate nothing; they are given dicts already in the stored shape. After each
client the table is scanned (unmeasured) and every item compared with its source: keys,
status, counts, metrics, and the datetimes as instants. ``CPU µs/item`` is the client
process's CPU (``time.process_time``, all threads: the facade's loop thread and pydynox's
Rust threads included) over the items.

``--server scripted`` puts the scripted DynamoDB (``_scripted_dynamodb.py``) behind the proxy
instead of DynamoDB Local, whose upkeep of the two GSIs otherwise shares the cores with the
client being measured.

    .venv/bin/python benchmarks/bench_domain.py [--items 20000] [--delay-ms 10] [--runs 5]
        [--only a,b] [--server dynamodb-local|scripted]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import bench_batch as bench
from _bench_report import (
    Phase,
    Round,
    exit_status,
    print_phases,
    print_round,
    print_summary,
    run_in_child,
)
from boto3.dynamodb.types import TypeDeserializer

import dynamodb_wrapper_async as aio
import dynamodb_wrapper_sync as blocking

STARTED = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.timezone.utc)
STAMP = "2026-12-03T12:00:00.000000Z"  # the peers' created_at / updated_at


def make_run_log(n: int) -> dict[str, Any]:
    """The n-th run log as a pipeline has it: a JSON-shaped dict."""
    start = STARTED + dt.timedelta(seconds=37 * n)
    failed = n % 10 == 0
    return {
        "run_id": f"run-{n:08d}",
        "pipeline_id": f"pipeline-{n % 50:03d}",
        "status": "failed" if failed else "success",
        "start_time": start.isoformat(),
        "end_time": (start + dt.timedelta(seconds=30 + n % 90)).isoformat(),
        "duration_seconds": 30 + n % 90 + 0.25,
        "records_processed": 1_000 + n,
        "records_failed": n % 7,
        "error_message": "upstream file missing" if failed else None,
        "metrics": {
            "rows_in": 1_000 + n,
            "rows_out": 1_000 + n - n % 7,
            "bytes_read": 4_096 * (n % 1_000 + 1),
            "stage_seconds": {"extract": 1.5, "transform": 12.25, "load": 3.75},
            "source": f"s3://landing/{n % 50:03d}/part-{n:08d}.parquet",
        },
        "ttl": int((start + dt.timedelta(days=90)).timestamp()),
    }


def make_run_logs(count: int) -> list[dict[str, Any]]:
    return [make_run_log(n) for n in range(count)]


def decimals(value: Any) -> Any:
    """Floats as Decimals, in nested maps and lists too: what boto3 takes."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decimals(v) for v in value]
    return value


def stamped(log: dict[str, Any]) -> dict[str, Any]:
    """A run log as ``batch_upsert`` stores it, for the peers: managed fields added, no null."""
    item = {k: v for k, v in log.items() if v is not None}
    item.update(created_at=STAMP, updated_at=STAMP, version=1)
    return item


# ------------------------------------------------------------------ checking what was stored
def comparable(item: dict[str, Any]) -> dict[str, Any]:
    """An item's fields compared across clients: numbers by value, datetimes as instants."""

    def norm(value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float | Decimal):
            return Decimal(str(value)).normalize()
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value

    out = {k: norm(item.get(k)) for k in make_run_log(0) if k not in {"start_time", "end_time"}}
    for key in ("start_time", "end_time"):
        out[key] = dt.datetime.fromisoformat(item[key]).astimezone(dt.timezone.utc)
    out["version"] = norm(item.get("version"))
    return out


def check_stored(endpoint: str, table: str, logs: list[dict[str, Any]], phase: Phase) -> None:
    """Scan the table (unmeasured): every run log once, as given."""
    client, deserializer = bench.boto3_client(endpoint), TypeDeserializer()
    stored = [
        {k: deserializer.deserialize(v) for k, v in item.items()}
        for page in client.get_paginator("scan").paginate(TableName=table)
        for item in page["Items"]
    ]
    client.close()
    expected = {log["run_id"]: comparable({**log, "version": 1}) for log in logs}
    got = {item["run_id"]: comparable(item) for item in stored}
    missing = len(expected.keys() - got.keys())
    wrong = sum(1 for k, v in expected.items() if k in got and got[k] != v)
    if missing or wrong or len(stored) != len(logs):
        phase.ok, phase.note = False, f"{len(stored)} stored, {missing} missing, {wrong} different"


# ------------------------------------------------------------------ the clients
# Each writes every run log into `table` (a fresh pipeline_run_logs table) at `endpoint` and
# measures its "write" phase in `out`, its connection opened first.
Runner = Callable[[str, str, list[dict[str, Any]], dict[str, Phase]], None]
WARM_UP_KEY = [("warm-up", "none")]


def library_config(endpoint: str, table: str) -> aio.DynamoDBConfig:
    return bench.library_config(endpoint, table, "pipeline_run_logs")


def run_ours_sync(
    endpoint: str, table: str, logs: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    config = library_config(endpoint, table)
    write = blocking.PipelineRunLogsWriteApi(config)
    blocking.PipelineRunLogsReadApi(config).batch_get(WARM_UP_KEY)  # loop thread, pooled client
    with bench.measured(out, "write", len(logs)):
        write.batch_upsert(blocking.PipelineRunLogUpsert(**log) for log in logs)


def run_ours_async(
    endpoint: str, table: str, logs: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    config = library_config(endpoint, table)

    async def main() -> None:
        write = aio.PipelineRunLogsWriteApi(config)
        await aio.PipelineRunLogsReadApi(config).batch_get(WARM_UP_KEY)
        with bench.measured(out, "write", len(logs)):
            await write.batch_upsert(aio.PipelineRunLogUpsert(**log) for log in logs)
        await aio.close_clients()

    asyncio.run(main())


def run_boto3_batch_writer(
    endpoint: str, table: str, logs: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    resource = bench.boto3.resource(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", **bench.CREDENTIALS
    )
    dynamo_table = resource.Table(table)
    dynamo_table.get_item(Key={"run_id": "warm-up", "pipeline_id": "none"})
    with bench.measured(out, "write", len(logs)), dynamo_table.batch_writer() as writer:
        for log in logs:
            writer.put_item(Item=decimals(stamped(log)))


def run_aiodynamo(
    endpoint: str, table: str, logs: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    import aiohttp
    from aiodynamo.client import Client
    from aiodynamo.credentials import Key as AwsKey
    from aiodynamo.credentials import StaticCredentials
    from aiodynamo.http.aiohttp import AIOHTTP
    from aiodynamo.models import BatchGetRequest, BatchWriteRequest
    from yarl import URL

    async def main() -> None:
        connector = aiohttp.TCPConnector(limit=32)
        async with aiohttp.ClientSession(connector=connector) as session:
            credentials = StaticCredentials(
                AwsKey(
                    bench.CREDENTIALS["aws_access_key_id"],
                    bench.CREDENTIALS["aws_secret_access_key"],
                )
            )
            client = Client(AIOHTTP(session), credentials, "us-east-1", endpoint=URL(endpoint))
            limit = asyncio.Semaphore(32)

            async def write(chunk: list[dict[str, Any]]) -> None:
                async with limit:
                    pending = [stamped(log) for log in chunk]
                    while pending:
                        result = await client.batch_write(
                            {table: BatchWriteRequest(items_to_put=pending)}
                        )
                        pending = result[table].unput_items if table in result else []

            await client.batch_get(
                {
                    table: BatchGetRequest(
                        keys=[dict(zip(("run_id", "pipeline_id"), WARM_UP_KEY[0], strict=True))]
                    )
                }
            )
            with bench.measured(out, "write", len(logs)):
                await asyncio.gather(*map(write, bench.chunks(logs, 25)))

    asyncio.run(main())


def run_pydynox_fanout(
    endpoint: str, table: str, logs: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    async def main() -> None:
        client = bench.pydynox_client(endpoint)
        limit = asyncio.Semaphore(32)

        async def write(chunk: list[dict[str, Any]]) -> None:
            async with limit:
                await client.batch_write(table, put_items=[stamped(log) for log in chunk])

        await client.batch_get(table, [{"run_id": "warm-up", "pipeline_id": "none"}])
        with bench.measured(out, "write", len(logs)):
            await asyncio.gather(*map(write, bench.chunks(logs, 25)))

    asyncio.run(main())


CLIENTS: dict[str, Runner] = {
    "boto3_batch_writer": run_boto3_batch_writer,
    "aiodynamo": run_aiodynamo,
    "pydynox_fanout": run_pydynox_fanout,
    "ours_sync": run_ours_sync,
    "ours_async": run_ours_async,
}


# ------------------------------------------------------------------ orchestration
def tables(direct: str, table: str, *, create: bool) -> None:
    """Create (or delete) the library's pipeline_run_logs table, GSIs included, named ``table``."""
    config = library_config(direct, table)

    async def main() -> None:
        if create:
            await aio.create_tables(config, [aio.PipelineRunLog])
        else:
            await aio.delete_tables(config, [aio.PipelineRunLog])
        await aio.close_clients()

    asyncio.run(main())


def run_round(
    number: int, order: list[str], direct: str, proxied: str, logs: list[dict[str, Any]]
) -> Round:
    results: Round = {}
    for name in order:
        table = f"d_{name}_r{number}_pipeline_run_logs"
        tables(direct, table, create=True)
        out = run_isolated(name, proxied, table, len(logs))
        if "write" in out:
            check_stored(direct, table, logs, out["write"])
        tables(direct, table, create=False)
        results[name] = out
        gc.collect()
        print(f"  run {number}: done {name}", flush=True)
    return results


def run_client(name: str, endpoint: str, table: str, items: int) -> dict[str, Phase]:
    """Run one client's write of ``items`` run logs; an error is its phase's note."""
    out: dict[str, Phase] = {}
    try:
        CLIENTS[name](endpoint, table, make_run_logs(items), out)
    except Exception as error:
        out["error"] = Phase(1, 0, items, ok=False, note=repr(error)[:160])
    return out


def run_isolated(name: str, endpoint: str, table: str, items: int) -> dict[str, Phase]:
    """``run_client`` in a fresh interpreter (see ``run_in_child``)."""
    return run_in_child(__file__, [name, endpoint, table, str(items)], items)


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--child":  # run_isolated's call
        name, endpoint, table, items = sys.argv[2:]
        print_phases(run_client(name, endpoint, table, int(items)))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5, help="rounds, in rotated client order")
    parser.add_argument("--only", default="", help="comma-separated client names")
    parser.add_argument("--server", choices=bench.SERVERS, default="dynamodb-local")
    args = parser.parse_args()
    chosen = [c for c in CLIENTS if not args.only or c in args.only.split(",")]
    if not chosen or args.runs < 1 or args.items < 2:
        parser.error("need at least one known client, --runs >= 1 and --items >= 2")
    logs = make_run_logs(args.items)
    print(
        f"{args.items} run logs as dicts; one-way proxy delay {args.delay_ms} ms; "
        f"{args.runs} runs; {os.cpu_count()} cores; server: {args.server}"
    )
    rounds: list[Round] = []
    server = bench.dynamodb_server(args.server)
    with server as direct, bench.latency_proxy(direct, args.delay_ms) as proxied:
        bench.warm_up_server(direct, bench.make_items(5_000))
        for number in range(args.runs):
            shift = number % len(chosen)
            order = chosen[shift:] + chosen[:shift]
            rounds.append(run_round(number + 1, order, direct, proxied, logs))
            print_round(number + 1, order, rounds[-1], ("write",), "ours_sync")
    titles = {"write": "RUN LOGS from dicts, batch_upsert (DTO built per item), through the proxy"}
    print_summary([{n: r[n] for n in chosen} for r in rounds], titles, ("write",), "ours_sync")
    return exit_status(rounds)


if __name__ == "__main__":
    sys.exit(main())
