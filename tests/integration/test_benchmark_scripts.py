"""The scale benchmark, small: its scripted DynamoDB and its checks hold for the library.

``benchmarks/bench_scale.py`` writes items with ``batch_upsert`` through the real transport
to ``benchmarks/_scripted_dynamodb.py`` (a server process of its own), counts them there,
and scans them back in 4 segments, checking every item; it exits 1 on any item lost,
repeated or changed. Run here at 1,000 and 3,000 items so the script cannot rot unseen.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_scale.py"

pytestmark = pytest.mark.timeout(300)


def test_bench_scale_writes_and_scans_every_item() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "1000,3000", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rows = re.findall(
        r"^\s+([\d,]+)\s+[\d,]+\s+[\d.]+\s+[\d,]+\s+[\d.]+.*\s(\S+)$", run.stdout, re.M
    )
    assert rows == [("1,000", "ok"), ("3,000", "ok")], run.stdout
    assert "FAILED" not in run.stdout
