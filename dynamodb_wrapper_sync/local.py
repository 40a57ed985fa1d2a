"""Re-export of :mod:`dynamodb_wrapper_async.local`: ``with EmbeddedDynamoDB() as config:``."""

from dynamodb_wrapper_async.local import EmbeddedDynamoDB as EmbeddedDynamoDB

__all__ = ["EmbeddedDynamoDB"]
