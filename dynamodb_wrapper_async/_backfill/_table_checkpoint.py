"""A backfill's checkpoint kept as an item of a DynamoDB table, read with strong consistency."""

from __future__ import annotations

import json
from typing import Any

from ..config import DynamoDBConfig
from ..exceptions import ItemNotFoundError, ValidationError
from ..models import DynamoModel, ViewModel, WriteModel
from ..read import ReadApi
from ..write import WriteApi

__all__ = ["BackfillCheckpoint", "TableCheckpoint"]


class BackfillCheckpoint(DynamoModel):
    """One backfill's checkpoint: its state as a JSON document.

    Create the table once with ``create_tables(config, [BackfillCheckpoint])`` (table
    ``backfill_checkpoints``, before the config's prefix).
    """

    checkpoint_id: str
    state: str

    class Meta:
        table_name = "backfill_checkpoints"
        partition_key = "checkpoint_id"


class _CheckpointView(ViewModel):
    checkpoint_id: str | None = None
    state: str | None = None


class _CheckpointUpsert(WriteModel):
    checkpoint_id: str
    state: str


class _Reads(ReadApi[BackfillCheckpoint, _CheckpointView]):
    model, view = BackfillCheckpoint, _CheckpointView


class _Writes(WriteApi[BackfillCheckpoint, _CheckpointUpsert]):
    model, upsert_model = BackfillCheckpoint, _CheckpointUpsert


class TableCheckpoint:
    """A checkpoint in the ``backfill_checkpoints`` table, one item per ``checkpoint_id``.

    Each save replaces the item (a PutItem DynamoDB has acknowledged is durable); a load reads
    it with strong consistency, so a job started again anywhere (another executor, another
    machine) resumes from the last save.

    Args:
        config: Where the table is (endpoint, region, credentials, table prefix).
        checkpoint_id: Names this backfill's checkpoint; a missing item is a fresh start.
    """

    def __init__(self, config: DynamoDBConfig, checkpoint_id: str) -> None:
        given: object = checkpoint_id
        if not isinstance(given, str) or not given:
            msg = f"checkpoint_id must be a non-empty string, got {checkpoint_id!r}"
            raise ValidationError(msg, operation="backfill")
        self.checkpoint_id = checkpoint_id
        self._reads = _Reads(config)
        self._writes = _Writes(config)

    def __repr__(self) -> str:
        return f"TableCheckpoint({self._reads.table_name}, {self.checkpoint_id!r})"

    async def load(self) -> dict[str, Any] | None:
        """Return the saved state, or None if this checkpoint was never saved."""
        try:
            view = await self._reads.get_by_id(self.checkpoint_id, consistent_read=True)
        except ItemNotFoundError:
            return None
        try:
            state = json.loads(view.state or "")
        except ValueError:
            state = None
        if not isinstance(state, dict):
            msg = f"{self!r} does not hold a backfill checkpoint"
            raise ValidationError(msg, operation="backfill", table=self._reads.table_name)
        return state

    async def save(self, state: dict[str, Any]) -> None:
        """Replace the item with ``state``."""
        document = json.dumps(state, sort_keys=True)
        await self._writes.upsert(
            _CheckpointUpsert(checkpoint_id=self.checkpoint_id, state=document)
        )
