"""Table management against a fake DynamoDB whose tables never settle: our error, in time."""

from __future__ import annotations

import time
from typing import Any

import pytest

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    PipelineRunLog,
    RetryableError,
    create_tables,
    delete_tables,
)
from dynamodb_wrapper_async._wire.mock import MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender

pytestmark = pytest.mark.asyncio(loop_scope="function")

CONFIG = DynamoDBConfig(table_prefix="stuck_")


class StuckTables:
    """Accepts CreateTable and DeleteTable, then reports the table in ``status`` forever."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.operations: list[str] = []

    async def answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        description = {"TableName": request["TableName"], "TableStatus": self.status}
        if operation == "DescribeTable":
            return {"Table": description}
        return {"TableDescription": description}


@pytest.mark.parametrize(
    ("status", "manage", "message"),
    [
        ("CREATING", create_tables, r"not active 0\.3s after CreateTable \(status CREATING\)"),
        ("DELETING", delete_tables, r"still exists 0\.3s after DeleteTable \(status DELETING\)"),
    ],
)
async def test_a_table_that_never_settles_is_a_retryable_error(
    status: str, manage: Any, message: str
) -> None:
    fake = StuckTables(status)
    install_sender(CONFIG, MockSender(fake.answer))
    started = time.monotonic()
    try:
        with pytest.raises(RetryableError, match=message) as caught:
            await manage(CONFIG, [PipelineRunLog], timeout=0.3)
    finally:
        await close_clients(CONFIG)
    assert time.monotonic() - started >= 0.3
    assert not isinstance(caught.value, TimeoutError)
    assert caught.value.table == "stuck_pipeline_run_logs"
    assert caught.value.operation == f"{manage.__name__}"
    assert fake.operations.count("DescribeTable") >= 2  # it did wait, asking again
