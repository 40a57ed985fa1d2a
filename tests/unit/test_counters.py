"""Increment and Append in updates, behind the scripted sender (``MockSender``).

Bad markers are refused before any request (the sender records none); good ones compile to
``if_not_exists`` arithmetic and ``list_append``; ``add_run_progress`` on a finished run is
a ConflictError that says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr

import dynamodb_wrapper_sync
from dynamodb_wrapper_async import (
    Append,
    ConflictError,
    DynamoDBConfig,
    Increment,
    ItemNotFoundError,
    PipelineConfigWriteApi,
    PipelineRunLogsWriteApi,
    TableConfigWriteApi,
    ValidationError,
)
from dynamodb_wrapper_async._codec import decode_value, encode_item
from dynamodb_wrapper_async._wire.mock import MockError, MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender

CONFIG = DynamoDBConfig(  # a closed port, no retries: only the scripted sender answers
    endpoint_url="http://127.0.0.1:9",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
    table_prefix="unit_counters_",
    max_retries=0,
)
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
RUN_KEY = ("run-1", "p-1")


def stored_run(**changes: Any) -> dict[str, Any]:
    """A run log as DynamoDB would hold it (wire format)."""
    values: dict[str, Any] = {
        "run_id": "run-1",
        "pipeline_id": "p-1",
        "status": "running",
        "records_processed": 0,
        "records_failed": 0,
        "metrics": {},
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
        **changes,
    }
    return encode_item(values)


class Script:
    """Answers every UpdateItem with ``answer`` (or raises it) and keeps the requests."""

    def __init__(self, answer: dict[str, Any] | MockError | None = None) -> None:
        self.answer = answer
        self.sender = MockSender(self.handle)

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        return self.sender.requests

    async def handle(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        del request
        if isinstance(self.answer, MockError):
            raise self.answer
        if operation == "TransactWriteItems":
            return {}
        return {"Attributes": self.answer or stored_run(version=2)}


@pytest.fixture
async def script() -> AsyncIterator[Script]:
    scripted = Script()
    install_sender(CONFIG, scripted.sender)
    yield scripted
    await close_clients(CONFIG)


def expression(request: dict[str, Any], text: str) -> str:
    """``text`` (an update or condition expression) with its placeholders filled in."""
    for placeholder, name in request.get("ExpressionAttributeNames", {}).items():
        text = text.replace(placeholder, name)
    values = request.get("ExpressionAttributeValues", {})
    for placeholder in sorted(values, key=len, reverse=True):
        text = text.replace(placeholder, repr(decode_value(values[placeholder])))
    return text


# ---------------------------------------------------------------------- compilation
async def test_increments_and_appends_compile_to_if_not_exists_arithmetic(script: Script) -> None:
    script.answer = encode_item(
        {
            "table_id": "t-1",
            "pipeline_id": "p-1",
            "table_name": "t",
            "table_type": "source",
            "partition_columns": ["day", "hour"],
            "created_at": NOW,
            "updated_at": NOW,
            "updated_month": "2026-01",
            "version": 2,
        }
    )
    table = await TableConfigWriteApi(CONFIG).update(
        "t-1",
        {
            "partition_columns": Append(["day", "hour"]),
            "location": "s3://changed",
        },
    )
    assert table.partition_columns == ["day", "hour"]
    script.answer = None
    await PipelineRunLogsWriteApi(CONFIG).update_run_log(
        *RUN_KEY,
        {
            "records_processed": Increment(500),
            "duration_seconds": Increment(1.5),
            "metrics.rows": Increment(Decimal("-2.25")),
            "metrics.warnings": Append(["late file"]),
        },
    )

    (_, tables), (_, runs) = script.requests
    update = expression(tables, tables["UpdateExpression"])
    assert "partition_columns = list_append(if_not_exists(partition_columns, []), " in update
    assert "['day', 'hour'])" in update
    assert "location = 's3://changed'" in update
    assert "version = if_not_exists(version, 0) + 1" in update
    update = expression(runs, runs["UpdateExpression"])
    assert "records_processed = if_not_exists(records_processed, 0) + 500" in update
    assert "duration_seconds = if_not_exists(duration_seconds, 0) + Decimal('1.5')" in update
    assert "metrics.rows = if_not_exists(metrics.rows, 0) + Decimal('-2.25')" in update
    assert "metrics.warnings = list_append(if_not_exists(metrics.warnings, []), " in update
    assert "version = if_not_exists(version, 0) + 1" in update
    assert "updated_at = " in update  # stamped as any update


async def test_markers_combine_with_a_condition_and_the_expected_version(script: Script) -> None:
    await PipelineRunLogsWriteApi(CONFIG).update_run_log(
        *RUN_KEY,
        {"records_failed": Increment(3), "error_message": "partial"},
        condition_expression=Attr("status").eq("running"),
        expected_version=7,
    )

    ((_, request),) = script.requests
    condition = expression(request, request["ConditionExpression"])
    assert "attribute_exists(run_id)" in condition
    assert "(status = 'running')" in condition
    assert "version = 7" in condition
    update = expression(request, request["UpdateExpression"])
    assert "records_failed = if_not_exists(records_failed, 0) + 3" in update
    assert "error_message = 'partial'" in update


async def test_a_negative_increment_is_kept_within_the_fields_bound(script: Script) -> None:
    """``records_processed`` has ge=0: -5 needs a stored count of at least 5 (a missing
    count is 0, which cannot give 5)."""
    await PipelineRunLogsWriteApi(CONFIG).update_run_log(
        *RUN_KEY, {"records_processed": Increment(-5)}
    )
    await PipelineRunLogsWriteApi(CONFIG).update_run_log(
        *RUN_KEY, {"records_processed": Increment(5)}
    )

    (_, down), (_, up) = script.requests
    assert "(records_processed >= 5)" in expression(down, down["ConditionExpression"])
    assert "records_processed" not in expression(up, up["ConditionExpression"])


async def test_a_float_increment_becomes_the_decimal_the_codec_stores() -> None:
    assert Increment(0.1).amount == Decimal("0.1")
    assert Increment(3).amount == 3
    assert type(Increment(3).amount) is int
    assert Append(("a", "b")).values == ["a", "b"]


async def test_markers_are_the_same_objects_in_the_sync_facade() -> None:
    assert dynamodb_wrapper_sync.Increment is Increment
    assert dynamodb_wrapper_sync.Append is Append
    assert callable(dynamodb_wrapper_sync.PipelineRunLogsWriteApi.add_run_progress)


# ---------------------------------------------------------------------- refused before sending
RUN_REFUSALS = [
    pytest.param({"status": Increment(1)}, "numeric field; PipelineRunLog.status", id="on-str"),
    pytest.param({"records_processed": Increment(True)}, "got bool", id="bool-amount"),
    pytest.param({"records_processed": Increment("5")}, "got str", id="str-amount"),
    pytest.param({"records_processed": Increment(Decimal("1.5"))}, "whole number", id="fraction"),
    pytest.param({"records_processed": Increment(Decimal("NaN"))}, "finite", id="nan"),
    pytest.param({"run_id": Increment(1)}, r"key, derived .*\['run_id'\]", id="key-field"),
    pytest.param({"version": Increment(1)}, r"server-managed .*\['version'\]", id="version"),
    pytest.param({"records_failed": Append([1])}, "list field; PipelineRunLog.records_failed"),
    pytest.param({"nope.rows": Increment(1)}, r"unknown fields .*\['nope'\]", id="unknown"),
    pytest.param({"status.x": Increment(1)}, "status is a RunStatus, not a map", id="not-a-map"),
    pytest.param({"metrics..x": Increment(1)}, "invalid update path", id="empty-segment"),
    pytest.param({"metrics.rows": 5}, "takes an Increment or an Append", id="plain-dotted"),
    pytest.param(
        {"metrics": {}, "metrics.rows": Increment(1)}, "overlap: 'metrics' and 'metrics.rows'"
    ),
    pytest.param({"metrics.rows": Append("abc")}, "needs a list of values, got str", id="str"),
]
TABLE_REFUSALS = [
    pytest.param(
        {"partition_columns": Append(["day", 3])}, "append to 'partition_columns'", id="item-type"
    ),
    pytest.param({"table_name": Append(["x"])}, "list field; TableConfig.table_name", id="str"),
    pytest.param({"partition_columns": Increment(1)}, "numeric field", id="increment-list"),
]


@pytest.mark.parametrize(("updates", "message"), RUN_REFUSALS)
async def test_bad_run_log_markers_are_refused_before_any_request(
    script: Script, updates: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        await PipelineRunLogsWriteApi(CONFIG).update_run_log(*RUN_KEY, updates)
    assert script.requests == []
    assert refused.value.table == CONFIG.table_name("pipeline_run_logs")


@pytest.mark.parametrize(("updates", "message"), TABLE_REFUSALS)
async def test_bad_table_config_markers_are_refused_before_any_request(
    script: Script, updates: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await TableConfigWriteApi(CONFIG).update("t-1", updates)
    assert script.requests == []


async def test_the_append_check_refuses_what_the_model_refuses(script: Script) -> None:
    """The model's strict scalars apply to appended values: an int is not a str."""
    with pytest.raises(ValidationError, match=r"partition_columns\.0"):
        await TableConfigWriteApi(CONFIG).update("t-1", {"partition_columns": Append([1])})
    assert script.requests == []


async def test_markers_in_a_transaction_action_are_checked_too(script: Script) -> None:
    writes = PipelineConfigWriteApi(CONFIG)
    with pytest.raises(ValidationError, match="numeric field"):
        writes.update_action("p-1", {"pipeline_name": Increment(1)})
    assert script.requests == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"records_processed": -1}, "records_processed must be an int >= 0"),
        pytest.param({"records_failed": 1.5}, "records_failed must be an int >= 0"),
        pytest.param({"records_processed": True}, "records_processed must be an int >= 0"),
        pytest.param({"metrics": {"a.b": 1}}, "metric names must be"),
        pytest.param({"metrics": {"rows": "many"}}, "Increment of 'metrics.rows' needs an int"),
    ],
)
async def test_bad_run_progress_is_refused_before_any_request(
    script: Script, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await PipelineRunLogsWriteApi(CONFIG).add_run_progress(*RUN_KEY, **arguments)
    assert script.requests == []


# ---------------------------------------------------------------------- add_run_progress
def cancelled(code: str, item: dict[str, Any] | None = None) -> MockError:
    """A TransactionCanceledException of a one-action transaction, for ``code``."""
    reason: dict[str, Any] = {"Code": code, "Message": code}
    if item is not None:
        reason["Item"] = item
    return MockError("TransactionCanceledException", CancellationReasons=[reason])


async def test_run_progress_is_a_one_action_transaction_on_an_open_run(script: Script) -> None:
    await PipelineRunLogsWriteApi(CONFIG).add_run_progress(
        *RUN_KEY, records_processed=500, records_failed=2, metrics={"rows": 20}
    )

    ((operation, request),) = script.requests
    assert operation == "TransactWriteItems"
    assert 1 <= len(request["ClientRequestToken"]) <= 36
    ((kind, update),) = (item for action in request["TransactItems"] for item in action.items())
    assert kind == "Update"
    assert update["TableName"] == "unit_counters_pipeline_run_logs"
    assert update["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    changes = expression(update, update["UpdateExpression"])
    assert "records_processed = if_not_exists(records_processed, 0) + 500" in changes
    assert "records_failed = if_not_exists(records_failed, 0) + 2" in changes
    assert "metrics.rows = if_not_exists(metrics.rows, 0) + 20" in changes
    condition = expression(update, update["ConditionExpression"])
    assert "attribute_exists(run_id)" in condition  # a missing run is not created
    assert "status IN ('pending', 'running')" in condition


@pytest.mark.parametrize("status", ["success", "failed", "cancelled"])
async def test_run_progress_on_a_finished_run_is_a_conflict_that_says_so(
    script: Script, status: str
) -> None:
    script.answer = cancelled("ConditionalCheckFailed", stored_run(status=status, version=3))

    with pytest.raises(ConflictError, match=f"run is already {status}; progress") as caught:
        await PipelineRunLogsWriteApi(CONFIG).add_run_progress(*RUN_KEY, records_processed=1)

    assert caught.value.operation == "add_run_progress"
    assert caught.value.key == {"run_id": "run-1", "pipeline_id": "p-1"}
    assert [r["code"] for r in caught.value.cancellation_reasons] == ["ConditionalCheckFailed"]
    assert len(script.requests) == 1


async def test_run_progress_on_a_missing_run_is_not_found(script: Script) -> None:
    script.answer = cancelled("ConditionalCheckFailed")

    with pytest.raises(ItemNotFoundError) as caught:
        await PipelineRunLogsWriteApi(CONFIG).add_run_progress(*RUN_KEY, records_processed=1)

    assert caught.value.operation == "add_run_progress"
    assert caught.value.key == {"run_id": "run-1", "pipeline_id": "p-1"}


async def test_run_progress_past_a_bound_is_the_transaction_conflict(script: Script) -> None:
    """An open run whose condition failed anyway (not the status) keeps the cancellation."""
    script.answer = cancelled("ConditionalCheckFailed", stored_run(status="running"))

    with pytest.raises(ConflictError, match="transaction cancelled") as caught:
        await PipelineRunLogsWriteApi(CONFIG).add_run_progress(*RUN_KEY, records_processed=1)

    assert caught.value.operation == "add_run_progress"


RETRYING = CONFIG.model_copy(update={"max_retries": 3})


class Conflicts:
    """Cancels the first ``times`` TransactWriteItems for TransactionConflict, then applies."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.sender = MockSender(self.handle)

    async def handle(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        assert operation == "TransactWriteItems"
        if len(self.sender.requests) <= self.times:
            raise cancelled("TransactionConflict")
        return {}


@pytest.fixture
async def conflicts() -> AsyncIterator[Conflicts]:
    scripted = Conflicts(times=2)
    install_sender(RETRYING, scripted.sender)
    yield scripted
    await close_clients(RETRYING)


async def test_a_transaction_conflict_is_sent_again_under_a_new_token(
    conflicts: Conflicts,
) -> None:
    """Cancelled for a concurrent transaction, nothing was applied: a new token may apply it."""
    writes = PipelineRunLogsWriteApi(RETRYING)
    await writes.add_run_progress(*RUN_KEY, records_processed=1)
    await writes.transact_write([writes.update_action(RUN_KEY, {"records_failed": Increment(1)})])

    requests = [request for _, request in conflicts.sender.requests]
    assert len(requests) == 3 + 1  # two conflicts, then applied; the next call at once
    tokens = [request["ClientRequestToken"] for request in requests[:3]]
    assert len(set(tokens)) == 3
    assert requests[0]["TransactItems"] == requests[2]["TransactItems"]


async def test_a_transaction_conflict_under_the_callers_token_is_raised(
    conflicts: Conflicts,
) -> None:
    """The caller's own token is never replaced: its retry must stay idempotent."""
    writes = PipelineRunLogsWriteApi(RETRYING)
    action = writes.update_action(RUN_KEY, {"records_failed": Increment(1)})

    with pytest.raises(ConflictError, match="TransactionConflict") as caught:
        await writes.transact_write([action], client_request_token="mine")

    assert caught.value.cancellation_reasons[0]["code"] == "TransactionConflict"
    assert len(conflicts.sender.requests) == 1


async def test_transaction_conflicts_past_the_retry_budget_are_raised() -> None:
    scripted = Conflicts(times=10)
    install_sender(RETRYING, scripted.sender)
    try:
        with pytest.raises(ConflictError, match="TransactionConflict"):
            await PipelineRunLogsWriteApi(RETRYING).add_run_progress(*RUN_KEY, records_processed=1)
    finally:
        await close_clients(RETRYING)
    assert len(scripted.sender.requests) == 1 + 3  # max_retries=3
