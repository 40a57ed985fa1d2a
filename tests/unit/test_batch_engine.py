"""The batch engine against a scripted fake DynamoDB behind the wire seam (``MockSender``):
throttles, partial batches, order per key, failure, cancellation. Requests and answers take
the real JSON path. The tests with the default config run on a virtual clock
(``_virtual_time``): backoffs and deadlines cost no wall-clock time and are asserted exactly.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from _virtual_time import run_virtual
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamodb_wrapper_async import (
    BatchResult,
    BatchWriteError,
    ConnectionError,
    Delete,
    DynamoDBConfig,
    DynamoModel,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    RetryableError,
    ValidationError,
    WriteApi,
    WriteModel,
)
from dynamodb_wrapper_async._wire.mock import MockError, MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender

ASYNC = pytest.mark.asyncio(loop_scope="function")
T = TypeVar("T")


def throttle() -> MockError:
    return MockError("ProvisionedThroughputExceededException", "slow down")


class FakeDynamoDB:
    """Stores items like DynamoDB; throttles and leaves items unprocessed on a seeded script."""

    def __init__(self, *, throttle_rate: float, partial_rate: float, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.throttle_rate = throttle_rate
        self.partial_rate = partial_rate
        self.writes: dict[str, int] = {}
        self.store: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.requests_seen: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def sender(self) -> MockSender:
        """A sender whose answers come from this fake."""
        return MockSender(self.answer)

    async def answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation == "BatchWriteItem":
            return await self.batch_write_item(request)
        assert operation == "BatchGetItem", operation
        return await self.batch_get_item(request)

    async def batch_write_item(self, params: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            if self.rng.random() < self.throttle_rate:
                raise throttle()
            ((table, requests),) = params["RequestItems"].items()
            self.requests_seen.append(len(requests))
            assert len(requests) <= 25
            keys = [self._key(r) for r in requests]
            assert len(keys) == len(set(keys)), "duplicate keys in one request"
            unprocessed = []
            for request, key in zip(requests, keys, strict=True):
                if self.rng.random() < self.partial_rate:
                    unprocessed.append(request)
                    continue
                self.writes[key] = self.writes.get(key, 0) + 1
                if "PutRequest" in request:
                    self.store[key] = request["PutRequest"]["Item"]
                else:
                    self.store.pop(key, None)
            return {"UnprocessedItems": {table: unprocessed} if unprocessed else {}}
        finally:
            self.in_flight -= 1

    async def batch_get_item(self, params: dict[str, Any]) -> dict[str, Any]:
        ((table, spec),) = params["RequestItems"].items()
        found, unprocessed = [], []
        for key in spec["Keys"]:
            if self.rng.random() < self.partial_rate:
                unprocessed.append(key)
            elif key["pipeline_id"]["S"] in self.store:
                found.append(self.store[key["pipeline_id"]["S"]])
        result: dict[str, Any] = {"Responses": {table: found}}
        if unprocessed:
            result["UnprocessedKeys"] = {table: {"Keys": unprocessed}}
        return result

    @staticmethod
    def _key(request: dict[str, Any]) -> str:
        body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
        return str(body["pipeline_id"]["S"])


def pipelines(count: int, tag: str = "") -> list[PipelineConfigUpsert]:
    return [
        PipelineConfigUpsert(
            pipeline_id=f"p{n:05d}", pipeline_name=f"n{n}{tag}", source_type="s3",
            destination_type="warehouse",
        )
        for n in range(count)
    ]  # fmt: skip


def config(**overrides: Any) -> DynamoDBConfig:
    """A config with the defaults but 8 requests in flight (the default-config tests below
    use ``DynamoDBConfig`` as it comes)."""
    settings: dict[str, Any] = {"max_concurrency": 8}
    return DynamoDBConfig(table_prefix="fake_", **(settings | overrides))


@ASYNC
async def test_throttles_and_partial_batches_deliver_every_item_exactly_once() -> None:
    fake = FakeDynamoDB(throttle_rate=0.2, partial_rate=0.3)
    settings = config()
    install_sender(settings, fake.sender())
    try:
        result = await PipelineConfigWriteApi(settings).batch_upsert(pipelines(2000))
    finally:
        await close_clients(settings)
    assert result.processed == 2000
    assert result.duplicates == 0
    assert result.retries > 0
    assert sorted(fake.writes) == [f"p{n:05d}" for n in range(2000)]
    assert set(fake.writes.values()) == {1}  # exactly once
    assert 1 < fake.max_in_flight <= settings.max_concurrency


class CapacityLimitedDynamoDB(FakeDynamoDB):
    """Throttles every request beyond ``capacity`` in flight, like a hot partition.

    The first ``capacity`` requests are held until one more arrives (and is throttled), so the
    engine meets the limit whatever the machine's speed: a test under coverage tracing or on a
    busy machine may encode a chunk slower than a short sleep lasts.
    """

    def __init__(self, capacity: int) -> None:
        super().__init__(throttle_rate=0, partial_rate=0)
        self.capacity = capacity
        self.throttled = 0
        self.first_throttle = asyncio.Event()

    async def batch_write_item(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.in_flight >= self.capacity:
            self.throttled += 1
            self.first_throttle.set()
            raise throttle()
        self.in_flight += 1
        try:
            if not self.first_throttle.is_set():
                await self.first_throttle.wait()
            await asyncio.sleep(0.002)
        finally:
            self.in_flight -= 1
        return await super().batch_write_item(params)


@ASYNC
async def test_concurrency_is_lowered_while_throttled() -> None:
    fake = CapacityLimitedDynamoDB(capacity=3)
    settings = config(max_concurrency=16)
    install_sender(settings, fake.sender())
    try:
        result = await PipelineConfigWriteApi(settings).batch_upsert(pipelines(1500))
    finally:
        await close_clients(settings)
    assert result.processed == 1500
    assert set(fake.writes.values()) == {1}
    assert fake.throttled > 0
    assert result.lowest_concurrency < 16


@ASYNC
async def test_duplicate_keys_last_wins() -> None:
    fake = FakeDynamoDB(throttle_rate=0, partial_rate=0)
    settings = config()
    install_sender(settings, fake.sender())
    items = [*pipelines(10, "-old"), *pipelines(10, "-new")]  # 20 items: one chunk
    try:
        result = await PipelineConfigWriteApi(settings).batch_upsert(items)
    finally:
        await close_clients(settings)
    assert (result.processed, result.duplicates) == (10, 10)
    assert len(fake.requests_seen) == 1  # one chunk of ten distinct keys
    assert {item["pipeline_name"]["S"][-4:] for item in fake.store.values()} == {"-new"}


@ASYNC
async def test_async_iterable_input_and_progress() -> None:
    fake = FakeDynamoDB(throttle_rate=0, partial_rate=0.1)
    settings = config()
    install_sender(settings, fake.sender())
    seen: list[int] = []

    async def produce() -> AsyncIterator[PipelineConfigUpsert]:
        for item in pipelines(103):
            yield item

    try:
        result = await PipelineConfigWriteApi(settings).batch_upsert(
            produce(), progress=seen.append
        )
    finally:
        await close_clients(settings)
    assert result.processed == 103
    assert sum(seen) == 103
    assert len(fake.store) == 103


@ASYNC
async def test_permanent_failure_names_exactly_the_unwritten_items() -> None:
    fake = FakeDynamoDB(throttle_rate=0, partial_rate=0.5, seed=3)
    settings = config(max_retries=2)
    install_sender(settings, fake.sender())
    items = pipelines(300)
    try:
        with pytest.raises(BatchWriteError) as caught:
            await PipelineConfigWriteApi(settings).batch_upsert(items)
    finally:
        await close_clients(settings)
    error = caught.value
    unwritten = {item.pipeline_id for item in error.unprocessed_items}
    assert unwritten  # with 50% loss and 2 retries some items are left
    assert unwritten == {f"p{n:05d}" for n in range(300)} - set(fake.store)
    assert {key["pipeline_id"] for key in error.unprocessed_keys} == unwritten
    assert all(isinstance(item, PipelineConfigUpsert) for item in error.unprocessed_items)


@ASYNC
async def test_throttling_that_never_ends_raises_with_the_items() -> None:
    fake = FakeDynamoDB(throttle_rate=1.0, partial_rate=0)
    settings = config(max_retries=2)
    install_sender(settings, fake.sender())
    try:
        with pytest.raises(BatchWriteError) as caught:
            await PipelineConfigWriteApi(settings).batch_upsert(pipelines(60))
    finally:
        await close_clients(settings)
    assert len(caught.value.unprocessed_items) == 60
    assert caught.value.aws_code == "ProvisionedThroughputExceededException"
    assert isinstance(caught.value.__cause__, RetryableError)


@ASYNC
async def test_batch_get_retries_unprocessed_keys() -> None:
    fake = FakeDynamoDB(throttle_rate=0, partial_rate=0)
    settings = config()
    install_sender(settings, fake.sender())
    try:
        await PipelineConfigWriteApi(settings).batch_upsert(pipelines(250))
        fake.partial_rate = 0.4
        found = await PipelineConfigReadApi(settings).batch_get([f"p{n:05d}" for n in range(260)])
    finally:
        await close_clients(settings)
    assert sorted(p.pipeline_id or "" for p in found) == [f"p{n:05d}" for n in range(250)]


def test_a_large_batch_get_that_gets_nothing_through_ends_within_the_deadline() -> None:
    """20,000 keys (200 chunks), every key left unprocessed, default config: the call ends
    within ``retry_deadline`` (each chunk on its own deadline would take minutes) and names
    every key."""
    fake = FakeDynamoDB(throttle_rate=0, partial_rate=1.0)
    settings = DynamoDBConfig(table_prefix="fake_")
    ids = [f"p{n:05d}" for n in range(20_000)]

    async def main() -> tuple[BaseException | None, float]:
        install_sender(settings, fake.sender())
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await PipelineConfigReadApi(settings).batch_get(ids)
        except RetryableError as error:
            return error, loop.time() - started
        finally:
            await close_clients(settings)
        return None, loop.time() - started

    error, elapsed = run_virtual(main)

    assert isinstance(error, RetryableError), error
    assert elapsed <= settings.retry_deadline
    assert sorted(key["pipeline_id"] for key in error.unprocessed_keys) == ids


@ASYNC
async def test_progress_true_draws_a_tqdm_bar(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeDynamoDB(throttle_rate=0, partial_rate=0)
    settings = config()
    install_sender(settings, fake.sender())
    try:
        await PipelineConfigWriteApi(settings).batch_upsert(pipelines(60), progress=True)
    finally:
        await close_clients(settings)
    assert "60/60" in capsys.readouterr().err


# ---------------------------------------------------------------------- a small model
class Reading(DynamoModel):
    reading_id: str
    value: int = 0

    class Meta:
        table_name = "readings"
        partition_key = "reading_id"


class ReadingUpsert(WriteModel):
    reading_id: str
    value: int = 0


class ReadingWriteApi(WriteApi[Reading, ReadingUpsert]):
    model = Reading
    upsert_model = ReadingUpsert


def readings(count: int) -> Iterator[ReadingUpsert]:
    for n in range(count):
        yield ReadingUpsert(reading_id=f"r{n:06d}", value=n)


#: The fault mix of issue 13: 20% throttles, 5% 5xx, 2% resets, 30% partial batches.
SUSTAINED = {"throttle": 0.20, "server_error": 0.05, "reset": 0.02, "partial": 0.30}


class FaultyDynamoDB:
    """A scripted DynamoDB with the fault proxy's model: one seeded draw per request picks at
    most one fault (rates are exclusive). ``partial`` applies a random subset of the request,
    never all of it (possibly none); ``withhold`` applies none; ``ambiguous`` applies all,
    then answers 500. ``jitter`` holds each request a random time before applying it, so
    requests sent one after another are applied (and answered) out of order.
    """

    def __init__(
        self, rates: dict[str, float] | None = None, *, seed: int = 7, jitter: float = 0.0
    ) -> None:
        self.rng = random.Random(seed)
        self.rates = rates or {}
        self.jitter = jitter
        self.store: dict[str, dict[str, Any]] = {}
        self.applied: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.requests = 0

    def sender(self) -> MockSender:
        return MockSender(self.answer)

    def _draw(self) -> str | None:
        draw = self.rng.random()
        for kind, rate in self.rates.items():
            if draw < rate:
                return kind
            draw -= rate
        return None

    async def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        assert operation == "BatchWriteItem", operation
        self.requests += 1
        ((table, requests),) = params["RequestItems"].items()
        keys = [self._key(request) for request in requests]
        assert len(requests) <= 25
        assert len(set(keys)) == len(keys), "duplicate keys in one request"
        self.sent.update(keys)
        kind = self._draw()
        if kind is not None:
            self.faults[kind] += 1
        if self.jitter:
            await asyncio.sleep(self.rng.random() * self.jitter)
        if kind == "throttle":
            raise MockError("ProvisionedThroughputExceededException", "slow down")
        if kind == "server_error":
            raise MockError("InternalServerError", "boom", status=500)
        if kind == "reset":
            raise ConnectionResetError("reset by the fake")
        kept = requests
        if kind == "withhold" or (kind == "partial" and len(requests) == 1):
            kept = []
        elif kind == "partial":
            kept = self.rng.sample(requests, self.rng.randrange(len(requests)))
        for request in kept:
            self._apply(request)
        if kind == "ambiguous":
            raise MockError("InternalServerError", "applied, answer lost", status=500)
        rest = [request for request in requests if request not in kept]
        return {"UnprocessedItems": {table: rest} if rest else {}}

    def _apply(self, request: dict[str, Any]) -> None:
        key = self._key(request)
        self.applied[key] += 1
        if "PutRequest" in request:
            self.store[key] = request["PutRequest"]["Item"]
        else:
            self.store.pop(key, None)

    @staticmethod
    def _key(request: dict[str, Any]) -> str:
        body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
        return json.dumps(body["reading_id"])

    def values(self) -> dict[str, int]:
        """reading_id -> value, of what is stored."""
        return {
            str(item["reading_id"]["S"]): int(item["value"]["N"]) for item in self.store.values()
        }


async def _with_fake(
    settings: DynamoDBConfig, fake: FaultyDynamoDB, call: Callable[[], Awaitable[T]]
) -> tuple[T | BaseException, float]:
    """Run ``call`` against ``fake``; return (its result or error, loop seconds it took)."""
    install_sender(settings, fake.sender())
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        outcome: T | BaseException = await call()
    except Exception as error:
        outcome = error
    finally:
        await close_clients(settings)
    return outcome, loop.time() - started


# ---------------------------------------------------------------------- 1. defaults that finish
def test_default_config_writes_100k_items_through_sustained_faults() -> None:
    """100,000 items, the issue's fault mix, ``DynamoDBConfig()`` as it comes: all written once.

    With these faults a chunk's last item gets nothing through on 57% of its attempts, so
    some chunk needs more than 11 attempts in a row: ``max_retries`` counting every retry
    (the old rule) would have given up on it; counting those without progress does not.
    """
    settings = DynamoDBConfig(table_prefix="fake_")  # no max_retries or deadline raised
    fake = FaultyDynamoDB(SUSTAINED, seed=13)

    outcome, _ = run_virtual(
        lambda: _with_fake(
            settings, fake, lambda: ReadingWriteApi(settings).batch_upsert(readings(100_000))
        )
    )

    assert isinstance(outcome, BatchResult), outcome
    assert (outcome.processed, outcome.duplicates) == (100_000, 0)
    assert len(fake.store) == 100_000
    assert set(fake.applied.values()) == {1}  # each item applied exactly once
    assert max(fake.sent.values()) > 11  # some item needed more than 11 attempts
    assert all(fake.faults[kind] > 100 for kind in SUSTAINED), fake.faults
    assert outcome.retries == fake.requests - 4000  # 4,000 chunks, each sent first once


class OneAtATimeDynamoDB(FaultyDynamoDB):
    """Applies one item per request and leaves the rest unprocessed: progress every time."""

    async def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        ((table, requests),) = params["RequestItems"].items()
        self._apply(requests[0])
        rest = requests[1:]
        return {"UnprocessedItems": {table: rest} if rest else {}}


def test_attempts_that_make_progress_do_not_count_toward_max_retries() -> None:
    """``max_retries=2``, yet a chunk answered one item at a time takes 25 attempts and
    succeeds: only attempts in a row that get nothing through count."""
    settings_ = DynamoDBConfig(table_prefix="fake_", max_retries=2)
    fake = OneAtATimeDynamoDB()

    outcome, _ = run_virtual(
        lambda: _with_fake(
            settings_, fake, lambda: ReadingWriteApi(settings_).batch_upsert(readings(25))
        )
    )

    assert isinstance(outcome, BatchResult), outcome
    assert outcome.processed == len(fake.store) == 25
    assert fake.requests == 25
    assert outcome.retries == 24


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("throttle", RetryableError),
        ("server_error", RetryableError),
        ("reset", ConnectionError),
        ("withhold", None),
    ],
)
def test_a_fault_on_every_request_ends_within_the_deadline_naming_every_item(
    fault: str, error_type: type[Exception] | None
) -> None:
    """Nothing ever gets through: the call ends within ``retry_deadline`` (on the loop's
    clock, exactly: a virtual clock has no lag), naming all 100 items; default config."""
    settings = DynamoDBConfig(table_prefix="fake_")
    fake = FaultyDynamoDB({fault: 1.0})
    items = list(readings(100))

    outcome, elapsed = run_virtual(
        lambda: _with_fake(settings, fake, lambda: ReadingWriteApi(settings).batch_upsert(items))
    )

    assert isinstance(outcome, BatchWriteError), outcome
    assert elapsed <= settings.retry_deadline
    assert outcome.unprocessed_items == items or sorted(
        item.reading_id for item in outcome.unprocessed_items
    ) == [item.reading_id for item in items]
    assert sorted(key["reading_id"] for key in outcome.unprocessed_keys) == [
        item.reading_id for item in items
    ]
    if error_type is None:
        assert outcome.__cause__ is None  # the last answer was a (fully) unprocessed batch
    else:
        assert isinstance(outcome.__cause__, error_type)
    # Each chunk retried until its budget ran out: max_retries in a row, or the deadline.
    attempts = fake.requests / 4
    assert attempts == settings.max_retries + 1 or elapsed > settings.retry_deadline - 2
    assert fake.store == {}


@pytest.mark.parametrize("fault", ["throttle", "reset"])
def test_a_large_batch_that_gets_nothing_through_ends_within_the_deadline(fault: str) -> None:
    """10,000 items (400 chunks, more than the workers can try in a deadline), every request
    failing, default config: the call still ends within ``retry_deadline``, because the
    deadline counts from the call's last progress, not from each chunk's start (each chunk
    on its own deadline took 455 s here). Every item is named."""
    settings = DynamoDBConfig(table_prefix="fake_")
    fake = FaultyDynamoDB({fault: 1.0})
    items = list(readings(10_000))

    outcome, elapsed = run_virtual(
        lambda: _with_fake(settings, fake, lambda: ReadingWriteApi(settings).batch_upsert(items))
    )

    assert isinstance(outcome, BatchWriteError), outcome
    assert elapsed <= settings.retry_deadline
    assert sorted(item.reading_id for item in outcome.unprocessed_items) == sorted(
        item.reading_id for item in items
    )
    assert len(outcome.unprocessed_keys) == len(items)
    assert fake.store == {}


def test_progress_anywhere_in_a_batch_keeps_the_call_going() -> None:
    """The call-wide deadline counts from the last progress of any chunk: a long batch
    through sustained faults takes far longer than ``retry_deadline`` and still finishes."""
    settings = DynamoDBConfig(table_prefix="fake_", max_concurrency=1)
    fake = OneAtATimeDynamoDB()

    outcome, elapsed = run_virtual(
        lambda: _with_fake(
            settings, fake, lambda: ReadingWriteApi(settings).batch_upsert(readings(10_000))
        )
    )

    assert isinstance(outcome, BatchResult), outcome
    assert outcome.processed == len(fake.store) == 10_000
    assert elapsed > settings.retry_deadline  # 9,600 backoffs, each after progress


def test_partial_answers_forever_name_exactly_the_items_not_written() -> None:
    """Every answer applies a random part, never all: what is left is named, exactly."""
    settings = DynamoDBConfig(table_prefix="fake_")
    fake = FaultyDynamoDB({"partial": 1.0}, seed=5)
    items = list(readings(200))

    outcome, elapsed = run_virtual(
        lambda: _with_fake(settings, fake, lambda: ReadingWriteApi(settings).batch_upsert(items))
    )

    assert isinstance(outcome, BatchWriteError), outcome
    assert elapsed <= settings.retry_deadline
    named = {item.reading_id for item in outcome.unprocessed_items}
    stored = set(fake.values())
    assert named == {item.reading_id for item in items} - stored
    assert len(named) == 8  # one item per chunk never gets through (a 1-item batch is refused)
    assert {key["reading_id"] for key in outcome.unprocessed_keys} == named


# ---------------------------------------------------------------------- 2. order per key
Write = tuple[int, int | None]  # (key number, value; None: delete)


def _writes(stream: list[Write]) -> list[ReadingUpsert | Delete]:
    return [
        Delete(f"k{key}") if value is None else ReadingUpsert(reading_id=f"k{key}", value=value)
        for key, value in stream
    ]


def _applied_in_order(stream: list[Write]) -> dict[str, int]:
    state: dict[str, int] = {}
    for key, value in stream:
        if value is None:
            state.pop(f"k{key}", None)
        else:
            state[f"k{key}"] = value
    return state


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    length=st.integers(1, 800),
    key_count=st.integers(1, 80),
    delete_rate=st.sampled_from([0.0, 0.1, 0.5]),
    concurrency=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    faulty=st.booleans(),
)
def test_a_keys_writes_apply_in_stream_order_whatever_the_faults(
    length: int, key_count: int, delete_rate: float, concurrency: int, seed: int, faulty: bool
) -> None:
    """Random mixed streams with repeated keys, against a fake that throttles, fails, leaves
    items unprocessed, applies and then loses answers, and applies concurrent requests in a
    random order: the table ends as if the stream had been applied one by one.

    The stream is drawn from ``seed`` (hypothesis draws its length, key space and delete
    rate), so long streams over more keys than a chunk holds are common.
    """
    rng = random.Random(seed)
    stream: list[Write] = [
        (rng.randrange(key_count), None if rng.random() < delete_rate else position)
        for position in range(length)
    ]
    rates = {**SUSTAINED, "ambiguous": 0.05} if faulty else {}
    fake = FaultyDynamoDB(rates, seed=seed, jitter=0.05)
    settings_ = DynamoDBConfig(table_prefix="fake_", max_concurrency=concurrency)

    outcome, _ = run_virtual(
        lambda: _with_fake(
            settings_, fake, lambda: ReadingWriteApi(settings_).batch_write(_writes(stream))
        )
    )

    assert isinstance(outcome, BatchResult), outcome
    assert fake.values() == _applied_in_order(stream)
    assert outcome.processed + outcome.duplicates == len(stream)
    assert outcome.processed >= len({key for key, _ in stream})  # each key's last write


class HoldFirstDynamoDB(FaultyDynamoDB):
    """Holds the first request ``hold`` seconds before applying it; logs what it applies."""

    def __init__(self, hold: float) -> None:
        super().__init__()
        self.hold = hold
        self.first_arrived = asyncio.Event()
        self.log: list[tuple[str, int]] = []

    async def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if not self.first_arrived.is_set():
            self.first_arrived.set()
            await asyncio.sleep(self.hold)
        return await super().answer(operation, params)

    def _apply(self, request: dict[str, Any]) -> None:
        item = request["PutRequest"]["Item"]
        self.log.append((str(item["reading_id"]["S"]), int(item["value"]["N"])))
        super()._apply(request)


def test_a_later_write_waits_for_an_earlier_one_on_the_wire() -> None:
    """k0=0 is on the wire (held 10 s); k0=1 and k0=2 (one chunk) supersede it, k0=3 (the
    next chunk) supersedes them: k0=3 is sent only after k0=0's request was answered."""
    fake = HoldFirstDynamoDB(hold=10.0)
    settings_ = DynamoDBConfig(table_prefix="fake_", max_concurrency=3)

    def chunk(tag: str, *k0_values: int) -> list[ReadingUpsert]:
        mine = [ReadingUpsert(reading_id="k0", value=value) for value in k0_values]
        return mine + [ReadingUpsert(reading_id=f"{tag}{n}", value=n) for n in range(24)]

    async def stream() -> AsyncIterator[ReadingUpsert]:
        for item in chunk("f", 0):
            yield item
        await fake.first_arrived.wait()  # the first chunk is on the wire
        for item in [*chunk("g", 1, 2), *chunk("h", 3)]:
            yield item

    outcome, elapsed = run_virtual(
        lambda: _with_fake(
            settings_, fake, lambda: ReadingWriteApi(settings_).batch_upsert(stream())
        )
    )

    assert isinstance(outcome, BatchResult), outcome
    assert [value for key, value in fake.log if key == "k0"] == [0, 3]
    assert fake.values()["k0"] == 3
    assert (outcome.processed, outcome.duplicates) == (1 + 3 * 24 + 1, 2)
    assert elapsed >= 10.0


def test_a_put_after_a_delete_survives_and_batch_delete_counts_a_repeated_key_once() -> None:
    """batch_write: a put after the deletes of its key survives; batch_delete of keys given
    three times deletes each once and counts the repeats as duplicates."""
    fake = FaultyDynamoDB(jitter=0.05)
    settings_ = DynamoDBConfig(table_prefix="fake_", max_concurrency=4)
    stream: list[Write] = [(n % 30, n) for n in range(300)] + [(n % 30, None) for n in range(60)]
    stream += [(3, 1000)]

    async def main() -> tuple[BatchResult, dict[str, int], BatchResult]:
        api = ReadingWriteApi(settings_)
        install_sender(settings_, fake.sender())
        try:
            written = await api.batch_write(_writes(stream))
            after_writes = fake.values()
            deleted = await api.batch_delete([f"k{n}" for n in range(5)] * 3)
        finally:
            await close_clients(settings_)
        return written, after_writes, deleted

    written, after_writes, deleted = run_virtual(main)

    assert after_writes == {"k3": 1000}
    assert written.processed + written.duplicates == len(stream)
    assert fake.values() == {}
    assert (deleted.processed, deleted.duplicates) == (5, 10)


# ---------------------------------------------------------------------- 4. workers stop together
class HangingDynamoDB(FaultyDynamoDB):
    """Holds every request for ``hold`` seconds (of the loop's clock) before answering;
    ``arrived`` is set once ``expected`` requests have come in."""

    def __init__(self, hold: float, expected: int = 1) -> None:
        super().__init__()
        self.hold = hold
        self.expected = expected
        self.arrived = asyncio.Event()
        self.received = 0

    async def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.received += 1
        if self.received >= self.expected:
            self.arrived.set()
        await asyncio.sleep(self.hold)
        return await super().answer(operation, params)


def test_a_cancelled_batch_leaves_no_task_running_and_sends_nothing_after() -> None:
    fake = HangingDynamoDB(hold=1000.0, expected=4)
    settings_ = DynamoDBConfig(table_prefix="fake_", max_concurrency=4)

    async def main() -> tuple[set[asyncio.Task[Any]], int, int]:
        install_sender(settings_, fake.sender())
        try:
            call = asyncio.ensure_future(ReadingWriteApi(settings_).batch_upsert(readings(500)))
            await fake.arrived.wait()
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            left = set(asyncio.all_tasks()) - {asyncio.current_task()}
            sent = fake.received
            await asyncio.sleep(5000)  # long past every hold and backoff
            return left, sent, fake.received
        finally:
            await close_clients(settings_)

    left, sent_at_cancel, sent_later = run_virtual(main)

    assert left == set()
    assert sent_at_cancel == 4  # four workers, one request each
    assert sent_later == sent_at_cancel


def test_bad_input_mid_stream_stops_every_worker_with_the_domain_error() -> None:
    """An item that is not a DTO fails the call with ValidationError (no ExceptionGroup);
    the other workers are stopped and awaited, and nothing is sent after the call ends."""
    fake = HangingDynamoDB(hold=10.0)
    settings_ = DynamoDBConfig(table_prefix="fake_", max_concurrency=4)

    def stream() -> Iterator[Any]:
        yield from readings(200)
        yield "not an item"
        yield from readings(50)

    async def main() -> tuple[BaseException | None, set[asyncio.Task[Any]], int, int]:
        install_sender(settings_, fake.sender())
        try:
            outcome: BaseException | None = None
            try:
                await ReadingWriteApi(settings_).batch_upsert(stream())
            except Exception as error:
                outcome = error
            left = set(asyncio.all_tasks()) - {asyncio.current_task()}
            sent = fake.received
            await asyncio.sleep(1000)
            return outcome, left, sent, fake.received
        finally:
            await close_clients(settings_)

    outcome, left, sent, sent_later = run_virtual(main)

    assert type(outcome) is ValidationError, repr(outcome)
    assert "ReadingUpsert" in str(outcome)
    assert left == set()
    assert sent_later == sent


def test_a_cancelled_batch_get_leaves_no_task_running() -> None:
    settings_ = DynamoDBConfig(table_prefix="fake_", max_concurrency=4)
    arrived = asyncio.Event()
    received: list[str] = []

    async def hang(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        received.append(operation)
        if len(received) == 3:
            arrived.set()
        await asyncio.sleep(1000)
        return {"Responses": {}}

    async def main() -> tuple[set[asyncio.Task[Any]], int, int]:
        install_sender(settings_, MockSender(hang))
        try:
            keys = [f"p{n:05d}" for n in range(300)]  # three 100-key chunks
            call = asyncio.ensure_future(PipelineConfigReadApi(settings_).batch_get(keys))
            await arrived.wait()
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            left = set(asyncio.all_tasks()) - {asyncio.current_task()}
            sent = len(received)
            await asyncio.sleep(5000)
            return left, sent, len(received)
        finally:
            await close_clients(settings_)

    left, sent, sent_later = run_virtual(main)

    assert left == set()
    assert sent == sent_later == 3
