"""The one table from AWS error codes to our exceptions, applied at the gateway boundary."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
from botocore import exceptions as boto

from ..exceptions import (
    ConflictError,
    ConnectionError,
    DynamoDBWrapperError,
    RetryableError,
    TableNotFoundError,
    ValidationError,
)

#: AWS error code -> exception class. Codes not listed map to the base class.
ERRORS: dict[str, type[DynamoDBWrapperError]] = {
    "ConditionalCheckFailedException": ConflictError,
    "TransactionCanceledException": ConflictError,
    # a plain write met an item a transaction is changing: nothing was applied, retry it
    "TransactionConflictException": RetryableError,
    "TransactionInProgressException": RetryableError,  # our token's earlier attempt is running
    "IdempotentParameterMismatchException": ConflictError,
    "ResourceInUseException": ConflictError,
    "ResourceNotFoundException": TableNotFoundError,
    "TableNotFoundException": TableNotFoundError,
    "ValidationException": ValidationError,
    "SerializationException": ValidationError,
    "ItemCollectionSizeLimitExceededException": ValidationError,
    "ProvisionedThroughputExceededException": RetryableError,
    "ThrottlingException": RetryableError,
    "RequestLimitExceeded": RetryableError,
    "LimitExceededException": RetryableError,
    "InternalServerError": RetryableError,
    "InternalFailure": RetryableError,
    "ServiceUnavailable": RetryableError,
    "ServiceUnavailableException": RetryableError,
}

#: Codes that a retry may cure (throttling and server-side failures).
RETRYABLE_CODES = frozenset(code for code, cls in ERRORS.items() if cls is RetryableError)

_CONNECTION_ERRORS = (
    boto.ConnectionError,
    boto.HTTPClientError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    OSError,
)


def error_code(exc: BaseException) -> str | None:
    """Return the AWS error code of a botocore ClientError, else None."""
    if isinstance(exc, boto.ClientError):
        code = exc.response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def is_retryable(exc: BaseException) -> bool:
    """Say whether a retry may cure ``exc``: throttling, 5xx or a broken connection."""
    if isinstance(exc, boto.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in RETRYABLE_CODES or int(status) >= 500
    return isinstance(exc, _CONNECTION_ERRORS)


def may_have_been_applied(exc: BaseException) -> bool:
    """Say whether a failed request may still have been applied: a 5xx or a lost connection.

    Throttling and validation errors are answers given before anything was written.
    """
    if isinstance(exc, boto.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status) >= 500
    return isinstance(exc, _CONNECTION_ERRORS)


def translate(
    exc: BaseException,
    *,
    operation: str,
    table: str | None = None,
    key: Mapping[str, Any] | None = None,
    retries: int = 0,
) -> DynamoDBWrapperError:
    """Map a botocore/aiohttp error to our hierarchy; the caller raises it ``from exc``."""
    context: dict[str, Any] = {
        "operation": operation,
        "table": table,
        "key": key,
        "retries": retries,
    }
    if isinstance(exc, DynamoDBWrapperError):
        return exc
    if isinstance(exc, boto.ClientError):
        return _from_client_error(exc, context)
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return DynamoDBWrapperError(
            "no usable AWS credentials: set keys in DynamoDBConfig or the environment, "
            "or run with a profile or instance role",
            **context,
        )
    if isinstance(exc, boto.ParamValidationError):
        return ValidationError(f"request rejected by botocore: {exc}", **context)
    if isinstance(exc, _CONNECTION_ERRORS):
        kind = (
            "timed out"
            if isinstance(exc, TimeoutError | asyncio.TimeoutError | boto.ReadTimeoutError)
            else "failed"
        )
        return ConnectionError(f"connection to DynamoDB {kind}: {type(exc).__name__}", **context)
    return DynamoDBWrapperError(f"unexpected error from DynamoDB client: {exc!r}", **context)


def _from_client_error(exc: Any, context: dict[str, Any]) -> DynamoDBWrapperError:
    response: Mapping[str, Any] = exc.response
    error = response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or code)
    metadata = response.get("ResponseMetadata", {})
    status = int(metadata.get("HTTPStatusCode", 0) or 0)
    cls = ERRORS.get(code)
    if cls is None:
        cls = RetryableError if status >= 500 else DynamoDBWrapperError
    context = {**context, "aws_code": code, "request_id": metadata.get("RequestId")}
    if code == "TransactionCanceledException":
        reasons = [
            {"code": r.get("Code", "None"), "message": r.get("Message"), "item": r.get("Item")}
            for r in response.get("CancellationReasons", [])
        ]
        return ConflictError(
            f"transaction cancelled: {message}", cancellation_reasons=reasons, **context
        )
    if cls is ConflictError and code == "ConditionalCheckFailedException":
        return ConflictError("condition check failed", item=response.get("Item"), **context)
    return cls(f"{code}: {message}", **context)


__all__ = [
    "ERRORS",
    "RETRYABLE_CODES",
    "error_code",
    "is_retryable",
    "may_have_been_applied",
    "translate",
]
