"""TableApi[Model]: what read and write APIs share: config, table, key encoding."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from ._codec import encode_item
from ._engine import gateway as _gateway
from ._engine.capacity import charge_for
from ._keys import check_key_values, check_many
from ._schema import TableSchema
from .config import DynamoDBConfig
from .exceptions import ValidationError
from .models import DynamoModel

ModelT = TypeVar("ModelT", bound=DynamoModel)

#: A key as callers give it: the partition value, a (partition, sort) tuple or a field mapping.
KeyInput = Any


class TableApi(Generic[ModelT]):
    """Base of the read and write APIs of one model's table.

    Holds only its config, so API objects are cheap, thread-agnostic and picklable.
    """

    model: type[ModelT]

    def __init__(self, config: DynamoDBConfig) -> None:
        given: object = config
        if not isinstance(given, DynamoDBConfig):
            msg = f"{type(self).__name__} needs a DynamoDBConfig, got {type(config).__name__}"
            raise ValidationError(msg)
        self.config = config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(table={self.table_name!r})"

    @property
    def schema(self) -> TableSchema:
        """The compiled schema of the model's table."""
        return self.model.table_schema()

    @property
    def table_name(self) -> str:
        """The physical table name (prefix applied)."""
        return self.config.table_name(self.schema.table_name)

    async def aclose(self) -> None:
        """Close this config's pooled client on the running loop; the next call reopens it."""
        await _gateway.close_clients(self.config)

    async def _get_item(
        self,
        wire_key: dict[str, Any],
        plain_key: dict[str, Any],
        *,
        consistent_read: bool,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Return the raw item with this key, or None."""
        params = {
            "TableName": self.table_name,
            "Key": wire_key,
            "ConsistentRead": consistent_read,
            **(extra or {}),
        }
        response = await _gateway.call(
            self.config, "GetItem", params, table=self.table_name, key=plain_key,
            capacity=charge_for(self.config, self.table_name, "read", meter=False),
        )  # fmt: skip
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _key(self, key: Any, sort_key: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (wire key, plain key) from a partition value and optional sort value."""
        schema = self.schema
        values = {schema.primary.partition_key.name: key}
        if schema.primary.sort_key is not None:
            values[schema.primary.sort_key.name] = sort_key
        elif sort_key is not None:
            msg = f"{schema.model_name} has no sort key; give only the key"
            raise ValidationError(msg)
        return self._encode_key(values)

    def _key_from(self, key: KeyInput) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (wire key, plain key) from any accepted key form."""
        names = self.schema.key_names
        if isinstance(key, Mapping):
            if set(key) != set(names):
                msg = f"key must have exactly the fields {list(names)}, got {sorted(key)}"
                raise ValidationError(msg)
            return self._encode_key(dict(key))
        if isinstance(key, tuple):
            if len(key) != len(names):
                msg = f"key tuple must be {names}, got {len(key)} values"
                raise ValidationError(msg)
            return self._encode_key(dict(zip(names, key, strict=True)))
        return self._key(key)

    def _unique_keys(self, keys: Iterable[KeyInput]) -> list[dict[str, Any]]:
        """Return the wire keys of ``keys`` (any accepted form), each distinct key once.

        Plain strings for a string partition key (the common batch input) take a shortcut
        that gives the same wire key as :meth:`_key_from`.
        """
        check_many(keys, "keys")
        schema = self.schema
        partition = schema.primary.partition_key.name
        strings = schema.primary.sort_key is None and schema.field_kinds[partition] == "str"
        unique: dict[tuple[Any, ...], dict[str, Any]] = {}
        for position, key in enumerate(keys):
            if strings and type(key) is str and 0 < len(key) <= _SURELY_SHORT:
                unique[(key,)] = {partition: {"S": key}}
                continue
            try:
                wire = self._key_from(key)[0]
            except ValidationError as error:
                msg = f"batch key {position} ({key!r:.300}): {error.message}"
                raise ValidationError(msg, table=self.table_name) from None
            unique[_key_identity(wire)] = wire
        return list(unique.values())

    def _encode_key(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        plain = self.schema.key_of(values)
        for name, value in plain.items():
            allowed = _KEY_VALUE_TYPES.get(self.schema.field_kinds[name], object)
            if not isinstance(value, allowed) or (isinstance(value, bool) and allowed is not bool):
                msg = f"{self.schema.model_name} key {name!r} got a {type(value).__name__}"
                raise ValidationError(
                    msg,
                    table=self.table_name,
                )
        wire = encode_item(plain, bool_string_fields=self.schema.bool_string_fields)
        check_key_values(self.schema, wire, table=self.table_name, key=plain)
        return wire, plain


def _key_identity(wire: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values of a wire key, numbers as Decimal: DynamoDB's "1" and "1.0" are one key."""
    return tuple(
        decimal.Decimal(value["N"]) if "N" in value else next(iter(value.values()))
        for value in wire.values()
    )


#: A string key this long is within every key limit: no character takes over 4 UTF-8 bytes.
_SURELY_SHORT = 1024 // 4

_KEY_VALUE_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": (str, enum.Enum),
    "datetime": (str, dt.datetime),
    "number": (int, float, decimal.Decimal),
    "bytes": bytes,
    "bool": bool,
}
