"""The facade stays thin: every public core method has a same-named wrapper, and nothing else."""

from __future__ import annotations

import inspect
import pathlib
from typing import Any

import pytest

import dynamodb_wrapper_async as core
import dynamodb_wrapper_sync as sync
from dynamodb_wrapper_sync import generic
from dynamodb_wrapper_sync._bridge import Facade

LIFECYCLE = {"close"}
CORE_LIFECYCLE = {"aclose"}

PAIRS: list[tuple[type[Facade[Any]], type[Any]]] = [
    (sync.PipelineConfigReadApi, core.PipelineConfigReadApi),
    (sync.TableConfigReadApi, core.TableConfigReadApi),
    (sync.PipelineRunLogsReadApi, core.PipelineRunLogsReadApi),
    (sync.PipelineConfigWriteApi, core.PipelineConfigWriteApi),
    (sync.TableConfigWriteApi, core.TableConfigWriteApi),
    (sync.PipelineRunLogsWriteApi, core.PipelineRunLogsWriteApi),
    (generic.ReadApi, core.ReadApi),
    (generic.WriteApi, core.WriteApi),
]


def core_methods(cls: type[Any]) -> dict[str, Any]:
    """Public I/O methods of a core API class: coroutines and ``*_iter`` streams."""
    methods = {}
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_") or name in CORE_LIFECYCLE:
            continue
        if inspect.iscoroutinefunction(member) or name.endswith(("_iter", "_action")):
            methods[name] = member
    return methods


def facade_methods(cls: type[Any]) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and name not in LIFECYCLE
    }


@pytest.mark.parametrize(("facade", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_every_core_method_is_wrapped_and_nothing_else(
    facade: type[Any], async_cls: type[Any]
) -> None:
    expected = core_methods(async_cls)
    present = facade_methods(facade)
    assert set(present) == set(expected), (
        f"missing: {sorted(set(expected) - set(present))}, "
        f"extra: {sorted(set(present) - set(expected))}"
    )
    for name, function in expected.items():
        assert present[name].__wrapped__ is function, name


@pytest.mark.parametrize(("facade", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_every_stream_takes_what_its_paged_twin_takes(
    facade: type[Any], async_cls: type[Any]
) -> None:
    """``x_iter`` has ``x``'s parameters (``last_key`` included) but ``limit``; scans add
    their parallel-scan ``segments``/``segment``."""
    streams = {n: f for n, f in core_methods(async_cls).items() if n.endswith("_iter")}
    for name, stream in streams.items():
        paged = inspect.signature(getattr(async_cls, name.removesuffix("_iter"))).parameters
        streamed = inspect.signature(stream).parameters
        expected = [p for n, p in paged.items() if n != "limit"]
        extra = {"segments", "segment"}
        assert [p for n, p in streamed.items() if n not in extra] == expected, name
        assert "last_key" in streamed, name
        assert inspect.signature(getattr(facade, name)) == inspect.signature(stream), name


def test_sync_package_holds_no_dynamodb_logic() -> None:
    """Only the bridge, runner and re-exports: no aioboto3/botocore, no expressions."""
    package = pathlib.Path(inspect.getfile(sync)).parent
    for path in package.glob("*.py"):
        text = path.read_text()
        for banned in ("aioboto3", "botocore", "_gateway", "_expressions", "_codec"):
            assert banned not in text, f"{path.name} mentions {banned}"
