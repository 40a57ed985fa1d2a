"""TableConfigWriteApi: writes of table configurations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.conditions import ConditionBase

from ..models import TableConfig, TableConfigUpsert
from ..models.table_config import month_bucket
from ._base import WriteApi

__all__ = ["TableConfigWriteApi"]


class TableConfigWriteApi(WriteApi[TableConfig, TableConfigUpsert]):
    """Writes of the ``table_config`` table; ``updated_month`` follows ``updated_at``."""

    model = TableConfig
    upsert_model = TableConfigUpsert

    async def create_table_config(self, table: TableConfigUpsert) -> TableConfig:
        """Create a table config; ConflictError if its id exists."""
        return await self.create(table)

    async def upsert_table_config(self, table: TableConfigUpsert) -> TableConfig:
        """Create or replace a table config, keeping created_at."""
        return await self.upsert(table)

    async def update_table_config(
        self,
        table_id: str,
        updates: Mapping[str, Any],
        *,
        condition_expression: ConditionBase | None = None,
        expected_version: int | None = None,
    ) -> TableConfig:
        """Change fields of a table config. See :meth:`WriteApi.update`."""
        return await self.update(
            table_id,
            updates,
            condition_expression=condition_expression,
            expected_version=expected_version,
        )

    async def delete_table_config(
        self, table_id: str, *, condition: ConditionBase | None = None
    ) -> None:
        """Delete a table config."""
        await self.delete(table_id, condition=condition)

    def _derived_values(self, now: dt.datetime) -> dict[str, Any]:
        return {"updated_month": month_bucket(now)}
