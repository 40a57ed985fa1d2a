"""Expression building with placeholders only: projection, key condition, filter, update (pure).

User input never becomes expression text: every attribute name is a ``#nN`` placeholder and
every value a ``:vN`` placeholder. Names are checked against the model's fields; values are
encoded by the codec, with bools compared against GSI key fields written as "true"/"false".
Conditions are boto3's ``Attr``/``Key`` trees, rendered through their public
``get_expression()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import AttributeBase, ConditionBase

from ._codec import encode_value
from ._schema import IndexSchema, KeyAttribute, TableSchema
from .exceptions import ValidationError

#: An attribute path: a field, then map keys (any text but ``.``, ``[``, ``]``) and indexes.
#: Every name in it becomes a placeholder, so spaces, ``#``, ``:`` or unicode are harmless.
_PATH = re.compile(r"[^.\[\]]+(?:\.[^.\[\]]+|\[\d+\])*")
_SEGMENT = re.compile(r"\.?([^.\[\]]+)|(\[\d+\])")

#: sort_condition -> key condition template ({0} name, {1} value, {2} second value)
SORT_CONDITIONS: dict[str, str] = {
    "eq": "{0} = {1}",
    "lt": "{0} < {1}",
    "lte": "{0} <= {1}",
    "gt": "{0} > {1}",
    "gte": "{0} >= {1}",
    "between": "{0} BETWEEN {1} AND {2}",
    "begins_with": "begins_with({0}, {1})",
}


_KEY_TYPE_NAMES = {"S": "string", "N": "number", "B": "binary"}


class ExpressionBuilder:
    """Allocates the placeholders of one request and renders its expressions."""

    def __init__(self, schema: TableSchema) -> None:
        self.schema = schema
        self._names: dict[str, str] = {}
        self._values: dict[str, Any] = {}

    def name(self, path: str) -> str:
        """Return the placeholder path for ``path`` (``a.b[2]`` -> ``#n0.#n1[2]``)."""
        given: object = path
        if not isinstance(given, str) or not _PATH.fullmatch(given):
            msg = f"invalid attribute name or path {path!r}"
            raise ValidationError(msg)
        parts: list[str] = []
        for match in _SEGMENT.finditer(path):
            name, index = match.groups()
            if index is not None:
                parts.append(index)
                continue
            if not parts and name not in self.schema.fields:
                msg = (
                    f"{self.schema.model_name} has no field {name!r}; "
                    f"fields: {sorted(self.schema.fields)}"
                )
                raise ValidationError(msg)
            placeholder = self._names.setdefault(name, f"#n{len(self._names)}")
            parts.append(("." if parts else "") + placeholder)
        return "".join(parts)

    def value(self, value: Any, *, field: str | None = None) -> str:
        """Return a new value placeholder for ``value``, encoded for ``field``."""
        if field in self.schema.bool_string_fields and isinstance(value, bool):
            encoded: dict[str, Any] = {"S": "true" if value else "false"}
        else:
            encoded = encode_value(value, path=field or "value")
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = encoded
        return placeholder

    def projection(self, fields: Iterable[str], *, always: Iterable[str] = ()) -> str:
        """Render a ProjectionExpression of model fields, plus ``always`` (key attributes)."""
        given: object = fields
        if isinstance(given, (str, bytes)) or not isinstance(given, Iterable):
            what = "a string" if isinstance(given, str) else type(given).__name__
            msg = f"projection must be a list of field names, not {what}"
            raise ValidationError(msg)
        requested: list[object] = list(given)
        odd = sorted({type(f).__name__ for f in requested if not isinstance(f, str)})
        if odd:
            msg = f"projection must be a list of field names (strings), got {', '.join(odd)}"
            raise ValidationError(msg)
        if not requested:
            msg = "projection must name at least one field"
            raise ValidationError(msg)
        unknown = sorted({str(f) for f in requested if f not in self.schema.fields})
        if unknown:
            msg = (
                f"unknown projection fields for {self.schema.model_name}: {unknown}; "
                f"fields: {sorted(self.schema.fields)}"
            )
            raise ValidationError(msg)
        names = dict.fromkeys([*map(str, requested), *always])
        return ", ".join(self.name(name) for name in names)

    def condition(self, condition: ConditionBase) -> str:
        """Render a boto3 condition tree (``Attr("status").eq("failed") & ...``)."""
        if not isinstance(condition, ConditionBase):
            msg = (
                "conditions must be boto3 Attr/Key conditions, "
                f"e.g. Attr('is_active').eq(True); got {type(condition).__name__}"
            )
            raise ValidationError(msg)
        expression = condition.get_expression()
        values = expression["values"]
        field = next(
            (
                _top(v)
                for v in values
                if isinstance(v, AttributeBase) and not isinstance(v, ConditionBase)
            ),
            None,
        )
        rendered = [
            self._operand(value, field=field, grouped=condition.has_grouped_values)
            for value in values
        ]
        return str(expression["format"]).format(*rendered, operator=expression["operator"])

    def _operand(self, value: Any, *, field: str | None, grouped: bool) -> str:
        if isinstance(value, ConditionBase):
            return self.condition(value)
        if isinstance(value, AttributeBase):
            return self.name(value.name)
        if grouped:
            if not isinstance(value, list | tuple | set | frozenset) or not value:
                msg = "is_in needs a non-empty list of values"
                raise ValidationError(msg)
            return "(" + ", ".join(self.value(v, field=field) for v in value) + ")"
        return self.value(value, field=field)

    def filters(self, filters: Mapping[str, Any] | ConditionBase | None) -> str | None:
        """Render a filter: a dict (AND of equalities; None means absent) or a condition."""
        if filters is None:
            return None
        if isinstance(filters, ConditionBase):
            return self.condition(filters)
        if not isinstance(filters, Mapping):
            msg = f"filters must be a dict or a boto3 Attr condition, got {type(filters).__name__}"
            raise ValidationError(msg)
        parts = []
        for name, value in filters.items():
            placeholder = self.name(name)
            if value is None:
                parts.append(f"attribute_not_exists({placeholder})")
            else:
                parts.append(f"{placeholder} = {self.value(value, field=_top(name))}")
        return " AND ".join(parts) or None

    def key_condition(
        self,
        index: IndexSchema,
        partition_value: Any,
        sort_condition: str | None = None,
        sort_value: Any = None,
        sort_value2: Any = None,
    ) -> str:
        """Render a KeyConditionExpression for ``index`` (the table key or a GSI)."""
        partition = index.partition_key.name
        if partition_value is None or partition_value == "":
            msg = f"partition key {partition!r} needs a non-empty value"
            raise ValidationError(msg)
        value = self._key_value(index, index.partition_key, partition_value)
        expression = f"{self.name(partition)} = {value}"
        if sort_condition is None:
            return expression
        template = SORT_CONDITIONS.get(sort_condition)
        if template is None:
            msg = f"unknown sort_condition {sort_condition!r}; one of: {', '.join(SORT_CONDITIONS)}"
            raise ValidationError(msg)
        if index.sort_key is None:
            msg = f"{index.describe()} has no sort key"
            raise ValidationError(msg)
        sort = index.sort_key.name
        if sort_value is None:
            msg = f"sort_condition {sort_condition!r} needs sort_value"
            raise ValidationError(msg)
        between = sort_condition == "between"
        if between and sort_value2 is None:
            msg = "sort_condition 'between' needs sort_value2"
            raise ValidationError(msg)
        if not between and sort_value2 is not None:
            msg = f"sort_value2 only goes with 'between', not {sort_condition!r}"
            raise ValidationError(msg)
        first = self._key_value(index, index.sort_key, sort_value)
        second = self._key_value(index, index.sort_key, sort_value2) if between else ""
        return f"{expression} AND {template.format(self.name(sort), first, second)}"

    def _key_value(self, index: IndexSchema, attribute: KeyAttribute, value: Any) -> str:
        """Return the placeholder of a key condition's value, refusing one of the wrong type."""
        placeholder = self.value(value, field=attribute.name)
        encoded = self._values[placeholder]
        if attribute.type not in encoded:
            wanted = _KEY_TYPE_NAMES[attribute.type]
            msg = (
                f"{attribute.name!r} is a {wanted} key of {index.describe()}: "
                f"a {type(value).__name__} cannot match it"
            )
            raise ValidationError(msg)
        return placeholder

    def update(
        self,
        set_values: Mapping[str, Any],
        *,
        remove: Iterable[str] = (),
        if_not_exists: Mapping[str, Any] | None = None,
        increment: Mapping[str, int | Decimal] | None = None,
        append: Mapping[str, list[Any]] | None = None,
    ) -> str:
        """Render an UpdateExpression: SET (plain, if_not_exists, increments, appends) and
        REMOVE. A missing attribute counts as 0 (an increment) or as an empty list (an append).
        """
        sets = [f"{self.name(n)} = {self.value(v, field=n)}" for n, v in set_values.items()]
        for name, value in (if_not_exists or {}).items():
            placeholder = self.name(name)
            sets.append(
                f"{placeholder} = if_not_exists({placeholder}, {self.value(value, field=name)})"
            )
        for name, step in (increment or {}).items():
            placeholder = self.name(name)
            zero, by = self.value(0), self.value(step)
            sets.append(f"{placeholder} = if_not_exists({placeholder}, {zero}) + {by}")
        for name, values in (append or {}).items():
            placeholder = self.name(name)
            empty, more = self.value([]), self.value(values, field=_top(name))
            sets.append(
                f"{placeholder} = list_append(if_not_exists({placeholder}, {empty}), {more})"
            )
        removes = [self.name(name) for name in remove]
        sections = []
        if sets:
            sections.append("SET " + ", ".join(sets))
        if removes:
            sections.append("REMOVE " + ", ".join(removes))
        if not sections:
            msg = "nothing to update"
            raise ValidationError(msg)
        return " ".join(sections)

    def params(self) -> dict[str, Any]:
        """Return ExpressionAttributeNames/Values for the request (only non-empty ones)."""
        params: dict[str, Any] = {}
        if self._names:
            params["ExpressionAttributeNames"] = {p: n for n, p in self._names.items()}
        if self._values:
            params["ExpressionAttributeValues"] = dict(self._values)
        return params


def _top(attribute: Any) -> str:
    name = attribute.name if isinstance(attribute, AttributeBase) else str(attribute)
    return re.split(r"[.\[]", name, maxsplit=1)[0]
