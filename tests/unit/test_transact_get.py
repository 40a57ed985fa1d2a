"""transact_get against a scripted DynamoDB behind the wire seam: the request on the wire,
views in order, cancellations explained, bad input refused before any request."""

from __future__ import annotations

from typing import Any

import pytest

import dynamodb_wrapper_sync as sync
from dynamodb_wrapper_async import (
    ConflictError,
    DynamoDBConfig,
    PipelineConfigReadApi,
    PipelineConfigView,
    PipelineRunLogsReadApi,
    ValidationError,
)
from dynamodb_wrapper_async._wire.mock import MockError, MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender
from dynamodb_wrapper_sync._runner import run

on_its_own_loop = pytest.mark.asyncio(loop_scope="function")

STORED = {
    "pipeline_id": {"S": "p1"}, "pipeline_name": {"S": "n"}, "source_type": {"S": "s3"},
    "destination_type": {"S": "dw"}, "is_active": {"S": "true"}, "version": {"N": "3"},
    "created_at": {"S": "2026-12-01T00:00:00.000000+00:00"},
    "updated_at": {"S": "2026-12-01T00:00:00.000000+00:00"},
}  # fmt: skip


class ScriptedDynamoDB:
    def __init__(self, answer: dict[str, Any] | MockError) -> None:
        self.answer = answer
        self.requests: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append((operation, request))
        if isinstance(self.answer, MockError):
            raise self.answer
        return self.answer


def settings() -> DynamoDBConfig:
    return DynamoDBConfig(table_prefix="unit_")


@on_its_own_loop
async def test_the_request_and_the_views_in_order() -> None:
    fake = ScriptedDynamoDB({"Responses": [{"Item": STORED}, {}]})
    config = settings()
    install_sender(config, MockSender(fake))
    pipelines, runs = PipelineConfigReadApi(config), PipelineRunLogsReadApi(config)
    try:
        got = await pipelines.transact_get(
            [pipelines.get_action("p1", projection=["pipeline_name"]), runs.get_action(("r", "p"))]
        )
    finally:
        await close_clients(config)
    assert isinstance(got[0], PipelineConfigView)
    assert (got[0].pipeline_id, got[0].version) == ("p1", 3)
    assert got[1] is None
    ((operation, request),) = fake.requests
    assert operation == "TransactGetItems"
    first, second = (part["Get"] for part in request["TransactItems"])
    assert first["TableName"] == "unit_pipeline_config"
    assert first["Key"] == {"pipeline_id": {"S": "p1"}}
    names = first["ExpressionAttributeNames"]
    assert sorted(names[n] for n in first["ProjectionExpression"].split(", ")) == [
        "pipeline_id", "pipeline_name",
    ]  # fmt: skip
    assert second == {
        "TableName": "unit_pipeline_run_logs",
        "Key": {"run_id": {"S": "r"}, "pipeline_id": {"S": "p"}},
    }


@on_its_own_loop
async def test_a_cancelled_read_names_each_get() -> None:
    reasons = [{"Code": "None"}, {"Code": "TransactionConflict", "Message": "in a transaction"}]
    fake = ScriptedDynamoDB(
        MockError("TransactionCanceledException", "cancelled", CancellationReasons=reasons)
    )
    config = settings()
    install_sender(config, MockSender(fake))
    pipelines = PipelineConfigReadApi(config)
    try:
        with pytest.raises(ConflictError, match="#1 TransactionConflict on unit_pipeline_config"):
            await pipelines.transact_get([pipelines.get_action("a"), pipelines.get_action("b")])
    finally:
        await close_clients(config)
    assert len(fake.requests) == 1  # a conflict is the caller's to retry, not ours


@on_its_own_loop
async def test_the_reasons_carry_table_and_key() -> None:
    reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}]
    fake = ScriptedDynamoDB(
        MockError("TransactionCanceledException", "cancelled", CancellationReasons=reasons)
    )
    config = settings()
    install_sender(config, MockSender(fake))
    pipelines, runs = PipelineConfigReadApi(config), PipelineRunLogsReadApi(config)
    try:
        with pytest.raises(ConflictError) as caught:
            await runs.transact_get([pipelines.get_action("a"), runs.get_action(("r", "p"))])
    finally:
        await close_clients(config)
    assert caught.value.operation == "transact_get"
    assert [(r["code"], r["table"], r["key"]) for r in caught.value.cancellation_reasons] == [
        ("TransactionConflict", "unit_pipeline_config", {"pipeline_id": "a"}),
        ("None", "unit_pipeline_run_logs", {"run_id": "r", "pipeline_id": "p"}),
    ]


@pytest.mark.parametrize(
    ("gets", "message"),
    [
        pytest.param(lambda api: [], "1 to 100", id="none"),
        pytest.param(lambda api: [api.get_action(f"k{n}") for n in range(101)], "1 to 100",
                     id="101"),
        pytest.param(lambda api: [api.get_action("k"), api.get_action("k")], "same item",
                     id="twice"),
        pytest.param(lambda api: "k", "iterable of TransactGet", id="a-string"),
        pytest.param(lambda api: [api.get_action("k"), {"pipeline_id": "x"}], "get #1",
                     id="a-dict"),
    ],
)  # fmt: skip
@on_its_own_loop
async def test_bad_gets_are_refused_before_any_request(gets: Any, message: str) -> None:
    fake = ScriptedDynamoDB({"Responses": []})
    config = settings()
    install_sender(config, MockSender(fake))
    api = PipelineConfigReadApi(config)
    try:
        with pytest.raises(ValidationError, match=message):
            await api.transact_get(gets(api))
    finally:
        await close_clients(config)
    assert fake.requests == []


@pytest.mark.parametrize("key", [123, ["a"], ("a", "b"), {"nope": "a"}], ids=repr)
def test_a_bad_key_is_refused_when_the_get_is_built(key: Any) -> None:
    with pytest.raises(ValidationError):
        PipelineConfigReadApi(settings()).get_action(key)


def test_the_sync_facade_reads_the_same_way() -> None:
    fake = ScriptedDynamoDB({"Responses": [{"Item": STORED}]})
    config = settings()

    async def install() -> None:  # on the facade's own loop, where its calls run
        install_sender(config, MockSender(fake))

    run(install())
    try:
        api = sync.PipelineConfigReadApi(config)
        (view,) = api.transact_get([api.get_action("p1")])
    finally:
        run(close_clients(config))
    assert isinstance(view, PipelineConfigView)
    assert view.pipeline_id == "p1"
