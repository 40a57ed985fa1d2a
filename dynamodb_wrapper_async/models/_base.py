"""DynamoModel: a pydantic model whose ``Meta`` compiles into a TableSchema at class creation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, ConfigDict
from typing_extensions import Self

from .._schema import GSI, LSI, Capacity, TableSchema, compile_schema
from .._validated import ValidatedModel
from ._strict import STORED, StrictScalars, utc_datetime

__all__ = ["GSI", "LSI", "Capacity", "DynamoModel", "UtcDateTime", "ViewModel", "WriteModel"]


#: An aware datetime, converted to UTC; naive datetimes are refused. Stored models and DTOs
#: take aware datetimes and ISO-8601 strings with an offset only (see ``_strict``).
UtcDateTime = Annotated[dt.datetime, AfterValidator(utc_datetime)]


class _StrictScalars(ValidatedModel, StrictScalars):
    """Validates input with strict scalars (see ``_strict``): stored as given, or refused."""

    @classmethod
    def from_stored(cls, item: Any) -> Self:
        """Validate an item as the library stored it (decoded), with pydantic's lax rules."""
        return cls.validate_named(item, options={"strict": False, "context": STORED})


class DynamoModel(_StrictScalars):
    """Base of every stored model; the nested ``class Meta`` declares its table.

    ``Meta`` attributes: ``table_name`` (before the config's prefix), ``partition_key``,
    optional ``sort_key``, ``gsis`` (a tuple of :class:`GSI`), ``lsis`` (a tuple of
    :class:`LSI`), ``capacity`` (:class:`Capacity`: provisioned billing; default on-demand)
    and optional ``ttl_attribute``.
    It is compiled once, when the class is created, into ``__table_schema__``; a key that
    names an unknown or non-scalar field fails right there, naming the model.

    Example:
        >>> class Dataset(DynamoModel):
        ...     dataset_id: str
        ...     owner: str
        ...
        ...     class Meta:
        ...         table_name = "datasets"
        ...         partition_key = "dataset_id"
        ...         gsis = (GSI("OwnerIndex", partition_key="owner"),)
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    __table_schema__: ClassVar[TableSchema]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        meta = cls.__dict__.get("Meta")
        if meta is None:
            return
        field_types = {name: info.annotation for name, info in cls.model_fields.items()}
        cls.__table_schema__ = compile_schema(cls.__name__, meta, field_types)

    @classmethod
    def table_schema(cls) -> TableSchema:
        """Return the compiled schema of this model's table."""
        schema: TableSchema | None = getattr(cls, "__table_schema__", None)
        if schema is None:
            msg = f"{cls.__name__} declares no Meta, so it has no table"
            raise TypeError(msg)
        return schema


class ViewModel(ValidatedModel):
    """Base of read views: every field optional, unknown attributes ignored."""

    model_config = ConfigDict(extra="ignore")


class WriteModel(_StrictScalars):
    """Base of write DTOs: unknown and server-managed fields are refused, scalars are strict."""

    model_config = ConfigDict(extra="forbid")
