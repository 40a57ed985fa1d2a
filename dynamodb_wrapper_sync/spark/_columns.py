"""A model's fields as Spark columns: the schema, views -> Spark rows, Spark rows -> model input."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic

from dynamodb_wrapper_async import ValidationError

from ._compile import spark_type_of
from ._types import ColumnError, Long, Scalar, SparkType


@dataclass(frozen=True)
class Columns:
    """Some fields of a model, in order, each with its :class:`SparkType`."""

    model_name: str
    names: tuple[str, ...]
    kinds: tuple[SparkType, ...]

    @classmethod
    def of(cls, model: type[pydantic.BaseModel], names: Sequence[str] | None = None) -> Columns:
        """Return the columns of ``model`` (all its fields, or ``names``, validated)."""
        return _columns(model, None if names is None else tuple(names))

    def kind(self, name: str) -> SparkType:
        """Return the Spark type of field ``name``."""
        return self.kinds[self.names.index(name)]

    def schema(self) -> Any:
        """Return the Spark ``StructType`` (every column nullable: items may lack a field)."""
        from pyspark.sql import types as T  # noqa: N812, PLC0415 - pyspark is an extra

        return T.StructType(
            [
                T.StructField(name, kind.data_type(), nullable=True)
                for name, kind in zip(self.names, self.kinds, strict=True)
            ]
        )

    # ------------------------------------------------------------------ model -> Spark
    def column_values(self, name: str, kind: SparkType, views: Sequence[Any]) -> list[Any]:
        """Return field ``name`` of each view as Spark values (a ValidationError names it)."""
        values = [getattr(view, name) for view in views]
        if _is_identity(kind):
            return values
        convert = kind.to_spark
        try:
            return [None if value is None else convert(value) for value in values]
        except (ColumnError, TypeError, ValueError, ArithmeticError) as error:
            raise self._read_error(name, views, error) from None

    def rows(self, views: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """Yield each view as a tuple of Spark values, in column order."""
        columns = [
            self.column_values(name, kind, views)
            for name, kind in zip(self.names, self.kinds, strict=True)
        ]
        return zip(*columns, strict=True)

    def _read_error(self, name: str, views: Sequence[Any], error: Exception) -> ValidationError:
        del views
        msg = f"column {name!r} of {self.model_name}: {error}"
        return ValidationError(msg, operation="spark read")

    # ------------------------------------------------------------------ Spark -> model
    def check_input(self, spark_schema: Any, *, required: Sequence[str]) -> None:
        """Refuse a DataFrame schema that cannot be written, naming each bad column.

        Unknown, mistyped and missing key columns are all listed in one ValidationError.
        """
        problems = []
        given = {column.name for column in spark_schema.fields}
        for column in spark_schema.fields:
            if column.name not in self.names:
                problems.append(f"column {column.name!r}: {self.model_name} has no such field")
                continue
            problem = self.kind(column.name).check(column.dataType)
            if problem is not None:
                problems.append(f"column {column.name!r}: {problem}")
        problems.extend(
            f"column {name!r} is missing: it is a key of {self.model_name}"
            for name in required
            if name not in given
        )
        if problems:
            msg = f"cannot write this DataFrame as {self.model_name}: " + "; ".join(problems)
            raise ValidationError(msg, operation="spark write")

    def reader_of(self, names: Sequence[str], zone: dt.tzinfo | None) -> RowReader:
        """Return what turns Spark rows with columns ``names`` into model input dicts."""
        converters = []
        for position, name in enumerate(names):
            kind = self.kind(name)
            converters.append((position, name, None if _needs_no_input_conversion(kind) else kind))
        return RowReader(tuple(converters), zone)


@dataclass(frozen=True)
class RowReader:
    """Turns Spark values into model input; null cells are left out (the default applies)."""

    converters: tuple[tuple[int, str, SparkType | None], ...]
    zone: dt.tzinfo | None

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        """Return one row (values in column order) as a field -> value dict."""
        out: dict[str, Any] = {}
        zone = self.zone
        for position, name, kind in self.converters:
            value = row[position]
            if value is None:
                continue
            if kind is not None:
                try:
                    value = kind.from_spark(value, zone)
                except _CONVERSION_ERRORS as error:
                    raise _write_error(name, error) from None
            out[name] = value
        return out

    def records(
        self, columns: Sequence[list[Any]], keep: Collection[str] | None = None
    ) -> list[dict[str, Any]]:
        """Return whole columns (in this reader's order) as a field -> value dict per row.

        Only the fields in ``keep`` (default: all) are taken; null cells are left out, as
        :meth:`values` leaves them (a cell that converts to None, JSON ``null``, is kept). A
        value that does not convert raises a ValidationError naming its column (not its row:
        :meth:`values` finds that).
        """
        names: list[str] = []
        kept: list[list[Any]] = []
        zone = self.zone
        for (_, name, kind), column in zip(self.converters, columns, strict=True):
            if keep is not None and name not in keep:
                continue
            names.append(name)
            if kind is None:
                kept.append(column)
                continue
            convert = kind.from_spark
            try:  # a cell that converts to None is kept, as a marker (null cells are None)
                kept.append(
                    [
                        None
                        if v is None
                        else _CONVERTED_NONE
                        if (c := convert(v, zone)) is None
                        else c
                        for v in column
                    ]
                )
            except _CONVERSION_ERRORS as error:
                raise _write_error(name, error) from None
        return [
            {
                name: None if value is _CONVERTED_NONE else value
                for name, value in zip(names, row, strict=True)
                if value is not None
            }
            for row in zip(*kept, strict=True)
        ]

    def mapping(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Return one row given as a mapping (``Row.asDict()``); other keys pass unchanged."""
        ordered = [row.get(name) for _, name, _ in self.converters]
        known = {name for _, name, _ in self.converters}
        rest = {k: v for k, v in row.items() if k not in known}
        return {**rest, **self.values(ordered)}


#: What a Spark value that does not convert raises (the column is named by the caller).
_CONVERSION_ERRORS = (ColumnError, TypeError, ValueError, ArithmeticError)
#: Stands for a non-null cell that converts to None (JSON ``null``) inside ``records``.
_CONVERTED_NONE = object()


def _write_error(name: str, error: Exception) -> ValidationError:
    return ValidationError(f"column {name!r}: {error}", operation="spark write")


def _is_identity(kind: SparkType) -> bool:
    return isinstance(kind, Scalar) and kind.name in {"string", "boolean"}


def _needs_no_input_conversion(kind: SparkType) -> bool:
    return _is_identity(kind) or isinstance(kind, Long)


@functools.lru_cache(maxsize=256)
def _columns(model: type[pydantic.BaseModel], names: tuple[str, ...] | None) -> Columns:
    fields = model.model_fields
    chosen = tuple(fields) if names is None else names
    unknown = [name for name in chosen if name not in fields]
    if unknown:
        msg = f"{model.__name__} has no fields {unknown}; fields: {list(fields)}"
        raise ValidationError(msg)
    if len(set(chosen)) != len(chosen):
        msg = f"columns named twice: {sorted({n for n in chosen if chosen.count(n) > 1})}"
        raise ValidationError(msg)
    kinds = tuple(
        spark_type_of(
            fields[name].annotation, fields[name].metadata, where=f"{model.__name__}.{name}"
        )
        for name in chosen
    )
    return Columns(model.__name__, chosen, kinds)
