"""Batch write/read throughput and client CPU: this library against boto3 and aiodynamo.

One run starts DynamoDB Local and a latency proxy (separate processes), then for each client
writes N items (~500 bytes, 10 attributes incl. a nested map, given as plain dicts) into a
fresh table, reads them all back by key, and verifies both. A client that loses an item is
reported as FAILED and makes the script exit 1.

    .venv/bin/python benchmarks/bench_batch.py [--items 20000] [--delay-ms 3] [--only a,b]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from _servers import CREDENTIALS, dynamodb_local, free_port  # noqa: E402

import dynamodb_wrapper_async as aio  # noqa: E402
import dynamodb_wrapper_sync as blocking  # noqa: E402
from dynamodb_wrapper_async import DynamoModel, ReadApi, ViewModel, WriteApi, WriteModel  # noqa: E402
from dynamodb_wrapper_sync._runner import run as run_on_loop_thread  # noqa: E402


# ------------------------------------------------------------------ the item and its models
def make_items(count: int) -> list[dict[str, Any]]:
    return [
        {
            "pk": f"item-{n:08d}",
            "name": f"dataset number {n} of the nightly load",
            "category": ("orders", "customers", "events", "payments")[n % 4],
            "count": n * 7,
            "price": round(n * 0.37, 2),
            "active": n % 3 != 0,
            "tags": ["etl", f"batch-{n % 17}", "daily"],
            "attrs": {"owner": "data-platform", "retries": n % 5, "path": f"s3://bucket/{n}"},
            "note": "x" * 180,
            "seq": n,
        }
        for n in range(count)
    ]


class BenchItem(DynamoModel):
    pk: str
    name: str
    category: str
    count: int
    price: float
    active: bool
    tags: list[str]
    attrs: dict[str, Any]
    note: str
    seq: int

    class Meta:
        table_name = "bench"
        partition_key = "pk"


class BenchView(ViewModel):
    pk: str | None = None
    name: str | None = None
    category: str | None = None
    count: int | None = None
    price: float | None = None
    active: bool | None = None
    tags: list[str] | None = None
    attrs: dict[str, Any] | None = None
    note: str | None = None
    seq: int | None = None


class BenchUpsert(WriteModel):
    pk: str
    name: str
    category: str
    count: int
    price: float
    active: bool
    tags: list[str]
    attrs: dict[str, Any]
    note: str
    seq: int


class BenchReadApi(ReadApi[BenchItem, BenchView]):
    model = BenchItem
    view = BenchView


class BenchWriteApi(WriteApi[BenchItem, BenchUpsert]):
    model = BenchItem
    upsert_model = BenchUpsert


# ------------------------------------------------------------------ measuring
@dataclass
class Phase:
    wall: float
    cpu: float
    items: int
    ok: bool
    note: str = ""


@contextmanager
def measured(result: dict[str, Phase], name: str, items: int) -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"ok": True, "note": ""}
    wall, cpu = time.perf_counter(), time.process_time()
    yield state
    result[name] = Phase(
        time.perf_counter() - wall, time.process_time() - cpu, items, state["ok"], state["note"]
    )


def normalise(item: dict[str, Any]) -> dict[str, Any]:
    """Compare stored and source items by value (numbers as Decimal, sets/lists as lists)."""

    def norm(value: Any) -> Any:
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float | Decimal):
            return Decimal(str(value)).normalize()
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [norm(v) for v in value]
        return value

    return {k: norm(item.get(k)) for k in BenchUpsert.model_fields}


def verify(source: list[dict[str, Any]], read: list[dict[str, Any]], state: dict[str, Any]) -> None:
    expected = {i["pk"]: normalise(i) for i in source}
    got = {i["pk"]: normalise(i) for i in read}
    missing = len(expected.keys() - got.keys())
    wrong = sum(1 for k, v in expected.items() if k in got and got[k] != v)
    if missing or wrong or len(got) != len(expected):
        state["ok"] = False
        state["note"] = f"{missing} missing, {wrong} different"


def count_stored(endpoint: str, table: str) -> int:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    total, start = 0, None
    while True:
        kwargs: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = client.scan(**kwargs)
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            client.close()
            return total


# ------------------------------------------------------------------ the clients
def chunks(seq: list[Any], size: int) -> list[list[Any]]:
    return [seq[i : i + size] for i in range(0, len(seq), size)]


def to_boto3(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "price": Decimal(str(item["price"]))}  # boto3 refuses floats


def run_boto3_batch_writer(
    endpoint: str, table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    resource = boto3.resource(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS
    )
    dynamo_table = resource.Table(table)
    with measured(out, "write", len(items)), dynamo_table.batch_writer() as writer:
        for item in items:
            writer.put_item(Item=to_boto3(item))
    read: list[dict[str, Any]] = []
    with measured(out, "read", len(items)) as state:
        for chunk in chunks([i["pk"] for i in items], 100):
            request: dict[str, Any] = {table: {"Keys": [{"pk": k} for k in chunk]}}
            while request:
                response = resource.batch_get_item(RequestItems=request)
                read.extend(response["Responses"].get(table, []))
                request = response.get("UnprocessedKeys") or {}
        verify(items, read, state)


def run_boto3_threads(
    endpoint: str, table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=boto3.session.Config(max_pool_connections=16),
        **CREDENTIALS,
    )
    serializer, deserializer = TypeSerializer(), TypeDeserializer()

    def write(chunk: list[dict[str, Any]]) -> None:
        requests = [
            {"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in to_boto3(i).items()}}}
            for i in chunk
        ]
        while requests:
            response = client.batch_write_item(RequestItems={table: requests})
            requests = response.get("UnprocessedItems", {}).get(table, [])

    def read(keys: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        pending: list[dict[str, Any]] = [{"pk": {"S": k}} for k in keys]
        while pending:
            response = client.batch_get_item(RequestItems={table: {"Keys": pending}})
            found.extend(
                {k: deserializer.deserialize(v) for k, v in item.items()}
                for item in response["Responses"].get(table, [])
            )
            pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        return found

    with ThreadPoolExecutor(8) as pool:
        with measured(out, "write", len(items)):
            list(pool.map(write, chunks(items, 25)))
        with measured(out, "read", len(items)) as state:
            pages = list(pool.map(read, chunks([i["pk"] for i in items], 100)))
            verify(items, [i for page in pages for i in page], state)


def run_aiobotocore(
    endpoint: str, table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    import aioboto3

    serializer, deserializer = TypeSerializer(), TypeDeserializer()

    async def main() -> None:
        session = aioboto3.Session(region_name="us-east-1", **CREDENTIALS)
        async with session.client("dynamodb", endpoint_url=endpoint) as client:
            limit = asyncio.Semaphore(32)

            async def write(chunk: list[dict[str, Any]]) -> None:
                requests = [
                    {
                        "PutRequest": {
                            "Item": {k: serializer.serialize(v) for k, v in to_boto3(i).items()}
                        }
                    }
                    for i in chunk
                ]
                async with limit:
                    while requests:
                        response = await client.batch_write_item(RequestItems={table: requests})
                        requests = response.get("UnprocessedItems", {}).get(table, [])

            async def read(keys: list[str]) -> list[dict[str, Any]]:
                found: list[dict[str, Any]] = []
                pending: list[dict[str, Any]] = [{"pk": {"S": k}} for k in keys]
                async with limit:
                    while pending:
                        response = await client.batch_get_item(
                            RequestItems={table: {"Keys": pending}}
                        )
                        found.extend(
                            {k: deserializer.deserialize(v) for k, v in item.items()}
                            for item in response["Responses"].get(table, [])
                        )
                        pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
                return found

            with measured(out, "write", len(items)):
                await asyncio.gather(*(write(c) for c in chunks(items, 25)))
            with measured(out, "read", len(items)) as state:
                pages = await asyncio.gather(
                    *(read(c) for c in chunks([i["pk"] for i in items], 100))
                )
                verify(items, [i for page in pages for i in page], state)

    asyncio.run(main())


def run_aiodynamo(
    endpoint: str, table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    import aiohttp
    from aiodynamo.client import Client
    from aiodynamo.credentials import Key, StaticCredentials
    from aiodynamo.http.aiohttp import AIOHTTP
    from aiodynamo.models import BatchGetRequest, BatchWriteRequest
    from yarl import URL

    async def main() -> None:
        connector = aiohttp.TCPConnector(limit=32)
        async with aiohttp.ClientSession(connector=connector) as session:
            credentials = StaticCredentials(
                Key(CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"])
            )
            client = Client(AIOHTTP(session), credentials, "us-east-1", endpoint=URL(endpoint))
            limit = asyncio.Semaphore(32)

            async def write(chunk: list[dict[str, Any]]) -> None:
                pending = list(chunk)
                async with limit:
                    while pending:
                        result = await client.batch_write(
                            {table: BatchWriteRequest(items_to_put=pending)}
                        )
                        pending = result[table].unput_items if table in result else []

            async def read(keys: list[str]) -> list[dict[str, Any]]:
                found: list[dict[str, Any]] = []
                pending = [{"pk": k} for k in keys]
                async with limit:
                    while pending:
                        response = await client.batch_get({table: BatchGetRequest(keys=pending)})
                        found.extend(response.items.get(table, []))
                        pending = response.unprocessed_keys.get(table, [])
                return found

            with measured(out, "write", len(items)):
                await asyncio.gather(*(write(c) for c in chunks(items, 25)))
            with measured(out, "read", len(items)) as state:
                pages = await asyncio.gather(
                    *(read(c) for c in chunks([i["pk"] for i in items], 100))
                )
                verify(items, [i for page in pages for i in page], state)
            with measured(out, "scan", len(items)) as state:
                scanned = [i async for i in client.scan(table)]
                if len(scanned) != len(items):
                    state.update(ok=False, note=f"scanned {len(scanned)}")

    asyncio.run(main())


def library_config(endpoint: str, table: str) -> aio.DynamoDBConfig:
    return aio.DynamoDBConfig(
        endpoint_url=endpoint,
        region_name="us-east-1",
        table_prefix=table.removesuffix("bench"),
        max_concurrency=32,
        **CREDENTIALS,
    )


def run_ours_async(
    endpoint: str, table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    config = library_config(endpoint, table)

    async def main() -> None:
        write, read = BenchWriteApi(config), BenchReadApi(config)
        await read.batch_get(["warm-up"])  # opens the pooled client, as the others do first
        with measured(out, "write", len(items)):
            await write.batch_upsert(BenchUpsert(**i) for i in items)
        with measured(out, "read", len(items)) as state:
            views = await read.batch_get([i["pk"] for i in items])
            verify(items, [v.__dict__ for v in views], state)  # fields as they are, no copy
        with measured(out, "scan", len(items)) as state:
            scanned = [v async for v in read.scan_iter(segments=4)]
            if len(scanned) != len(items):
                state.update(ok=False, note=f"scanned {len(scanned)}")
        await aio.close_clients()

    asyncio.run(main())


def run_ours_sync(
    endpoint: str, table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    config = library_config(endpoint, table)
    write, read = blocking.WriteApi(BenchWriteApi(config)), blocking.ReadApi(BenchReadApi(config))
    read.batch_get(["warm-up"])  # starts the loop thread and opens the pooled client
    with measured(out, "write", len(items)):
        write.batch_upsert(BenchUpsert(**i) for i in items)
    with measured(out, "read", len(items)) as state:
        views = read.batch_get([i["pk"] for i in items])
        verify(items, [v.__dict__ for v in views], state)  # fields as they are, no copy


def run_boto3_scan(
    endpoint: str, table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    deserializer = TypeDeserializer()
    with measured(out, "scan", len(items)) as state:
        scanned = [
            {k: deserializer.deserialize(v) for k, v in item.items()}
            for page in client.get_paginator("scan").paginate(TableName=table)
            for item in page["Items"]
        ]
        if len(scanned) != len(items):
            state.update(ok=False, note=f"scanned {len(scanned)}")


CLIENTS: dict[str, Callable[[str, str, list[dict[str, Any]], dict[str, Phase]], None]] = {
    "boto3_batch_writer": run_boto3_batch_writer,
    "boto3_8_threads": run_boto3_threads,
    "aiobotocore_gather": run_aiobotocore,
    "aiodynamo": run_aiodynamo,
    "ours_async": run_ours_async,
    "ours_sync": run_ours_sync,
}


# ------------------------------------------------------------------ orchestration
@contextmanager
def latency_proxy(target: str, delay_ms: float) -> Iterator[str]:
    port, target_port = free_port(), int(target.rsplit(":", 1)[1])
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("_latency_proxy.py")),
            str(port),
            str(target_port),
            str(delay_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if process.stdout is None or process.stdout.readline().strip() != "ready":
            msg = "latency proxy did not start"
            raise RuntimeError(msg)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout:
            process.stdout.close()


def create_table(endpoint: str, name: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    client.get_waiter("table_exists").wait(TableName=name)
    client.close()


def warm_up_server(endpoint: str, items: list[dict[str, Any]]) -> None:
    """Write and read a table once, unmeasured: DynamoDB Local's JVM is slow until warm."""
    create_table(endpoint, "b_warm_up")
    dynamo_table = boto3.resource(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS
    ).Table("b_warm_up")
    with dynamo_table.batch_writer() as writer:
        for item in items:
            writer.put_item(Item=to_boto3(item))
    scanned = sum(
        page["Count"]
        for page in dynamo_table.meta.client.get_paginator("scan").paginate(TableName="b_warm_up")
    )
    if scanned != len(items):
        msg = f"warm-up table holds {scanned} of {len(items)} items"
        raise RuntimeError(msg)


def sync_overhead(endpoint: str, rounds: int = 8, calls: int = 60) -> tuple[float, float, float]:
    """Median µs of one get_by_id through the sync facade and the async API, and the facade's
    own cost per call.

    DynamoDB Local's JVM keeps speeding up as it warms, so both are warmed first and then
    measured in alternating rounds. Server latency varies by more than the facade costs, so
    its own cost is also measured paired: each call's time in the caller minus the time the
    same coroutine took on the loop thread.
    """
    config = library_config(endpoint, "b_boto3_batch_writer_bench")
    key = "item-00000001"
    sync_api = blocking.ReadApi(BenchReadApi(config))
    loop = asyncio.new_event_loop()
    async_api = BenchReadApi(config)
    paired: list[float] = []

    async def async_calls(count: int) -> list[float]:
        times = []
        for _ in range(count):
            start = time.perf_counter()
            await async_api.get_by_id(key)
            times.append(time.perf_counter() - start)
        return times

    async def on_loop_thread(inner: list[float]) -> None:
        start = time.perf_counter()
        await sync_api.async_api.get_by_id(key)
        inner.append(time.perf_counter() - start)

    def sync_calls(count: int) -> list[float]:
        times = []
        for _ in range(count):
            start = time.perf_counter()
            sync_api.get_by_id(key)
            times.append(time.perf_counter() - start)
            inner: list[float] = []
            start = time.perf_counter()
            run_on_loop_thread(on_loop_thread(inner))
            paired.append(time.perf_counter() - start - inner[0])
        return times

    try:
        sync_calls(300)
        loop.run_until_complete(async_calls(300))
        paired.clear()
        sync_times: list[float] = []
        async_times: list[float] = []
        for _ in range(rounds):
            sync_times += sync_calls(calls)
            async_times += loop.run_until_complete(async_calls(calls))
    finally:
        loop.run_until_complete(aio.close_clients())
        loop.close()
    return (
        statistics.median(sync_times) * 1e6,
        statistics.median(async_times) * 1e6,
        statistics.median(paired) * 1e6,
    )


def report(title: str, results: dict[str, dict[str, Phase]], phase: str, base: str) -> None:
    print(f"\n{title}")
    print(f"{'client':<22}{'wall s':>9}{'items/s':>10}{'CPU µs/item':>13}{'vs ' + base:>28}")
    base_phase = results.get(base, {}).get(phase)
    for name, phases in results.items():
        if phase not in phases:
            continue
        p = phases[phase]
        rate = p.items / p.wall
        ratio = f"{rate / (base_phase.items / base_phase.wall):.2f}x" if base_phase else "-"
        status = "" if p.ok else f"  FAILED ({p.note})"
        cpu = p.cpu / p.items * 1e6
        print(f"{name:<22}{p.wall:>9.2f}{rate:>10.0f}{cpu:>13.1f}{ratio:>28}{status}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--delay-ms", type=float, default=3.0)
    parser.add_argument("--only", default="", help="comma-separated client names")
    parser.add_argument("--skip-aiodynamo", action="store_true")
    args = parser.parse_args()
    chosen = [c for c in CLIENTS if not args.only or c in args.only.split(",")]
    if args.skip_aiodynamo and "aiodynamo" in chosen:
        chosen.remove("aiodynamo")
    items = make_items(args.items)
    print(
        f"{args.items} items, ~{len(repr(items[0]))} bytes each; "
        f"one-way proxy delay {args.delay_ms} ms; {os.cpu_count()} cores"
    )
    results: dict[str, dict[str, Phase]] = {}
    with dynamodb_local() as direct, latency_proxy(direct, args.delay_ms) as proxied:
        warm_up_server(direct, items[: min(len(items), 5_000)])
        for name in chosen:
            table = f"b_{name}_bench"
            create_table(direct, table)
            out: dict[str, Phase] = {}
            try:
                CLIENTS[name](proxied, table, items, out)
            except Exception as error:
                out.setdefault("write", Phase(1, 0, len(items), ok=False, note=repr(error)[:120]))
            stored = count_stored(direct, table)
            if stored != len(items) and "write" in out:
                out["write"].ok, out["write"].note = False, f"{stored} of {len(items)} stored"
            results[name] = out
            gc.collect()
            print(f"  done: {name}", flush=True)
        scan_results: dict[str, dict[str, Phase]] = {}
        if "boto3_batch_writer" in results:
            out = {}
            run_boto3_scan(proxied, "b_boto3_batch_writer_bench", items, out)
            scan_results["boto3_scan_1_segment"] = out
        for name in ("aiodynamo", "ours_async"):
            if name in results and "scan" in results[name]:
                scan_results[f"{name}{'_4_segments' if name == 'ours_async' else '_scan'}"] = {
                    "scan": results[name]["scan"]
                }
        overhead = sync_overhead(direct) if "boto3_batch_writer" in results else None
    report("WRITE (batch, through the proxy)", results, "write", "boto3_batch_writer")
    report("READ (batch_get by key, through the proxy)", results, "read", "boto3_batch_writer")
    report("SCAN (whole table, through the proxy)", scan_results, "scan", "boto3_scan_1_segment")
    if overhead:
        print(
            f"\nget_by_id median, direct to DynamoDB Local: sync facade {overhead[0]:.0f} µs, "
            f"async API {overhead[1]:.0f} µs, facade adds {overhead[0] - overhead[1]:.0f} µs; "
            f"paired, the facade's own cost per call is {overhead[2]:.0f} µs"
        )
    failed = [
        n
        for n, phases in {**results, **scan_results}.items()
        if any(not p.ok for p in phases.values())
    ]
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
