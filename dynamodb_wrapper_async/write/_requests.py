"""Request building for writes (pure): items, keys, conditions and update expressions."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar, cast

import pydantic
from boto3.dynamodb.conditions import ConditionBase

from .._codec import (
    MAX_ITEM_BYTES,
    check_item_size,
    decode_item,
    encode_item,
    encode_value,
    pin_datetime,
)
from .._conflicts import restate_conflict
from .._expressions import ExpressionBuilder
from .._json import EncodedJSON, encode_part
from .._keys import check_key_values, first_key_problem
from .._markers import Append, Increment, Marker
from .._table_api import KeyInput, ModelT, TableApi
from .._validated import describe_errors
from ..exceptions import ConflictError, ItemNotFoundError, ValidationError
from ..models import WriteModel
from ..utils import utc_now
from ._updates import bound_condition, check_marker, field_validator, marker_path

UpsertT = TypeVar("UpsertT", bound=WriteModel)

#: The server-managed fields, each with what a new item stores in it at ``now``: the write
#: APIs set them (where a model has them); callers never do, through a DTO or ``update``.
MANAGED_FIELDS: Mapping[str, Callable[[dt.datetime], Any]] = MappingProxyType(
    {"created_at": lambda now: now, "updated_at": lambda now: now, "version": lambda now: 1}
)

#: A request's parameters and the plain key of its item.
Request = tuple[dict[str, Any], dict[str, Any]]
#: An update checked against the model: values to SET, fields to REMOVE, markers by path.
CheckedUpdates = tuple[dict[str, Any], list[str], dict[str, Marker]]


class WriteRequests(TableApi[ModelT], Generic[ModelT, UpsertT]):
    """Builds the PutItem/UpdateItem/DeleteItem requests that WriteApi sends or transacts."""

    upsert_model: type[UpsertT]

    def _create_request(self, item: UpsertT) -> tuple[dict[str, Any], dict[str, Any], ModelT]:
        """Return (PutItem params, plain key, full model) for a conditional create."""
        full = self._full_model(item, utc_now())
        wire, key = self._wire_item(full.__dict__)
        builder = ExpressionBuilder(self.schema)
        condition = f"attribute_not_exists({builder.name(self.schema.key_names[0])})"
        params = {
            "TableName": self.table_name,
            "Item": wire,
            "ConditionExpression": condition,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **builder.params(),
        }
        return params, key, full

    def _upsert_request(self, item: UpsertT, now: dt.datetime) -> Request:
        """Return (UpdateItem params, plain key) that create or replace an item in one call."""
        values = self._stored_values(item, now)
        wire, key = self._wire_item(values)
        builder = ExpressionBuilder(self.schema)
        # created_at is kept (if_not_exists) and version counts up; updated_at is SET as given
        fixed = {*self.schema.key_names, *MANAGED_FIELDS} - {"updated_at"}
        set_values = {n: v for n, v in values.items() if n not in fixed and v is not None}
        remove = [n for n, v in values.items() if v is None and n not in fixed]
        expression = builder.update(
            set_values,
            remove=remove,
            if_not_exists={"created_at": now} if "created_at" in values else {},
            increment={"version": 1} if "version" in values else {},
        )
        params = {
            "TableName": self.table_name,
            "Key": {name: wire[name] for name in self.schema.key_names},
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
            **builder.params(),
        }
        return params, key

    def _update_request(
        self,
        key: KeyInput,
        updates: Mapping[str, Any],
        condition_expression: ConditionBase | None,
        expected_version: int | None,
        now: dt.datetime,
    ) -> Request:
        """Return (UpdateItem params, plain key) for an update of an existing item."""
        wire_key, plain_key = self._key_from(key)
        set_values, remove, markers = self._checked_updates(updates)
        schema = self.schema
        indexed = {name: set_values[name] for name in schema.index_fields if name in set_values}
        if indexed:  # a GSI key set to a value DynamoDB cannot index
            wire = encode_item(indexed, bool_string_fields=schema.bool_string_fields)
            check_key_values(schema, wire, table=self.table_name, key=plain_key)
        fields = self.schema.fields
        if "updated_at" in fields:
            set_values["updated_at"] = now
        set_values.update(self._derived_values(now))
        builder = ExpressionBuilder(self.schema)
        increments = {p: m.amount for p, m in markers.items() if isinstance(m, Increment)}
        expression = builder.update(
            set_values,
            remove=remove,
            increment=increments | ({"version": 1} if "version" in fields else {}),
            append={p: m.values for p, m in markers.items() if isinstance(m, Append)},
        )
        conditions = [f"attribute_exists({builder.name(self.schema.key_names[0])})"]
        if condition_expression is not None:
            conditions.append(f"({builder.condition(condition_expression)})")
        for path, amount in increments.items():
            bound = bound_condition(self.model, path, amount)
            if bound is not None:  # e.g. a count with ge=0 does not go below 0
                conditions.append(f"({builder.condition(bound)})")
        if expected_version is not None:
            if "version" not in fields:
                msg = f"{self.schema.model_name} has no version field"
                raise ValidationError(msg)
            conditions.append(f"{builder.name('version')} = {builder.value(expected_version)}")
        params = {
            "TableName": self.table_name,
            "Key": wire_key,
            "UpdateExpression": expression,
            "ConditionExpression": " AND ".join(conditions),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **builder.params(),
        }
        return params, plain_key

    def _guarded_retry(self, params: dict[str, Any], now: dt.datetime) -> dict[str, Any] | None:
        """Return ``params`` made safe to resend after an answer was lost, or None.

        An upsert or update stamps ``updated_at`` with this call's own ``now``; the resent
        request also requires the stored stamp to differ, so if the lost attempt was applied
        the resend fails its condition (nothing applies twice, ``version`` goes up once) and
        :meth:`_own_write` recognises the stored item as ours. Models without ``updated_at``
        resend the request unchanged.
        """
        if "updated_at" not in self.schema.fields:
            return None
        guard = "(attribute_not_exists(#retry_stamp) OR #retry_stamp <> :retry_stamp)"
        condition = params.get("ConditionExpression")
        return {
            **params,
            "ConditionExpression": f"{guard} AND ({condition})" if condition else guard,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            "ExpressionAttributeNames": {
                **params.get("ExpressionAttributeNames", {}),
                "#retry_stamp": "updated_at",
            },
            "ExpressionAttributeValues": {
                **params.get("ExpressionAttributeValues", {}),
                ":retry_stamp": encode_value(now),
            },
        }

    def _own_write(self, error: ConflictError, now: dt.datetime) -> ModelT | None:
        """Return the stored item if a failed resend shows our lost attempt was applied."""
        if not error.retries or not error.item or "updated_at" not in self.schema.fields:
            return None
        if error.item.get("updated_at") != encode_value(now):
            return None
        return self.model.from_stored(decode_item(error.item))

    def _delete_request(self, key: KeyInput, condition: ConditionBase | None) -> Request:
        """Return (DeleteItem params, plain key) for a delete of an existing item."""
        wire_key, plain_key = self._key_from(key)
        builder = ExpressionBuilder(self.schema)
        conditions = [f"attribute_exists({builder.name(self.schema.key_names[0])})"]
        if condition is not None:
            conditions.append(f"({builder.condition(condition)})")
        params = {
            "TableName": self.table_name,
            "Key": wire_key,
            "ConditionExpression": " AND ".join(conditions),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **builder.params(),
        }
        return params, plain_key

    def _delete_retry(
        self, params: dict[str, Any], condition: ConditionBase | None
    ) -> dict[str, Any]:
        """Return the delete to resend after an answer was lost: an absent item is success.

        If the lost attempt deleted the item, the resend must not fail as "not found"; it
        still fails if the item is there and ``condition`` does not hold.
        """
        unconditional = {
            k: v
            for k, v in params.items()
            if not k.startswith(("Condition", "Expression", "ReturnValuesOn"))
        }
        if condition is None:
            return unconditional
        builder = ExpressionBuilder(self.schema)
        missing = f"attribute_not_exists({builder.name(self.schema.key_names[0])})"
        return unconditional | {
            "ConditionExpression": f"{missing} OR ({builder.condition(condition)})",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **builder.params(),
        }

    def _check_request(self, key: KeyInput, condition: ConditionBase) -> Request:
        """Return (ConditionCheck params, plain key): ``condition`` must hold on the item."""
        wire_key, plain_key = self._key_from(key)
        builder = ExpressionBuilder(self.schema)
        params = {
            "TableName": self.table_name,
            "Key": wire_key,
            "ConditionExpression": builder.condition(condition),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **builder.params(),
        }
        return params, plain_key

    def _full_model(self, item: UpsertT, now: dt.datetime) -> ModelT:
        """Return the model a write of ``item`` at ``now`` stores."""
        values = self._stored_values(item, now)
        return cast(ModelT, self.model.model_construct(**values))  # checked just now

    def _stored_values(self, item: UpsertT, now: dt.datetime) -> dict[str, Any]:
        """Return the field values a write of ``item`` at ``now`` stores, all validated."""
        return self._stamper(now)(item)

    def _stamper(self, now: dt.datetime) -> Callable[[UpsertT], dict[str, Any]]:
        """Return item -> the field values a write of it at ``now`` stores, all validated.

        The DTO was validated when it was made; the full model is validated again only if
        it checks more than the DTO does (see :func:`_dto_validates_model`). Everything
        that does not depend on the item is worked out here, once per batch.
        """
        fields = self.schema.fields
        managed = {name: stamp(now) for name, stamp in MANAGED_FIELDS.items() if name in fields}
        if "created_at" in managed or "updated_at" in managed:
            pin_datetime(now)  # every item of the batch is stamped with it
        upsert_model, model, table = self.upsert_model, self.model, self.table_name
        validate = None if _dto_validates_model(model, upsert_model) else model.model_validate

        def stored(item: UpsertT) -> dict[str, Any]:
            if not isinstance(item, upsert_model):
                msg = f"expected {upsert_model.__name__}, got {type(item).__name__}"
                raise ValidationError(msg, table=table)
            values = item.__dict__ | managed
            return values if validate is None else validate(values).__dict__

        return stored

    def _kept_values(self, item: ModelT, now: dt.datetime) -> dict[str, Any]:
        """Return the field values of a full model ``item`` as given, managed fields included.

        ``now`` is unused: the item keeps its own stamps. They must be there and valid: aware
        ``created_at`` and ``updated_at``, ``version`` a positive int, else a ValidationError
        naming the item's key and the field.
        """
        del now
        if not isinstance(item, self.model):
            msg = (
                f"keeping managed fields takes full {self.schema.model_name} items "
                f"(with created_at, updated_at, version), got {type(item).__name__}"
            )
            raise ValidationError(msg, table=self.table_name)
        values = dict(item.__dict__)
        key = self.schema.key_of(values)
        for name in sorted(MANAGED_FIELDS.keys() & self.schema.fields):
            value = values.get(name)
            if name == "version":
                valid = type(value) is int and value >= 1
                wanted = "a positive int"
            else:
                valid = isinstance(value, dt.datetime) and value.utcoffset() is not None
                wanted = "an aware datetime"
            if not valid:
                msg = (
                    f"{self.schema.model_name}.{name} must be {wanted} to be kept, "
                    f"got {type(value).__name__}"
                )
                raise ValidationError(msg, table=self.table_name, key=key)
        return values

    def _wire_item(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (wire item, plain key) of stored values; oversize items are refused."""
        schema = self.schema
        key = schema.key_of(values)
        wire = self._encoded(values, key)
        self._check_keys(wire, key)
        check_item_size(wire, table=self.table_name, key=key)
        return wire, key

    def _check_keys(self, wire: dict[str, Any], key: dict[str, Any]) -> None:
        """Refuse key values DynamoDB cannot index (see ``_keys``), naming the item's key."""
        problem = first_key_problem(self.schema, wire)
        if problem is not None:
            raise ValidationError(problem, table=self.table_name, key=key)

    def _encoded(self, values: dict[str, Any], key: dict[str, Any]) -> dict[str, Any]:
        """Return the wire item of stored values; a refusal names the table and the key."""
        try:
            return encode_item(values, bool_string_fields=self.schema.bool_string_fields)
        except ValidationError as error:
            raise ValidationError(error.message, table=self.table_name, key=key) from None

    def _put_request(self, values: dict[str, Any]) -> tuple[EncodedJSON, dict[str, Any]]:
        """Return (a batch PutRequest encoded as JSON, plain key) of stored values."""
        return self._put_encoder()(values)

    def _put_encoder(self) -> Callable[[dict[str, Any]], tuple[EncodedJSON, dict[str, Any]]]:
        """Return stored values -> (their batch PutRequest encoded as JSON, plain key).

        The encoding's length bounds the item's size, so oversize items are refused without
        a second walk over the item. It runs for every item of a batch: the schema is looked
        up once, and ``_encoded`` and ``_check_keys`` are inlined.
        """
        schema, table = self.schema, self.table_name
        key_of, bool_strings = schema.key_of, schema.bool_string_fields

        def put(values: dict[str, Any]) -> tuple[EncodedJSON, dict[str, Any]]:
            key = key_of(values)
            try:
                wire = encode_item(values, bool_string_fields=bool_strings)
            except ValidationError as error:
                raise ValidationError(error.message, table=table, key=key) from None
            problem = first_key_problem(schema, wire)
            if problem is not None:
                raise ValidationError(problem, table=table, key=key)
            try:
                encoded = encode_part({"PutRequest": {"Item": wire}})
            except ValidationError as error:
                raise ValidationError(error.message, table=table, key=key) from None
            if len(encoded) > MAX_ITEM_BYTES:  # else the JSON length bounds the size already
                check_item_size(wire, table=table, key=key, json_length=len(encoded))
            return encoded, key

        return put

    def _batch_refusal(self, error: ValidationError, position: int, given: Any) -> ValidationError:
        """Restate a refusal of a batch's item or key, naming its position and its key."""
        key = error.key
        if key is None and isinstance(given, pydantic.BaseModel):
            key = {name: given.__dict__.get(name) for name in self.schema.key_names}
        named = f" (key {dict(key)!r:.300})" if key is not None else f" ({given!r:.300})"
        return ValidationError(
            f"batch item {position}{named}: {error.message}", table=self.table_name, key=key
        )

    def _derived_values(self, now: dt.datetime) -> dict[str, Any]:
        """Fields computed from ``updated_at``; domain APIs override (e.g. updated_month)."""
        return {}

    def _checked_updates(self, updates: Mapping[str, Any]) -> CheckedUpdates:
        """Validate ``updates`` against the model: (values to SET, fields to REMOVE, markers).

        Markers (``Increment``/``Append``) may name a dotted path into a map field; plain
        values name fields. Paths that overlap (``metrics`` and ``metrics.rows``) are refused,
        as DynamoDB would refuse them.
        """
        given: object = updates
        if not isinstance(given, Mapping) or not given:
            msg = "updates must be a non-empty mapping of field -> value"
            raise ValidationError(msg)
        schema = self.schema
        paths = {str(name): _top_of(name) for name in updates}
        unknown = sorted({top for top in paths.values() if top not in schema.fields})
        if unknown:
            msg = (
                f"unknown fields for {schema.model_name}: {unknown}; "
                f"fields: {sorted(schema.fields)}"
            )
            raise ValidationError(
                msg,
                table=self.table_name,
            )
        fixed = {*schema.key_names, *MANAGED_FIELDS, *self._derived_values(utc_now())}
        refused = sorted({top for top in paths.values() if top in fixed})
        if refused:
            msg = f"cannot update key, derived or server-managed fields: {refused}"
            raise ValidationError(
                msg,
                table=self.table_name,
            )
        try:
            _check_overlaps(list(paths))
        except ValidationError as error:
            raise ValidationError(error.message, table=self.table_name) from None
        set_values: dict[str, Any] = {}
        remove: list[str] = []
        markers: dict[str, Marker] = {}
        for name, value in updates.items():
            if isinstance(value, Increment | Append):
                try:
                    parts = marker_path(name, self.model)
                    markers[name] = check_marker(self.model, name, parts, value)
                except ValidationError as error:
                    raise ValidationError(error.message, table=self.table_name) from None
                continue
            if name != paths[name]:
                msg = (
                    f"a dotted path ({name!r}) takes an Increment or an Append; "
                    f"to replace the map, update {paths[name]!r} as a whole"
                )
                raise ValidationError(msg, table=self.table_name)
            info = self.model.model_fields[name]
            if value is None:
                if info.is_required():
                    msg = f"{name!r} is required and cannot be removed"
                    raise ValidationError(msg)
                remove.append(name)
                continue
            try:
                checked = field_validator(self.model, name).validate_python({name: value})
            except pydantic.ValidationError as error:
                msg = f"invalid value for {name!r}: {describe_errors(error)}"
                raise ValidationError(msg, table=self.table_name) from error
            set_values[name] = getattr(checked, name)
        return set_values, remove, markers

    def _update_conflict(
        self, error: ConflictError, key: dict[str, Any], expected_version: int | None
    ) -> Exception:
        if error.item is None:
            return self._not_found(key, "update")
        stored = decode_item(error.item)
        if expected_version is not None and stored.get("version") != expected_version:
            message = (
                f"version conflict: expected {expected_version}, found {stored.get('version')}"
            )
        else:
            message = "update condition failed"
        return restate_conflict(error, message, operation="update", table=self.table_name, key=key)

    def _not_found(self, key: dict[str, Any], operation: str) -> ItemNotFoundError:
        return ItemNotFoundError(
            f"{self.schema.model_name} not found",
            operation=operation,
            table=self.table_name,
            key=key,
        )


@functools.lru_cache(maxsize=256)
def _dto_validates_model(model: type[pydantic.BaseModel], dto: type[pydantic.BaseModel]) -> bool:
    """Say whether a valid ``dto`` plus the managed fields is a valid ``model`` as it stands.

    True when every model field is a managed one or a DTO field with the same type and at
    least the model's constraints, and the model has no validator the DTO lacks: validating
    the full model again would only repeat the DTO's checks (~a fifth of a batch write's CPU).
    """
    model_fields, dto_fields = model.model_fields, dto.model_fields
    if not set(dto_fields) <= set(model_fields):
        return False
    for name, info in model_fields.items():
        theirs = dto_fields.get(name)
        if theirs is None:
            if name not in MANAGED_FIELDS:  # the values the write APIs set are valid
                return False
        elif theirs.annotation != info.annotation or any(
            check not in theirs.metadata for check in info.metadata
        ):
            return False
    ours, their_checks = model.__pydantic_decorators__, dto.__pydantic_decorators__
    if ours.model_validators or ours.root_validators or ours.field_serializers:
        return False
    dto_checks = {
        (d.func, d.info.fields, d.info.mode) for d in their_checks.field_validators.values()
    }
    return all(
        (d.func, d.info.fields, d.info.mode) in dto_checks for d in ours.field_validators.values()
    )


def _top_of(path: object) -> str:
    """The field a path starts at (``"metrics.rows"`` -> ``"metrics"``)."""
    return str(path).split(".", 1)[0]


def _check_overlaps(paths: list[str]) -> None:
    """Refuse two update paths where one is inside the other (``metrics``, ``metrics.rows``)."""
    given = set(paths)
    for path in sorted(given):
        parts = path.split(".")
        for end in range(1, len(parts)):
            outer = ".".join(parts[:end])
            if outer in given:
                msg = f"update paths overlap: {outer!r} and {path!r}; update one or the other"
                raise ValidationError(msg)
