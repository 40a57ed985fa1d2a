"""Shared fixtures: a clean environment per test and the two local DynamoDB backends."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dynamodb_wrapper_async import DynamoDBConfig, close_clients

sys.path.insert(0, str(Path(__file__).parent))

from _servers import dynamodb_local, moto_server

BACKENDS = {"moto": moto_server, "ddblocal": dynamodb_local}


def _install_loop_policy() -> None:
    """``DYNAMODB_WRAPPER_TEST_LOOP=uvloop`` runs every loop of the tests on uvloop.

    The policy makes pytest-asyncio's loops, ``asyncio.run`` and the sync facade's loop
    thread uvloop's; an unknown value, or uvloop missing, is an error, never a silent
    fallback to asyncio's loop.
    """
    choice = os.environ.get("DYNAMODB_WRAPPER_TEST_LOOP", "asyncio")
    if choice == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    elif choice != "asyncio":
        msg = f"DYNAMODB_WRAPPER_TEST_LOOP must be asyncio or uvloop, not {choice!r}"
        raise pytest.UsageError(msg)


_install_loop_policy()


def pytest_report_header() -> str:
    loop = asyncio.new_event_loop()
    loop.close()
    return f"event loop: {type(loop).__module__}.{type(loop).__qualname__}"


def backends_required() -> bool:
    """In CI a backend that fails to start is a failure, never a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"} or bool(
        os.environ.get("DYNAMODB_WRAPPER_REQUIRE_BACKENDS")
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = Path(__file__).parent / "integration"
    for item in items:
        if root in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
async def _close_pooled_clients() -> AsyncIterator[None]:
    """Close every client the session's loop pooled, so none is left unclosed at exit."""
    yield
    await close_clients()


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's AWS settings, and never probe instance metadata."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "DYNAMODB_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session", params=list(BACKENDS), ids=list(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Iterator[DynamoDBConfig]:
    """A config for a running backend (moto server or DynamoDB Local), unique table prefix."""
    name: str = request.param
    try:
        manager = BACKENDS[name]()
        endpoint = manager.__enter__()
    except Exception as error:
        if backends_required():
            pytest.fail(f"backend {name} failed to start: {error}", pytrace=False)
        pytest.skip(f"backend {name} unavailable: {error}")
    try:
        yield DynamoDBConfig(
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            table_prefix=f"t_{name}_{uuid.uuid4().hex[:6]}_",
        )
    finally:
        manager.__exit__(None, None, None)
