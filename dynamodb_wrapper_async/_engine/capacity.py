"""Capacity budgets: one token bucket per (process, endpoint, table, direction), and the
charge of one call against it.

A request waits for its estimated units before it is sent; once answered, the bucket is
corrected with what DynamoDB reported (``ReturnConsumedCapacity=INDEXES``), so the budget
is held to what was really consumed. The bucket may go into debt (a page of a scan costs
more than its estimate): the next callers wait it off. Buckets are bound to no event loop:
a reservation is computed under a thread lock and the wait is a sleep on the caller's own
loop, so every loop of the process (``asyncio.run`` per call, the sync facade's thread)
shares them.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._capacity import CapacityBudget, ConsumedCapacity, Direction
from ..config import DynamoDBConfig
from ..exceptions import CapacityError, ValidationError
from . import gateway as _gateway
from .retry import loop_time

__all__ = ["Charge", "TokenBucket", "bucket_for", "charge_for", "config_budget"]

#: DynamoDB's unit sizes: a write unit per 1 KB, a read unit per 4 KB (strongly consistent).
_WRITE_UNIT_BYTES = 1024
#: The least a scanned item may be taken to cost (a read unit covers 8 KB at best).
_SMALLEST_READ = 1 / 1024
#: A streamed page under a read budget costs at most about 1/_PAGE_SHARE of its bucket.
_PAGE_SHARE = 4


class TokenBucket:
    """``rate`` units per second, holding at most one second of them (the burst).

    It starts empty: a new budget grants no burst beyond its rate. The level may go below
    zero (a reported consumption above the estimate); callers then wait until it is repaid.
    """

    def __init__(self, rate: float, *, clock: Callable[[], float] = loop_time) -> None:
        self.rate = rate
        self.level = 0.0
        self._clock = clock
        self._updated: float | None = None
        self._lock = threading.Lock()

    @property
    def capacity(self) -> float:
        """The most units the bucket ever holds (one second of its rate)."""
        return self.rate

    def _refill(self) -> None:
        now = self._clock()
        if self._updated is None or now < self._updated:  # another loop's clock: no credit
            self._updated = now
        self.level = min(self.capacity, self.level + (now - self._updated) * self.rate)
        self._updated = now

    def set_rate(self, rate: float) -> None:
        """Use ``rate`` from now on (the last budget given for a table wins)."""
        with self._lock:
            if rate != self.rate:
                self._refill()
                self.rate = rate
                self.level = min(self.level, self.capacity)

    def reserve(self, units: float) -> float:
        """Take ``units`` now; return the seconds to wait before using them."""
        with self._lock:
            self._refill()
            need = min(units, self.capacity)
            wait = max(0.0, (need - self.level) / self.rate)
            self.level -= units
            return wait

    def adjust(self, units: float) -> None:
        """Take ``units`` more (a negative number gives them back)."""
        with self._lock:
            self._refill()
            self.level = min(self.capacity, self.level - units)

    async def acquire(self, units: float, *, whole: bool = True) -> float:
        """Wait until ``units`` may be used; return the seconds waited.

        With ``whole=False`` (a chunk of many items, a page) more units than the bucket holds
        wait for a full bucket and leave the rest as debt, for the next callers to wait off.

        Raises:
            CapacityError: ``whole`` and ``units`` exceeds what the bucket can ever hold.
        """
        if whole and units > self.capacity:
            msg = (
                f"one request needs {units:g} capacity units but the budget allows only "
                f"{self.capacity:g} per second"
            )
            raise CapacityError(msg)
        wait = self.reserve(units)
        if wait > 0:
            try:
                await asyncio.sleep(wait)
            except BaseException:
                self.adjust(-units)  # cancelled: the units were not used
                raise
        return wait


_buckets: dict[tuple[str, str, Direction], TokenBucket] = {}
_throughput: dict[tuple[str, str], Mapping[str, Any]] = {}
_registry_lock = threading.Lock()


def _forget_after_fork() -> None:
    """A forked child (a Spark worker) starts with buckets of its own and a free lock."""
    global _registry_lock  # noqa: PLW0603 - the lock may have been held at the fork
    _buckets.clear()
    _registry_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def _endpoint(config: DynamoDBConfig) -> str:
    return config.endpoint_url or f"aws:{config.region_name}"


def bucket_for(
    config: DynamoDBConfig, table: str, direction: Direction, rate: float
) -> TokenBucket:
    """Return the process's bucket of ``table`` and ``direction`` (made on first use)."""
    key = (_endpoint(config), table, direction)
    with _registry_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = _buckets[key] = TokenBucket(rate)
            return bucket
    bucket.set_rate(rate)
    return bucket


def config_budget(config: DynamoDBConfig) -> CapacityBudget | None:
    """The budget a config sets for every call, or None."""
    fields = (
        config.read_capacity_percent,
        config.write_capacity_percent,
        config.max_read_units_per_second,
        config.max_write_units_per_second,
    )
    if all(value is None for value in fields):
        return None
    return CapacityBudget(*fields)


async def _table_rate(
    config: DynamoDBConfig, table: str, direction: Direction, percent: float
) -> float:
    """``percent`` of the table's own capacity, from DescribeTable (once per process)."""
    key = (_endpoint(config), table)
    description = _throughput.get(key)
    if description is None:
        response = await _gateway.call(config, "DescribeTable", {"TableName": table}, table=table)
        description = _throughput[key] = response.get("Table", {})
    mode = (description.get("BillingModeSummary") or {}).get("BillingMode")
    provisioned = description.get("ProvisionedThroughput") or {}
    name = "ReadCapacityUnits" if direction == "read" else "WriteCapacityUnits"
    units = provisioned.get(name) or 0
    if mode == "PAY_PER_REQUEST" or not units:
        on_demand = description.get("OnDemandThroughput") or {}
        units = on_demand.get(
            "MaxReadRequestUnits" if direction == "read" else "MaxWriteRequestUnits"
        )
        if not units or units < 0:
            msg = (
                f"{table} is on-demand without a maximum {direction} throughput: a percentage "
                f"of it means nothing; give max_{direction}_units_per_second instead"
            )
            raise CapacityError(msg, table=table)
    return float(units) * percent / 100.0


@dataclass
class Charge:
    """One call's charge on one table and direction: its bucket (when limited) and meter."""

    config: DynamoDBConfig
    table: str
    direction: Direction
    budget: CapacityBudget | None
    meter: ConsumedCapacity = field(default_factory=ConsumedCapacity)
    bucket: TokenBucket | None = field(default=None, repr=False)
    #: Units of the last page read: the estimate of the next one.
    last_units: float = 1.0
    #: Read units per item scanned, as last reported (at first: a 4 KB item).
    units_per_item: float = 0.5

    async def prepare(self) -> None:
        """Resolve the budget to units per second and find the table's bucket."""
        if self.budget is None or self.bucket is not None:
            return
        units, percent = self.budget.limit(self.direction)
        if units is None and percent is None:
            return
        rate = (
            units
            if units is not None
            else await _table_rate(self.config, self.table, self.direction, percent or 0.0)
        )
        self.bucket = bucket_for(self.config, self.table, self.direction, rate)
        if self.direction == "read":  # a first page is cut to about this (page_params)
            self.last_units = self.bucket.capacity / _PAGE_SHARE

    def check(self, units: float, what: str) -> None:
        """Raise CapacityError if ``units`` (one item) can never fit the budget."""
        if self.bucket is not None and units > self.bucket.capacity:
            msg = (
                f"{what} needs {units:g} {self.direction} units but the budget of {self.table} "
                f"allows only {self.bucket.capacity:g} per second"
            )
            raise CapacityError(msg, table=self.table)

    async def acquire(self, units: float) -> float:
        """Wait for ``units`` (a full bucket at most, the rest as debt); return the wait."""
        await self.prepare()
        if self.bucket is None:
            return 0.0
        return await self.bucket.acquire(units, whole=False)

    def settle(self, answer: Mapping[str, Any] | None, estimate: float) -> float:
        """Record the ConsumedCapacity an answer reported; correct the bucket by it."""
        reported = (answer or {}).get("ConsumedCapacity")
        entries = reported if isinstance(reported, list) else [reported] if reported else []
        own = 0.0
        for entry in entries:
            if isinstance(entry, Mapping):
                own += self.meter.record(entry, self.direction)
        if self.bucket is not None:
            self.bucket.adjust(own - estimate)
        if entries:
            self.last_units = max(own, 0.5)
            scanned = (answer or {}).get("ScannedCount")
            if isinstance(scanned, int) and scanned > 0:
                self.units_per_item = max(own / scanned, _SMALLEST_READ)
        return own

    def page_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Cap a streamed page's ``Limit`` so that it costs about a quarter of the bucket.

        A 1 MB page costs 128 read units: against a budget of 100 units per second, whole
        pages would arrive in lumps with debt between them. Pages of a quarter of the budget
        keep the rate smooth; the size per item is learnt from the pages read so far.
        """
        if self.bucket is None:
            return params
        items = max(1, int(self.bucket.capacity / _PAGE_SHARE / self.units_per_item))
        return {**params, "Limit": min(items, params.get("Limit", items))}

    def estimate(self, operation: str, params: Mapping[str, Any]) -> float:
        """The units a request will probably consume (corrected once it is answered)."""
        if operation == "BatchWriteItem":
            items = params.get("RequestItems", {}).get(self.table, [])
            return float(sum(write_units(item) for item in items))
        if operation == "BatchGetItem":
            request = params.get("RequestItems", {}).get(self.table, {})
            per_key = 1.0 if request.get("ConsistentRead") else 0.5
            return per_key * len(request.get("Keys", []))
        if operation in ("Query", "Scan"):
            return self.last_units
        if operation == "GetItem":
            return 1.0 if params.get("ConsistentRead") else 0.5
        return 1.0


def write_units(request: object) -> int:
    """Write units of one encoded batch request: 1 per started KB of its JSON."""
    size = len(request) if isinstance(request, bytes | str) else _WRITE_UNIT_BYTES
    return max(1, math.ceil(size / _WRITE_UNIT_BYTES))


def charge_for(
    config: DynamoDBConfig,
    table: str,
    direction: Direction,
    capacity: CapacityBudget | None = None,
    *,
    meter: bool = True,
) -> Charge | None:
    """The charge of one call: the call's budget, else the config's; None when the call
    neither is limited nor reports what it consumed (single writes without a budget)."""
    given: object = capacity
    if given is not None and not isinstance(given, CapacityBudget):
        msg = f"capacity must be a CapacityBudget or None, got {type(given).__name__}"
        raise ValidationError(msg, table=table)
    budget = capacity if capacity is not None else config_budget(config)
    if budget is not None and not budget.limits(direction):
        budget = None
    if budget is None and not meter:
        return None
    return Charge(config, table, direction, budget)
