"""Progress reporting for batches: a callback, or a tqdm bar when tqdm is installed."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

logger = logging.getLogger("dynamodb_wrapper")

#: Called after each chunk with the number of items it settled.
ProgressCallback = Callable[[int], None]
#: ``True`` asks for a tqdm bar; a callable is called with each chunk's item count.
Progress = ProgressCallback | bool | None


@contextlib.contextmanager
def progress_reporter(
    progress: Progress, *, description: str, total: int | None = None
) -> Iterator[ProgressCallback | None]:
    """Yield the callback to report to (None: report nothing); close a tqdm bar at the end."""
    if progress is None or progress is False:
        yield None
        return
    if callable(progress):
        yield progress
        return
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415 - optional dependency
    except ImportError:
        logger.warning("progress=True needs tqdm (pip install tqdm); reporting nothing")
        yield None
        return
    bar: Any = tqdm(total=total, desc=description, unit="item")
    try:
        yield bar.update
    finally:
        bar.close()
