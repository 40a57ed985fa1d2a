"""Re-export of :mod:`dynamodb_wrapper_async.exceptions`: the same classes, so ``except`` works."""

from dynamodb_wrapper_async.exceptions import BatchWriteError as BatchWriteError
from dynamodb_wrapper_async.exceptions import CapacityError as CapacityError
from dynamodb_wrapper_async.exceptions import ConflictError as ConflictError
from dynamodb_wrapper_async.exceptions import ConnectionError as ConnectionError
from dynamodb_wrapper_async.exceptions import DynamoDBWrapperError as DynamoDBWrapperError
from dynamodb_wrapper_async.exceptions import ItemNotFoundError as ItemNotFoundError
from dynamodb_wrapper_async.exceptions import RetryableError as RetryableError
from dynamodb_wrapper_async.exceptions import TableNotFoundError as TableNotFoundError
from dynamodb_wrapper_async.exceptions import ValidationError as ValidationError

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
