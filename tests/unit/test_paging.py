"""Paging against an in-memory table behind the wire seam (``MockSender``): resume keys,
limits with filters, fan-out order, tokens and parallel-scan merges."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, ClassVar

import pytest
import pytest_asyncio
from _memory_table import MemoryTable
from boto3.dynamodb.conditions import Attr
from pydantic import field_validator

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    DynamoModel,
    PipelineConfigReadApi,
    ReadApi,
    TableConfig,
    TableConfigReadApi,
    TableConfigView,
    TableNotFoundError,
    ValidationError,
    ViewModel,
)
from dynamodb_wrapper_async._wire.mock import MockError
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender

pytestmark = pytest.mark.asyncio(loop_scope="function")

CONFIG = DynamoDBConfig(table_prefix="mem_", max_retries=2, retry_deadline=5)
UTC = dt.timezone.utc
JAN, FEB, MAR = (dt.datetime(2024, month, 10, tzinfo=UTC) for month in (1, 2, 3))


def table_config(
    n: int, *, pipeline: str = "p", when: dt.datetime = JAN, **extra: Any
) -> TableConfig:
    return TableConfig(
        table_id=f"t{n:03d}", pipeline_id=pipeline, table_name=f"name{n:03d}", table_type="s",
        created_at=when, updated_at=when + dt.timedelta(hours=n), **extra,
    )  # fmt: skip


@pytest_asyncio.fixture(loop_scope="function")
async def table() -> AsyncIterator[MemoryTable]:
    memory = MemoryTable(TableConfig, "mem_table_config")
    install_sender(CONFIG, memory.sender)
    yield memory
    await close_clients(CONFIG)


def names(views: list[TableConfigView]) -> list[str | None]:
    return [view.table_name for view in views]


def flat(pages: list[list[TableConfigView]]) -> list[str | None]:
    return [view.table_name for page in pages for view in page]


async def all_pages(
    read: Any, *args: Any, **kwargs: Any
) -> tuple[list[list[TableConfigView]], list[str | None]]:
    """Follow ``next_key`` from the first page to the end; return the pages and tokens."""
    pages, tokens, token = [], [], None
    while True:
        items, token = await read(*args, last_key=token, **kwargs)
        pages.append(items)
        tokens.append(token)
        if token is None:
            return pages, tokens


# ------------------------------------------------------------------ resume keys and limits
async def test_pages_chain_through_tokens_without_gaps_or_repeats(table: MemoryTable) -> None:
    for n in range(20):
        table.put(table_config(n))
    api = TableConfigReadApi(CONFIG)
    pages, _ = await all_pages(api.query_by_pipeline, "p", limit=7)
    assert [len(page) for page in pages] == [7, 7, 6]
    assert flat(pages) == [f"name{n:03d}" for n in range(20)]
    assert all(request["Limit"] == 7 for _, request in table.requests)  # unfiltered: exact


async def test_a_page_cut_inside_a_dynamodb_page_resumes_right_after_its_last_item(
    table: MemoryTable,
) -> None:
    table.page_size = 10
    for n in range(30):
        table.put(table_config(n, is_active=n % 3 != 0))  # 20 of 30 match
    api = TableConfigReadApi(CONFIG)
    first, token = await api.query_by_pipeline("p", filters={"is_active": True}, limit=4)
    assert names(first) == ["name001", "name002", "name004", "name005"]
    assert token is not None
    assert len(table.requests) == 1  # one DynamoDB page held the 4 matches and more
    await api.query_by_pipeline("p", filters={"is_active": True}, limit=4, last_key=token)
    _, resumed = table.requests[-1]
    assert resumed["ExclusiveStartKey"] == {  # the last item returned, not LastEvaluatedKey
        "table_id": {"S": "t005"}, "pipeline_id": {"S": "p"}, "table_name": {"S": "name005"},
    }  # fmt: skip

    table.requests.clear()
    pages, _ = await all_pages(api.query_by_pipeline, "p", filters={"is_active": True}, limit=4)
    expected = [f"name{n:03d}" for n in range(30) if n % 3 != 0]
    assert flat(pages) == expected
    assert all("Limit" not in request for _, request in table.requests)  # filtered: full pages


async def test_limit_counts_matches_and_reads_on_until_it_has_them(table: MemoryTable) -> None:
    table.page_size = 5
    for n in range(40):
        table.put(table_config(n, data_format="delta" if n % 8 == 0 else "csv"))
    api = TableConfigReadApi(CONFIG)
    items, token = await api.query_by_pipeline(
        "p", filters=Attr("data_format").eq("delta"), limit=3
    )
    assert names(items) == ["name000", "name008", "name016"]
    assert len(table.requests) == 4  # pages of 5: the third match is on the fourth page
    rest, end = await api.query_by_pipeline(
        "p", filters=Attr("data_format").eq("delta"), limit=3, last_key=token
    )
    assert (names(rest), end) == (["name024", "name032"], None)


async def test_a_limit_ending_at_the_last_item_leaves_one_empty_page(table: MemoryTable) -> None:
    for n in range(6):
        table.put(table_config(n))
    api = TableConfigReadApi(CONFIG)
    items, token = await api.query_by_pipeline("p", limit=6)
    assert len(items) == 6
    assert token is not None  # DynamoDB cannot tell that nothing follows an exact Limit
    assert await api.query_by_pipeline("p", limit=6, last_key=token) == ([], None)


async def test_streams_resume_from_a_paged_token_and_skip_empty_pages(table: MemoryTable) -> None:
    table.page_size = 4
    for n in range(13):
        table.put(table_config(n, is_active=n >= 9))  # the first two pages match nothing
    api = TableConfigReadApi(CONFIG)
    first, token = await api.query_by_pipeline("p", limit=5)
    pages = [page async for page in api.query_by_pipeline_iter("p", last_key=token).pages()]
    assert names(first) + flat(pages) == [f"name{n:03d}" for n in range(13)]
    active = [
        page async for page in api.query_by_pipeline_iter("p", filters={"is_active": True}).pages()
    ]
    assert [names(page) for page in active] == [["name009", "name010", "name011"], ["name012"]]


# ------------------------------------------------------------------ fan-out over months
async def test_recent_configs_merge_months_newest_first_across_pages(table: MemoryTable) -> None:
    for n, when in enumerate([JAN] * 3 + [FEB] * 5 + [MAR] * 2):
        table.put(table_config(n, when=when))
    table.put(table_config(99, when=dt.datetime(2023, 11, 1, tzinfo=UTC)))  # outside
    api = TableConfigReadApi(CONFIG)
    since, until = dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 3, 31, tzinfo=UTC)
    in_flight = peak = 0

    async def count(operation: str, request: dict[str, Any]) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1

    table.before = count
    first, token = await api.query_recent_configs(since, until=until, limit=4)
    months = [r["ExpressionAttributeValues"][":v0"]["S"] for _, r in table.requests]
    assert months == ["2024-03", "2024-02", "2024-01"]  # every month at once
    assert peak == 3
    assert names(first) == ["name009", "name008", "name007", "name006"]

    table.requests.clear()
    second, _ = await api.query_recent_configs(since, until=until, limit=4, last_key=token)
    months = [r["ExpressionAttributeValues"][":v0"]["S"] for _, r in table.requests]
    assert months == ["2024-02", "2024-01"]  # March is done: the token is in February
    assert names(second) == ["name005", "name004", "name003", "name002"]

    pages, tokens = await all_pages(api.query_recent_configs, since, until=until, limit=4)
    assert [len(page) for page in pages] == [4, 4, 2]
    merged = [str(view.updated_at) for page in pages for view in page]
    assert merged == sorted(merged, reverse=True)
    assert tokens[-1] is None
    streamed = [v.table_name async for v in api.query_recent_configs_iter(since, until=until)]
    assert streamed == flat(pages)


async def test_recent_configs_resume_at_a_month_boundary(table: MemoryTable) -> None:
    for n, when in enumerate([JAN] * 2 + [FEB] * 3):
        table.put(table_config(n, when=when))
    api = TableConfigReadApi(CONFIG)
    since, until = dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 2, 28, tzinfo=UTC)
    first, token = await api.query_recent_configs(since, until=until, limit=3)  # all of Feb
    assert names(first) == ["name004", "name003", "name002"]
    assert token is not None
    rest = [
        v.table_name
        async for v in api.query_recent_configs_iter(since, until=until, last_key=token)
    ]
    assert rest == ["name001", "name000"]
    everything, end = await api.query_recent_configs(since, until=until, limit=5)
    assert (len(everything), end) == (5, None)  # the last month ended exactly here


async def test_a_failed_month_cancels_the_others_and_is_raised_as_it_is(table: MemoryTable) -> None:
    cancelled: list[str] = []

    async def fail_february(operation: str, request: dict[str, Any]) -> None:
        month = request["ExpressionAttributeValues"][":v0"]["S"]
        if month == "2024-02":
            await asyncio.sleep(0.01)  # let the others start first
            raise MockError("ResourceNotFoundException", "gone")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(month)
            raise

    table.before = fail_february
    since, until = dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 3, 31, tzinfo=UTC)
    with pytest.raises(TableNotFoundError) as caught:
        await TableConfigReadApi(CONFIG).query_recent_configs(since, until=until)
    assert caught.value.__cause__ is not None  # the wire error, as the gateway chained it
    assert sorted(cancelled) == ["2024-01", "2024-03"]
    assert asyncio.all_tasks() == {asyncio.current_task()}


# ------------------------------------------------------------------ tokens
async def test_tokens_are_bound_to_their_query(table: MemoryTable) -> None:
    for n in range(4):
        table.put(table_config(n))
    api = TableConfigReadApi(CONFIG)
    _, token = await api.query_by_pipeline("p", limit=1)
    _, scan_token = await api.scan(limit=1)
    assert token is not None
    assert scan_token is not None
    sent = len(table.requests)
    since = dt.datetime(2024, 1, 1, tzinfo=UTC)
    foreign: list[Callable[[], Awaitable[Any]]] = [
        lambda: api.query_by_pipeline("q", last_key=token),  # another partition
        lambda: api.query_by_pipeline("p", last_key=scan_token),  # another operation
        lambda: api.scan(last_key=token),
        lambda: api.query_recent_configs(since, last_key=token),  # another index
        lambda: PipelineConfigReadApi(CONFIG).scan(last_key=scan_token),  # another table
    ]
    for call in foreign:
        with pytest.raises(ValidationError, match="another query"):
            await call()
    tampered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    with pytest.raises(ValidationError, match="invalid page token"):
        await api.query_by_pipeline("p", last_key=tampered)
    assert len(table.requests) == sent  # refused before any request


async def test_stream_tokens_are_checked_when_the_stream_is_made(table: MemoryTable) -> None:
    table.put(table_config(1, when=JAN))
    table.put(table_config(2, when=FEB))
    api = TableConfigReadApi(CONFIG)
    since, until = dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 2, 28, tzinfo=UTC)
    _, token = await api.query_recent_configs(since, until=until, limit=1)
    assert token is not None
    sent = len(table.requests)
    with pytest.raises(ValidationError, match="another query"):
        api.query_recent_configs_iter(since, last_key=token)  # another window: until=now
    with pytest.raises(ValidationError, match="another query"):
        api.query_by_pipeline_iter("p", last_key=token)
    with pytest.raises(ValidationError, match="whole-table scan"):
        api.scan_iter(last_key=token, segments=2)
    assert len(table.requests) == sent
    rest = [
        v.table_name
        async for v in api.query_recent_configs_iter(since, until=until, last_key=token)
    ]
    assert rest == ["name001"]


# ------------------------------------------------------------------ parallel scans
async def test_a_parallel_scan_yields_every_item_once_from_every_segment(
    table: MemoryTable,
) -> None:
    table.page_size = 3
    for n in range(50):
        table.put(table_config(n))
    api = TableConfigReadApi(CONFIG)
    seen = [str(view.table_id) async for view in api.scan_iter(segments=4)]
    assert sorted(seen) == [f"t{n:03d}" for n in range(50)]
    segments = {(r["Segment"], r["TotalSegments"]) for _, r in table.requests}
    assert segments == {(0, 4), (1, 4), (2, 4), (3, 4)}
    whole = [str(view.table_id) async for view in api.scan_iter(last_key=None)]
    assert sorted(whole) == sorted(seen)


class SegmentGate:
    """Holds segment requests until released; remembers which ones were cancelled."""

    def __init__(
        self, *, fail: int | None = None, pass_through: frozenset[int] = frozenset()
    ) -> None:
        self.fail = fail
        self.pass_through = pass_through
        self.waiting: set[int] = set()
        self.cancelled: list[int] = []
        self.changed = asyncio.Event()

    async def __call__(self, operation: str, request: dict[str, Any]) -> None:
        segment = request["Segment"]
        if segment == self.fail:
            await asyncio.sleep(0.01)  # let the others start first
            raise MockError("ValidationException", "segment failed")
        if segment in self.pass_through:
            return
        self.waiting.add(segment)
        self.changed.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.append(segment)
            raise


async def test_a_failed_segment_stops_the_others_and_leaves_no_task(table: MemoryTable) -> None:
    for n in range(20):
        table.put(table_config(n))
    gate = SegmentGate(fail=2)
    table.before = gate
    stream = TableConfigReadApi(CONFIG).scan_iter(segments=4)
    with pytest.raises(ValidationError, match="segment failed"):
        async for _ in stream:
            pass
    assert sorted(gate.cancelled) == [0, 1, 3]
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_a_cancelled_parallel_scan_stops_every_segment(table: MemoryTable) -> None:
    for n in range(20):
        table.put(table_config(n))
    gate = SegmentGate()
    table.before = gate

    async def consume() -> None:
        async for _ in TableConfigReadApi(CONFIG).scan_iter(segments=3):
            pass

    reader = asyncio.create_task(consume())
    while len(gate.waiting) < 3:
        await gate.changed.wait()
        gate.changed.clear()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert sorted(gate.cancelled) == [0, 1, 2]
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_closing_a_parallel_scan_early_stops_every_segment(table: MemoryTable) -> None:
    for n in range(20):
        table.put(table_config(n))
    gate = SegmentGate(pass_through=frozenset({0}))
    table.before = gate
    stream = TableConfigReadApi(CONFIG).scan_iter(segments=3)
    first = await anext(aiter(stream))
    assert first.table_id is not None
    await stream.aclose()
    assert sorted(gate.cancelled) == sorted(gate.waiting) == [1, 2]
    assert asyncio.all_tasks() == {asyncio.current_task()}


# ------------------------------------------------------------------ one way to convert a page
class Probe(DynamoModel):
    probe_id: str
    note: str = ""

    class Meta:
        table_name = "probe"
        partition_key = "probe_id"


class ProbeView(ViewModel):
    probe_id: str | None = None
    note: str | None = None
    collector: ClassVar[list[bool]] = []

    @field_validator("note")
    @classmethod
    def _record(cls, value: str | None) -> str | None:
        cls.collector.append(gc.isenabled())
        return value


class ProbeReadApi(ReadApi[Probe, ProbeView]):
    model = Probe
    view = ProbeView


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    ProbeView.collector.clear()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
async def test_paged_reads_and_streams_validate_as_the_response_is_parsed() -> None:
    memory = MemoryTable(Probe, "mem_probe", page_size=4)
    for n in range(10):
        memory.put(Probe(probe_id=f"x{n}", note="n"))
    install_sender(CONFIG, memory.sender)
    try:
        api = ProbeReadApi(CONFIG)
        paged, _ = await api.scan(limit=6)
        streamed = [view async for view in api.scan_iter()]
        parallel = [view async for view in api.scan_iter(segments=2)]
    finally:
        await close_clients(CONFIG)
    assert (len(paged), len(streamed), len(parallel)) == (6, 10, 10)
    assert ProbeView.collector == [False] * 26  # every view built with the collector paused
    assert gc.isenabled()
