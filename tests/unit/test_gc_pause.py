"""Pages are converted with the garbage collector paused, and it always runs again after."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from dynamodb_wrapper_async import DynamoDBConfig
from dynamodb_wrapper_async._engine import gateway as _gateway
from dynamodb_wrapper_async._gc_pause import without_gc
from dynamodb_wrapper_async._wire.mock import MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_paused_for_the_call_only(collector_on: None) -> None:
    assert without_gc(lambda _: gc.isenabled(), None) is False
    assert gc.isenabled()


def test_the_collector_runs_again_after_an_error(collector_on: None) -> None:
    def fail(_: object) -> None:
        raise ValueError("bad page")

    with pytest.raises(ValueError, match="bad page"):
        without_gc(fail, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on: None) -> None:
    gc.disable()
    assert without_gc(lambda _: gc.isenabled(), None) is False
    assert not gc.isenabled()


async def one_item_scan(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    assert operation == "Scan"
    return {"Items": [{"pk": {"S": "a"}}], "Count": 1}


@pytest.mark.asyncio(loop_scope="function")
async def test_a_mock_senders_page_is_converted_with_the_collector_paused(
    collector_on: None,
) -> None:
    config = DynamoDBConfig(table_prefix="gc_pause_")
    install_sender(config, MockSender(one_item_scan))
    try:
        seen = await _gateway.call_converted(
            config, "Scan", {"TableName": "t"}, lambda page: (gc.isenabled(), page["Count"])
        )
    finally:
        await close_clients(config)
    assert seen == (False, 1)
    assert gc.isenabled()
