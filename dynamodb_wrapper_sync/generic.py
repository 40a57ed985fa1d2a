"""Blocking twins of the generic ReadApi / WriteApi, for models users declare themselves.

Example:
    >>> datasets = ReadApi(DatasetReadApi(config))     # DatasetReadApi: an async ReadApi
    >>> datasets.get_by_id("d-1")
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import dynamodb_wrapper_async as core

from ._bridge import Facade, blocking, blocking_iter, passthrough

__all__ = ["ReadApi", "WriteApi"]

ModelT = TypeVar("ModelT", bound=core.DynamoModel)
ViewT = TypeVar("ViewT", bound=core.ViewModel)
UpsertT = TypeVar("UpsertT", bound=core.WriteModel)


class ReadApi(Facade[core.ReadApi[Any, Any]], Generic[ModelT, ViewT]):
    """Blocking twin of any :class:`dynamodb_wrapper_async.ReadApi` subclass instance."""

    def __init__(self, async_api: core.ReadApi[ModelT, ViewT]) -> None:
        self.async_api = async_api

    get_by_id = blocking(core.ReadApi.get_by_id)
    batch_get = blocking(core.ReadApi.batch_get)
    get_action = passthrough(core.ReadApi.get_action)
    transact_get = blocking(core.ReadApi.transact_get)
    scan = blocking(core.ReadApi.scan)
    scan_iter = blocking_iter(core.ReadApi.scan_iter)
    query_by_composite_key_range = blocking(core.ReadApi.query_by_composite_key_range)
    query_by_composite_key_range_iter = blocking_iter(
        core.ReadApi.query_by_composite_key_range_iter
    )


class WriteApi(Facade[core.WriteApi[Any, Any]], Generic[ModelT, UpsertT]):
    """Blocking twin of any :class:`dynamodb_wrapper_async.WriteApi` subclass instance."""

    def __init__(self, async_api: core.WriteApi[ModelT, UpsertT]) -> None:
        self.async_api = async_api

    create = blocking(core.WriteApi.create)
    upsert = blocking(core.WriteApi.upsert)
    update = blocking(core.WriteApi.update)
    delete = blocking(core.WriteApi.delete)
    batch_upsert = blocking(core.WriteApi.batch_upsert)
    batch_delete = blocking(core.WriteApi.batch_delete)
    batch_write = blocking(core.WriteApi.batch_write)
    transact_write = blocking(core.WriteApi.transact_write)
    create_action = passthrough(core.WriteApi.create_action)
    update_action = passthrough(core.WriteApi.update_action)
    delete_action = passthrough(core.WriteApi.delete_action)
    condition_check_action = passthrough(core.WriteApi.condition_check_action)
