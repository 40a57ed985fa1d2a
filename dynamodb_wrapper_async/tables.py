"""Create and delete the tables declared by models' ``Meta``: idempotent, waits until done."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ._engine import gateway as _gateway
from ._schema import IndexSchema, TableSchema
from .config import DynamoDBConfig
from .exceptions import ConflictError, RetryableError, TableNotFoundError, ValidationError
from .models import DynamoModel, PipelineConfig, PipelineRunLog, TableConfig

__all__ = ["DEFAULT_MODELS", "TableInfo", "create_tables", "delete_tables", "table_definition"]

#: The library's three tables.
DEFAULT_MODELS: tuple[type[DynamoModel], ...] = (PipelineConfig, TableConfig, PipelineRunLog)


@dataclass(frozen=True)
class TableInfo:
    """What ``create_tables`` did for one table.

    Attributes:
        name: The physical table name (prefix applied).
        created: True if this call created it, False if it existed already.
        indexes: The GSI names of the table.
        ttl_attribute: The TTL attribute, if the model declares one.
        local_indexes: The LSI names of the table.
        added_indexes: GSIs this call added to a table that existed without them.
    """

    name: str
    created: bool
    indexes: tuple[str, ...]
    ttl_attribute: str | None
    local_indexes: tuple[str, ...] = ()
    added_indexes: tuple[str, ...] = ()

    def __str__(self) -> str:
        what = "created" if self.created else "exists "
        extra = f"GSIs: {', '.join(self.indexes) or '-'}"
        if self.added_indexes:
            extra += f" (added: {', '.join(self.added_indexes)})"
        if self.local_indexes:
            extra += f"; LSIs: {', '.join(self.local_indexes)}"
        if self.ttl_attribute:
            extra += f"; TTL on {self.ttl_attribute}"
        return f"{what} {self.name} ({extra})"


async def create_tables(
    config: DynamoDBConfig,
    models: Iterable[type[DynamoModel]] = DEFAULT_MODELS,
    *,
    timeout: float = 300.0,
) -> list[TableInfo]:
    """Create each model's table as its ``Meta`` declares it and wait until it is active.

    Billing is on-demand, or provisioned with ``Meta.capacity`` (and each GSI's capacity);
    GSIs and LSIs get their declared projections; TTL is enabled on ``Meta.ttl_attribute``.
    A table that exists already is kept, and a GSI that ``Meta`` declares but the table lacks
    is added to it (UpdateTable, one index at a time, waiting until each is active), so a
    second call is a no-op.

    Raises:
        RetryableError: A table or index is not ACTIVE ``timeout`` seconds after it was
            asked for.
        ValidationError: An existing table lacks a declared LSI (local indexes can only be
            created with their table).
    """
    return list(await asyncio.gather(*(_create(config, m, timeout) for m in models)))


async def delete_tables(
    config: DynamoDBConfig,
    models: Iterable[type[DynamoModel]] = DEFAULT_MODELS,
    *,
    timeout: float = 300.0,
) -> list[str]:
    """Delete each model's table and wait until it is gone; return the names deleted.

    Tables that do not exist are skipped.

    Raises:
        RetryableError: A table still exists ``timeout`` seconds after DeleteTable.
    """
    names = await asyncio.gather(*(_delete(config, m, timeout) for m in models))
    return [name for name in names if name is not None]


def table_definition(config: DynamoDBConfig, model: type[DynamoModel]) -> dict[str, Any]:
    """Return the CreateTable request for ``model``: its keys, billing, GSIs and LSIs."""
    schema = model.table_schema()
    request: dict[str, Any] = {
        "TableName": config.table_name(schema.table_name),
        "AttributeDefinitions": [
            {"AttributeName": a.name, "AttributeType": a.type} for a in schema.key_attributes()
        ],
        "KeySchema": _key_schema(schema.primary),
    }
    if schema.capacity is None:
        request["BillingMode"] = "PAY_PER_REQUEST"
    else:
        request["BillingMode"] = "PROVISIONED"
        request["ProvisionedThroughput"] = schema.capacity.throughput()
    if schema.global_indexes:
        request["GlobalSecondaryIndexes"] = [
            _index_definition(index) for index in schema.global_indexes
        ]
    if schema.local_indexes:
        request["LocalSecondaryIndexes"] = [
            _index_definition(index) for index in schema.local_indexes
        ]
    return request


def _key_schema(index: IndexSchema) -> list[dict[str, str]]:
    roles = ("HASH", "RANGE")
    attributes = (index.partition_key, index.sort_key)
    return [
        {"AttributeName": a.name, "KeyType": role}
        for a, role in zip(attributes, roles, strict=True)
        if a is not None
    ]


def _index_definition(index: IndexSchema) -> dict[str, Any]:
    """One GlobalSecondaryIndexes / LocalSecondaryIndexes entry."""
    projection: dict[str, Any]
    if index.projection in {"ALL", "KEYS_ONLY"}:
        projection = {"ProjectionType": index.projection}
    else:
        projection = {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.projection)}
    definition: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": _key_schema(index),
        "Projection": projection,
    }
    if index.kind == "gsi" and index.capacity is not None:
        definition["ProvisionedThroughput"] = index.capacity.throughput()
    return definition


async def _create(config: DynamoDBConfig, model: type[DynamoModel], timeout: float) -> TableInfo:
    schema = model.table_schema()
    request = table_definition(config, model)
    name = request["TableName"]
    created = True
    try:
        await _gateway.call(config, "CreateTable", request, table=name)
    except ConflictError as error:
        if error.aws_code != "ResourceInUseException":
            raise
        created = False
    table = await _wait_active(config, name, timeout)
    added = () if created else await _add_missing_indexes(config, schema, table, timeout)
    if schema.ttl_attribute is not None:
        await _enable_ttl(config, name, schema.ttl_attribute)
    return TableInfo(
        name, created, tuple(index.name or "" for index in schema.global_indexes),
        schema.ttl_attribute, tuple(index.name or "" for index in schema.local_indexes), added,
    )  # fmt: skip


async def _add_missing_indexes(
    config: DynamoDBConfig, schema: TableSchema, table: dict[str, Any], timeout: float
) -> tuple[str, ...]:
    """Add the GSIs ``schema`` declares that ``table`` lacks; refuse a missing LSI."""
    name = table["TableName"]
    local = {index["IndexName"] for index in table.get("LocalSecondaryIndexes", [])}
    for index in schema.local_indexes:
        if index.name not in local:
            msg = (
                f"table {name} exists without the local index {index.name} that "
                f"{schema.model_name} declares; a local index can only be created with its "
                "table (create a new table and backfill it)"
            )
            raise ValidationError(msg, operation="create_tables", table=name)
    existing = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    added: list[str] = []
    for index in schema.global_indexes:
        if index.name in existing:
            continue
        keys = {index.partition_key.name, *([index.sort_key.name] if index.sort_key else [])}
        request = {
            "TableName": name,
            "AttributeDefinitions": [
                {"AttributeName": a.name, "AttributeType": a.type}
                for a in schema.key_attributes()
                if a.name in keys
            ],
            "GlobalSecondaryIndexUpdates": [{"Create": _index_definition(index)}],
        }
        await _gateway.call(config, "UpdateTable", request, table=name)
        await _wait_active(config, name, timeout)
        added.append(index.name or "")
    return tuple(added)


async def _delete(config: DynamoDBConfig, model: type[DynamoModel], timeout: float) -> str | None:
    name = config.table_name(model.table_schema().table_name)
    try:
        await _gateway.call(config, "DeleteTable", {"TableName": name}, table=name)
    except TableNotFoundError:
        return None
    except ConflictError as error:  # being created or deleted right now
        if error.aws_code != "ResourceInUseException":
            raise
    deadline = time.monotonic() + timeout
    while True:
        try:
            table = await _describe(config, name)
        except TableNotFoundError:
            return name
        if time.monotonic() > deadline:
            raise _not_yet(name, table, f"still exists {timeout:g}s after DeleteTable", "delete")
        await asyncio.sleep(0.2)


async def _describe(config: DynamoDBConfig, name: str) -> dict[str, Any]:
    response = await _gateway.call(config, "DescribeTable", {"TableName": name}, table=name)
    table: dict[str, Any] = response["Table"]
    return table


async def _wait_active(config: DynamoDBConfig, name: str, timeout: float) -> dict[str, Any]:
    """Wait until the table and its GSIs are ACTIVE; return its description."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        table = await _describe(config, name)
        indexes: Sequence[dict[str, Any]] = table.get("GlobalSecondaryIndexes", [])
        if table.get("TableStatus") == "ACTIVE" and all(
            index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in indexes
        ):
            return table
        if time.monotonic() > deadline:
            raise _not_yet(name, table, f"not active {timeout:g}s after CreateTable", "create")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


def _not_yet(name: str, table: dict[str, Any], what: str, verb: str) -> RetryableError:
    """Return the error of a table that did not reach the state waited for.

    It may still get there, so waiting longer (a larger ``timeout``) or calling again later
    can succeed.
    """
    status = table.get("TableStatus", "unknown")
    return RetryableError(
        f"table {name} {what} (status {status}); call {verb}_tables again to wait longer",
        operation=f"{verb}_tables",
        table=name,
    )


async def _enable_ttl(config: DynamoDBConfig, name: str, attribute: str) -> None:
    response = await _gateway.call(config, "DescribeTimeToLive", {"TableName": name}, table=name)
    status = response.get("TimeToLiveDescription", {}).get("TimeToLiveStatus")
    if status in {"ENABLED", "ENABLING"}:
        return
    await _gateway.call(
        config,
        "UpdateTimeToLive",
        {
            "TableName": name,
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": attribute},
        },
        table=name,
    )
