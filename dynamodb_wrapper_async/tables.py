"""Create and delete the tables declared by models' ``Meta``: idempotent, waits until done."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ._engine import gateway as _gateway
from .config import DynamoDBConfig
from .exceptions import ConflictError, RetryableError, TableNotFoundError
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
    """

    name: str
    created: bool
    indexes: tuple[str, ...]
    ttl_attribute: str | None

    def __str__(self) -> str:
        what = "created" if self.created else "exists "
        extra = f"GSIs: {', '.join(self.indexes) or '-'}"
        if self.ttl_attribute:
            extra += f"; TTL on {self.ttl_attribute}"
        return f"{what} {self.name} ({extra})"


async def create_tables(
    config: DynamoDBConfig,
    models: Iterable[type[DynamoModel]] = DEFAULT_MODELS,
    *,
    timeout: float = 300.0,
) -> list[TableInfo]:
    """Create each model's table (on-demand billing, its GSIs and TTL) and wait until active.

    Tables that exist already are left as they are, so a second call is a no-op.

    Raises:
        RetryableError: A table is not ACTIVE ``timeout`` seconds after it was asked for.
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
    """Return the CreateTable request for ``model`` (on-demand billing, GSIs projecting all)."""
    schema = model.table_schema()

    def key_schema(*attributes: Any) -> list[dict[str, str]]:
        roles = ("HASH", "RANGE")
        return [
            {"AttributeName": a.name, "KeyType": role}
            for a, role in zip(attributes, roles, strict=False)
            if a is not None
        ]

    request: dict[str, Any] = {
        "TableName": config.table_name(schema.table_name),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a.name, "AttributeType": a.type} for a in schema.key_attributes()
        ],
        "KeySchema": key_schema(schema.primary.partition_key, schema.primary.sort_key),
    }
    if schema.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in schema.indexes
        ]
    return request


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
    await _wait_active(config, name, timeout)
    if schema.ttl_attribute is not None:
        await _enable_ttl(config, name, schema.ttl_attribute)
    return TableInfo(
        name, created, tuple(index.name or "" for index in schema.indexes), schema.ttl_attribute
    )


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


async def _wait_active(config: DynamoDBConfig, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        table = await _describe(config, name)
        indexes: Sequence[dict[str, Any]] = table.get("GlobalSecondaryIndexes", [])
        if table.get("TableStatus") == "ACTIVE" and all(
            index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in indexes
        ):
            return
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
