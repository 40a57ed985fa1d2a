"""The public surface: complete sorted __all__, same objects in both packages, py.typed."""

from __future__ import annotations

import ast
import importlib
import inspect
from importlib import resources
from types import ModuleType
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


def public_names(module: ModuleType) -> set[str]:
    """The names a module makes public, by the rule type checkers apply (PEP 484's explicit
    re-export): what it defines at top level (functions, classes, assignments) and what it
    imports as ``import X as X`` / ``from m import X as X``; a plain import stays private."""
    public: set[str] = set()
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            public.add(node.name)
        elif isinstance(node, ast.Assign):
            public.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            public.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            public.update(a.asname for a in node.names if a.asname == a.name.rsplit(".")[-1])
    return {name for name in public if not name.startswith("_")}


def all_problems(module: ModuleType) -> list[str]:
    """What is wrong with ``module.__all__``: order, public names missing, names extra."""
    exported = list(module.__all__)
    problems = []
    if exported != sorted(exported, key=isort_order):
        problems.append("not sorted")
    public = public_names(module)
    problems += [f"missing {name}" for name in sorted(public - set(exported))]
    problems += [f"not public: {name}" for name in sorted(set(exported) - public)]
    problems += [f"absent: {name}" for name in exported if not hasattr(module, name)]
    return problems


@pytest.mark.parametrize("name", PACKAGES + MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__, name
    assert all_problems(module) == []


@pytest.mark.parametrize("name", PACKAGES + MODULES)
def test_the_check_fails_when_a_public_name_is_left_out(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each module's check can fail: drop any one public name from ``__all__``."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    for left_out in exported:
        monkeypatch.setattr(module, "__all__", [n for n in exported if n != left_out])
        assert all_problems(module) == [f"missing {left_out}"]
    monkeypatch.setattr(module, "__all__", exported[::-1])
    assert ("not sorted" in all_problems(module)) == (len(exported) > 1)


@pytest.mark.parametrize("name", PACKAGES)
def test_ships_py_typed(name: str) -> None:
    assert resources.files(name).joinpath("py.typed").is_file()


def test_sync_reexports_are_the_same_objects() -> None:
    shared = set(core.__all__) & set(sync.__all__)
    api_classes = {n for n in shared if n.endswith(("ReadApi", "WriteApi"))}
    assert shared - api_classes >= {"DynamoDBConfig", "ConflictError", "PipelineConfigUpsert"}
    for n in shared - api_classes - {"backfill", "create_tables", "delete_tables"}:
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
