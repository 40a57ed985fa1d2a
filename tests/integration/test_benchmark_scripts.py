"""The scale and Spark benchmarks, small: their scripted DynamoDB and checks hold for us.

``benchmarks/bench_scale.py`` writes items with ``batch_upsert`` through the real transport
to ``benchmarks/_scripted_dynamodb.py`` (a server process of its own), counts them there,
and scans them back in 4 segments, checking every item; it exits 1 on any item lost,
repeated or changed. Run here at 1,000 and 3,000 items so the script cannot rot unseen.
``benchmarks/bench_spark.py --server scripted`` does the same for the Spark writers and
readers on a standalone cluster, into run-log tables (a composite key, two GSIs).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPT = BENCHMARKS / "bench_scale.py"
SMALL_SPARK_RUN = ["--rows", "2000", "--warmup", "500", "--server", "scripted"]

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


@pytest.mark.spark
def test_bench_spark_writes_and_reads_every_row_with_each_path() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_spark.py"), *SMALL_SPARK_RUN],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    phases = re.findall(r"^  (\S.*?)\s+[\d,]+ rows/s", run.stdout, re.M)
    assert len(phases) == 6, run.stdout  # three writers, three readers
    assert "data-source read vs RDD helper" in run.stdout
