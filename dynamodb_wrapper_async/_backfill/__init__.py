"""Resumable backfills: transform every item of a table, exactly once, with a checkpoint."""

from ._checkpoint import AsyncCheckpointStore as AsyncCheckpointStore
from ._checkpoint import CheckpointStore as CheckpointStore
from ._checkpoint import FileCheckpoint as FileCheckpoint
from ._run import BackfillResult as BackfillResult
from ._run import Transform as Transform
from ._run import backfill as backfill
from ._table_checkpoint import BackfillCheckpoint as BackfillCheckpoint
from ._table_checkpoint import TableCheckpoint as TableCheckpoint

__all__ = [
    "AsyncCheckpointStore",
    "BackfillCheckpoint",
    "BackfillResult",
    "CheckpointStore",
    "FileCheckpoint",
    "TableCheckpoint",
    "Transform",
    "backfill",
]
