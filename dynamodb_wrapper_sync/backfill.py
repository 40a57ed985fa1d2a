"""Blocking backfill (see ``dynamodb_wrapper_async.backfill``), given the facade's API objects."""

from __future__ import annotations

import os
from typing import Any

import dynamodb_wrapper_async as core

from ._bridge import Facade
from ._runner import run

__all__ = ["backfill"]


def backfill(
    read_api: Facade[core.ReadApi[Any, Any]] | core.ReadApi[Any, Any],
    transform: core.Transform,
    write_api: Facade[core.WriteApi[Any, Any]] | core.WriteApi[Any, Any],
    *,
    segments: int = 4,
    page_size: int = 100,
    checkpoint: str
    | os.PathLike[str]
    | core.CheckpointStore
    | core.AsyncCheckpointStore
    | None = None,
    dry_run: bool = False,
    progress: bool | core.ProgressCallback | None = None,
    capacity: core.CapacityBudget | None = None,
) -> core.BackfillResult:
    """Blocking twin of :func:`dynamodb_wrapper_async.backfill`; takes sync or async APIs."""
    return run(
        core.backfill(
            read_api.async_api if isinstance(read_api, Facade) else read_api,
            transform,
            write_api.async_api if isinstance(write_api, Facade) else write_api,
            segments=segments,
            page_size=page_size,
            checkpoint=checkpoint,
            dry_run=dry_run,
            progress=progress,
            capacity=capacity,
        )
    )
