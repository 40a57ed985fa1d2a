"""The seam between the engine and the wire: a ``Sender`` sends one DynamoDB request.

The pool holds one per (event loop, config): the JSON transport in production, a
``MockSender`` in tests. The gateway calls ``send`` and nothing else, whatever it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from .._types import Response

__all__ = ["Sender"]


class Sender(Protocol):
    """Sends DynamoDB requests (any operation) given as wire-format parameters.

    ``params`` may hold ``EncodedJSON`` parts (batch items encoded once), inlined as they
    are. Failures are raised as the HTTP layer and botocore raise them (``ClientError`` for
    an error answer, ``OSError``/``asyncio.TimeoutError`` for a broken or silent connection);
    the gateway translates them.
    """

    async def send(
        self,
        operation: str,
        params: Mapping[str, Any],
        convert: Callable[[Response], Any] | None = None,
    ) -> Any:
        """Send one request; return the parsed response, or ``convert(response)``.

        ``convert`` runs as the body is parsed, with the garbage collector paused.
        """
        ...

    async def aclose(self) -> None:
        """Close the connections; the sender is not used again."""
        ...

    def forget_after_fork(self) -> None:
        """In a forked child: let go of the parent's connections without closing them.

        Nothing may be sent on, shut down or unregistered from the parent's event loop
        (whose epoll set the child shares); the sender is not used again.
        """
        ...
