"""Retry timing: exponential backoff with full jitter under a total deadline (pure)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long one call may retry.

    ``max_retries`` counts retries after the first attempt; ``deadline`` bounds the whole call
    in seconds, sleeps included. Delays follow "full jitter": uniform in
    ``[0, min(max_delay, base_delay * 2**attempt)]``.
    """

    max_retries: int = 10
    deadline: float = 60.0
    base_delay: float = 0.025
    max_delay: float = 5.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Return the sleep before retry number ``attempt`` (0-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(attempt, 32)))
        return (rng or _RNG).uniform(0.0, ceiling)


_RNG = random.Random()  # noqa: S311 - jitter, not cryptography


@dataclass
class RetryBudget:
    """Tracks one call's retries against its policy, on a monotonic clock."""

    policy: RetryPolicy
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    attempts: int = 0
    started: float = -1.0

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return self.policy.deadline - (self.clock() - self.started)

    def next_delay(self, rng: random.Random | None = None) -> float | None:
        """Return the sleep before the next retry, or None when the budget is spent."""
        if self.attempts >= self.policy.max_retries:
            return None
        delay = self.policy.delay(self.attempts, rng)
        if delay >= self.remaining:
            return None
        self.attempts += 1
        return delay
