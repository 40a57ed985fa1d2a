"""The public surface: complete sorted __all__, same objects in both packages, py.typed."""

from __future__ import annotations

import importlib
import inspect
from importlib import resources
from typing import Any

import pytest

import dynamodb_wrapper_async as core
import dynamodb_wrapper_async.exceptions
import dynamodb_wrapper_async.models
import dynamodb_wrapper_async.utils
import dynamodb_wrapper_sync as sync
import dynamodb_wrapper_sync.exceptions
import dynamodb_wrapper_sync.models
import dynamodb_wrapper_sync.utils

PACKAGES = ["dynamodb_wrapper_async", "dynamodb_wrapper_sync"]
MODULES = [
    "dynamodb_wrapper_async.config",
    "dynamodb_wrapper_async.exceptions",
    "dynamodb_wrapper_async.models",
    "dynamodb_wrapper_async.utils",
    "dynamodb_wrapper_async.tables",
    "dynamodb_wrapper_sync.config",
    "dynamodb_wrapper_sync.exceptions",
    "dynamodb_wrapper_sync.models",
    "dynamodb_wrapper_sync.utils",
    "dynamodb_wrapper_sync.tables",
    "dynamodb_wrapper_sync.local",
]


def isort_order(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[0].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", PACKAGES + MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=isort_order)
    public = {
        n
        for n, value in vars(module).items()
        if not n.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", None) == name
    }
    assert public <= set(exported)
    for n in exported:
        assert hasattr(module, n), n


@pytest.mark.parametrize("name", PACKAGES)
def test_ships_py_typed(name: str) -> None:
    assert resources.files(name).joinpath("py.typed").is_file()


def test_sync_reexports_are_the_same_objects() -> None:
    shared = set(core.__all__) & set(sync.__all__)
    api_classes = {n for n in shared if n.endswith(("ReadApi", "WriteApi"))}
    assert shared - api_classes >= {"DynamoDBConfig", "ConflictError", "PipelineConfigUpsert"}
    for n in shared - api_classes - {"create_tables", "delete_tables"}:
        assert getattr(sync, n) is getattr(core, n), n
    assert (
        dynamodb_wrapper_sync.exceptions.ConflictError
        is dynamodb_wrapper_async.exceptions.ConflictError
    )
    assert dynamodb_wrapper_sync.utils.to_utc is dynamodb_wrapper_async.utils.to_utc
    assert (
        dynamodb_wrapper_sync.models.PipelineRunLogUpsert
        is dynamodb_wrapper_async.models.PipelineRunLogUpsert
    )


def test_every_core_api_class_has_a_sync_twin() -> None:
    for n in core.__all__:
        if n.endswith(("ReadApi", "WriteApi")):
            assert n in sync.__all__, n


def test_api_objects_hold_config_only_and_pickle() -> None:
    import pickle

    config = core.DynamoDBConfig(table_prefix="p_")
    for cls in (
        core.PipelineConfigReadApi, core.TableConfigWriteApi, sync.PipelineRunLogsReadApi,
        sync.PipelineConfigWriteApi,
    ):  # fmt: skip
        api = cls(config)
        clone = pickle.loads(pickle.dumps(api))
        assert type(clone) is cls
        target: Any = getattr(clone, "async_api", clone)
        assert target.config == config
        assert set(vars(target)) == {"config"}  # no loop, client, lock or task stored
