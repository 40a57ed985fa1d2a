"""Progress reporting for batches: a callback, or a tqdm bar when tqdm is installed."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import sys
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
    if importlib.util.find_spec("tqdm") is None:
        logger.warning("progress=True needs tqdm (pip install tqdm); reporting nothing")
        yield None
        return
    bar: Any = _bar_class()(total=total, desc=description, unit="item")
    try:
        yield bar.update
    finally:
        bar.close()


def _bar_class() -> Any:
    """tqdm's widget bar in a Jupyter kernel that has ipywidgets, its plain text bar elsewhere.

    ``tqdm.auto`` picks the widget bar in any kernel and, without ipywidgets, warns
    "IProgress not found" and draws nothing useful; a plain bar draws in every front end.
    """
    if "ipykernel" in sys.modules and _in_kernel():
        try:
            import ipywidgets  # noqa: F401, PLC0415 - only asking whether it is there
        except ImportError:
            pass
        else:
            from tqdm.notebook import tqdm as widget_bar  # noqa: PLC0415 - optional

            return widget_bar
    from tqdm.std import tqdm as plain_bar  # noqa: PLC0415 - optional dependency

    return plain_bar


def _in_kernel() -> bool:
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})
