"""Blocking create_tables / delete_tables (see ``dynamodb_wrapper_async.tables``)."""

from __future__ import annotations

from dynamodb_wrapper_async import tables as _core
from dynamodb_wrapper_async.tables import DEFAULT_MODELS as DEFAULT_MODELS
from dynamodb_wrapper_async.tables import TableInfo as TableInfo

from ._bridge import blocking_function

__all__ = ["DEFAULT_MODELS", "TableInfo", "create_tables", "delete_tables"]

create_tables = blocking_function(_core.create_tables)
delete_tables = blocking_function(_core.delete_tables)
