"""Measure how late the event loop runs: a ticker task that sleeps in short steps and records
how much later than asked each wake-up came.

A call's overrun past its deadline is bounded by this lag (a timer cannot fire while the loop
is busy or the process is not scheduled), so timing tests assert against the measured lag
instead of a fixed wall-clock slack that a busy machine can exceed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass
class LoopLag:
    """What the ticker saw: the largest and the summed delay of its wake-ups, in seconds."""

    interval: float
    largest: float = 0.0
    total: float = 0.0
    ticks: int = 0

    @property
    def single_bound(self) -> float:
        """How much later than due one timer of the measured span can fire."""
        return self.largest + self.interval

    @property
    def total_bound(self) -> float:
        """How much the loop lagged in all (work done in many slices, e.g. chunk starts)."""
        return self.total + self.interval


@contextlib.asynccontextmanager
async def loop_lag(interval: float = 0.005) -> AsyncIterator[LoopLag]:
    """Measure the running loop's lag while the body runs."""
    lag = LoopLag(interval)
    loop = asyncio.get_running_loop()

    async def tick() -> None:
        while True:
            due = loop.time() + interval
            await asyncio.sleep(interval)
            late = max(0.0, loop.time() - due)
            lag.largest = max(lag.largest, late)
            lag.total += late
            lag.ticks += 1

    ticker = asyncio.ensure_future(tick())
    try:
        yield lag
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
