"""backfill's arguments and checkpoints are checked before any request (scripted sender)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dynamodb_wrapper_async import (
    DynamoDBConfig,
    FileCheckpoint,
    PipelineConfigReadApi,
    PipelineConfigWriteApi,
    TableConfigWriteApi,
    ValidationError,
    backfill,
)
from dynamodb_wrapper_async._wire.mock import MockSender
from dynamodb_wrapper_async._wire.pool import close_clients, install_sender

on_its_own_loop = pytest.mark.asyncio(loop_scope="function")
CONFIG = DynamoDBConfig(table_prefix="unit_backfill_")


class NoRequests:
    def __init__(self) -> None:
        self.requests: list[str] = []

    async def __call__(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(operation)
        return {"Items": []}


def unchanged(view: Any) -> None:
    return None


@on_its_own_loop
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"segments": 0}, "segments must be an integer", id="no-segments"),
        pytest.param({"segments": True}, "segments must be an integer", id="bool-segments"),
        pytest.param({"page_size": 1001}, "page_size must be an integer", id="big-pages"),
        pytest.param({"checkpoint": 12}, "checkpoint must be a path", id="bad-checkpoint"),
        pytest.param({"transform": "upper"}, "transform must be callable", id="not-callable"),
        pytest.param({"read_api": "table"}, "read_api must be a ReadApi", id="not-a-read-api"),
        pytest.param({"write_api": None}, "write_api must be a WriteApi", id="not-a-write-api"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    arguments: dict[str, Any], message: str
) -> None:
    fake = NoRequests()
    install_sender(CONFIG, MockSender(fake))
    call: dict[str, Any] = {
        "read_api": PipelineConfigReadApi(CONFIG),
        "transform": unchanged,
        "write_api": PipelineConfigWriteApi(CONFIG),
    }
    options = {k: v for k, v in arguments.items() if k not in call}
    call.update({k: v for k, v in arguments.items() if k in call})
    try:
        with pytest.raises(ValidationError, match=message):
            await backfill(call["read_api"], call["transform"], call["write_api"], **options)
    finally:
        await close_clients(CONFIG)
    assert fake.requests == []


@on_its_own_loop
async def test_a_checkpoint_of_another_backfill_is_refused(tmp_path: Path) -> None:
    fake = NoRequests()
    install_sender(CONFIG, MockSender(fake))
    path = tmp_path / "c.json"
    reads, writes = PipelineConfigReadApi(CONFIG), PipelineConfigWriteApi(CONFIG)
    try:
        await backfill(reads, unchanged, writes, segments=2, checkpoint=path)
        saved = json.loads(path.read_text())
        assert [segment["done"] for segment in saved["segments"]] == [True, True]
        fake.requests.clear()
        with pytest.raises(ValidationError, match="another backfill"):
            await backfill(reads, unchanged, writes, segments=3, checkpoint=path)
        with pytest.raises(ValidationError, match="another backfill"):
            await backfill(reads, unchanged, TableConfigWriteApi(CONFIG), checkpoint=path)
        path.write_text("not json")
        with pytest.raises(ValidationError, match="not a backfill checkpoint"):
            await backfill(reads, unchanged, writes, segments=2, checkpoint=FileCheckpoint(path))
    finally:
        await close_clients(CONFIG)
    assert fake.requests == []


@on_its_own_loop
async def test_a_failing_transform_is_a_validation_error_naming_the_item() -> None:
    item = {
        "pipeline_id": {"S": "p1"}, "pipeline_name": {"S": "n"}, "source_type": {"S": "s"},
        "destination_type": {"S": "d"}, "version": {"N": "1"},
        "created_at": {"S": "2026-12-01T00:00:00.000000+00:00"},
        "updated_at": {"S": "2026-12-01T00:00:00.000000+00:00"},
    }  # fmt: skip
    sent: list[str] = []

    async def one_item(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        sent.append(operation)
        return {"Items": [item]}

    def broken(view: Any) -> dict[str, Any]:
        raise KeyError("missing")

    def a_list(view: Any) -> Any:
        return ["x"]

    install_sender(CONFIG, MockSender(one_item))
    try:
        with pytest.raises(ValidationError, match=r"transform failed on \{'pipeline_id': 'p1'\}"):
            await backfill(
                PipelineConfigReadApi(CONFIG), broken, PipelineConfigWriteApi(CONFIG), segments=1
            )
        with pytest.raises(ValidationError, match="returns a mapping of fields, got list"):
            await backfill(
                PipelineConfigReadApi(CONFIG), a_list, PipelineConfigWriteApi(CONFIG),
                segments=1,
            )  # fmt: skip
    finally:
        await close_clients(CONFIG)
    assert sent == ["Scan", "Scan"]  # read, never written
