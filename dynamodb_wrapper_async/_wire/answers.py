"""Reading DynamoDB's HTTP answers: checked, parsed, and errors raised as botocore raises them.

Shared by the transport and the test double (``mock.MockSender``), so that a test's answer
takes the same path as the server's: the CRC32 check, the JSON parse (binary values back to
bytes), botocore's ``ResponseMetadata``, and, for an error status, botocore's own JSON error
parser and modeled exception classes, so ``errors.translate`` sees exactly the ``ClientError``
an aioboto3 client would raise.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from botocore.errorfactory import ClientExceptionsFactory
from botocore.parsers import create_parser
from botocore.session import get_session

from .._gc_pause import without_gc
from .._json import decode_body
from .._types import Response
from .http import HTTPConnectionError

__all__ = ["DamagedResponseError", "decode_response", "idempotent_members", "read_answer"]

_ERROR_PARSER = create_parser("json")


class DamagedResponseError(HTTPConnectionError):
    """A response arrived damaged (CRC32 mismatch, or a success that is not a JSON object).

    A ``ConnectionError``, so it is retried like any broken connection. botocore would read
    a non-JSON 200 as an empty success, which for BatchWriteItem means "nothing
    unprocessed": a silent loss we refuse.
    """


@functools.cache
def _service() -> tuple[Any, Any]:
    """DynamoDB's service model and modeled exception classes, loaded once per process."""
    model = get_session().get_service_model("dynamodb")
    return model, ClientExceptionsFactory().create_client_exceptions(model)


@functools.cache
def idempotent_members(operation: str) -> tuple[str, ...]:
    """The members botocore fills with a fresh token when missing (``ClientRequestToken``)."""
    model, _ = _service()
    return tuple(model.operation_model(operation).idempotent_members)


def decode_response(body: bytes) -> dict[str, Any]:
    """Parse a JSON response body: binary values back to bytes, top-level nulls dropped.

    Raises:
        DamagedResponseError: The body is not a JSON object.
    """
    if not body:
        return {}
    try:
        parsed = decode_body(body)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, binascii.Error
        parsed = None
    if not isinstance(parsed, dict):
        msg = "the response body is not a JSON object"
        raise DamagedResponseError(msg)
    if None in parsed.values():  # botocore omits members sent as null
        parsed = {key: value for key, value in parsed.items() if value is not None}
    return parsed


def read_answer(
    operation: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
    convert: Callable[[Response], Any] | None,
) -> Any:
    """Return the parsed response (or ``convert(response)``), or raise what botocore would.

    ``convert`` runs as the body is parsed, with the garbage collector paused (see
    ``_gc_pause``): a page's raw dicts are freed before any collection can see them.

    Raises:
        botocore.exceptions.ClientError: An error status (the modeled subclass).
        DamagedResponseError: A CRC32 mismatch, or a success that is not a JSON object.
    """
    crc = headers.get("x-amz-crc32")
    if crc is not None and crc.isdigit() and int(crc) != zlib.crc32(body):
        msg = f"CRC32 mismatch in the {operation} response"
        raise DamagedResponseError(msg)
    if status >= 300:
        raise _error(operation, status, headers, body)
    metadata: dict[str, Any] = {}
    request_id = headers.get("x-amzn-requestid")
    if request_id is not None:
        metadata["RequestId"] = request_id
    metadata["HTTPStatusCode"] = status
    metadata["HTTPHeaders"] = headers
    metadata["RetryAttempts"] = 0
    if convert is None:
        parsed = decode_response(body)
        parsed["ResponseMetadata"] = metadata
        return parsed

    def parse_and_convert(raw: bytes) -> Any:
        parsed = decode_response(raw)
        parsed["ResponseMetadata"] = metadata
        return convert(parsed)

    return without_gc(parse_and_convert, body)


def _error(operation: str, status: int, headers: Mapping[str, str], body: bytes) -> Exception:
    """Build the ClientError botocore would raise, with the same ``response`` dict."""
    model, exceptions = _service()
    response = {
        "status_code": status,
        "headers": headers,
        "body": body,
        "context": {"operation_name": operation},
    }
    parsed: dict[str, Any] = _ERROR_PARSER.parse(
        response, model.operation_model(operation).output_shape
    )
    code = parsed.get("Error", {}).get("Code")
    if code:
        shape = model.shape_for_error_code(code)
        if shape is not None:  # modeled fields: Item, CancellationReasons, ...
            parsed.update(_ERROR_PARSER.parse(response, shape))
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    error: Exception = exceptions.from_code(code)(parsed, operation)
    return error
