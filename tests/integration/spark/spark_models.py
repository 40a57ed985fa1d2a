"""Models for the Spark tests, importable by name on executors (the ``model`` option)."""

from __future__ import annotations

import decimal
import enum
from typing import Any

from pydantic import BaseModel, Field

from dynamodb_wrapper_async import GSI, DynamoModel, UtcDateTime


class Level(str, enum.Enum):
    LOW = "low"
    HIGH = "high"


class Address(BaseModel):
    city: str
    zip_code: str | None = None
    since: UtcDateTime | None = None


class Everything(DynamoModel):
    """A model with every type of the Spark mapping."""

    item_id: str
    seq: int
    name: str
    count: int
    ratio: float
    price: decimal.Decimal = Field(max_digits=12, decimal_places=4)
    amount: decimal.Decimal
    active: bool
    payload: bytes
    level: Level
    happened_at: UtcDateTime
    tags: list[str]
    scores: list[int]
    labels: set[str]
    address: Address
    history: list[Address]
    counters: dict[str, int]
    extra: dict[str, Any]
    note: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int = Field(default=1, ge=1)

    class Meta:
        table_name = "spark_everything"
        partition_key = "item_id"
        sort_key = "seq"
        gsis = (GSI("LevelIndex", partition_key="level", sort_key="happened_at"),)


class EverythingCopy(Everything):
    class Meta:
        table_name = "spark_everything_copy"
        partition_key = "item_id"
        sort_key = "seq"
        gsis = (GSI("LevelIndex", partition_key="level", sort_key="happened_at"),)


class Event(DynamoModel):
    """A small model for the bulk and failure tests."""

    event_id: str
    source: str
    amount: int
    score: float
    tags: list[str] = Field(default_factory=list)

    class Meta:
        table_name = "spark_events"
        partition_key = "event_id"


class Stamped(DynamoModel):
    """Timestamps only: instants and wall-clock values from Spark."""

    stamp_id: str
    at: UtcDateTime
    wall: UtcDateTime

    class Meta:
        table_name = "spark_stamped"
        partition_key = "stamp_id"
