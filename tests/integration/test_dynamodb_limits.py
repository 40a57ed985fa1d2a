"""Each limit the library checks is one DynamoDB Local really enforces, at the same place.

For every rule: DynamoDB Local accepts the value at the limit and refuses the one just past
it (a raw boto3 PutItem proves it), and the library stores the first and refuses the second
with a ValidationError before any request.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from dynamodb_wrapper_async import (
    GSI,
    DynamoDBConfig,
    DynamoModel,
    ValidationError,
    WriteApi,
    WriteModel,
    create_tables,
    delete_tables,
)

pytestmark = [
    pytest.mark.parametrize("backend", ["ddblocal"], indirect=True),
    pytest.mark.asyncio(loop_scope="session"),
]


class Limited(DynamoModel):
    pk: str
    sk: str
    g: str | None = None
    gs: str | None = None
    data: dict[str, Any] | None = None

    class Meta:
        table_name = "limits"
        partition_key = "pk"
        sort_key = "sk"
        gsis = (GSI("LimitsIndex", partition_key="g", sort_key="gs"),)


class LimitedUpsert(WriteModel):
    pk: str
    sk: str
    g: str | None = None
    gs: str | None = None
    data: dict[str, Any] | None = None


class LimitedWriteApi(WriteApi[Limited, LimitedUpsert]):
    model, upsert_model = Limited, LimitedUpsert


def _maps(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


#: (rule, fields at the limit, fields just past it, what the library says)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("partition key bytes", {"pk": "\u00e9" * 1024}, {"pk": "\u00e9" * 1024 + "x"},
     "2,048-byte limit"),
    ("sort key bytes", {"sk": "x" * 1024}, {"sk": "x" * 1025}, "1,024-byte limit"),
    ("GSI partition key bytes", {"g": "x" * 2048}, {"g": "x" * 2049}, "2,048-byte limit"),
    ("GSI sort key bytes", {"g": "a", "gs": "x" * 1024}, {"g": "a", "gs": "x" * 1025},
     "1,024-byte limit"),
    ("empty GSI key", {"g": "a"}, {"g": ""}, "cannot be empty"),
    ("empty GSI sort key", {"g": "a", "gs": "b"}, {"g": "a", "gs": ""}, "cannot be empty"),
    ("nesting", {"data": _maps(31)}, {"data": _maps(32)}, "nested deeper than DynamoDB's 32"),
    ("empty map key", {"data": {"a": 1}}, {"data": {"": 1}}, "map keys must be non-empty"),
]  # fmt: skip


@pytest.fixture(scope="module")
async def limits_config(backend: DynamoDBConfig) -> AsyncIterator[DynamoDBConfig]:
    private = backend.model_copy(update={"table_prefix": f"lim_{uuid.uuid4().hex[:6]}_"})
    await create_tables(private, [Limited])
    yield private
    await delete_tables(private, [Limited])


def _raw_put(config: DynamoDBConfig, fields: dict[str, Any]) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=config.endpoint_url,
        region_name=config.region_name,
        **config.credentials(),
    )
    serialize = TypeSerializer().serialize
    try:
        client.put_item(
            TableName=config.table_name("limits"),
            Item={name: serialize(value) for name, value in fields.items()},
        )
    finally:
        client.close()


@pytest.mark.parametrize(
    ("rule", "at_limit", "past_limit", "message"), CASES, ids=[c[0] for c in CASES]
)
async def test_the_library_refuses_exactly_what_dynamodb_refuses(
    limits_config: DynamoDBConfig,
    rule: str,
    at_limit: dict[str, Any],
    past_limit: dict[str, Any],
    message: str,
) -> None:
    del rule
    base: dict[str, Any] = {"pk": f"p-{uuid.uuid4().hex[:8]}", "sk": "s"}
    _raw_put(limits_config, base | at_limit)  # DynamoDB takes the value at the limit
    with pytest.raises(ClientError, match="ValidationException"):
        _raw_put(limits_config, base | past_limit)  # and refuses the one just past it

    api = LimitedWriteApi(limits_config)
    stored = await api.upsert(LimitedUpsert(**(base | at_limit)))
    for name, value in at_limit.items():
        assert getattr(stored, name) == value
    with pytest.raises(ValidationError, match=message):
        await api.upsert(LimitedUpsert(**(base | past_limit)))
    with pytest.raises(ValidationError, match=f"batch item 1 .*{message}"):
        await api.batch_upsert([LimitedUpsert(**base), LimitedUpsert(**(base | past_limit))])
