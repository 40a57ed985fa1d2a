"""One ``Sender`` per (event loop, config), made lazily, shared by every API object.

The pooled sender is the JSON transport (``transport``); an aioboto3 client made from the
config's session resolves its endpoint, region and credential chain, sends nothing, and is
closed at once. Tests install a ``MockSender`` instead (:func:`install_sender`).

Lifetimes: a loop's senders are closed by ``close_clients()``, or when the loop closes
(``asyncio.run`` and pytest-asyncio close theirs), or collected with a loop dropped
unclosed. A forked child lets go of the parent's senders without touching their sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import weakref
from dataclasses import dataclass
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.loaders import Loader

from ..config import DynamoDBConfig
from .errors import translate
from .sender import Sender
from .transport import open_transport

logger = logging.getLogger("dynamodb_wrapper")


@dataclass
class PooledSender:
    """A live sender and its in-flight limit (``config.max_concurrency``)."""

    sender: Sender
    limit: asyncio.Semaphore


class _LoopClients:
    """The senders of one event loop, keyed by config; kept on the loop itself.

    Kept as an attribute of the loop (not in a process-wide map whose values would hold
    the loop), so a loop dropped without being closed is collected with its clients.
    """

    def __init__(self) -> None:
        self.clients: dict[DynamoDBConfig, PooledSender] = {}
        self.lock = asyncio.Lock()


_ATTRIBUTE = "_dynamodb_wrapper_clients"


class _Registry:
    """The loops of this process that pool clients (weakly); renewed in a forked child."""

    def __init__(self) -> None:
        self.loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self.pid = os.getpid()
        self.created = 0


_registry = _Registry()

#: What a forked child inherited from its parent: kept, never closed nor collected (their
#: finalizers would warn, and closing through an inherited loop unregisters the parent's
#: sockets from the epoll set parent and child share).
_inherited: list[object] = []


def _forget_after_fork() -> None:
    """A forked child lets go of its parent's sockets without touching them; starts empty."""
    loops = list(_registry.loops)
    _registry.__init__()  # type: ignore[misc]  # reset in place; callers hold the object
    for loop in loops:
        clients = _clients_of(loop)
        if clients is not None:
            for pooled in clients.clients.values():
                pooled.sender.forget_after_fork()
            clients.clients.clear()
            clients.lock = asyncio.Lock()  # it may have been held at the fork
    _inherited.extend(loops)


os.register_at_fork(after_in_child=_forget_after_fork)


def _clients_of(loop: asyncio.AbstractEventLoop) -> _LoopClients | None:
    clients: _LoopClients | None = getattr(loop, _ATTRIBUTE, None)
    return clients


def _loop_clients(loop: asyncio.AbstractEventLoop) -> _LoopClients:
    """The loop's clients, made once; they are closed when the loop closes."""
    clients = _clients_of(loop)
    if clients is None:
        clients = _LoopClients()
        setattr(loop, _ATTRIBUTE, clients)
        _close_with(loop, clients)
    return clients


def _close_with(loop: asyncio.AbstractEventLoop, clients: _LoopClients) -> None:
    """Close ``clients`` when ``loop.close()`` is called (``asyncio.run`` and pytest-asyncio
    call it), before the loop closes, so that their sockets close on it."""
    close = loop.close

    def close_clients_then_loop() -> None:
        if not loop.is_running():  # else close() raises, and the loop goes on
            _release(loop, clients)
        close()

    setattr(loop, "close", close_clients_then_loop)  # noqa: B010 - mypy refuses a method assignment


def _release(loop: asyncio.AbstractEventLoop, clients: _LoopClients) -> None:
    """Close the senders of a loop that is about to close (it is not running)."""
    senders = [pooled.sender for pooled in clients.clients.values()]
    clients.clients.clear()
    _registry.loops.discard(loop)
    if not senders or loop.is_closed() or os.getpid() != _registry.pid:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop runs in this thread: run ours once more to close them
        with contextlib.suppress(Exception):
            loop.run_until_complete(_close_all(senders))
        return
    # closed from inside another loop: loop cannot run; its transports close their
    # sockets when collected
    logger.warning(
        "an event loop was closed from inside another one with %d open DynamoDB "
        "client(s); await close_clients() before closing it",
        len(senders),
    )


async def _close_all(senders: list[Sender]) -> None:
    await asyncio.gather(*(sender.aclose() for sender in senders), return_exceptions=True)


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


class _SearchPaths(list[str]):
    """A loader's search paths; each boto3 session appends its own data dir, kept once."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@functools.cache
def _loader(data_path: str | None) -> Loader:
    """botocore's data loader (service models, endpoint rules), shared by every session.

    Built as botocore's ``create_loader`` builds it (``AWS_DATA_PATH`` first).
    """
    paths = _SearchPaths()
    for path in (data_path or "").split(os.pathsep):
        if path:
            paths.append(os.path.expanduser(os.path.expandvars(path)))
    return Loader(extra_search_paths=paths)


def _session(config: DynamoDBConfig) -> Any:
    """A new session per client; botocore's JSON models are parsed once per process.

    Parsing them per session was ~100 ms and several MB per event loop.
    """
    botocore_session = AioSession()
    botocore_session.register_component(
        "data_loader", _loader(botocore_session.get_config_variable("data_path"))
    )
    return aioboto3.Session(
        **config.credentials(),
        region_name=config.region_name,
        profile_name=config.profile_name,
        botocore_session=botocore_session,
    )


async def _open(config: DynamoDBConfig) -> Sender:
    """Open the transport, its endpoint and credentials resolved by an aioboto3 client."""
    session = _session(config)
    client_context = session.client(
        "dynamodb", endpoint_url=config.endpoint_url, config=botocore_config(config)
    )
    # only its settings are used: exited at once, so no aiohttp session stays open (one
    # would leak with its loop, and warn when a forked child drops it)
    async with client_context as client:
        return await open_transport(config, session, client)


async def get_sender(config: DynamoDBConfig) -> PooledSender:
    """Return the pooled sender for ``config`` on the running loop, creating it once."""
    if os.getpid() != _registry.pid:
        _forget_after_fork()
    clients = _loop_clients(asyncio.get_running_loop())
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
            _registry.loops.add(asyncio.get_running_loop())
            _registry.created += 1
    return pooled


def install_sender(config: DynamoDBConfig, sender: Sender) -> None:
    """Use ``sender`` for ``config`` on the running loop (a test double, e.g. ``MockSender``).

    It is closed (``aclose``) with the other pooled senders.
    """
    loop = asyncio.get_running_loop()
    clients = _loop_clients(loop)
    clients.clients[config] = PooledSender(sender, asyncio.Semaphore(config.max_concurrency))
    _registry.loops.add(loop)


async def close_clients(config: DynamoDBConfig | None = None) -> None:
    """Close the pooled clients of the running loop (only those of ``config`` if given).

    The next call made with a closed config opens a new client.
    """
    clients = _clients_of(asyncio.get_running_loop())
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
    return sum(
        len(clients.clients)
        for clients in map(_clients_of, list(_registry.loops))
        if clients is not None
    )
