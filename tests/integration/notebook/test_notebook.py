"""examples/exploration.ipynb runs headless on a real kernel without a cell error."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(300)]

NOTEBOOK = Path(__file__).resolve().parents[3] / "examples" / "exploration.ipynb"


def _require(name: str) -> Any:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        return importlib.import_module(name)  # in CI a missing notebook stack is a failure
    return pytest.importorskip(name)


def test_exploration_notebook_runs_on_a_real_kernel() -> None:
    nbformat = _require("nbformat")
    nbclient = _require("nbclient")
    _require("ipykernel")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on any failing cell
    text = "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert "created pipeline_config" in text
    assert "60 runs written" in text
    assert "['nb-pipe-0', 'nb-pipe-1', 'nb-pipe-2']" in text  # sync call inside the kernel
    assert "9 failed runs" in text
    assert "20 runs of nb-pipe-1" in text  # top-level await on the async API
    assert "nb-pipe-2" in text.split("max s")[-1]
    assert "event loop is already running" not in text


@pytest.mark.parametrize("widgets", [False, True], ids=["plain", "ipywidgets"])
def test_progress_bar_in_a_kernel_without_a_warning(widgets: bool) -> None:
    """``progress=True`` draws a bar in Jupyter, with ipywidgets or without, and never warns."""
    nbformat = _require("nbformat")
    nbclient = _require("nbclient")
    _require("ipykernel")
    _require("ipywidgets")
    code = (
        ("" if widgets else "import sys\nsys.modules['ipywidgets'] = None  # as if not installed\n")
        + "import warnings\n"
        "warnings.simplefilter('always')\n"
        "from dynamodb_wrapper_async._engine.progress import progress_reporter\n"
        "with progress_reporter(True, description='upsert', total=40) as report:\n"
        "    for _ in range(4):\n"
        "        report(10)\n"
        "print('done')\n"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3")
    client.execute()
    outputs = notebook.cells[0]["outputs"]
    text = "\n".join(str(output.get("text", "")) for output in outputs)
    widgets_shown = any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs
    )
    assert "done" in text
    assert "IProgress" not in text
    assert "Warning" not in text
    if widgets:
        assert widgets_shown
    else:
        assert "40/40" in text  # tqdm's plain bar, drawn to the cell's stderr
        assert not widgets_shown
