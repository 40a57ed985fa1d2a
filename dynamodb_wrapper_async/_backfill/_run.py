"""backfill: scan a table, transform each item, write it back only if unchanged, resumably.

Each parallel-scan segment is read page by page. In place (the write API's table is the read
API's), a changed item is written with ``update(..., expected_version=<the version read>)``,
so an item changed by someone else since it was read is reported, never overwritten. Before
a page's writes, the checkpoint records the version of every item about to be written and
the page's ``updated_at`` stamp; after them, the resume key and the counts. A job killed at
any point and started again with the same checkpoint re-reads the page it was in and tells
its own writes (version one up, our stamp) from items still to do and from items someone
else changed: every item is transformed exactly once.

A copy (the write API names another table) writes each page's results with
``batch_upsert(keep_managed_fields=True)``: puts of each item as the transform returned it,
``created_at``, ``updated_at`` and ``version`` included, which a restart repeats harmlessly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import inspect
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import anyio

from .._capacity import CapacityBudget
from .._engine.capacity import charge_for
from .._engine.progress import Progress, ProgressCallback, progress_reporter
from .._tokens import encode_token
from ..exceptions import ConflictError, ItemNotFoundError, ValidationError
from ..models import DynamoModel, ViewModel, WriteModel
from ..read import ReadApi
from ..read._paging import PageRequest
from ..read._paging.pages import collect
from ..read._paging.parallel import run_all
from ..utils import utc_now
from ..write import WriteApi
from ._checkpoint import AsyncCheckpointStore, CheckpointStore, FileCheckpoint

#: A checkpoint store with plain methods (run in a worker thread) or coroutine methods.
Store = CheckpointStore | AsyncCheckpointStore

__all__ = ["BackfillResult", "Transform", "backfill"]

#: In place: the fields to change (``None`` or ``{}``: leave the item as it is). For a copy:
#: the item to store in the target table (a model of the write API), or None to skip it.
Transform = Callable[[Any], "Mapping[str, Any] | DynamoModel | WriteModel | None"]

_FORMAT = 1
_COUNTS = ("read", "transformed", "unchanged", "changed")
_SAMPLE = 20  # changes a dry run shows


@dataclass
class BackfillResult:
    """What a backfill did (over every run that shared its checkpoint).

    Attributes:
        read: Items read.
        transformed: Items written (in place: updated once each; copy: stored in the target).
        unchanged: Items the transform left as they were.
        changed: Items someone else changed (or deleted) after they were read: not written.
        changed_keys: The keys of those items.
        would_change: In a dry run, the items that would have been written.
        sample: In a dry run, up to 20 ``(key, result of the transform)`` pairs.
        dry_run: Whether this was a dry run (nothing written, no checkpoint saved).
    """

    read: int = 0
    transformed: int = 0
    unchanged: int = 0
    changed: int = 0
    changed_keys: list[dict[str, Any]] = field(default_factory=list)
    would_change: int = 0
    sample: list[tuple[dict[str, Any], Any]] = field(default_factory=list)
    dry_run: bool = False


@dataclass
class _Job:
    """One backfill: its APIs, its options and its state (the checkpoint's document)."""

    read_api: ReadApi[Any, Any]
    write_api: WriteApi[Any, Any]
    transform: Transform
    segments: int
    page_size: int
    dry_run: bool
    store: Store | None
    state: dict[str, Any]
    result: BackfillResult
    capacity: CapacityBudget | None = None
    report: ProgressCallback | None = None
    save_lock: anyio.Lock = field(default_factory=anyio.Lock)

    @property
    def in_place(self) -> bool:
        return self.write_api.table_name == self.read_api.table_name

    async def save(self) -> None:
        """Persist the state as it is now; saves land in the order they were asked for."""
        if self.store is None or self.dry_run:
            return
        async with self.save_lock:
            snapshot = json.loads(json.dumps(self.state))  # as of now, not of the write
            if inspect.iscoroutinefunction(self.store.save):
                await self.store.save(snapshot)
            else:
                await anyio.to_thread.run_sync(self.store.save, snapshot)


async def backfill(
    read_api: ReadApi[Any, Any],
    transform: Transform,
    write_api: WriteApi[Any, Any],
    *,
    segments: int = 4,
    page_size: int = 100,
    checkpoint: str | os.PathLike[str] | CheckpointStore | AsyncCheckpointStore | None = None,
    dry_run: bool = False,
    progress: Progress = None,
    capacity: CapacityBudget | None = None,
) -> BackfillResult:
    """Transform every item of ``read_api``'s table and write the results with ``write_api``.

    Args:
        read_api: Reads the source table with a parallel scan of ``segments`` segments.
        transform: Called with each item's view. In place (``write_api`` writes the same
            table): return the fields to change, validated like ``update``; a copy: return
            the item to store (a model of ``write_api``, managed fields included); return
            None to leave an item alone.
        write_api: Where results go; the read API's own table means in place.
        segments: Parallel-scan segments read at once.
        page_size: Items per page; the checkpoint is saved after every page.
        checkpoint: A file path, a :class:`TableCheckpoint` (an item of a DynamoDB table) or
            any :class:`CheckpointStore`; a job started again with the same checkpoint resumes
            where the last one stopped. None keeps no checkpoint.
        dry_run: Write nothing (no checkpoint either); count and sample what would change.
        progress: ``True`` for a tqdm bar, or a callback given each page's item count.
        capacity: The read units per second of the scan (all segments together) and the
            write units per second of the writes (else each API's config budget applies).

    Raises:
        ValidationError: Bad arguments, a checkpoint of another backfill, or an in-place
            backfill of a model without ``version`` and ``updated_at``; before any request.
        ConflictError, RetryableError, ...: A failure that outlived the retries; the
            checkpoint is left where a new run resumes.
    """
    store = _store(checkpoint)
    _check_arguments(read_api, transform, write_api, segments, page_size)
    state = _initial_state(read_api, write_api, segments, page_size)
    saved = None if store is None or dry_run else await _load(store)
    if saved is not None:
        _check_saved(saved, state)
        state = saved
    job = _Job(read_api, write_api, transform, segments, page_size, dry_run, store, state,
               BackfillResult(dry_run=dry_run), capacity)  # fmt: skip
    if job.in_place:
        missing = [name for name in ("version", "updated_at") if name not in read_api.schema.fields]
        if missing:
            msg = f"an in-place backfill needs {read_api.schema.model_name}.{missing[0]}"
            raise ValidationError(msg, operation="backfill", table=read_api.table_name)
    charge = charge_for(read_api.config, read_api.table_name, "read", capacity, meter=False)
    base = dataclasses.replace(read_api._scan_request(None, None), capacity=charge)
    with progress_reporter(progress, description="backfill") as report:
        job.report = report
        await run_all(
            [
                functools.partial(_run_segment, job, base.for_segment(number, segments), number)
                for number in range(segments)
            ]
        )
    return _result(job)


async def _run_segment(job: _Job, request: PageRequest, number: int) -> None:
    segment = job.state["segments"][number]
    while not segment["done"]:
        start = request.start_key(segment["start"])
        page = await collect(
            job.read_api.config, request, job.read_api.view.validate_many,
            limit=job.page_size, start=start,
        )  # fmt: skip
        counts = dict.fromkeys(_COUNTS, 0)
        counts["read"] = len(page.items)
        if job.in_place:
            await _update_in_place(job, segment, page.items, counts)
        else:
            await _copy(job, page.items, counts)
        for name in _COUNTS:
            segment["counts"][name] += counts[name]
        segment["pending"] = None
        segment["start"] = (
            None if page.resume is None else encode_token(page.resume, scope=request.scope)
        )
        segment["done"] = page.resume is None
        await job.save()
        if job.report is not None and page.items:
            job.report(len(page.items))


async def _update_in_place(
    job: _Job, segment: dict[str, Any], views: list[ViewModel], counts: dict[str, int]
) -> None:
    """Write the page's changes, each conditioned on the version read; recognise our own
    writes of an earlier, killed run from its pending record."""
    pending: dict[str, Any] = segment["pending"] or {"stamp": None, "versions": {}}
    recorded: dict[str, int] = pending["versions"]
    stamp = dt.datetime.fromisoformat(pending["stamp"]) if pending["stamp"] else utc_now()
    planned: list[tuple[dict[str, Any], int, Mapping[str, Any]]] = []
    for view in views:
        key = _key_of(job.read_api, view)
        identity = _identity(job.read_api, key)
        version = int(getattr(view, "version", 0) or 0)
        if identity in recorded:
            if version == recorded[identity] + 1 and getattr(view, "updated_at", None) == stamp:
                counts["transformed"] += 1  # ours, written before the earlier run was killed
                continue
            if version != recorded[identity]:
                _changed(segment, key, counts)
                continue
        updates = _call_transform(job, view, key)
        if not updates:
            counts["unchanged"] += 1
            continue
        if not isinstance(updates, Mapping):
            msg = f"an in-place transform returns a mapping of fields, got {type(updates).__name__}"
            raise ValidationError(msg, operation="backfill", key=key)
        planned.append((key, version, updates))
    if job.dry_run:
        _sample(job, [(key, updates) for key, _, updates in planned])
        return
    if not planned:
        return
    recorded.update({_identity(job.read_api, key): version for key, version, _ in planned})
    segment["pending"] = {"stamp": stamp.isoformat(), "versions": recorded}
    await job.save()  # before the writes: a restart must know what they were
    outcomes = await run_all(
        [
            functools.partial(_write, job, key, updates, stamp, version)
            for key, version, updates in planned
        ]
    )
    for (key, _, _), written in zip(planned, outcomes, strict=True):
        if written:
            counts["transformed"] += 1
        else:
            _changed(segment, key, counts)


async def _write(
    job: _Job, key: dict[str, Any], updates: Mapping[str, Any], stamp: dt.datetime, version: int
) -> bool:
    """Update one item if its version is still the one read; False if it was changed."""
    try:
        await job.write_api._update_at(
            key, updates, stamp, expected_version=version, capacity=job.capacity
        )
    except (ConflictError, ItemNotFoundError):
        return False
    return True


async def _copy(job: _Job, views: list[ViewModel], counts: dict[str, int]) -> None:
    """Store the page's results in the target table as they are (managed fields included)."""
    model = job.write_api.model
    results: list[Any] = []
    for view in views:
        key = _key_of(job.read_api, view)
        item = _call_transform(job, view, key)
        if item is None:
            counts["unchanged"] += 1
            continue
        if not isinstance(item, model):
            msg = f"a copying transform returns {model.__name__} items, got {type(item).__name__}"
            raise ValidationError(msg, operation="backfill", key=key)
        results.append(item)
    if job.dry_run:
        _sample(job, [(_key_of(job.write_api, item), item) for item in results])
        return
    if results:
        await job.write_api.batch_upsert(results, keep_managed_fields=True, capacity=job.capacity)
    counts["transformed"] += len(results)


def _call_transform(job: _Job, view: ViewModel, key: dict[str, Any]) -> Any:
    try:
        return job.transform(view)
    except ValidationError:
        raise
    except Exception as error:
        msg = f"the transform failed on {key}: {type(error).__name__}: {error}"
        raise ValidationError(msg, operation="backfill", key=key) from error


def _changed(segment: dict[str, Any], key: dict[str, Any], counts: dict[str, int]) -> None:
    counts["changed"] += 1
    segment["changed_keys"].append(_jsonable(key))


def _sample(job: _Job, changes: list[tuple[dict[str, Any], Any]]) -> None:
    job.result.would_change += len(changes)
    room = _SAMPLE - len(job.result.sample)
    job.result.sample.extend(changes[: max(room, 0)])


def _key_of(api: ReadApi[Any, Any] | WriteApi[Any, Any], item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in api.schema.key_names}


def _identity(api: ReadApi[Any, Any], key: dict[str, Any]) -> str:
    wire, _ = api._key_from(key)
    return json.dumps(wire, sort_keys=True)


def _jsonable(key: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value if isinstance(value, (str, int, bool)) else str(value)
        for name, value in key.items()
    }


def _store(checkpoint: object) -> Store | None:
    if checkpoint is None or isinstance(checkpoint, CheckpointStore):  # async ones too
        return checkpoint
    if isinstance(checkpoint, (str, os.PathLike)):
        return FileCheckpoint(checkpoint)
    msg = (
        "checkpoint must be a path, a CheckpointStore or a TableCheckpoint, got "
        f"{type(checkpoint).__name__}"
    )
    raise ValidationError(msg, operation="backfill")


async def _load(store: Store) -> dict[str, Any] | None:
    if inspect.iscoroutinefunction(store.load):
        return cast("dict[str, Any] | None", await store.load())
    return await anyio.to_thread.run_sync(cast("CheckpointStore", store).load)


def _check_arguments(
    read_api: object, transform: object, write_api: object, segments: object, page_size: object
) -> None:
    if not isinstance(read_api, ReadApi):
        msg = f"read_api must be a ReadApi, got {type(read_api).__name__}"
        raise ValidationError(msg, operation="backfill")
    if not isinstance(write_api, WriteApi):
        msg = f"write_api must be a WriteApi, got {type(write_api).__name__}"
        raise ValidationError(msg, operation="backfill")
    if not callable(transform):
        msg = f"transform must be callable, got {type(transform).__name__}"
        raise ValidationError(msg, operation="backfill")
    for name, value, high in (("segments", segments, 1_000_000), ("page_size", page_size, 1000)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            msg = f"{name} must be an integer in 1..{high}, got {value!r}"
            raise ValidationError(msg, operation="backfill")


def _initial_state(
    read_api: ReadApi[Any, Any], write_api: WriteApi[Any, Any], segments: int, page_size: int
) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "source": read_api.table_name,
        "target": write_api.table_name,
        "page_size": page_size,
        "segments": [
            {"start": None, "done": False, "pending": None, "changed_keys": [],
             "counts": dict.fromkeys(_COUNTS, 0)}
            for _ in range(segments)
        ],
    }  # fmt: skip


def _check_saved(saved: dict[str, Any], fresh: dict[str, Any]) -> None:
    """Refuse a checkpoint of another backfill (tables, segments, page size, format)."""
    mine = (
        fresh["format"],
        fresh["source"],
        fresh["target"],
        len(fresh["segments"]),
        fresh["page_size"],
    )
    try:
        theirs = (
            saved["format"],
            saved["source"],
            saved["target"],
            len(saved["segments"]),
            saved["page_size"],
        )
    except (KeyError, TypeError):
        theirs = None
    if theirs != mine:
        msg = (
            f"the checkpoint belongs to another backfill: {theirs} is not "
            f"(format, source, target, segments, page_size) = {mine}"
        )
        raise ValidationError(msg, operation="backfill")


def _result(job: _Job) -> BackfillResult:
    result = job.result
    for segment in job.state["segments"]:
        result.read += segment["counts"]["read"]
        result.transformed += segment["counts"]["transformed"]
        result.unchanged += segment["counts"]["unchanged"]
        result.changed += segment["counts"]["changed"]
        result.changed_keys.extend(segment["changed_keys"])
    return result
