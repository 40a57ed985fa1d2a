"""Retry timing (backoff with full jitter, deadline) and the adaptive concurrency limit."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long one call may retry.

    ``max_retries`` bounds consecutive retries without progress (for a single request every
    retry is one; a batch chunk that got part of its items through starts counting again);
    ``deadline`` bounds the whole call in seconds, sleeps included, progress or not. Delays
    follow "full jitter": uniform in ``[0, min(max_delay, base_delay * 2**streak)]``, where
    ``streak`` counts the retries since the last progress.
    """

    max_retries: int = 40
    deadline: float = 60.0
    base_delay: float = 0.025
    max_delay: float = 2.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Return the sleep before retry number ``attempt`` (0-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(attempt, 32)))
        return (rng or _RNG).uniform(0.0, ceiling)


_RNG = random.Random()  # noqa: S311 - jitter, not cryptography


def loop_time() -> float:
    """The running event loop's clock (monotonic; a test loop may run it fast), else monotonic.

    Deadlines and the sleeps they bound are measured on the same clock, so a test can run
    them on a virtual clock and a deadline is never judged on another clock than the sleep.
    """
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


@dataclass
class CallProgress:
    """When a batch call, all its chunks together, last got something through.

    Shared by the budgets of a call's chunks, it bounds the call as a whole: once nothing has
    got through for ``retry_deadline``, every chunk gives up, those not yet sent included, so
    a call that makes no progress ends within the deadline however many chunks it holds.
    """

    clock: Callable[[], float] = field(default=loop_time, repr=False)
    last: float = -1.0

    def __post_init__(self) -> None:
        self.last = self.clock()

    def made_progress(self) -> None:
        """Something got through: the call's deadline counts from now."""
        self.last = self.clock()


@dataclass
class RetryBudget:
    """Tracks one call's retries against its policy, on the event loop's clock.

    With ``call`` (a batch's chunks share one), the deadline also counts from the call's last
    progress: a chunk gives up once the whole call has got nothing through for the deadline.
    """

    policy: RetryPolicy
    clock: Callable[[], float] = field(default=loop_time, repr=False)
    call: CallProgress | None = field(default=None, repr=False)
    #: Every retry of the call, with or without progress (reported as ``retries``).
    attempts: int = 0
    started: float = -1.0
    #: Retries since the last progress: bounded by ``max_retries``; the backoff grows with it.
    streak: int = 0

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def remaining(self) -> float:
        """Seconds left before the deadline."""
        since = self.started if self.call is None else min(self.started, self.call.last)
        return self.policy.deadline - (self.clock() - since)

    def next_delay(self, rng: random.Random | None = None) -> float | None:
        """Return the sleep before the next retry, or None when the budget is spent."""
        if self.streak >= self.policy.max_retries:
            return None
        delay = self.policy.delay(self.streak, rng)
        if delay >= self.remaining:
            return None
        self.attempts += 1
        self.streak += 1
        return delay

    def waited(self, seconds: float) -> None:
        """The call waited ``seconds`` for capacity tokens before sending: that wait is the
        budget's own pacing, not DynamoDB failing, so the deadline does not count it."""
        if seconds <= 0:
            return
        self.started += seconds
        if self.call is not None:
            self.call.made_progress()

    def made_progress(self) -> None:
        """Part of a batch got through: restart the backoff and the count of retries without
        progress (not the total count or this chunk's deadline; the call's counts anew)."""
        self.streak = 0
        if self.call is not None:
            self.call.made_progress()


class AdaptiveLimit:
    """Caps requests in flight; halves the cap when throttled, regrows it by one per success run.

    Additive increase, multiplicative decrease: after ``limit`` successes in a row the cap
    grows by one (up to ``maximum``); a throttle halves it (down to 1), at most once per
    ``cooldown`` seconds so that one burst of throttled replies counts once.
    """

    def __init__(
        self,
        maximum: int,
        *,
        cooldown: float = 0.1,
        clock: Callable[[], float] = loop_time,
    ) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.lowest = self.maximum
        self.cooldown = cooldown
        self.clock = clock
        self._in_use = 0
        self._successes = 0
        self._last_cut = -cooldown
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def __aenter__(self) -> None:
        changed = self._condition()
        async with changed:
            await changed.wait_for(lambda: self._in_use < self.limit)
            self._in_use += 1

    async def __aexit__(self, *exc_info: object) -> None:
        changed = self._condition()
        async with changed:
            self._in_use -= 1
            changed.notify_all()

    def throttled(self) -> None:
        """Record a throttled reply: halve the cap (once per cooldown)."""
        now = self.clock()
        self._successes = 0
        if now - self._last_cut < self.cooldown:
            return
        self._last_cut = now
        self.limit = max(1, self.limit // 2)
        self.lowest = min(self.lowest, self.limit)

    def succeeded(self) -> None:
        """Record an unthrottled reply: after ``limit`` in a row, raise the cap by one."""
        self._successes += 1
        if self._successes >= self.limit and self.limit < self.maximum:
            self.limit += 1
            self._successes = 0
