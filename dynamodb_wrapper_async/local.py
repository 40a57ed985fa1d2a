"""EmbeddedDynamoDB: a local DynamoDB endpoint (moto's server) inside this process.

For trying things out, examples, notebooks and tests. It is used only when asked for:
``DynamoDBConfig.from_env()`` never falls back to it.
"""

from __future__ import annotations

import logging
import socket
import time
from types import TracebackType
from typing import Any

from .config import DynamoDBConfig

__all__ = ["EmbeddedDynamoDB"]

_INSTALL_HINT = "EmbeddedDynamoDB needs moto's server: pip install 'dynamodb-wrapper[local]'"


class EmbeddedDynamoDB:
    """Start moto's DynamoDB-compatible server on a free loopback port.

    Use it as a context manager (sync or async); it yields a ready :class:`DynamoDBConfig`::

        with EmbeddedDynamoDB() as config:
            create_tables(config)

    All embedded servers of one process share moto's in-memory state, so give each a
    distinct ``table_prefix`` if several run at once. Data lives only as long as the process.

    Args:
        table_prefix: Prefix for the config's table names.
        region_name: Region of the config.
        user_timezone: ``user_timezone`` of the config.
    """

    def __init__(
        self, *, table_prefix: str = "", region_name: str = "us-east-1", user_timezone: str = "UTC"
    ) -> None:
        self._settings: dict[str, Any] = {
            "table_prefix": table_prefix,
            "region_name": region_name,
            "user_timezone": user_timezone,
        }
        self._server: Any = None
        self._config: DynamoDBConfig | None = None

    def __repr__(self) -> str:
        state = self.endpoint_url or "stopped"
        return f"EmbeddedDynamoDB({state})"

    @property
    def config(self) -> DynamoDBConfig:
        """The config of the running server."""
        if self._config is None:
            msg = "EmbeddedDynamoDB is not started"
            raise RuntimeError(msg)
        return self._config

    @property
    def endpoint_url(self) -> str | None:
        """``http://127.0.0.1:PORT`` while running, else None."""
        return None if self._config is None else self._config.endpoint_url

    def start(self) -> DynamoDBConfig:
        """Start the server (once) and return its config."""
        if self._config is not None:
            return self._config
        try:
            from moto.server import ThreadedMotoServer  # noqa: PLC0415 - optional extra
        except ImportError as error:
            raise ImportError(_INSTALL_HINT) from error
        access_log = logging.getLogger("werkzeug")
        if access_log.level == logging.NOTSET:  # keep one line per request off the console
            access_log.setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        _wait_for_port(host, port)
        self._server = server
        self._config = DynamoDBConfig(
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto accepts any key
            **self._settings,
        )
        return self._config

    def stop(self) -> None:
        """Stop the server and free its port; safe to call twice."""
        server, self._server, self._config = self._server, None, None
        if server is not None:
            server.stop()
            inner = getattr(server, "_server", None)
            if inner is not None:
                inner.server_close()

    def __enter__(self) -> DynamoDBConfig:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> DynamoDBConfig:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
