"""Re-export of :mod:`dynamodb_wrapper_async.config` (the same objects)."""

from dynamodb_wrapper_async.config import DynamoDBConfig as DynamoDBConfig

__all__ = ["DynamoDBConfig"]
