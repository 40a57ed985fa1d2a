"""One DynamoDB client per (event loop, config), made lazily, shared.

The pooled client sends data operations through ``_transport`` and table management through
an aioboto3 client made from the same session (endpoint, region, credential chain).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import weakref
from dataclasses import dataclass
from typing import Any, cast

import aioboto3
from aiobotocore.config import AioConfig

from ._errors import translate
from ._transport import TransportClient, open_transport
from ._types import DynamoDBClient
from .config import DynamoDBConfig


@dataclass
class PooledClient:
    """A live client, the context manager that owns it, and its in-flight limit."""

    client: DynamoDBClient
    owner: Any
    limit: asyncio.Semaphore


class _LoopClients:
    """The clients of one event loop, keyed by config."""

    def __init__(self) -> None:
        self.clients: dict[DynamoDBConfig, PooledClient] = {}
        self.lock = asyncio.Lock()


class _Registry:
    """Every pooled client of this process, by loop; renewed in a forked child."""

    def __init__(self) -> None:
        self.by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = (
            weakref.WeakKeyDictionary()
        )
        self.pid = os.getpid()
        self.created = 0


_registry = _Registry()


def _forget_after_fork() -> None:
    """A forked child must not touch its parent's sockets or loop: start empty."""
    _registry.__init__()  # type: ignore[misc]  # reset in place; callers hold the object


os.register_at_fork(after_in_child=_forget_after_fork)


class _SecretRedactor(logging.Filter):
    """Blanks the credentials of our configs out of botocore's DEBUG logs.

    botocore.auth logs canonical requests that include the session token, and endpoint logs
    include request headers; we attach this filter to every botocore/aiobotocore logger.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self.patched: set[str] = set()

    def remember(self, config: DynamoDBConfig) -> None:
        self.secrets.update(v for v in config.credentials().values() if v and len(v) >= 4)
        for name in list(logging.Logger.manager.loggerDict):
            if name.startswith(("botocore", "aiobotocore", "aioboto3", "boto3")) and (
                name not in self.patched
            ):
                logging.getLogger(name).addFilter(self)
                self.patched.add(name)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's business, not ours
            return True
        if any(secret in text for secret in self.secrets):
            for secret in self.secrets:
                text = text.replace(secret, "***")
            record.msg, record.args = text, None
        return True


_redactor = _SecretRedactor()


def botocore_config(config: DynamoDBConfig) -> AioConfig:
    """Return the client settings: our gateway owns retries, so botocore makes one attempt.

    botocore's ``standard`` mode gives up after 3 attempts and ``legacy`` never retries
    RequestLimitExceeded; our retry loop covers every throttling code, 5xx and connection
    error under a deadline, so botocore is told to try once. Parameter validation is off
    because every request is built and checked by us (it was ~40% of the client's CPU).
    """
    return AioConfig(
        max_pool_connections=config.pool_size,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        retries={"mode": "standard", "total_max_attempts": 1},
        parameter_validation=False,
        tcp_keepalive=True,
    )


def _session(config: DynamoDBConfig) -> Any:
    return aioboto3.Session(
        **config.credentials(),
        region_name=config.region_name,
        profile_name=config.profile_name,
    )


async def _open(config: DynamoDBConfig) -> TransportClient:
    """Open the aioboto3 client (table management) and the transport (data operations)."""
    session = _session(config)
    owner = session.client(
        "dynamodb", endpoint_url=config.endpoint_url, config=botocore_config(config)
    )
    client = await owner.__aenter__()
    try:
        transport = await open_transport(config, session, client)
    except BaseException:
        await owner.__aexit__(None, None, None)
        raise
    return TransportClient(transport, client, owner)


async def get_client(config: DynamoDBConfig) -> PooledClient:
    """Return the pooled client for ``config`` on the running loop, creating it once."""
    if os.getpid() != _registry.pid:
        _forget_after_fork()
    loop = asyncio.get_running_loop()
    clients = _registry.by_loop.get(loop)
    if clients is None:
        clients = _registry.by_loop.setdefault(loop, _LoopClients())
    pooled = clients.clients.get(config)
    if pooled is not None:
        return pooled
    async with clients.lock:
        pooled = clients.clients.get(config)
        if pooled is None:
            _redactor.remember(config)
            try:
                client = await _open(config)
            except Exception as exc:
                raise translate(exc, operation="connect") from exc
            pooled = PooledClient(
                cast(DynamoDBClient, client), client, asyncio.Semaphore(config.max_concurrency)
            )
            clients.clients[config] = pooled
            _registry.created += 1
    return pooled


def install_client(config: DynamoDBConfig, client: DynamoDBClient, owner: Any = None) -> None:
    """Use ``client`` for ``config`` on the running loop (a custom transport, or a test fake).

    ``owner`` is the async context manager to exit when the client is closed, if any.
    """
    loop = asyncio.get_running_loop()
    clients = _registry.by_loop.setdefault(loop, _LoopClients())
    clients.clients[config] = PooledClient(
        client, owner or _NoOwner(), asyncio.Semaphore(config.max_concurrency)
    )


class _NoOwner:
    async def __aexit__(self, *exc_info: object) -> None:
        return None


async def close_clients(config: DynamoDBConfig | None = None) -> None:
    """Close the pooled clients of the running loop (only those of ``config`` if given).

    The next call made with a closed config opens a new client.
    """
    clients = _registry.by_loop.get(asyncio.get_running_loop())
    if clients is None:
        return
    configs = [config] if config is not None else list(clients.clients)
    for each in configs:
        pooled = clients.clients.pop(each, None)
        if pooled is not None:
            with contextlib.suppress(Exception):
                await pooled.owner.__aexit__(None, None, None)


async def close_all_clients() -> None:
    """Close every pooled client of the running loop (the sync runner calls this at exit)."""
    await close_clients()


def pool_stats() -> dict[str, int]:
    """Return this process's pid, clients created so far and clients open now.

    Spark jobs return it from their tasks to show that each worker process builds its
    client once and reuses it across tasks.
    """
    if os.getpid() != _registry.pid:
        _forget_after_fork()
    return {"pid": _registry.pid, "clients_created": _registry.created, "open": open_client_count()}


def open_client_count() -> int:
    """Return how many clients this process holds open, over all loops (for tests)."""
    if os.getpid() != _registry.pid:
        return 0
    return sum(len(clients.clients) for clients in list(_registry.by_loop.values()))
