"""Client CPU per written item with a capacity budget off and on, in one run.

The batch engine writes N items through ``WriteApi.batch_upsert`` to an in-process scripted
DynamoDB (``MockSender``: the real JSON encoding and answer parsing, no socket), which
reports ConsumedCapacity as DynamoDB does. "off" has no budget (the batch still asks for and
adds up ConsumedCapacity: every ``BatchResult`` reports it); "on" has a budget so high that
it never waits, so the difference is the cost of the token bucket and the charge per
request. Runs alternate off/on (and on/off) so that drift hits both alike; the medians and
the per-pair differences are printed.

    .venv/bin/python benchmarks/bench_capacity.py [--items 20000] [--runs 6]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
import uuid
from typing import Any

from dynamodb_wrapper_async import (
    CapacityBudget,
    DynamoDBConfig,
    DynamoModel,
    WriteApi,
    WriteModel,
)
from dynamodb_wrapper_async._engine.capacity import charge_for
from dynamodb_wrapper_async._wire.mock import MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender


class Row(DynamoModel):
    pk: str
    name: str
    count: int
    note: str

    class Meta:
        table_name = "bench_capacity"
        partition_key = "pk"


class RowUpsert(WriteModel):
    pk: str
    name: str
    count: int
    note: str


class Rows(WriteApi[Row, RowUpsert]):
    model = Row
    upsert_model = RowUpsert


async def answer(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    if operation != "BatchWriteItem":
        raise AssertionError(operation)
    ((table, items),) = request["RequestItems"].items()
    units = float(len(items))
    return {
        "UnprocessedItems": {},
        "ConsumedCapacity": [
            {"TableName": table, "CapacityUnits": units, "Table": {"CapacityUnits": units}}
        ],
    }


def one_run(count: int, budget: CapacityBudget | None) -> float:
    """CPU µs per item of one batch_upsert of ``count`` items (DTOs built beforehand)."""
    config = DynamoDBConfig(table_prefix=f"b{uuid.uuid4().hex[:6]}_")
    items = [
        RowUpsert(pk=f"k{n:08d}", name=f"row {n}", count=n, note="x" * 200) for n in range(count)
    ]

    async def main() -> float:
        install_sender(config, MockSender(answer))
        try:
            gc.collect()
            started = time.process_time()
            result = await Rows(config).batch_upsert(items, capacity=budget)
            spent = time.process_time() - started
        finally:
            await close_clients(config)
        if result.processed != count or result.consumed_capacity.write_units != count:
            raise AssertionError(result)
        return spent * 1e6 / count

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    never_waits = CapacityBudget(write_units=1e9, read_units=1e9)
    one_run(2000, None)  # warm-up: imports, caches
    one_run(2000, never_waits)
    off: list[float] = []
    on: list[float] = []
    for run in range(args.runs):
        order = [(None, off), (never_waits, on)]
        if run % 2:
            order.reverse()
        for budget, sink in order:
            sink.append(one_run(args.items, budget))
    pairs = [b - a for a, b in zip(off, on, strict=True)]
    print(f"{args.items} items per run, {args.runs} runs each, alternating order")
    for name, runs in (("budget off", off), ("budget on ", on)):
        shown = [round(x, 2) for x in runs]
        print(f"{name}  CPU µs/item: median {statistics.median(runs):6.2f}  runs {shown}")
    print(f"on - off    CPU µs/item: median {statistics.median(pairs):+6.2f} (per pair)")
    alone = charge_alone()
    print(f"the charge alone (bucket + settle per 25-item request) / 25: {alone:.3f} µs/item")


def charge_alone(requests: int = 200_000) -> float:
    """CPU µs per item of what a budget adds per request, with nothing else around it."""
    config = DynamoDBConfig(table_prefix=f"c{uuid.uuid4().hex[:6]}_")
    answer = {"ConsumedCapacity": [{"TableName": "t", "CapacityUnits": 25.0}]}

    async def main() -> float:
        charge = charge_for(config, "t", "write", CapacityBudget(write_units=1e12))
        assert charge is not None  # noqa: S101
        await charge.prepare()
        started = time.process_time()
        for _ in range(requests):
            await charge.acquire(25.0)
            charge.settle(answer, 25.0)
        return (time.process_time() - started) * 1e6 / requests / 25

    return asyncio.run(main())


if __name__ == "__main__":
    main()
