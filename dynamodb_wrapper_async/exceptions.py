"""Domain exceptions raised by every public method of dynamodb-wrapper.

The hierarchy::

    DynamoDBWrapperError                 base; context: operation, table, key, aws_code,
    |                                    request_id, retries
    +-- ItemNotFoundError (LookupError)  the item does not exist
    +-- TableNotFoundError (LookupError) the table does not exist
    +-- ValidationError (ValueError)     bad input (before any request) or ValidationException
    +-- ConflictError                    failed condition, version mismatch, cancelled transaction
    +-- ConnectionError (builtins.ConnectionError)
    |                                    the endpoint could not be reached or the connection broke
    +-- RetryableError                   throttling or 5xx that outlived the retries, or a
    |                                    table that did not become ACTIVE (or gone) in time
    +-- BatchWriteError                  a batch left items unwritten; carries exactly those items

Context fields are keyword-only with defaults, so every exception pickles and unpickles with
its context. Messages never include credentials.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "BatchWriteError",
    "CapacityError",
    "ConflictError",
    "ConnectionError",
    "DynamoDBWrapperError",
    "ItemNotFoundError",
    "RetryableError",
    "TableNotFoundError",
    "ValidationError",
]


class DynamoDBWrapperError(Exception):
    """Base class of every error the library raises.

    Attributes:
        message: What went wrong, in words.
        operation: The library or DynamoDB operation, e.g. ``"get_by_id"`` or ``"PutItem"``.
        table: The physical table name (prefix applied), when one is involved.
        key: The item key involved, when one is.
        aws_code: DynamoDB's error code, e.g. ``"ConditionalCheckFailedException"``.
        request_id: DynamoDB's request id, for support cases.
        retries: How many times the request was retried before this error.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        table: str | None = None,
        key: Mapping[str, Any] | None = None,
        aws_code: str | None = None,
        request_id: str | None = None,
        retries: int = 0,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.table = table
        self.key = dict(key) if key is not None else None
        self.aws_code = aws_code
        self.request_id = request_id
        self.retries = retries

    def _context(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "table": self.table,
            "key": self.key,
            "aws_code": self.aws_code,
            "request_id": self.request_id,
            "retries": self.retries,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self._context()))

    def __str__(self) -> str:
        parts = [self.message]
        details = [
            f"{name}={value!r}"
            for name, value in DynamoDBWrapperError._context(self).items()
            if value not in (None, 0) and name != "request_id"
        ]
        if self.request_id:
            details.append(f"request_id={self.request_id}")
        if details:
            parts.append(f"({', '.join(details)})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


def _rebuild(
    cls: type[DynamoDBWrapperError], message: str, context: dict[str, Any]
) -> DynamoDBWrapperError:
    extra = {k: v for k, v in context.items() if k not in _BASE_CONTEXT}
    base = {k: v for k, v in context.items() if k in _BASE_CONTEXT}
    error = cls.__new__(cls)
    DynamoDBWrapperError.__init__(error, message, **base)
    for name, value in extra.items():
        setattr(error, name, value)
    return error


_BASE_CONTEXT = frozenset({"operation", "table", "key", "aws_code", "request_id", "retries"})


class ItemNotFoundError(DynamoDBWrapperError, LookupError):
    """The requested item does not exist."""


class TableNotFoundError(DynamoDBWrapperError, LookupError):
    """The table does not exist (create it with ``create_tables``)."""


class ValidationError(DynamoDBWrapperError, ValueError):
    """Input was rejected, by the library before sending or by DynamoDB."""


class CapacityError(ValidationError):
    """A capacity budget cannot be met or resolved.

    One item needs more units than the budget's bucket can ever hold (one second of the
    budget), or a percentage of an on-demand table without a maximum throughput was asked
    for (give absolute units then).
    """


class ConflictError(DynamoDBWrapperError):
    """A condition, version check or transaction failed.

    Attributes:
        cancellation_reasons: For a cancelled transaction, one entry per action in request
            order: ``{"code": ..., "message": ..., "item": ...}`` (code ``"None"`` for
            actions that did not fail).
        item: The stored item as DynamoDB returned it with a failed condition (wire format),
            when it did.
    """

    def __init__(
        self,
        message: str,
        *,
        cancellation_reasons: Sequence[Mapping[str, Any]] = (),
        item: Mapping[str, Any] | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.cancellation_reasons = [dict(reason) for reason in cancellation_reasons]
        self.item = dict(item) if item is not None else None

    def _context(self) -> dict[str, Any]:
        return {
            **super()._context(),
            "cancellation_reasons": self.cancellation_reasons,
            "item": self.item,
        }


class ConnectionError(DynamoDBWrapperError, builtins.ConnectionError):
    """DynamoDB could not be reached, or the connection broke or timed out."""


class RetryableError(DynamoDBWrapperError):
    """Throttling or a server error persisted, or a table did not settle in time.

    Trying later may work. Raised when throttling or a 5xx outlived every retry, and when a
    table did not reach the state ``create_tables``/``delete_tables`` waited for.

    Attributes:
        unprocessed_keys: For a batch read, the keys that were never read.
    """

    def __init__(
        self,
        message: str,
        *,
        unprocessed_keys: Sequence[Mapping[str, Any]] = (),
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.unprocessed_keys = [dict(key) for key in unprocessed_keys]

    def _context(self) -> dict[str, Any]:
        return {**super()._context(), "unprocessed_keys": self.unprocessed_keys}


class BatchWriteError(DynamoDBWrapperError):
    """A batch operation finished with items or keys that were not processed.

    Attributes:
        unprocessed_items: The items (as given) that were not written.
        unprocessed_keys: The keys that were not deleted or read.
    """

    def __init__(
        self,
        message: str,
        *,
        unprocessed_items: Sequence[Any] = (),
        unprocessed_keys: Sequence[Mapping[str, Any]] = (),
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.unprocessed_items = list(unprocessed_items)
        self.unprocessed_keys = [dict(key) for key in unprocessed_keys]

    def _context(self) -> dict[str, Any]:
        return {
            **super()._context(),
            "unprocessed_items": self.unprocessed_items,
            "unprocessed_keys": self.unprocessed_keys,
        }
