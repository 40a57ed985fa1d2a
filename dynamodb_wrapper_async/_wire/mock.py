"""``MockSender``: a test double that plugs into the wire seam, as httpx's ``MockTransport``.

It encodes each request exactly as the transport does (``_json.encode_request``: pre-encoded
batch items inlined, bytes as base64, text that cannot be JSON refused), hands the *decoded
body* to a handler, and reads the handler's answer back through the transport's own
``answers.read_answer`` (JSON body, CRC32, botocore's error parser). So a test exercises the
whole request and answer path except the socket.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .._json import decode_body, encode_request
from .._types import Response
from .answers import idempotent_members, read_answer

__all__ = ["Handler", "MockError", "MockSender"]

#: ``await handler(operation, request)``: the request as the server would parse it (binary
#: values as bytes); returns the response members, or raises :class:`MockError` (an error
#: answer) or an ``OSError``/``asyncio.TimeoutError`` (a broken or silent connection).
Handler = Callable[[str, dict[str, Any]], Awaitable[Mapping[str, Any]]]

_ERROR_TYPE_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class MockError(Exception):
    """Raised by a handler to answer with a DynamoDB error.

    Args:
        code: The error code, e.g. ``ProvisionedThroughputExceededException``.
        message: The error message.
        status: The HTTP status (400 for client errors and throttling, 500 for failures).
        members: Modeled members of the error, e.g. ``Item`` or ``CancellationReasons``.
    """

    def __init__(self, code: str, message: str = "", *, status: int = 400, **members: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or code
        self.status = status
        self.members = members


class MockSender:
    """A ``Sender`` whose answers come from ``handler``; counts what it was sent."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<MockSender {len(self.requests)} requests>"

    async def send(
        self,
        operation: str,
        params: Mapping[str, Any],
        convert: Callable[[Response], Any] | None = None,
    ) -> Any:
        """Encode the request as the transport does, ask the handler, read its answer."""
        for name in idempotent_members(operation):
            if name not in params:
                params = {**params, name: "mock-token"}
        request: dict[str, Any] = decode_body(encode_request(params))
        self.requests.append((operation, request))
        try:
            members = await self.handler(operation, request)
        except MockError as error:
            status = error.status
            body = encode_request(
                {
                    "__type": _ERROR_TYPE_PREFIX + error.code,
                    "message": error.message,
                    **error.members,
                }
            )
        else:
            status, body = 200, encode_request(members)
        headers = {
            "x-amzn-requestid": f"mock-{len(self.requests)}",
            "x-amz-crc32": str(zlib.crc32(body)),
            "content-type": "application/x-amz-json-1.0",
        }
        return read_answer(operation, status, headers, body, convert)

    async def aclose(self) -> None:
        """Mark the sender closed."""
        self.closed = True

    def forget_after_fork(self) -> None:
        """Nothing to let go of: the sender holds no connection."""
