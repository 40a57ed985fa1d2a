"""The library under injected faults: DynamoDB Local behind a FaultProxy (see _fault_proxy.py).

What is written is always checked by reading the server directly (a plain boto3 client on
DynamoDB Local, not through the proxy and not through the library).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import boto3
import pytest
from _loop_lag import loop_lag
from botocore.config import Config as BotocoreConfig
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration.faults._fault_proxy import (
    SERVER_ERRORS,
    THROTTLE_ERRORS,
    FaultProxy,
    plan,
)

from dynamodb_wrapper_async import (
    BatchWriteError,
    ConflictError,
    ConnectionError,
    Delete,
    DynamoDBConfig,
    DynamoDBWrapperError,
    PipelineConfigReadApi,
    PipelineConfigUpsert,
    PipelineConfigWriteApi,
    PipelineRunLogsReadApi,
    PipelineRunLogsWriteApi,
    PipelineRunLogUpsert,
    RetryableError,
    RunStatus,
    TableConfigUpsert,
    TableConfigWriteApi,
)

MakeConfig = Callable[..., DynamoDBConfig]
T = TypeVar("T")

THROTTLE_CODES = set(THROTTLE_ERRORS)
SERVER_CODES = {code.rpartition("#")[2] for code, _ in SERVER_ERRORS.values()}


# ---------------------------------------------------------------------- helpers
def pipeline(pipeline_id: str, **extra: Any) -> PipelineConfigUpsert:
    return PipelineConfigUpsert(
        pipeline_id=pipeline_id,
        pipeline_name=f"name {pipeline_id}",
        source_type="s3",
        destination_type="warehouse",
        **extra,
    )


def table(table_id: str, pipeline_id: str) -> TableConfigUpsert:
    return TableConfigUpsert(
        table_id=table_id, pipeline_id=pipeline_id, table_name=table_id, table_type="source"
    )


def run_logs(pipeline_id: str, count: int) -> Iterator[PipelineRunLogUpsert]:
    for n in range(count):
        yield PipelineRunLogUpsert(
            run_id=f"run-{n:06d}",
            pipeline_id=pipeline_id,
            status=RunStatus.SUCCESS,
            records_processed=n,
            metrics={"rows": n, "stage": "load"},
        )


async def timed(call: Awaitable[T]) -> tuple[T | BaseException, float]:
    """Await ``call``; return (its result or the exception it raised, seconds taken)."""
    started = time.monotonic()
    try:
        outcome: T | BaseException = await call
    except Exception as error:
        outcome = error
    return outcome, time.monotonic() - started


def overrun(elapsed: float, deadline: float) -> float:
    """How far past ``deadline`` a call that took ``elapsed`` seconds ended (0 if not)."""
    return max(0.0, elapsed - deadline)


def scan_all(raw: Any, table_name: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a table, read directly and strongly consistently."""
    items: list[dict[str, Any]] = []
    for page in raw.get_paginator("scan").paginate(
        TableName=table_name, ConsistentRead=True, **params
    ):
        items.extend(page["Items"])
    return items


def stored_runs(raw: Any, config: DynamoDBConfig, pipeline_id: str) -> list[str]:
    """The run_ids the server holds for ``pipeline_id`` (read directly), with repeats."""
    items = scan_all(
        raw,
        config.table_name("pipeline_run_logs"),
        FilterExpression="pipeline_id = :p",
        ExpressionAttributeValues={":p": {"S": pipeline_id}},
        ProjectionExpression="run_id",
    )
    return [item["run_id"]["S"] for item in items]


def stored_item(raw: Any, table_name: str, key: dict[str, str]) -> dict[str, Any] | None:
    wire_key = {name: {"S": value} for name, value in key.items()}
    item: dict[str, Any] | None = raw.get_item(
        TableName=table_name, Key=wire_key, ConsistentRead=True
    ).get("Item")
    return item


def stored_pipeline(raw: Any, config: DynamoDBConfig, uid: str) -> dict[str, Any]:
    """The pipeline ``uid`` as the server holds it (it must exist)."""
    item = stored_item(raw, config.table_name("pipeline_config"), {"pipeline_id": uid})
    assert item is not None, f"pipeline {uid} is not stored"
    return item


def plain_key(key: dict[str, Any]) -> tuple[str, ...]:
    """A key from an error (plain values, as the caller gave them), as a sortable tuple."""
    assert all(isinstance(value, str) for value in key.values()), key
    return tuple(str(value) for _, value in sorted(key.items()))


# ---------------------------------------------------------------------- the proxy itself
@pytest.mark.parametrize("code", sorted(THROTTLE_ERRORS))
def test_proxy_throttles_parse_as_dynamodb_errors(
    proxy: FaultProxy, backend: DynamoDBConfig, code: str
) -> None:
    """botocore reads the proxy's throttling answers as DynamoDB's own: code, status, id."""
    proxy.configure(throttle=1.0, throttle_codes=(code,))
    client = boto3.client(
        "dynamodb",
        endpoint_url=proxy.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=BotocoreConfig(retries={"total_max_attempts": 1}),
    )
    try:
        with pytest.raises(ClientError) as caught:
            client.list_tables()
    finally:
        client.close()
    response = caught.value.response
    assert response["Error"]["Code"] == code
    assert response["Error"]["Message"] == THROTTLE_ERRORS[code][1]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["RequestId"]
    assert proxy.stats().throttle_codes == {code: 1}
    assert proxy.stats().forwarded["ListTables"] == 0


# ---------------------------------------------------------------------- 1. a big batch
def sustained_faults(proxy: FaultProxy) -> None:
    """The fault mix of issue 13: 20% throttled, 5% 5xx, 2% reset, 30% partial batches."""
    proxy.configure(throttle=0.20, server_error=0.05, reset=0.02, partial=0.30)


@pytest.mark.timeout(300)
async def test_20k_run_logs_survive_sustained_faults_with_the_default_config(
    own_tables: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, raw_client: Any
) -> None:
    """20% throttled, 5% 5xx, 2% reset, 30% partial, and the config as it comes (no retries
    or deadline raised): every item stored once, counts exact.

    A partial answer never forwards a whole chunk, so a chunk's last item gets nothing
    through on 57% of its attempts; ``max_retries`` (40 attempts in a row without progress)
    and ``retry_deadline`` (60 s per chunk) outlast that. About 18 s on the shared 2-core
    machine with other sessions running.
    """
    count = 20_000
    config = via_proxy(own_tables)  # only the endpoint changes: default retries and deadline
    sustained_faults(proxy)

    result = await PipelineRunLogsWriteApi(config).batch_upsert(run_logs("p-20k", count))

    assert result.processed == count
    assert result.duplicates == 0
    stats = proxy.stats()
    assert result.retries > 0
    assert result.lowest_concurrency < config.max_concurrency  # it backed off while throttled
    for kind in ("throttle", "server_error", "reset", "partial_write"):
        assert stats.faults[kind] > 20, stats.faults
    assert set(stats.throttle_codes) == THROTTLE_CODES
    assert set(stats.server_statuses) == set(SERVER_ERRORS)
    assert stats.items_withheld > 0
    # Each item reached the server exactly once: nothing was resent after being processed.
    assert stats.items_forwarded == count

    table_name = own_tables.table_name("pipeline_run_logs")
    items = await asyncio.to_thread(
        scan_all,
        raw_client,
        table_name,
        ProjectionExpression="run_id, pipeline_id, records_processed",
    )
    keys = Counter((item["run_id"]["S"], item["pipeline_id"]["S"]) for item in items)
    assert len(items) == len(keys) == count
    assert set(keys) == {(f"run-{n:06d}", "p-20k") for n in range(count)}
    assert all(
        item["run_id"]["S"] == f"run-{int(item['records_processed']['N']):06d}" for item in items
    )


# ---------------------------------------------------------------------- last write wins
def repeated_runs(
    pipeline_id: str, keys: int, repeats: int, fillers: int = 0
) -> Iterator[PipelineRunLogUpsert]:
    """``keys`` run ids repeated ``repeats`` times, interleaved (value n at position n), with
    ``fillers`` distinct runs after each round of them (so chunks fill and run concurrently)."""
    position = 0
    for round_ in range(repeats):
        for key in range(keys):
            yield PipelineRunLogUpsert(
                run_id=f"hot-{key}", pipeline_id=pipeline_id, records_processed=position
            )
            position += 1
        for filler in range(fillers):
            yield PipelineRunLogUpsert(
                run_id=f"cold-{round_}-{filler}", pipeline_id=pipeline_id, records_processed=0
            )


@pytest.mark.timeout(300)
@pytest.mark.parametrize("fillers", [0, 22])
async def test_a_keys_last_write_wins_through_faults(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    fillers: int,
) -> None:
    """Three keys repeated 1,000 times, interleaved (issue 13's stream): the server ends with
    each key's last value, also when every chunk carries them among 22 other items, chunks
    run concurrently, and requests are throttled, fail or come back partly unprocessed.

    With fillers (25,000 items) the chunks that carry a hot key run one after another, each
    through the faults' backoffs: 23-36 s on the idle 2-core machine, more when it is busy."""
    faulty = via_proxy(config)
    sustained_faults(proxy)

    result = await PipelineRunLogsWriteApi(faulty).batch_upsert(
        repeated_runs(uid, keys=3, repeats=1000, fillers=fillers)
    )

    table_name = config.table_name("pipeline_run_logs")
    last = {}
    for key in range(3):
        item = stored_item(raw_client, table_name, {"run_id": f"hot-{key}", "pipeline_id": uid})
        assert item is not None
        last[key] = int(item["records_processed"]["N"])
    assert last == {0: 2997, 1: 2998, 2: 2999}
    assert result.processed + result.duplicates == 3000 + 1000 * fillers
    assert result.processed >= 3 + 1000 * fillers
    assert len(stored_runs(raw_client, config, uid)) == 3 + 1000 * fillers
    if fillers:
        assert proxy.stats().requests["BatchWriteItem"] > 1000  # many chunks, concurrently


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    length=st.integers(1, 400),
    key_count=st.integers(1, 60),
    delete_rate=st.sampled_from([0.0, 0.2]),
    seed=st.integers(0, 2**32 - 1),
)
async def test_random_streams_end_as_if_applied_in_order_through_faults(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    length: int,
    key_count: int,
    delete_rate: float,
    seed: int,
) -> None:
    """Random mixed put/delete streams with repeated keys, through the fault proxy on
    DynamoDB Local with the default config: the table ends as if applied one by one."""
    pipeline_id = f"prop-{uuid.uuid4().hex[:10]}"
    rng = random.Random(seed)
    writes: list[PipelineRunLogUpsert | Delete] = []
    expected: dict[str, int] = {}
    for position in range(length):
        run_id = f"run-{rng.randrange(key_count)}"
        if rng.random() < delete_rate:
            writes.append(Delete((run_id, pipeline_id)))
            expected.pop(run_id, None)
        else:
            writes.append(
                PipelineRunLogUpsert(
                    run_id=run_id, pipeline_id=pipeline_id, records_processed=position
                )
            )
            expected[run_id] = position
    faulty = via_proxy(config)
    sustained_faults(proxy)

    result = await PipelineRunLogsWriteApi(faulty).batch_write(writes)

    items = scan_all(
        raw_client,
        config.table_name("pipeline_run_logs"),
        FilterExpression="pipeline_id = :p",
        ExpressionAttributeValues={":p": {"S": pipeline_id}},
    )
    stored = {item["run_id"]["S"]: int(item["records_processed"]["N"]) for item in items}
    assert stored == expected
    assert result.processed + result.duplicates == length


async def test_batch_result_counts_retries_of_failed_requests_and_unprocessed_items(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, raw_client: Any, uid: str
) -> None:
    """``BatchResult.retries`` counts every resent request: 4 chunks, 8 faults, 8 retries."""
    faulty = via_proxy(config)
    proxy.schedule(
        plan(throttle=0.5, server_error=0.25, reset=0.25, requests=4),
        plan(partial=1.0, requests=4),
    )

    result = await PipelineRunLogsWriteApi(faulty).batch_upsert(run_logs(uid, 100))

    stats = proxy.stats()
    assert result.processed == 100
    assert sum(stats.faults.values()) == 8
    assert stats.requests["BatchWriteItem"] == 4 + 8  # one first attempt per chunk
    assert result.retries == 8, stats.faults
    assert len(stored_runs(raw_client, config, uid)) == 100


# ---------------------------------------------------------------------- 2. faults forever
@pytest.mark.parametrize(
    ("fault", "error_type", "codes"),
    [
        ("throttle", RetryableError, THROTTLE_CODES),
        ("server_error", RetryableError, SERVER_CODES),
        ("reset", ConnectionError, {None}),
    ],
)
async def test_fault_on_every_request_fails_within_the_deadline(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    fault: str,
    error_type: type[DynamoDBWrapperError],
    codes: set[str | None],
) -> None:
    """A single write and a 100-item batch end at the deadline, naming every unwritten item."""
    deadline = 2.0
    faulty = via_proxy(config, max_retries=100, retry_deadline=deadline)
    rates: dict[str, Any] = {fault: 1.0}
    proxy.configure(**rates)

    async with loop_lag() as lag:
        (created, create_time), (batch, batch_time) = await asyncio.gather(
            timed(PipelineConfigWriteApi(faulty).create_pipeline(pipeline(uid))),
            timed(PipelineRunLogsWriteApi(faulty).batch_upsert(run_logs(uid, 100))),
        )

    assert isinstance(created, error_type), created
    assert created.aws_code in codes
    assert created.retries > 3
    # The deadline is passed by no more than the loop lagged: one late timer for the single
    # call; for the batch, whose four chunks start one after another as the items are
    # encoded, the loop's lag in all.
    assert overrun(create_time, deadline) <= lag.single_bound, (create_time, lag)
    assert isinstance(batch, BatchWriteError), batch
    assert isinstance(batch.__cause__, error_type)
    assert batch.aws_code in codes
    assert overrun(batch_time, deadline) <= lag.total_bound, (batch_time, lag)
    expected = {f"run-{n:06d}" for n in range(100)}
    assert len(batch.unprocessed_items) == 100
    assert {item.run_id for item in batch.unprocessed_items} == expected
    assert {key["run_id"] for key in batch.unprocessed_keys} == expected
    assert proxy.stats().forwarded == {}  # nothing reached the server
    table_name = config.table_name("pipeline_config")
    assert stored_item(raw_client, table_name, {"pipeline_id": uid}) is None
    assert stored_runs(raw_client, config, uid) == []


async def test_partial_batches_then_throttling_name_exactly_the_unwritten_items(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, raw_client: Any, uid: str
) -> None:
    """First attempts store part of each chunk, every later one is throttled: the error's
    items are exactly the source items the server does not hold."""
    deadline = 2.0
    faulty = via_proxy(config, max_retries=100, retry_deadline=deadline)
    proxy.schedule(
        plan(partial=1.0, operations={"BatchWriteItem"}, requests=4),  # one per 25-item chunk
        plan(throttle=1.0),
    )
    source = list(run_logs(uid, 100))

    async with loop_lag() as lag:
        outcome, elapsed = await timed(PipelineRunLogsWriteApi(faulty).batch_upsert(source))

    assert isinstance(outcome, BatchWriteError), outcome
    assert overrun(elapsed, deadline) <= lag.total_bound, (elapsed, lag)
    stored = stored_runs(raw_client, config, uid)
    assert len(stored) == len(set(stored))
    assert 0 < len(stored) < 100
    not_stored = {run.run_id for run in source} - set(stored)
    assert [item.run_id for item in outcome.unprocessed_items].count(None) == 0
    assert sorted(item.run_id for item in outcome.unprocessed_items) == sorted(not_stored)
    assert sorted(key["run_id"] for key in outcome.unprocessed_keys) == sorted(not_stored)
    assert all(key["pipeline_id"] == uid for key in outcome.unprocessed_keys)
    assert all(item in source for item in outcome.unprocessed_items)  # the originals, as given
    stats = proxy.stats()
    assert stats.faults["partial_write"] == 4
    assert stats.faults["throttle"] > 4
    assert stats.items_forwarded == len(stored)
    assert outcome.aws_code in THROTTLE_CODES


@pytest.mark.timeout(30)
async def test_a_chunk_shares_one_deadline_between_unprocessed_items_and_failed_requests(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, raw_client: Any, uid: str
) -> None:
    """Hang, hang, partial answer, then hang forever: the chunk still ends at its deadline.

    Retries of failed requests and of unprocessed items share one deadline, and the attempt
    in flight when it passes is cut off there.
    """
    deadline, read_timeout = 3.0, 1.0
    faulty = via_proxy(config, max_retries=100, retry_deadline=deadline, read_timeout=read_timeout)
    proxy.schedule(
        plan(hang=1.0, hang_seconds=3.0, requests=2),
        plan(partial=1.0, requests=1),
        plan(hang=1.0, hang_seconds=3.0),
    )

    async with loop_lag() as lag:
        outcome, elapsed = await timed(
            PipelineRunLogsWriteApi(faulty).batch_upsert(run_logs(uid, 25))
        )

    assert isinstance(outcome, BatchWriteError), outcome
    assert proxy.stats().faults["partial_write"] == 1
    stored = set(stored_runs(raw_client, config, uid))
    assert {item.run_id for item in outcome.unprocessed_items} == {
        f"run-{n:06d}" for n in range(25)
    } - stored
    assert overrun(elapsed, deadline) <= lag.total_bound, (elapsed, lag)


# ---------------------------------------------------------------------- 3. batch reads
async def test_batch_get_returns_every_key_once_through_partial_answers_and_throttles(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, uid: str
) -> None:
    await PipelineRunLogsWriteApi(config).batch_upsert(run_logs(uid, 250))
    faulty = via_proxy(config, max_retries=30, retry_deadline=30.0)
    proxy.configure(partial=0.5, throttle=0.2, server_error=0.05)
    wanted = [(f"run-{n:06d}", uid) for n in range(250)]
    missing = [(f"absent-{n}", uid) for n in range(20)]

    views = await PipelineRunLogsReadApi(faulty).batch_get([*wanted, *missing, *wanted[:30]])

    returned = Counter((view.run_id, view.pipeline_id) for view in views)
    assert set(returned) == set(wanted)
    assert max(returned.values()) == 1
    assert all(view.records_processed == int(str(view.run_id)[4:]) for view in views)
    stats = proxy.stats()
    assert stats.faults["partial_get"] > 0
    assert stats.faults["throttle"] > 0
    assert stats.keys_withheld > 0
    assert stats.keys_forwarded == 270  # each distinct key reached the server once


async def test_batch_get_throttled_forever_names_every_unread_key(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, uid: str
) -> None:
    """Throttled on every attempt: RetryableError at the deadline, naming the keys not read."""
    deadline = 2.0
    faulty = via_proxy(config, max_retries=100, retry_deadline=deadline)
    proxy.configure(throttle=1.0)
    keys = [(f"run-{n:06d}", uid) for n in range(50)]

    async with loop_lag() as lag:
        outcome, elapsed = await timed(PipelineRunLogsReadApi(faulty).batch_get(keys))

    assert isinstance(outcome, RetryableError), outcome
    assert overrun(elapsed, deadline) <= lag.single_bound, (elapsed, lag)
    assert outcome.aws_code in THROTTLE_CODES
    assert sorted(plain_key(key) for key in outcome.unprocessed_keys) == sorted(
        (uid, run_id) for run_id, _ in keys
    )


async def test_batch_get_partial_forever_names_exactly_the_unread_keys(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, uid: str
) -> None:
    """Every answer leaves keys unprocessed: the error names exactly the keys never read."""
    await PipelineRunLogsWriteApi(config).batch_upsert(run_logs(uid, 50))
    faulty = via_proxy(config, max_retries=5, retry_deadline=10.0)
    proxy.configure(partial=1.0)
    keys = [(f"run-{n:06d}", uid) for n in range(50)]

    outcome, _ = await timed(PipelineRunLogsReadApi(faulty).batch_get(keys))

    assert isinstance(outcome, RetryableError), outcome
    stats = proxy.stats()
    # Each chunk retries until 5 answers in a row read nothing (an answer that read some keys
    # starts the count again): at least the first attempt and 5 retries, all partial.
    assert stats.requests["BatchGetItem"] >= 6
    assert stats.faults["partial_get"] == stats.requests["BatchGetItem"]
    # A forwarded key is read (all 50 exist) and never sent again; the rest are unread.
    unread = {plain_key(key) for key in outcome.unprocessed_keys}
    assert len(unread) == len(outcome.unprocessed_keys) == 50 - stats.keys_forwarded
    assert unread <= {(uid, run_id) for run_id, _ in keys}


# ---------------------------------------------------------------------- 4. ambiguous writes
#: A failed first attempt: "ambiguous_*" ones were applied by the server before the answer
#: was lost (500 or reset); "server_error"/"reset" ones never reached it. Either way the
#: client sees the same kind of failure and must retry to exactly one applied write.
LOST = ["ambiguous_error", "ambiguous_reset", "server_error", "reset"]
AMBIGUOUS = pytest.mark.parametrize("how", LOST)


def fail_once(proxy: FaultProxy, how: str, operation: str) -> None:
    """The next ``operation`` fails as ``how`` says (applied or not), later ones pass."""
    proxy.schedule(plan(operations={operation}, requests=1, **{how: 1.0}))


def check_applied_once(proxy: FaultProxy, how: str, operation: str) -> None:
    """The fault happened once and the request was retried (after reaching the server or not)."""
    stats = proxy.stats()
    assert stats.faults[how] == 1
    assert stats.requests[operation] == 2
    assert stats.forwarded[operation] == (2 if how.startswith("ambiguous") else 1)


@AMBIGUOUS
async def test_create_after_a_lost_answer_succeeds(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    faulty = via_proxy(config)
    fail_once(proxy, how, "PutItem")

    created = await PipelineConfigWriteApi(faulty).create_pipeline(pipeline(uid))

    check_applied_once(proxy, how, "PutItem")
    assert created.version == 1
    stored = stored_pipeline(raw_client, config, uid)
    assert stored["version"] == {"N": "1"}
    assert stored["pipeline_name"] == {"S": f"name {uid}"}


@AMBIGUOUS
async def test_create_of_someone_elses_item_still_conflicts_after_a_retry(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, uid: str, how: str
) -> None:
    """The own-write check compares the stored item: another writer's item is a conflict."""
    await PipelineConfigWriteApi(config).create_pipeline(pipeline(uid, description="theirs"))
    faulty = via_proxy(config)
    fail_once(proxy, how, "PutItem")

    with pytest.raises(ConflictError) as caught:
        await PipelineConfigWriteApi(faulty).create_pipeline(pipeline(uid, description="mine"))

    assert caught.value.retries == 1
    check_applied_once(proxy, how, "PutItem")


@AMBIGUOUS
async def test_delete_after_a_lost_answer_succeeds(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    await PipelineConfigWriteApi(config).create_pipeline(pipeline(uid))
    faulty = via_proxy(config)
    fail_once(proxy, how, "DeleteItem")

    await PipelineConfigWriteApi(faulty).delete_pipeline(uid)

    check_applied_once(proxy, how, "DeleteItem")
    table_name = config.table_name("pipeline_config")
    assert stored_item(raw_client, table_name, {"pipeline_id": uid}) is None


@AMBIGUOUS
async def test_update_with_expected_version_after_a_lost_answer_applies_once(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    await PipelineConfigWriteApi(config).create_pipeline(pipeline(uid))
    faulty = via_proxy(config)
    fail_once(proxy, how, "UpdateItem")

    updated = await PipelineConfigWriteApi(faulty).update_pipeline(
        uid, {"description": "changed"}, expected_version=1
    )

    check_applied_once(proxy, how, "UpdateItem")
    assert updated.version == 2
    assert updated.description == "changed"
    stored = stored_pipeline(raw_client, config, uid)
    assert stored["version"] == {"N": "2"}
    assert stored["description"] == {"S": "changed"}


@AMBIGUOUS
async def test_update_with_a_stale_version_still_conflicts_after_a_retry(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    """The retry's own-write check must not mistake someone else's update for ours."""
    writes = PipelineConfigWriteApi(config)
    await writes.create_pipeline(pipeline(uid))
    await writes.update_pipeline(uid, {"description": "theirs"}, expected_version=1)
    faulty = via_proxy(config)
    fail_once(proxy, how, "UpdateItem")

    with pytest.raises(ConflictError):
        await PipelineConfigWriteApi(faulty).update_pipeline(
            uid, {"description": "mine"}, expected_version=1
        )

    check_applied_once(proxy, how, "UpdateItem")
    stored = stored_pipeline(raw_client, config, uid)
    assert stored["version"] == {"N": "2"}
    assert stored["description"] == {"S": "theirs"}


@AMBIGUOUS
async def test_upsert_after_a_lost_answer_increments_the_version_once(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    await PipelineConfigWriteApi(config).create_pipeline(pipeline(uid))
    faulty = via_proxy(config)
    fail_once(proxy, how, "UpdateItem")

    upserted = await PipelineConfigWriteApi(faulty).upsert_pipeline(
        pipeline(uid, description="upserted")
    )

    check_applied_once(proxy, how, "UpdateItem")
    stored = stored_pipeline(raw_client, config, uid)
    assert stored["version"] == {"N": "2"}
    assert upserted.version == 2
    assert upserted.description == "upserted"


@AMBIGUOUS
async def test_complete_run_after_a_lost_answer_applies_once(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    await PipelineRunLogsWriteApi(config).start_run("run-1", uid)
    faulty = via_proxy(config)
    fail_once(proxy, how, "UpdateItem")

    completed = await PipelineRunLogsWriteApi(faulty).complete_run(
        "run-1", uid, RunStatus.SUCCESS, records_processed=7
    )

    check_applied_once(proxy, how, "UpdateItem")
    assert completed.status is RunStatus.SUCCESS
    assert completed.version == 2
    assert completed.records_processed == 7
    stored = stored_item(
        raw_client,
        config.table_name("pipeline_run_logs"),
        {"run_id": "run-1", "pipeline_id": uid},
    )
    assert stored is not None
    assert stored["version"] == {"N": "2"}
    assert stored["status"] == {"S": "success"}


@AMBIGUOUS
async def test_create_pipeline_with_tables_after_a_lost_answer_applies_once(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    faulty = via_proxy(config)
    fail_once(proxy, how, "TransactWriteItems")

    created, tables = await PipelineConfigWriteApi(faulty).create_pipeline_with_tables(
        pipeline(uid), [table(f"{uid}-t{n}", uid) for n in range(3)]
    )

    check_applied_once(proxy, how, "TransactWriteItems")
    assert created.version == 1
    assert len(tables) == 3
    stored = stored_pipeline(raw_client, config, uid)
    assert stored["version"] == {"N": "1"}
    for n in range(3):
        assert stored_item(
            raw_client, config.table_name("table_config"), {"table_id": f"{uid}-t{n}"}
        )


@AMBIGUOUS
async def test_transact_write_update_after_a_lost_answer_applies_once(
    config: DynamoDBConfig,
    proxy: FaultProxy,
    via_proxy: MakeConfig,
    raw_client: Any,
    uid: str,
    how: str,
) -> None:
    """A retried transaction reuses its ClientRequestToken: the version goes 1 -> 2, not 3
    (and the retry is not refused by its own version condition)."""
    await PipelineConfigWriteApi(config).create_pipeline(pipeline(uid))
    faulty = via_proxy(config)
    pipelines, tables = PipelineConfigWriteApi(faulty), TableConfigWriteApi(faulty)
    fail_once(proxy, how, "TransactWriteItems")

    await pipelines.transact_write(
        [
            pipelines.update_action(uid, {"description": "in a transaction"}, expected_version=1),
            tables.create_action(table(f"{uid}-t", uid)),
        ]
    )

    check_applied_once(proxy, how, "TransactWriteItems")
    stored = stored_pipeline(raw_client, config, uid)
    assert stored["version"] == {"N": "2"}
    assert stored["description"] == {"S": "in a transaction"}
    assert stored_item(raw_client, config.table_name("table_config"), {"table_id": f"{uid}-t"})


async def test_cancelled_transaction_is_a_conflict_with_reasons_and_is_not_retried(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, raw_client: Any, uid: str
) -> None:
    faulty = via_proxy(config)
    proxy.configure(transaction_cancel=1.0)

    with pytest.raises(ConflictError) as caught:
        await PipelineConfigWriteApi(faulty).create_pipeline_with_tables(
            pipeline(uid), [table(f"{uid}-t{n}", uid) for n in range(2)]
        )

    reasons = caught.value.cancellation_reasons
    assert len(reasons) == 3
    assert sorted(r["code"] for r in reasons) == ["ConditionalCheckFailed", "None", "None"]
    assert [r["table"] for r in reasons] == [
        config.table_name("pipeline_config"),
        config.table_name("table_config"),
        config.table_name("table_config"),
    ]
    assert proxy.stats().requests["TransactWriteItems"] == 1
    assert proxy.stats().forwarded["TransactWriteItems"] == 0
    assert stored_item(raw_client, config.table_name("pipeline_config"), {"pipeline_id": uid}) is (
        None
    )


# ---------------------------------------------------------------------- 5. hung connections
@pytest.mark.timeout(30)
async def test_hung_connections_end_with_connection_errors_within_the_deadline(
    config: DynamoDBConfig, proxy: FaultProxy, via_proxy: MakeConfig, raw_client: Any, uid: str
) -> None:
    """Every request hangs past the 1 s read timeout: each call gives up at its 4 s deadline.

    The attempt in flight when the deadline passes is cut off at the deadline.
    """
    deadline, read_timeout = 4.0, 1.0
    faulty = via_proxy(
        config, read_timeout=read_timeout, connect_timeout=1.0, retry_deadline=deadline
    )
    proxy.configure(hang=1.0, hang_seconds=3.0)

    async with loop_lag() as lag:
        outcomes = await asyncio.gather(
            timed(PipelineConfigReadApi(faulty).get_by_id(uid)),
            timed(PipelineConfigWriteApi(faulty).create_pipeline(pipeline(uid))),
            timed(PipelineRunLogsWriteApi(faulty).batch_upsert(run_logs(uid, 30))),
            timed(
                PipelineRunLogsReadApi(faulty).batch_get([(f"run-{n:06d}", uid) for n in range(5)])
            ),
        )

    (got, got_time), (created, create_time), (batch, batch_time), (read, read_time) = outcomes
    assert isinstance(got, ConnectionError), got
    assert isinstance(created, ConnectionError), created
    assert isinstance(read, RetryableError), read  # a batch read names the keys it did not read
    assert isinstance(read.__cause__, ConnectionError)
    assert sorted(k["run_id"] for k in read.unprocessed_keys) == [f"run-{n:06d}" for n in range(5)]
    assert isinstance(batch, BatchWriteError), batch
    assert isinstance(batch.__cause__, ConnectionError)
    assert {item.run_id for item in batch.unprocessed_items} == {f"run-{n:06d}" for n in range(30)}
    for elapsed in (got_time, create_time, batch_time, read_time):
        assert elapsed > read_timeout, [t for _, t in outcomes]
        assert overrun(elapsed, deadline) <= lag.total_bound, ([t for _, t in outcomes], lag)
    assert proxy.stats().faults["hang"] >= 4 * 3
    assert proxy.stats().forwarded == {}
    assert stored_item(raw_client, config.table_name("pipeline_config"), {"pipeline_id": uid}) is (
        None
    )
