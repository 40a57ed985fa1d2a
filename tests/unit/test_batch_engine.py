"""The batch engine against a scripted fake DynamoDB behind the wire seam (``MockSender``):
throttles, partial batches, dedupe, failure. Requests and answers take the real JSON path."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dynamodb_wrapper_async import (
    BatchWriteError,
    DynamoDBConfig,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    RetryableError,
)
from dynamodb_wrapper_async._wire.mock import MockError, MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender

pytestmark = pytest.mark.asyncio(loop_scope="function")


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
    settings: dict[str, Any] = {"max_concurrency": 8, "max_retries": 30, "retry_deadline": 30}
    return DynamoDBConfig(table_prefix="fake_", **(settings | overrides))


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


async def test_concurrency_is_lowered_while_throttled() -> None:
    fake = CapacityLimitedDynamoDB(capacity=3)
    settings = config(max_concurrency=16, max_retries=50)
    install_sender(settings, fake.sender())
    try:
        result = await PipelineConfigWriteApi(settings).batch_upsert(pipelines(1500))
    finally:
        await close_clients(settings)
    assert result.processed == 1500
    assert set(fake.writes.values()) == {1}
    assert fake.throttled > 0
    assert result.lowest_concurrency < 16


async def test_duplicate_keys_in_a_chunk_last_wins() -> None:
    fake = FakeDynamoDB(throttle_rate=0, partial_rate=0)
    settings = config()
    install_sender(settings, fake.sender())
    items = [*pipelines(10, "-old"), *pipelines(10, "-new")]  # 20 items: one chunk
    try:
        result = await PipelineConfigWriteApi(settings).batch_upsert(items)
    finally:
        await close_clients(settings)
    assert (result.processed, result.duplicates) == (10, 10)
    assert {item["pipeline_name"]["S"][-4:] for item in fake.store.values()} == {"-new"}


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


async def test_progress_true_draws_a_tqdm_bar(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeDynamoDB(throttle_rate=0, partial_rate=0)
    settings = config()
    install_sender(settings, fake.sender())
    try:
        await PipelineConfigWriteApi(settings).batch_upsert(pipelines(60), progress=True)
    finally:
        await close_clients(settings)
    assert "60/60" in capsys.readouterr().err
