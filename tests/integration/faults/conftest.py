"""Fault-injection fixtures: DynamoDB Local behind a FaultProxy, and configs that go through it.

The fault tests use the session's DynamoDB Local (the ``backend`` fixture of
``tests/conftest.py``, so the whole suite starts one server) and run on it only: their moto
variants are deselected here rather than started and skipped.

Each test gets its own proxy, seeded from ``FAULT_SEED`` (default below) and the test's id,
so a failure can be replayed with the same fault draws (as far as the order in which
concurrent requests arrive allows).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from integration.faults._fault_proxy import FaultProxy

from dynamodb_wrapper_async import DynamoDBConfig, close_clients

FAULTS_DIR = Path(__file__).parent
DEFAULT_SEED = 20240605


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the moto variants of the fault tests: they run on DynamoDB Local only."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        in_faults = FAULTS_DIR in Path(str(item.fspath)).parents
        (dropped if in_faults and params.get("backend") == "moto" else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def fault_seed(request: pytest.FixtureRequest) -> int:
    """The proxy seed of the running test: FAULT_SEED mixed with the test's id."""
    base = int(os.environ.get("FAULT_SEED") or DEFAULT_SEED)
    return base ^ zlib.crc32(request.node.nodeid.encode())


@pytest.fixture
def proxy(backend: DynamoDBConfig, request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    """A running FaultProxy in front of the session's DynamoDB Local, faults off."""
    assert backend.endpoint_url is not None
    with FaultProxy(backend.endpoint_url, seed=fault_seed(request)) as running:
        yield running


@pytest.fixture
async def via_proxy(proxy: FaultProxy) -> AsyncIterator[Callable[..., DynamoDBConfig]]:
    """Make configs that reach the server through ``proxy``: ``via_proxy(base, **settings)``.

    Their pooled clients are closed when the test ends, before the proxy stops.
    """
    made: list[DynamoDBConfig] = []

    def make(base: DynamoDBConfig, **settings: Any) -> DynamoDBConfig:
        config = base.model_copy(update={"endpoint_url": proxy.url, **settings})
        made.append(config)
        return config

    yield make
    for config in made:
        await close_clients(config)
