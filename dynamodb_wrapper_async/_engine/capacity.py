"""Capacity budgets: one token bucket per (process, endpoint, table or index, direction),
and the charge of one call against it.

A request waits for its estimated units before it is sent; once answered, the bucket is
corrected with what DynamoDB reported (``ReturnConsumedCapacity=INDEXES``), so the budget
is held to what was really consumed. A write also consumes the write capacity of each GSI
it changes: under a percentage, every GSI with capacity of its own has a bucket at that
percentage of it, charged with the units DynamoDB reported for the index, and a write waits
until each of them has room for its share (learnt from the answers so far). A bucket may
go into debt (a page of a scan costs more than its estimate): the next callers wait it off.
Buckets are bound to no event loop: a reservation is computed under a thread lock and the
wait is a sleep on the caller's own loop, so every loop of the process (``asyncio.run`` per
call, the sync facade's thread) shares them.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._capacity import CapacityBudget, ConsumedCapacity, Direction, reported_units
from ..config import DynamoDBConfig
from ..exceptions import CapacityError, ValidationError
from . import gateway as _gateway
from .retry import loop_time

__all__ = ["Charge", "Reservation", "TokenBucket", "bucket_for", "charge_for", "config_budget"]

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

    def room_in(self, units: float) -> float:
        """The seconds until the bucket holds ``units`` (a full bucket at most); take none."""
        with self._lock:
            self._refill()
            return max(0.0, (min(units, self.capacity) - self.level) / self.rate)

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


_buckets: dict[tuple[str, str, str | None, Direction], TokenBucket] = {}
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
    config: DynamoDBConfig,
    table: str,
    direction: Direction,
    rate: float,
    index: str | None = None,
) -> TokenBucket:
    """Return the process's bucket of ``table`` (or its ``index``) and ``direction`` (made
    on first use)."""
    key = (_endpoint(config), table, index, direction)
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


async def _describe(config: DynamoDBConfig, table: str) -> Mapping[str, Any]:
    """The table's description, from DescribeTable (once per process)."""
    key = (_endpoint(config), table)
    description = _throughput.get(key)
    if description is None:
        response = await _gateway.call(config, "DescribeTable", {"TableName": table}, table=table)
        description = _throughput[key] = response.get("Table", {})
    return description


def _units_of(
    resource: Mapping[str, Any], direction: Direction, *, on_demand: bool
) -> float | None:
    """A table's or a GSI's capacity in ``direction`` (None: it declares none)."""
    if not on_demand:
        provisioned = resource.get("ProvisionedThroughput") or {}
        name = "ReadCapacityUnits" if direction == "read" else "WriteCapacityUnits"
        units = provisioned.get(name)
        if units:
            return float(units)
    maximum = (resource.get("OnDemandThroughput") or {}).get(
        "MaxReadRequestUnits" if direction == "read" else "MaxWriteRequestUnits"
    )
    return float(maximum) if maximum and maximum > 0 else None


def _gsis(description: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        str(gsi.get("IndexName")): gsi for gsi in description.get("GlobalSecondaryIndexes") or ()
    }


def _is_on_demand(description: Mapping[str, Any]) -> bool:
    mode = (description.get("BillingModeSummary") or {}).get("BillingMode")
    return mode == "PAY_PER_REQUEST"


def _table_rate(
    description: Mapping[str, Any],
    table: str,
    direction: Direction,
    percent: float,
    index: str | None = None,
) -> float:
    """``percent`` of the capacity of ``table`` (or of its GSI ``index``, for reads of it)."""
    on_demand = _is_on_demand(description)
    units = _units_of(description, direction, on_demand=on_demand)
    gsi = _gsis(description).get(index) if index is not None else None
    if gsi is not None:  # an index read consumes the index's capacity; else the table's
        units = _units_of(gsi, direction, on_demand=on_demand) or units
    if units is None:
        msg = (
            f"{table} is on-demand without a maximum {direction} throughput: a percentage "
            f"of it means nothing; give max_{direction}_units_per_second instead"
        )
        raise CapacityError(msg, table=table)
    return units * percent / 100.0


def _gsi_write_rates(description: Mapping[str, Any], percent: float) -> dict[str, float]:
    """``percent`` of each GSI's own write capacity, for the GSIs that declare one."""
    on_demand = _is_on_demand(description)
    rates = {}
    for name, gsi in _gsis(description).items():
        units = _units_of(gsi, "write", on_demand=on_demand)
        if units is not None:
            rates[name] = units * percent / 100.0
    return rates


@dataclass(frozen=True, slots=True)
class Reservation:
    """What one request took from its buckets before it was sent (corrected, once answered,
    to what DynamoDB reported).

    Attributes:
        units: Units taken from the table's (or the read index's) bucket.
        waited: Seconds the request waited for them.
        indexes: ``(GSI, units)`` taken from each GSI's bucket (writes under a percentage).
    """

    units: float
    waited: float = 0.0
    indexes: tuple[tuple[str, float], ...] = ()


@dataclass
class Charge:
    """One call's charge on one table and direction: its bucket (when limited) and meter."""

    config: DynamoDBConfig
    table: str
    direction: Direction
    budget: CapacityBudget | None
    meter: ConsumedCapacity = field(default_factory=ConsumedCapacity)
    bucket: TokenBucket | None = field(default=None, repr=False)
    #: Reads of a GSI: the index read (its own capacity under a percentage).
    index: str | None = None
    #: Writes under a percentage: each GSI's bucket, and its units per unit of the table's.
    index_buckets: dict[str, TokenBucket] = field(default_factory=dict, repr=False)
    index_shares: dict[str, float] = field(default_factory=dict, repr=False)
    #: Units of the last page read: the estimate of the next one.
    last_units: float = 1.0
    #: Read units per item scanned, as last reported (at first: a 4 KB item).
    units_per_item: float = 0.5

    async def prepare(self) -> None:
        """Resolve the budget to units per second and find the buckets it draws on."""
        if self.budget is None or self.bucket is not None:
            return
        units, percent = self.budget.limit(self.direction)
        if units is None and percent is None:
            return
        if units is not None:  # absolute units: every unit of the table, indexes included
            self.bucket = bucket_for(self.config, self.table, self.direction, units)
        else:
            description = await _describe(self.config, self.table)
            rate = _table_rate(description, self.table, self.direction, percent or 0.0, self.index)
            self.bucket = bucket_for(self.config, self.table, self.direction, rate, self.index)
            if self.direction == "write":
                for name, gsi_rate in _gsi_write_rates(description, percent or 0.0).items():
                    self.index_buckets[name] = bucket_for(
                        self.config, self.table, "write", gsi_rate, name
                    )
                    self.index_shares[name] = 0.0  # until an answer says how much
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

    async def acquire(self, units: float) -> Reservation:
        """Take ``units`` (a full bucket at most, the rest as debt) and wait until they may
        be used; then the same for their share of each GSI's bucket.

        The GSIs come second so that their shares are the ones learnt from the latest
        answers: a request waits its turn on the table first, and many that wait at once
        must not take a GSI's units at a share the first answers will correct.
        """
        await self.prepare()
        if self.bucket is None:
            return Reservation(units)
        reservation = Reservation(units, self.bucket.reserve(units))
        await self._wait(reservation)
        if not self.index_buckets:
            return reservation
        taken = tuple((name, units * share) for name, share in self.index_shares.items())
        wait = max(self.index_buckets[name].reserve(share) for name, share in taken)
        reservation = Reservation(units, reservation.waited + wait, taken)
        await self._wait(reservation, wait)
        return reservation

    async def _wait(self, reservation: Reservation, wait: float | None = None) -> None:
        """Sleep ``wait`` seconds (else the reservation's); cancelled, give its units back."""
        wait = reservation.waited if wait is None else wait
        if wait > 0:
            try:
                await asyncio.sleep(wait)
            except BaseException:
                self.settle(None, reservation)  # cancelled: the units were not used
                raise

    def settle(self, answer: Mapping[str, Any] | None, reservation: Reservation) -> float:
        """Record the ConsumedCapacity an answer reported (None: nothing was consumed);
        correct the buckets from what ``reservation`` took to what was reported."""
        reported = (answer or {}).get("ConsumedCapacity")
        entries = reported if isinstance(reported, list) else [reported] if reported else []
        own = 0.0
        changed: dict[str, float] = {}
        for entry in entries:
            if isinstance(entry, Mapping):
                units = self.meter.record(entry, self.direction)
                own += units
                if self.index_buckets and entry.get("TableName") == self.table:
                    changed = self._index_units(entry, units)
        if self.bucket is not None:
            self.bucket.adjust(own - reservation.units)
        for name, taken in reservation.indexes:
            self.index_buckets[name].adjust(changed.get(name, 0.0) - taken)
        if entries:
            self.last_units = max(own, 0.5)
            scanned = (answer or {}).get("ScannedCount")
            if isinstance(scanned, int) and scanned > 0:
                self.units_per_item = max(own / scanned, _SMALLEST_READ)
        return own

    def _index_units(self, entry: Mapping[str, Any], own: float) -> dict[str, float]:
        """The write units an entry reports for each budgeted GSI; learn their shares."""
        reported = entry.get("GlobalSecondaryIndexes") or {}
        changed = {}
        for name in self.index_buckets:
            index = reported.get(name)
            units = reported_units(index, "write") if isinstance(index, Mapping) else 0.0
            changed[name] = units
            if own > 0:
                self.index_shares[name] = units / own
        return changed

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
    index: str | None = None,
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
    return Charge(config, table, direction, budget, index=index)
