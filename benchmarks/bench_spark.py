"""Spark write and read throughput: the data source, the RDD helpers and what users write today.

One run starts DynamoDB Local and a Spark standalone cluster (a master and two 1-core workers,
separate JVMs on 127.0.0.1), then writes N run logs with each writer into its own table and
reads a table back with each reader, checking counts and a checksum every time:

- writers: ``df.write.format("dynamodb")``, ``write_dataframe`` (RDD helper), and boto3's
  ``Table.batch_writer`` in ``foreachPartition``;
- readers: ``spark.read.format("dynamodb")``, ``read_table`` (RDD helper), and a boto3
  parallel scan on the driver into ``createDataFrame``.

Printed per phase: rows/s, CPU per row of the executors (worker JVMs and everything under
them: executor JVMs, Python daemons and workers; the Python part also on its own), of the
driver (this process and its JVM; not the cluster's JVMs or the server, though this script
starts them) and of the server, and the ratios the targets are stated in. Each process is
sampled every 0.5 s, so one that exits in a phase keeps what it used (the sampling, ~1% of a
core, counts in the driver's figure). Every path first runs once on 4,000 rows
(``--warmup``), so JIT compilation and worker start-up are not measured.

``--server scripted`` runs the same phases against ``_scripted_dynamodb.py`` (a scripted
DynamoDB in its own process: 10-26 µs of CPU per written row, 1.4-2.4 per read row, measured)
instead of DynamoDB Local, whose CPU per row, on the same cores as the cluster, otherwise
bounds every writer and reader.

    .venv/bin/python benchmarks/bench_spark.py [--rows 1000000] [--partitions 8]
        [--server dynamodb-local|scripted] [--warmup 4000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import bench_batch
import boto3
from boto3.dynamodb.types import TypeDeserializer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from _servers import CREDENTIALS  # noqa: E402
from _spark_cluster import standalone_cluster, wait_for_executors  # noqa: E402

import dynamodb_wrapper_sync as sync  # noqa: E402
from dynamodb_wrapper_async import DynamoDBConfig, PipelineRunLog  # noqa: E402
from dynamodb_wrapper_sync.spark import read_table, register, write_dataframe  # noqa: E402

MODEL = "dynamodb_wrapper_async:PipelineRunLog"
#: What the server's command line contains, by ``--server``.
SERVER_COMMANDS = {"dynamodb-local": "DynamoDBLocal", "scripted": "_scripted_dynamodb"}
TICKS = os.sysconf("SC_CLK_TCK")
UTC = dt.timezone.utc


# ------------------------------------------------------------------ CPU of process trees
#: A process: its pid and start time (pids are reused).
ProcessKey = tuple[int, int]


def _process_table() -> tuple[dict[int, list[int]], dict[int, tuple[ProcessKey, float, bool]]]:
    """Every process's children, and its key, own CPU seconds and whether it runs Python."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[ProcessKey, float, bool]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        command = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()  # fields[1] ppid, 11 utime, 12 stime
        pid = int(entry)
        seconds = (int(fields[11]) + int(fields[12])) / TICKS
        stats[pid] = ((pid, int(fields[19])), seconds, command.startswith("python"))
        children.setdefault(int(fields[1]), []).append(pid)
    return children, stats


def _descendants(
    root: int, children: dict[int, list[int]], skip: frozenset[int] = frozenset()
) -> list[int]:
    """``root`` and its descendants, but ``skip`` and theirs."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid not in skip:
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def _child_running(text: str) -> int:
    """The pid of this process's child whose command line contains ``text``."""
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if stat[stat.rindex(")") + 2 :].split()[1] == me and text.encode() in cmdline:
            return int(entry)
    msg = f"no child process runs {text!r}"
    raise SystemExit(msg)


#: The columns CPU is reported in.
GROUPS = ("executors", "python", "driver", "server")


@dataclass(frozen=True)
class Processes:
    """Whose CPU goes in which column: the cluster's and the server's processes are children
    of this script, so the driver's tree is counted without them."""

    workers: list[int]
    cluster: list[int]  # master and workers
    server: int  # DynamoDB Local or the scripted server

    def sample(self) -> dict[str, dict[ProcessKey, float]]:
        """Own CPU seconds so far of each process, by column (Python workers are executors too)."""
        children, stats = _process_table()
        groups: dict[str, dict[ProcessKey, float]] = {name: {} for name in GROUPS}
        for worker in self.workers:
            for pid in _descendants(worker, children):
                if pid in stats:
                    key, seconds, python = stats[pid]
                    groups["executors"][key] = seconds
                    if python:
                        groups["python"][key] = seconds
        skip = frozenset([*self.cluster, self.server])
        for column, root, skipped in (("driver", os.getpid(), skip), ("server", self.server, None)):
            for pid in _descendants(root, children, skipped or frozenset()):
                if pid in stats:
                    groups[column][stats[pid][0]] = stats[pid][1]
        return groups


class CpuSampler(threading.Thread):
    """Samples the processes' CPU every ``interval`` seconds during a phase, so a process
    that exits in the middle (an idle Python worker stopped, say) still counts what it used
    until its last sample; one that starts in the phase counts from zero."""

    def __init__(self, processes: Processes, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.processes = processes
        self.interval = interval
        self.done = threading.Event()
        self.first = processes.sample()
        self.last = {name: dict(column) for name, column in self.first.items()}

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self._update()

    def _update(self) -> None:
        for name, column in self.processes.sample().items():
            self.last[name].update(column)

    def stop(self) -> tuple[float, ...]:
        """End the phase; return the CPU seconds spent in it by each column of ``GROUPS``."""
        self.done.set()
        self.join()
        self._update()
        return tuple(
            sum(
                seconds - self.first[name].get(key, 0.0) for key, seconds in self.last[name].items()
            )
            for name in GROUPS
        )


@dataclass
class Phase:
    name: str
    rows: int
    seconds: float
    executor_cpu: float
    python_cpu: float  # the executors' Python workers (part of executor_cpu)
    driver_cpu: float
    server_cpu: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def measure(name: str, rows: int, processes: Processes, action: Callable[[], None]) -> Phase:
    sampler = CpuSampler(processes)
    sampler.start()
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    spent = sampler.stop()
    phase = Phase(name, rows, seconds, *spent)
    executors, python, driver, server = (cpu / rows * 1e6 for cpu in spent)
    print(
        f"  {name:<37} {phase.rate:>7,.0f} rows/s  executors {executors:>6.1f} µs/row "
        f"(Python {python:>5.1f})  driver {driver:>6.1f}  server {server:>6.1f}  ({seconds:.1f} s)",
        flush=True,
    )
    return phase


# ------------------------------------------------------------------ the rows and the writers
def runs_frame(spark: Any, rows: int, partitions: int) -> Any:
    return spark.range(rows, numPartitions=partitions).selectExpr(
        "concat('run-', lpad(cast(id as string), 8, '0')) as run_id",
        "concat('pipeline-', cast(id % 50 as string)) as pipeline_id",
        "case when id % 10 = 0 then 'failed' else 'success' end as status",
        "timestamp'2024-01-01 00:00:00' + make_interval(0, 0, 0, 0, 0, 0, id) as start_time",
        "cast(id % 977 as double) / 4 as duration_seconds",
        "id as records_processed",
        "cast(id % 3 as bigint) as records_failed",
    )


def boto3_writer(endpoint: str, table: str) -> Callable[[Iterator[Any]], None]:
    def write(rows: Iterator[Any]) -> None:
        import boto3 as boto  # on the executor

        resource = boto.resource(
            "dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS
        )
        stamp = "2024-01-01T00:00:00.000000Z"
        with resource.Table(table).batch_writer() as batch:
            for row in rows:
                batch.put_item(
                    Item={
                        "run_id": row.run_id,
                        "pipeline_id": row.pipeline_id,
                        "status": row.status,
                        "start_time": row.start_time.astimezone(UTC).strftime(
                            "%Y-%m-%dT%H:%M:%S.%fZ"
                        ),
                        "duration_seconds": Decimal(repr(row.duration_seconds)),
                        "records_processed": row.records_processed,
                        "records_failed": row.records_failed,
                        "created_at": stamp,
                        "updated_at": stamp,
                        "version": 1,
                    }
                )

    return write


def boto3_scan(endpoint: str, table: str, segments: int) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    deserializer = TypeDeserializer()

    def segment(n: int) -> list[dict[str, Any]]:
        out = []
        paginator = client.get_paginator("scan")
        for page in paginator.paginate(TableName=table, Segment=n, TotalSegments=segments):
            for item in page["Items"]:
                values = {k: deserializer.deserialize(v) for k, v in item.items()}
                out.append(
                    {
                        "run_id": values["run_id"],
                        "pipeline_id": values["pipeline_id"],
                        "status": values["status"],
                        "duration_seconds": float(values["duration_seconds"]),
                        "records_processed": int(values["records_processed"]),
                    }
                )
        return out

    with ThreadPoolExecutor(segments) as pool:
        return [row for rows in pool.map(segment, range(segments)) for row in rows]


def count_items(endpoint: str, table: str, segments: int) -> int:
    """The table's item count, by a parallel ``Select=COUNT`` scan (DynamoDB Local takes
    seconds per page of a million-item table, one segment at a time)."""
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)

    def segment(n: int) -> int:
        total, kwargs = 0, {"TableName": table, "Select": "COUNT"}
        kwargs.update(Segment=n, TotalSegments=segments)
        while True:
            page = client.scan(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(segments) as pool:
        return sum(pool.map(segment, range(segments)))


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--server", choices=bench_batch.SERVERS, default="dynamodb-local")
    parser.add_argument("--warmup", type=int, default=4_000, help="rows of the warm-up run")
    args = parser.parse_args()
    rows, partitions = args.rows, args.partitions
    expected_sum = rows * (rows - 1) // 2

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    with bench_batch.dynamodb_server(args.server) as endpoint, standalone_cluster(2) as cluster:
        processes = Processes(
            workers=[p.pid for p in cluster.processes[1:]],
            cluster=[p.pid for p in cluster.processes],
            server=_child_running(SERVER_COMMANDS[args.server]),
        )
        base = DynamoDBConfig(endpoint_url=endpoint, **CREDENTIALS)
        spark = (
            SparkSession.builder.master(cluster.master_url)
            .appName("bench-spark")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.executor.memory", "768m")
            .config("spark.python.worker.reuse", "true")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        wait_for_executors(spark, 2)
        register(spark)
        configs = {
            name: base.model_copy(update={"table_prefix": f"{name}_"})
            for name in ("ds", "rdd", "boto3")
        }
        for config in configs.values():
            sync.create_tables(config, [PipelineRunLog])

        def options(config: DynamoDBConfig) -> dict[str, str]:
            return {
                "model": MODEL,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "table_prefix": config.table_prefix,
                **CREDENTIALS,
            }

        def check(frame: Any) -> None:
            got = frame.selectExpr("count(*) AS n", "sum(records_processed) AS s").collect()[0]
            if (got["n"], got["s"]) != (rows, expected_sum):
                msg = f"read {got['n']} rows summing to {got['s']}, expected {rows}, {expected_sum}"
                raise SystemExit(msg)

        warm = base.model_copy(update={"table_prefix": "warmup_"})
        sync.create_tables(warm, [PipelineRunLog])
        small = runs_frame(
            spark, args.warmup, partitions
        )  # JIT and Python workers warm for every path
        small.write.format("dynamodb").options(**options(warm)).mode("append").save()
        write_dataframe(small, sync.PipelineRunLogsWriteApi(warm))
        small.foreachPartition(boto3_writer(endpoint, warm.table_name("pipeline_run_logs")))
        spark.read.format("dynamodb").options(**options(warm)).load().count()
        read_table(spark, sync.PipelineRunLogsReadApi(warm), segments=partitions).count()

        frame = runs_frame(spark, rows, partitions)
        print(f"{rows:,} run logs, {partitions} partitions, 2 executors of 1 core", flush=True)
        print("write:")
        ds_write = measure(
            "data source  format('dynamodb')",
            rows,
            processes,
            lambda: (
                frame.write.format("dynamodb")
                .options(**options(configs["ds"]))
                .mode("append")
                .save()
            ),
        )
        rdd_write = measure(
            "RDD helper   write_dataframe",
            rows,
            processes,
            lambda: write_dataframe(frame, sync.PipelineRunLogsWriteApi(configs["rdd"])),
        )
        boto_write = measure(
            "boto3 batch_writer foreachPartition",
            rows,
            processes,
            lambda: frame.foreachPartition(
                boto3_writer(endpoint, configs["boto3"].table_name("pipeline_run_logs"))
            ),
        )
        for name, config in configs.items():
            stored = count_items(endpoint, config.table_name("pipeline_run_logs"), partitions)
            if stored != rows:
                msg = f"{name} wrote {stored} of {rows} rows"
                raise SystemExit(msg)
        print("read (then count and sum on Spark):")
        ds_read = measure(
            "data source  format('dynamodb')",
            rows,
            processes,
            lambda: check(
                spark.read.format("dynamodb")
                .options(**options(configs["ds"]), segments=str(partitions))
                .load()
            ),
        )
        rdd_read = measure(
            "RDD helper   read_table",
            rows,
            processes,
            lambda: check(
                read_table(spark, sync.PipelineRunLogsReadApi(configs["ds"]), segments=partitions)
            ),
        )
        boto_read = measure(
            "boto3 parallel scan + createDataFrame",
            rows,
            processes,
            lambda: check(
                spark.createDataFrame(
                    boto3_scan(endpoint, configs["ds"].table_name("pipeline_run_logs"), partitions),
                    "run_id string, pipeline_id string, status string, duration_seconds double, "
                    "records_processed bigint",
                )
            ),
        )
        print("ratios:")
        print(f"  data-source write vs boto3 batch_writer: {ds_write.rate / boto_write.rate:.2f}x")
        print(f"  data-source write vs RDD helper:         {ds_write.rate / rdd_write.rate:.2f}x")
        print(f"  data-source read vs RDD helper:          {ds_read.rate / rdd_read.rate:.2f}x")
        print(f"  data-source read vs boto3 scan:          {ds_read.rate / boto_read.rate:.2f}x")
        spark.stop()


if __name__ == "__main__":
    main()
