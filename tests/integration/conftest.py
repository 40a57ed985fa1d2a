"""Integration fixtures: the three tables, created once per backend, and raw boto3 access."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import boto3
import pytest

from dynamodb_wrapper_async import DynamoDBConfig, close_clients, create_tables, delete_tables


@pytest.fixture(scope="session")
async def config(backend: DynamoDBConfig) -> AsyncIterator[DynamoDBConfig]:
    """A config whose three tables exist on the backend (created once per session)."""
    await create_tables(backend)
    yield backend
    await delete_tables(backend)
    await close_clients(backend)


@pytest.fixture(scope="session")
def raw_client(backend: DynamoDBConfig) -> Iterator[Any]:
    """A plain boto3 client on the same backend, to look at what is really stored."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=backend.endpoint_url,
        region_name=backend.region_name,
        **backend.credentials(),
    )
    yield client
    client.close()


@pytest.fixture
async def own_tables(backend: DynamoDBConfig) -> AsyncIterator[DynamoDBConfig]:
    """Tables of its own for one test (a bulk load must not slow other tests' scans)."""
    private = backend.model_copy(
        update={"table_prefix": f"{backend.table_prefix}{uuid.uuid4().hex[:4]}_"}
    )
    await create_tables(private)
    yield private
    await delete_tables(private)
    await close_clients(private)


@pytest.fixture
def uid() -> str:
    """A short unique id, so tests sharing session tables never see each other's items."""
    return uuid.uuid4().hex[:10]
