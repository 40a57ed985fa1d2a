import asyncio
import random

import pytest

from dynamodb_wrapper_async._engine.retry import AdaptiveLimit, RetryBudget, RetryPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_full_jitter_delays_stay_under_the_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=2.0)
    rng = random.Random(1)
    for attempt in range(12):
        ceiling = min(2.0, 0.1 * 2**attempt)
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # jitter spans the range
    assert policy.delay(10_000, rng) <= 2.0  # no overflow for huge attempt numbers


def test_budget_stops_at_max_retries() -> None:
    clock = Clock()
    budget = RetryBudget(RetryPolicy(max_retries=3, deadline=100), clock=clock)
    delays = [budget.next_delay(random.Random(0)) for _ in range(5)]
    assert [d is not None for d in delays] == [True, True, True, False, False]
    assert budget.attempts == 3


def test_budget_stops_before_the_deadline() -> None:
    clock = Clock()
    budget = RetryBudget(
        RetryPolicy(max_retries=100, deadline=1.0, base_delay=0.5, max_delay=0.5), clock=clock
    )
    assert budget.next_delay(random.Random(0)) is not None
    clock.now = 0.99
    assert budget.remaining == pytest.approx(0.01)
    rng = random.Random(0)
    # a sleep that would end past the deadline is refused
    results = [budget.next_delay(rng) for _ in range(20)]
    assert all(r is None or r < 0.01 for r in results)
    clock.now = 2.0
    assert budget.next_delay(rng) is None


def test_adaptive_limit_halves_on_throttle_and_regrows() -> None:
    clock = Clock()
    limit = AdaptiveLimit(16, cooldown=0.1, clock=clock)
    limit.throttled()
    assert limit.limit == 8
    limit.throttled()  # same burst: ignored inside the cooldown
    assert limit.limit == 8
    clock.now = 1.0
    limit.throttled()
    clock.now = 2.0
    limit.throttled()
    clock.now = 3.0
    limit.throttled()
    clock.now = 4.0
    limit.throttled()
    assert limit.limit == 1
    assert limit.lowest == 1
    for _ in range(1 + 2 + 3):
        limit.succeeded()
    assert limit.limit == 4  # +1 after `limit` successes in a row: 1 -> 2 -> 3 -> 4
    for _ in range(1000):
        limit.succeeded()
    assert limit.limit == 16


async def test_adaptive_limit_bounds_requests_in_flight() -> None:
    limit = AdaptiveLimit(3)
    in_flight = 0
    peak = 0

    async def request() -> None:
        nonlocal in_flight, peak
        async with limit:
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.001)
            in_flight -= 1

    await asyncio.gather(*(request() for _ in range(30)))
    assert peak == 3
    limit.limit = 1
    peak = 0
    await asyncio.gather(*(request() for _ in range(10)))
    assert peak == 1


def test_progress_restarts_the_backoff_and_the_count_but_not_the_deadline() -> None:
    clock = Clock()
    budget = RetryBudget(
        RetryPolicy(max_retries=3, deadline=100, base_delay=1, max_delay=64), clock=clock
    )
    rng = random.Random(3)
    for _ in range(3):
        assert budget.next_delay(rng) is not None
    assert budget.attempts == budget.streak == 3
    assert budget.next_delay(rng) is None  # three retries in a row without progress
    budget.made_progress()
    assert budget.streak == 0
    assert budget.attempts == 3  # the total is still reported
    delays = [budget.next_delay(random.Random(seed)) for seed in (1, 2, 4)]
    assert all(d is not None and d <= 4 for d in delays)  # backoff from the start again
    assert budget.attempts == 6
    assert budget.next_delay(rng) is None  # three more without progress
    budget.made_progress()
    clock.now = 100.0
    assert budget.next_delay(rng) is None  # progress does not move the deadline


def test_budget_and_limit_measure_time_on_the_running_loop() -> None:
    """Deadlines are judged on the loop's clock, the clock the retry sleeps run on."""

    class Loop(asyncio.SelectorEventLoop):
        now = 1000.0

        def time(self) -> float:
            return self.now

    async def check() -> None:
        budget = RetryBudget(RetryPolicy(deadline=10))
        loop.now += 9.5
        assert budget.remaining == pytest.approx(0.5)
        limit = AdaptiveLimit(8, cooldown=1.0)
        limit.throttled()
        limit.throttled()  # inside the cooldown on the loop's clock
        assert limit.limit == 4
        loop.now += 2
        limit.throttled()
        assert limit.limit == 2

    loop = Loop()
    try:
        loop.run_until_complete(check())
    finally:
        loop.close()
