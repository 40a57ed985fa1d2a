"""Where the examples run: DYNAMODB_ENDPOINT_URL when set, else an embedded local DynamoDB."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from dynamodb_wrapper_sync import DynamoDBConfig, EmbeddedDynamoDB


@contextlib.contextmanager
def example_backend() -> Iterator[DynamoDBConfig]:
    """Yield a config: from the environment if DYNAMODB_ENDPOINT_URL is set, else embedded."""
    if os.environ.get("DYNAMODB_ENDPOINT_URL"):
        yield DynamoDBConfig.from_env()
        return
    with EmbeddedDynamoDB() as config:
        print(f"Embedded local DynamoDB (moto server) at {config.endpoint_url}")
        yield config
