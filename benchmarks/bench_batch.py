"""Batch write/read, query and scan throughput and client CPU: this library against its peers.

One run starts DynamoDB Local and a latency proxy (separate processes), then repeats ``--runs``
rounds. In each round every client (in an order rotated by one client per round, each in a
fresh interpreter, so none runs on the heap of those before it) writes N items
(~500 bytes, 10 attributes incl. a nested map, given as plain dicts) into a fresh table, reads
them all back by key, queries every item of each of the 4 categories from a query table (key
category + pk, filled unmeasured for the round) and scans its own table; everything is verified.
A client that loses or alters an item is reported as FAILED and makes the script exit 1.

    .venv/bin/python benchmarks/bench_batch.py [--items 20000] [--delay-ms 3] [--runs 5]
        [--only a,b]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from _bench_report import (  # noqa: E402
    Phase,
    Round,
    exit_status,
    print_phases,
    print_round,
    print_summary,
    run_in_child,
)
from _servers import CREDENTIALS, dynamodb_local, free_port  # noqa: E402

import dynamodb_wrapper_async as aio  # noqa: E402
import dynamodb_wrapper_sync as blocking  # noqa: E402
from dynamodb_wrapper_async import DynamoModel, ReadApi, ViewModel, WriteApi, WriteModel  # noqa: E402
from dynamodb_wrapper_sync._runner import run as run_on_loop_thread  # noqa: E402

# ------------------------------------------------------------------ the item and its models
CATEGORIES = ("orders", "customers", "events", "payments")


def make_item(n: int) -> dict[str, Any]:
    """The n-th bench item: ~500 bytes, 10 attributes incl. a nested map and a list."""
    return {
        "pk": f"item-{n:08d}",
        "name": f"dataset number {n} of the nightly load",
        "category": CATEGORIES[n % 4],
        "count": n * 7,
        "price": round(n * 0.37, 2),
        "active": n % 3 != 0,
        "tags": ["etl", f"batch-{n % 17}", "daily"],
        "attrs": {"owner": "data-platform", "retries": n % 5, "path": f"s3://bucket/{n}"},
        "note": "x" * 180,
        "seq": n,
    }


def make_items(count: int) -> list[dict[str, Any]]:
    return [make_item(n) for n in range(count)]


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


class QueryItem(DynamoModel):
    """The same item in the query table, whose key is (category, pk): one partition each."""

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
        partition_key = "category"
        sort_key = "pk"


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


class QueryReadApi(ReadApi[QueryItem, BenchView]):
    model = QueryItem
    view = BenchView


class BenchWriteApi(WriteApi[BenchItem, BenchUpsert]):
    model = BenchItem
    upsert_model = BenchUpsert


# ------------------------------------------------------------------ measuring
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


def check_read(source: list[dict[str, Any]], read: list[dict[str, Any]], phase: Phase) -> None:
    """After the measured read phase: every key found, every item as written."""
    state: dict[str, Any] = {"ok": True, "note": ""}
    verify(source, read, state)
    phase.ok, phase.note = state["ok"], state["note"]


def check_query(
    source: list[dict[str, Any]], groups: dict[str, list[dict[str, Any]]], phase: Phase
) -> None:
    """After the measured query phase: each category whole, every item as written."""
    state: dict[str, Any] = {"ok": True, "note": ""}
    wrong = [c for c, got in groups.items() if any(i["category"] != c for i in got)]
    if sorted(groups) != sorted(CATEGORIES) or wrong:
        state.update(ok=False, note=f"categories {sorted(groups)}, wrong items in {wrong}")
    else:
        verify(source, [i for got in groups.values() for i in got], state)
    phase.ok, phase.note = state["ok"], state["note"]


def check_scan(source: list[dict[str, Any]], scanned: list[dict[str, Any]], phase: Phase) -> None:
    """After the measured scan phase: every item once, as written."""
    state: dict[str, Any] = {"ok": True, "note": ""}
    if len(scanned) != len(source):
        state.update(ok=False, note=f"scanned {len(scanned)} of {len(source)}")
    else:
        verify(source, scanned, state)
    phase.ok, phase.note = state["ok"], state["note"]


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
# Each client gets its own fresh table and the round's query table; it measures its phases in
# `out` (write, read, query, scan). Query: every item of each of the 4 categories, all pages,
# the 4 categories at once where the client is concurrent. Scan: 4 segments in parallel where
# the client supports it (boto3_batch_writer's one-segment paginator is the base).
Queried = dict[str, list[dict[str, Any]]]


def chunks(seq: list[Any], size: int) -> list[list[Any]]:
    return [seq[i : i + size] for i in range(0, len(seq), size)]


def to_boto3(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "price": Decimal(str(item["price"]))}  # boto3 refuses floats


def boto3_client(endpoint: str, pool: int = 10) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=boto3.session.Config(max_pool_connections=pool),
        **CREDENTIALS,
    )


def run_boto3_batch_writer(
    endpoint: str, table: str, query_table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    resource = boto3.resource(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS
    )
    dynamo_table = resource.Table(table)
    with measured(out, "write", len(items)), dynamo_table.batch_writer() as writer:
        for item in items:
            writer.put_item(Item=to_boto3(item))
    read: list[dict[str, Any]] = []
    with measured(out, "read", len(items)):
        for chunk in chunks([i["pk"] for i in items], 100):
            request: dict[str, Any] = {table: {"Keys": [{"pk": k} for k in chunk]}}
            while request:
                response = resource.batch_get_item(RequestItems=request)
                read.extend(response["Responses"].get(table, []))
                request = response.get("UnprocessedKeys") or {}
    check_read(items, read, out["read"])
    groups: Queried = {}
    by_category = resource.Table(query_table)
    with measured(out, "query", len(items)):
        for category in CATEGORIES:
            found, kwargs = groups.setdefault(category, []), {}
            while True:
                page = by_category.query(
                    KeyConditionExpression=Key("category").eq(category), **kwargs
                )
                found.extend(page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    check_query(items, groups, out["query"])
    client, deserializer = boto3_client(endpoint), TypeDeserializer()
    with measured(out, "scan", len(items)):  # the low-level paginator, one segment: the base
        scanned = [
            {k: deserializer.deserialize(v) for k, v in item.items()}
            for page in client.get_paginator("scan").paginate(TableName=table)
            for item in page["Items"]
        ]
    check_scan(items, scanned, out["scan"])


def run_boto3_threads(
    endpoint: str, table: str, query_table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    client = boto3_client(endpoint, pool=16)
    serializer, deserializer = TypeSerializer(), TypeDeserializer()

    def plain(item: dict[str, Any]) -> dict[str, Any]:
        return {k: deserializer.deserialize(v) for k, v in item.items()}

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
            found.extend(plain(item) for item in response["Responses"].get(table, []))
            pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        return found

    def query(category: str) -> list[dict[str, Any]]:
        pages = client.get_paginator("query").paginate(
            TableName=query_table,
            KeyConditionExpression="category = :c",
            ExpressionAttributeValues={":c": {"S": category}},
        )
        return [plain(item) for page in pages for item in page["Items"]]

    def scan(segment: int) -> list[dict[str, Any]]:
        pages = client.get_paginator("scan").paginate(
            TableName=table, Segment=segment, TotalSegments=4
        )
        return [plain(item) for page in pages for item in page["Items"]]

    with ThreadPoolExecutor(8) as pool:
        with measured(out, "write", len(items)):
            list(pool.map(write, chunks(items, 25)))
        with measured(out, "read", len(items)):
            pages = list(pool.map(read, chunks([i["pk"] for i in items], 100)))
        check_read(items, [i for page in pages for i in page], out["read"])
        with measured(out, "query", len(items)):
            groups = dict(zip(CATEGORIES, pool.map(query, CATEGORIES), strict=True))
        check_query(items, groups, out["query"])
        with measured(out, "scan", len(items)):
            segments = list(pool.map(scan, range(4)))
        check_scan(items, [i for s in segments for i in s], out["scan"])


def run_aiobotocore(
    endpoint: str, table: str, query_table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    import aioboto3

    serializer, deserializer = TypeSerializer(), TypeDeserializer()

    def plain(item: dict[str, Any]) -> dict[str, Any]:
        return {k: deserializer.deserialize(v) for k, v in item.items()}

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
                        found.extend(plain(item) for item in response["Responses"].get(table, []))
                        pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
                return found

            async def query(category: str) -> list[dict[str, Any]]:
                pages = client.get_paginator("query").paginate(
                    TableName=query_table,
                    KeyConditionExpression="category = :c",
                    ExpressionAttributeValues={":c": {"S": category}},
                )
                return [plain(item) async for page in pages for item in page["Items"]]

            async def scan(segment: int) -> list[dict[str, Any]]:
                pages = client.get_paginator("scan").paginate(
                    TableName=table, Segment=segment, TotalSegments=4
                )
                return [plain(item) async for page in pages for item in page["Items"]]

            with measured(out, "write", len(items)):
                await asyncio.gather(*(write(c) for c in chunks(items, 25)))
            with measured(out, "read", len(items)):
                pages = await asyncio.gather(
                    *(read(c) for c in chunks([i["pk"] for i in items], 100))
                )
            check_read(items, [i for page in pages for i in page], out["read"])
            with measured(out, "query", len(items)):
                groups = dict(
                    zip(CATEGORIES, await asyncio.gather(*map(query, CATEGORIES)), strict=True)
                )
            check_query(items, groups, out["query"])
            with measured(out, "scan", len(items)):
                segments = await asyncio.gather(*map(scan, range(4)))
            check_scan(items, [i for s in segments for i in s], out["scan"])

    asyncio.run(main())


def run_aiodynamo(
    endpoint: str, table: str, query_table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    import aiohttp
    from aiodynamo.client import Client
    from aiodynamo.credentials import Key as AwsKey
    from aiodynamo.credentials import StaticCredentials
    from aiodynamo.expressions import HashKey
    from aiodynamo.http.aiohttp import AIOHTTP
    from aiodynamo.models import BatchGetRequest, BatchWriteRequest
    from yarl import URL

    async def main() -> None:
        connector = aiohttp.TCPConnector(limit=32)
        async with aiohttp.ClientSession(connector=connector) as session:
            credentials = StaticCredentials(
                AwsKey(CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"])
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

            async def query(category: str) -> list[dict[str, Any]]:
                return [i async for i in client.query(query_table, HashKey("category", category))]

            with measured(out, "write", len(items)):
                await asyncio.gather(*(write(c) for c in chunks(items, 25)))
            with measured(out, "read", len(items)):
                pages = await asyncio.gather(
                    *(read(c) for c in chunks([i["pk"] for i in items], 100))
                )
            check_read(items, [i for page in pages for i in page], out["read"])
            with measured(out, "query", len(items)):
                groups = dict(
                    zip(CATEGORIES, await asyncio.gather(*map(query, CATEGORIES)), strict=True)
                )
            check_query(items, groups, out["query"])
            with measured(out, "scan", len(items)):  # aiodynamo has no parallel scan
                scanned = [i async for i in client.scan(table)]
            check_scan(items, scanned, out["scan"])

    asyncio.run(main())


def pydynox_client(endpoint: str) -> Any:
    from pydynox import DynamoDBClient

    # its "slow operation" warnings (a page over 100 ms, common through the proxy) would go to
    # stderr through logging's last-resort handler; an application would configure logging
    logging.getLogger("pydynox").setLevel(logging.ERROR)
    return DynamoDBClient(
        region="us-east-1",
        access_key=CREDENTIALS["aws_access_key_id"],
        secret_key=CREDENTIALS["aws_secret_access_key"],
        endpoint_url=endpoint,
    )


async def pydynox_query_scan(
    client: Any, table: str, query_table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    """pydynox's async query (4 categories at once) and its parallel scan in 4 segments."""

    async def query(category: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await client.query(
            query_table,
            "#c = :c",
            expression_attribute_names={"#c": "category"},
            expression_attribute_values={":c": category},
        ).to_list()
        return found

    with measured(out, "query", len(items)):
        groups = dict(zip(CATEGORIES, await asyncio.gather(*map(query, CATEGORIES)), strict=True))
    check_query(items, groups, out["query"])
    with measured(out, "scan", len(items)):
        scanned, _ = await client.parallel_scan(table, total_segments=4)
    check_scan(items, scanned, out["scan"])


def run_pydynox(
    endpoint: str, table: str, query_table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    """pydynox's own batch calls: one batch_write of every item, one batch_get of every key
    (each sends its 25- or 100-item chunks one after another), its query and parallel scan."""

    async def main() -> None:
        client = pydynox_client(endpoint)
        await client.batch_get(table, [{"pk": "warm-up"}])  # opens its connection first
        with measured(out, "write", len(items)):
            await client.batch_write(table, put_items=items)
        with measured(out, "read", len(items)):
            read = await client.batch_get(table, [{"pk": i["pk"]} for i in items])
        check_read(items, read, out["read"])
        await pydynox_query_scan(client, table, query_table, items, out)

    asyncio.run(main())


def run_pydynox_fanout(
    endpoint: str, table: str, query_table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    """pydynox's async batch calls, one per 25-item (write) or 100-key (read) chunk, at most
    32 in flight as ours. No query or scan phase: `pydynox` already runs those concurrently,
    and the same calls twice would only make two samples of one peer."""

    async def main() -> None:
        client = pydynox_client(endpoint)
        limit = asyncio.Semaphore(32)

        async def write(chunk: list[dict[str, Any]]) -> None:
            async with limit:
                await client.batch_write(table, put_items=chunk)

        async def read(keys: list[str]) -> list[dict[str, Any]]:
            async with limit:
                found: list[dict[str, Any]] = await client.batch_get(
                    table, [{"pk": k} for k in keys]
                )
                return found

        await client.batch_get(table, [{"pk": "warm-up"}])
        with measured(out, "write", len(items)):
            await asyncio.gather(*map(write, chunks(items, 25)))
        with measured(out, "read", len(items)):
            pages = await asyncio.gather(*map(read, chunks([i["pk"] for i in items], 100)))
        check_read(items, [i for page in pages for i in page], out["read"])

    asyncio.run(main())


def library_config(endpoint: str, table: str, model_table: str = "bench") -> aio.DynamoDBConfig:
    """The library's config for ``table``: its prefix followed by the model's table name."""
    return aio.DynamoDBConfig(
        endpoint_url=endpoint,
        region_name="us-east-1",
        table_prefix=table.removesuffix(model_table),
        max_concurrency=32,
        **CREDENTIALS,
    )


def run_ours_async(
    endpoint: str, table: str, query_table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    config = library_config(endpoint, table)

    async def main() -> None:
        write, read = BenchWriteApi(config), BenchReadApi(config)
        queries = QueryReadApi(library_config(endpoint, query_table))
        await read.batch_get(["warm-up"])  # opens the pooled client, as the others do first

        async def query(category: str) -> list[dict[str, Any]]:
            stream = queries.query_by_composite_key_range_iter("category", category)
            return [v.__dict__ async for v in stream]

        with measured(out, "write", len(items)):
            await write.batch_upsert(BenchUpsert(**i) for i in items)
        with measured(out, "read", len(items)):
            views = await read.batch_get([i["pk"] for i in items])
        check_read(items, [v.__dict__ for v in views], out["read"])  # fields as they are, no copy
        with measured(out, "query", len(items)):
            groups = dict(
                zip(CATEGORIES, await asyncio.gather(*map(query, CATEGORIES)), strict=True)
            )
        check_query(items, groups, out["query"])
        with measured(out, "scan", len(items)):
            scanned = [v async for v in read.scan_iter(segments=4)]
        check_scan(items, [v.__dict__ for v in scanned], out["scan"])
        await aio.close_clients()

    asyncio.run(main())


def run_ours_sync(
    endpoint: str, table: str, query_table: str, items: list[dict[str, Any]], out: dict[str, Phase]
) -> None:
    config = library_config(endpoint, table)
    write, read = blocking.WriteApi(BenchWriteApi(config)), blocking.ReadApi(BenchReadApi(config))
    queries = blocking.ReadApi(QueryReadApi(library_config(endpoint, query_table)))
    read.batch_get(["warm-up"])  # starts the loop thread and opens the pooled client
    with measured(out, "write", len(items)):
        write.batch_upsert(BenchUpsert(**i) for i in items)
    with measured(out, "read", len(items)):
        views = read.batch_get([i["pk"] for i in items])
    check_read(items, [v.__dict__ for v in views], out["read"])  # fields as they are, no copy
    with measured(out, "query", len(items)):  # one category after another: a blocking caller
        groups = {
            c: [v.__dict__ for v in queries.query_by_composite_key_range_iter("category", c)]
            for c in CATEGORIES
        }
    check_query(items, groups, out["query"])
    with measured(out, "scan", len(items)):
        scanned = [v.__dict__ for v in read.scan_iter(segments=4)]
    check_scan(items, scanned, out["scan"])


Runner = Callable[[str, str, str, list[dict[str, Any]], dict[str, Phase]], None]
CLIENTS: dict[str, Runner] = {
    "boto3_batch_writer": run_boto3_batch_writer,
    "boto3_8_threads": run_boto3_threads,
    "aiobotocore_gather": run_aiobotocore,
    "aiodynamo": run_aiodynamo,
    "pydynox": run_pydynox,
    "pydynox_fanout": run_pydynox_fanout,
    "ours_async": run_ours_async,
    "ours_sync": run_ours_sync,
}


# ------------------------------------------------------------------ orchestration
@contextmanager
def server_process(script: str, *args: str) -> Iterator[str]:
    """Run ``script`` (beside this file) on a free port until it prints "ready"; yield its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name(script)), str(port), *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if process.stdout is None or process.stdout.readline().strip() != "ready":
            msg = f"{script} did not start"
            raise RuntimeError(msg)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout:
            process.stdout.close()


def latency_proxy(target: str, delay_ms: float) -> AbstractContextManager[str]:
    """The latency proxy in front of ``target``, ``delay_ms`` each way."""
    return server_process("_latency_proxy.py", target.rsplit(":", 1)[1], str(delay_ms))


#: What ``dynamodb_server`` runs: DynamoDB Local, or the scripted DynamoDB, which costs a few
#: µs per item, so that a benchmark on cores it shares measures the clients, not the server.
SERVERS = ("dynamodb-local", "scripted")


def dynamodb_server(kind: str) -> AbstractContextManager[str]:
    """Run DynamoDB Local (``dynamodb-local``) or ``_scripted_dynamodb.py`` (``scripted``);
    yield its URL."""
    if kind == "scripted":
        return server_process("_scripted_dynamodb.py")
    return dynamodb_local()


def create_table(endpoint: str, name: str, *, by_category: bool = False) -> None:
    """A bench table (key pk), or with ``by_category`` a query table (key category + pk)."""
    keys = [("category", "HASH"), ("pk", "RANGE")] if by_category else [("pk", "HASH")]
    client = boto3_client(endpoint)
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
    )
    client.get_waiter("table_exists").wait(TableName=name)
    client.close()


def delete_table(endpoint: str, name: str) -> None:
    client = boto3_client(endpoint)
    client.delete_table(TableName=name)
    client.close()


def fill(endpoint: str, table: str, items: list[dict[str, Any]]) -> None:
    """Write items unmeasured, straight to DynamoDB Local (4 threads), and check the count."""
    client = boto3_client(endpoint)
    serializer = TypeSerializer()

    def write(chunk: list[dict[str, Any]]) -> None:
        requests = [
            {"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in to_boto3(i).items()}}}
            for i in chunk
        ]
        while requests:
            response = client.batch_write_item(RequestItems={table: requests})
            requests = response.get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, chunks(items, 25)))
    client.close()
    stored = count_stored(endpoint, table)
    if stored != len(items):
        msg = f"{table} holds {stored} of {len(items)} items"
        raise RuntimeError(msg)


WARM_UP_TABLE = "b_warm_up_bench"


def warm_up_server(endpoint: str, items: list[dict[str, Any]]) -> None:
    """Write and scan a table once, unmeasured: DynamoDB Local's JVM is slow until warm. The
    table stays for the sync facade's get_by_id measurement."""
    create_table(endpoint, WARM_UP_TABLE)
    fill(endpoint, WARM_UP_TABLE, items)


def sync_overhead(
    endpoint: str, table: str, rounds: int = 8, calls: int = 60
) -> tuple[float, float, float]:
    """Median µs of one get_by_id through the sync facade and the async API, and the facade's
    own cost per call.

    DynamoDB Local's JVM keeps speeding up as it warms, so both are warmed first and then
    measured in alternating rounds. Server latency varies by more than the facade costs, so
    its own cost is also measured paired: each call's time in the caller minus the time the
    same coroutine took on the loop thread.
    """
    config = library_config(endpoint, table)
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


def run_round(
    number: int, order: list[str], direct: str, proxied: str, items: list[dict[str, Any]]
) -> Round:
    """Every client in ``order``, each on a fresh table and in a fresh interpreter (see
    ``run_in_child``), all querying one fresh query table."""
    query_table = f"b_query_r{number}_bench"
    create_table(direct, query_table, by_category=True)
    fill(direct, query_table, items)
    results: Round = {}
    for name in order:
        table = f"b_{name}_r{number}_bench"
        create_table(direct, table)
        out = run_in_child(
            __file__, [name, proxied, table, query_table, str(len(items))], len(items)
        )
        stored = count_stored(direct, table)
        if stored != len(items) and "write" in out:
            out["write"].ok, out["write"].note = False, f"{stored} of {len(items)} stored"
        delete_table(direct, table)
        results[name] = out
        gc.collect()
        print(f"  run {number}: done {name}", flush=True)
    delete_table(direct, query_table)
    return results


TITLES = {
    "write": "WRITE (batch, through the proxy)",
    "read": "READ (batch_get by key, through the proxy)",
    "query": "QUERY (every item of 4 categories, paged, through the proxy)",
    "scan": "SCAN (whole table: 4 segments where supported, aiodynamo 1; base boto3 1 segment)",
}


def run_client(
    name: str, endpoint: str, table: str, query_table: str, count: int
) -> dict[str, Phase]:
    """Run one client's phases on ``count`` bench items; an error is its phase's note."""
    out: dict[str, Phase] = {}
    try:
        CLIENTS[name](endpoint, table, query_table, make_items(count), out)
    except Exception as error:
        out["error"] = Phase(1, 0, count, ok=False, note=repr(error)[:160])
    return out


def main() -> int:
    if len(sys.argv) == 7 and sys.argv[1] == "--child":  # run_in_child's call
        name, endpoint, table, query_table, count = sys.argv[2:]
        print_phases(run_client(name, endpoint, table, query_table, int(count)))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--delay-ms", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=5, help="rounds, in rotated client order")
    parser.add_argument("--only", default="", help="comma-separated client names")
    parser.add_argument("--skip-aiodynamo", action="store_true")
    args = parser.parse_args()
    chosen = [c for c in CLIENTS if not args.only or c in args.only.split(",")]
    if args.skip_aiodynamo and "aiodynamo" in chosen:
        chosen.remove("aiodynamo")
    if not chosen or args.runs < 1 or args.items < 2:
        parser.error("need at least one known client, --runs >= 1 and --items >= 2")
    items = make_items(args.items)
    print(
        f"{args.items} items, ~{len(repr(items[0]))} bytes each; "
        f"one-way proxy delay {args.delay_ms} ms; {args.runs} runs; {os.cpu_count()} cores"
    )
    rounds: list[Round] = []
    with dynamodb_local() as direct, latency_proxy(direct, args.delay_ms) as proxied:
        warm_up_server(direct, items[: min(len(items), 5_000)])
        for number in range(args.runs):
            shift = number % len(chosen)
            order = chosen[shift:] + chosen[:shift]
            rounds.append(run_round(number + 1, order, direct, proxied, items))
            print_round(number + 1, order, rounds[-1])
        overhead = sync_overhead(direct, WARM_UP_TABLE) if "ours_sync" in chosen else None
    print_summary([{n: r[n] for n in chosen} for r in rounds], TITLES)
    if overhead:
        print(
            f"\nget_by_id median, direct to DynamoDB Local: sync facade {overhead[0]:.0f} µs, "
            f"async API {overhead[1]:.0f} µs, facade adds {overhead[0] - overhead[1]:.0f} µs; "
            f"paired, the facade's own cost per call is {overhead[2]:.0f} µs"
        )
    return exit_status(rounds)


if __name__ == "__main__":
    sys.exit(main())
