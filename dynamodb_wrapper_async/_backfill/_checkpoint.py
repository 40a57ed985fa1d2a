"""Where a backfill keeps its progress: a JSON document saved after every page."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..exceptions import ValidationError

__all__ = ["AsyncCheckpointStore", "CheckpointStore", "FileCheckpoint"]


@runtime_checkable
class CheckpointStore(Protocol):
    """Loads and saves a backfill's state (a JSON-able dict); each save replaces the last."""

    def load(self) -> dict[str, Any] | None:
        """Return the last saved state, or None if nothing was saved yet."""
        ...

    def save(self, state: dict[str, Any]) -> None:
        """Persist ``state`` durably before returning: a job killed after it resumes there."""
        ...


@runtime_checkable
class AsyncCheckpointStore(Protocol):
    """:class:`CheckpointStore` with coroutine methods (e.g. :class:`TableCheckpoint`)."""

    async def load(self) -> dict[str, Any] | None:
        """Return the last saved state, or None if nothing was saved yet."""
        ...

    async def save(self, state: dict[str, Any]) -> None:
        """Persist ``state`` durably before returning."""
        ...


class FileCheckpoint:
    """A checkpoint in a local file, replaced atomically (write, fsync, rename) on each save.

    Args:
        path: The file; its directory must exist. A missing file is a fresh start.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileCheckpoint({str(self.path)!r})"

    def load(self) -> dict[str, Any] | None:
        """Return the saved state, or None if the file does not exist."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            state = json.loads(text)
        except ValueError as error:
            msg = f"the checkpoint {self.path} is not a backfill checkpoint: {error}"
            raise ValidationError(msg, operation="backfill") from None
        if not isinstance(state, dict):
            msg = f"the checkpoint {self.path} is not a backfill checkpoint"
            raise ValidationError(msg, operation="backfill")
        return state

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` to a temporary file beside the checkpoint, then rename it over."""
        data = json.dumps(state, sort_keys=True).encode()
        descriptor, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
