"""One ``Sender`` per (event loop, config), made lazily, shared by every API object.

The pooled sender is the JSON transport (``transport``); an aioboto3 client made from the
config's session resolves its endpoint, region and credential chain, and sends nothing.
Tests install a ``MockSender`` instead (:func:`install_sender`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import weakref
from dataclasses import dataclass
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig

from ..config import DynamoDBConfig
from .errors import translate
from .sender import Sender
from .transport import open_transport


@dataclass
class PooledSender:
    """A live sender and its in-flight limit (``config.max_concurrency``)."""

    sender: Sender
    limit: asyncio.Semaphore


class _LoopClients:
    """The senders of one event loop, keyed by config."""

    def __init__(self) -> None:
        self.clients: dict[DynamoDBConfig, PooledSender] = {}
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
    """Return the settings of the aioboto3 client that resolves endpoint and credentials.

    It sends no request of ours (the transport does), but if it ever did: our gateway owns
    retries, so botocore would make one attempt (its ``standard`` mode gives up after 3 and
    ``legacy`` never retries RequestLimitExceeded), without parameter validation (every
    request is built and checked by us).
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


async def _open(config: DynamoDBConfig) -> Sender:
    """Open the transport, its endpoint and credentials resolved by an aioboto3 client."""
    session = _session(config)
    owner = session.client(
        "dynamodb", endpoint_url=config.endpoint_url, config=botocore_config(config)
    )
    client = await owner.__aenter__()
    try:
        return await open_transport(config, session, client, owner)
    except BaseException:
        await owner.__aexit__(None, None, None)
        raise


async def get_sender(config: DynamoDBConfig) -> PooledSender:
    """Return the pooled sender for ``config`` on the running loop, creating it once."""
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
                sender = await _open(config)
            except Exception as exc:
                raise translate(exc, operation="connect") from exc
            pooled = PooledSender(sender, asyncio.Semaphore(config.max_concurrency))
            clients.clients[config] = pooled
            _registry.created += 1
    return pooled


def install_sender(config: DynamoDBConfig, sender: Sender) -> None:
    """Use ``sender`` for ``config`` on the running loop (a test double, e.g. ``MockSender``).

    It is closed (``aclose``) with the other pooled senders.
    """
    loop = asyncio.get_running_loop()
    clients = _registry.by_loop.setdefault(loop, _LoopClients())
    clients.clients[config] = PooledSender(sender, asyncio.Semaphore(config.max_concurrency))


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
                await pooled.sender.aclose()


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
