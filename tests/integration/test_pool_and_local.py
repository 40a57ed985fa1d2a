"""Client pooling, the embedded backend's lifecycle, and a clean interpreter exit."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap

import pytest

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    EmbeddedDynamoDB,
    ItemNotFoundError,
    PipelineConfigReadApi,
    TableConfigReadApi,
    TableNotFoundError,
    close_clients,
)
from dynamodb_wrapper_async._wire.pool import get_sender, open_client_count


@pytest.mark.asyncio(loop_scope="function")
async def test_equal_configs_share_one_client_per_loop(backend: DynamoDBConfig) -> None:
    first = backend.model_copy(update={"max_concurrency": 3})
    equal = backend.model_copy(update={"max_concurrency": 3})
    other = backend.model_copy(update={"max_concurrency": 4})
    before = open_client_count()
    try:
        for api in (PipelineConfigReadApi(first), TableConfigReadApi(equal)):
            with pytest.raises((ItemNotFoundError, TableNotFoundError)):
                await api.get_by_id("missing")
        assert open_client_count() == before + 1
        pooled = await get_sender(first)
        assert pooled is await get_sender(equal)
        assert pooled.limit._value == 3
        assert pooled is not await get_sender(other)
        assert open_client_count() == before + 2
        clients = await asyncio.gather(*(get_sender(first) for _ in range(20)))
        assert all(c is pooled for c in clients)
    finally:
        await close_clients(first)
        await close_clients(other)
    assert open_client_count() == before


def test_embedded_backend_frees_its_port() -> None:
    embedded = EmbeddedDynamoDB(table_prefix="emb_")
    with embedded as config:
        assert config.endpoint_url is not None
        assert config.endpoint_url.startswith("http://127.0.0.1:")
        port = int(config.endpoint_url.rsplit(":", 1)[1])
        assert config.table_prefix == "emb_"
        assert "127.0.0.1" in repr(embedded)
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    assert embedded.endpoint_url is None
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    with pytest.raises(RuntimeError, match="not started"):
        _ = embedded.config


@pytest.mark.asyncio(loop_scope="function")
async def test_embedded_backend_async_context() -> None:
    async with EmbeddedDynamoDB() as config:
        with pytest.raises(TableNotFoundError):
            await PipelineConfigReadApi(config).get_by_id("x")
        await close_clients(config)


@pytest.mark.timeout(120)
def test_interpreter_exit_leaves_no_unclosed_session() -> None:
    script = textwrap.dedent(
        """
        from dynamodb_wrapper_sync import (
            EmbeddedDynamoDB, ItemNotFoundError, PipelineConfigReadApi, create_tables,
        )
        with EmbeddedDynamoDB() as config:
            create_tables(config)
            try:
                PipelineConfigReadApi(config).get_by_id("missing")
            except ItemNotFoundError:
                print("not found, as expected")
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", script],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "not found, as expected" in result.stdout
    assert "Unclosed" not in result.stderr
    assert "ResourceWarning" not in result.stderr
    assert ItemNotFoundError.__name__ not in result.stderr
