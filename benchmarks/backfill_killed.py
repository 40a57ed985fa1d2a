"""A backfill of 100,000 items, SIGKILLed three times at random points and resumed, while
another writer changes items under it: every item ends transformed exactly once, or, if the
writer changed it after the backfill read it, left as the writer made it and named in the
report. Runs on DynamoDB Local; exits 1 if any item breaks that.

    .venv/bin/python benchmarks/backfill_killed.py            # 100,000 items, 3 kills
    .venv/bin/python benchmarks/backfill_killed.py --items 20000 --kills 2

The job is a separate process (the sync facade's ``backfill`` with a file checkpoint), killed
at a random moment after it has saved progress; the same command is then run again with the
same checkpoint. Meanwhile this process updates random items (``description`` to "1000") and
records the version each update returned, which says whether it landed before or after the
backfill's own write:

- version 2: the writer came first. The backfill then either read the writer's value and
  transformed it ("1001", version 3), or had read the item before and found it changed
  ("1000", version 2, and the key is in ``changed_keys``).
- version 3: the backfill came first ("1" at version 2); the writer's value stands ("1000").
- untouched items: "1", version 2. Nothing else is in the report.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from _servers import CREDENTIALS, dynamodb_local  # noqa: E402

import dynamodb_wrapper_sync as sync  # noqa: E402
from dynamodb_wrapper_async import DynamoDBConfig, PipelineConfigUpsert  # noqa: E402

JOB = """
import json, sys
from dynamodb_wrapper_async import DynamoDBConfig
import dynamodb_wrapper_sync as sync

def bump(view):
    return {"description": str(int(view.description) + 1)}

config = DynamoDBConfig.from_env()
reads, writes = sync.PipelineConfigReadApi(config), sync.PipelineConfigWriteApi(config)
result = sync.backfill(reads, bump, writes, segments=4, checkpoint=sys.argv[1])
print(json.dumps({"read": result.read, "transformed": result.transformed,
                  "changed": result.changed,
                  "changed_keys": [k["pipeline_id"] for k in result.changed_keys]}))
"""


def seed(config: DynamoDBConfig, count: int) -> None:
    items = (
        PipelineConfigUpsert(
            pipeline_id=f"p{n:06d}", pipeline_name="n", description="0", source_type="s3",
            destination_type="dw",
        )
        for n in range(count)
    )  # fmt: skip
    sync.PipelineConfigWriteApi(config).batch_upsert(items)


class Writer(threading.Thread):
    """Updates random items until stopped; remembers the version each update returned."""

    def __init__(self, config: DynamoDBConfig, count: int, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.api = sync.PipelineConfigWriteApi(config)
        self.ids = [f"p{n:06d}" for n in rng.sample(range(count), min(count, 2_000))]
        self.versions: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        for pipeline_id in self.ids:
            if self.stop.wait(0.02):
                return
            updated = self.api.update(pipeline_id, {"description": "1000"})
            self.versions[pipeline_id] = int(updated.version or 0)


def run_job(
    environment: dict[str, str], script: Path, checkpoint: Path, kills: int, rng: random.Random
) -> tuple[dict[str, Any], int, float]:
    """Run the job until it finishes, killing it ``kills`` times; return its report."""
    killed = 0
    started = time.monotonic()
    while True:
        before = checkpoint.stat().st_mtime_ns if checkpoint.exists() else 0
        job = subprocess.Popen(
            [sys.executable, str(script), str(checkpoint)], env=environment,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        if killed < kills:
            while job.poll() is None and (
                not checkpoint.exists() or checkpoint.stat().st_mtime_ns == before
            ):
                time.sleep(0.01)
            time.sleep(rng.uniform(0.5, 12.0))  # a random point of the run
            if job.poll() is None:
                job.send_signal(signal.SIGKILL)
                job.communicate()
                killed += 1
                print(f"  killed run {killed} after {time.monotonic() - started:.1f} s", flush=True)
                continue
        out, err = job.communicate()
        if job.returncode != 0:
            sys.exit(f"the job failed: {err.decode()[-2000:]}")
        return json.loads(out), killed, time.monotonic() - started


def verify(config: DynamoDBConfig, count: int, writer: Writer, report: dict[str, Any]) -> int:
    stored = {
        str(view.pipeline_id): (view.description, int(view.version or 0))
        for view in sync.PipelineConfigReadApi(config).scan_iter(segments=4)
    }
    reported = set(report["changed_keys"])
    wrong: list[str] = []
    expected_reported = set()
    for n in range(count):
        pipeline_id = f"p{n:06d}"
        state = stored.get(pipeline_id)
        written = writer.versions.get(pipeline_id)
        if written is None:
            ok = state == ("1", 2)
        elif written == 3:  # the backfill's write came first
            ok = state == ("1000", 3)
        elif state == ("1000", 2):  # read before the writer's change: reported, not overwritten
            ok = pipeline_id in reported
            expected_reported.add(pipeline_id)
        else:  # read after the writer's change: transformed once
            ok = written == 2 and state == ("1001", 3)
        if not ok:
            wrong.append(f"{pipeline_id}: stored {state}, writer's version {written}")
    if reported != expected_reported:
        wrong.append(f"report names {sorted(reported ^ expected_reported)[:10]} wrongly")
    if report["transformed"] != count - len(expected_reported):
        wrong.append(f"transformed {report['transformed']}, expected {count - len(reported)}")
    for line in wrong[:20]:
        print("  WRONG", line)
    return len(wrong)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"{args.items} items, {args.kills} kills, seed {args.seed}", flush=True)
    with dynamodb_local() as endpoint, tempfile.TemporaryDirectory() as scratch:
        config = DynamoDBConfig(endpoint_url=endpoint, table_prefix="bk_", **CREDENTIALS)
        sync.create_tables(config)
        began = time.monotonic()
        seed(config, args.items)
        print(f"  seeded in {time.monotonic() - began:.1f} s", flush=True)
        script, checkpoint = Path(scratch) / "job.py", Path(scratch) / "checkpoint.json"
        script.write_text(JOB)
        environment = {
            **os.environ,
            "DYNAMODB_ENDPOINT_URL": endpoint,
            "DYNAMODB_TABLE_PREFIX": config.table_prefix,
            "AWS_REGION": config.region_name,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        }
        writer = Writer(config, args.items, rng)
        writer.start()
        report, killed, took = run_job(environment, script, checkpoint, args.kills, rng)
        writer.stop.set()
        writer.join()
        print(
            f"  finished after {killed} kills in {took:.1f} s: read {report['read']}, "
            f"transformed {report['transformed']}, changed {report['changed']}; the writer "
            f"changed {len(writer.versions)} items meanwhile",
            flush=True,
        )
        if killed < args.kills:
            print(f"  WRONG: the job finished before it was killed {args.kills} times")
            return 1
        wrong = verify(config, args.items, writer, report)
    print("every item transformed exactly once or reported" if not wrong else f"{wrong} wrong")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
