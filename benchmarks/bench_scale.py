"""Client CPU per item and memory as the data grows: 20,000 vs 1,000,000 items written and scanned.

One server, in a process of its own, serves every run: by default the scripted DynamoDB of
``_scripted_dynamodb.py`` (DynamoDB's JSON protocol over HTTP; DynamoDB Local's Scan pages
slow down with the table's size, so a million-item scan there takes hours), or with
``--server dynamodb-local`` AWS's DynamoDB Local, for the smaller sizes. Each size runs in a
fresh interpreter, so its memory figures are its own: ``WriteApi.batch_upsert`` of a
generator of N bench items (those of bench_batch.py, each built as the engine reads it, never
held in a list) into a fresh table, then ``scan_iter(segments=4)`` of that table, every item
checked as it arrives (seen once, key and count as written, every 1,000th compared whole
with its source) and then dropped. After the write the table's item count is checked by a
COUNT scan (unmeasured). Runs alternate the order of the sizes, so the machine's drift hits
both alike.

Printed per run and size: items/s and client CPU µs per item (``time.process_time``, all
threads) of each phase, the process's RSS once set up, and its peak RSS after each phase;
then per size the medians, and the largest size against the smallest: CPU per item per run
(paired: the sizes ran back to back), their median (the target: within 10%) and the ratio of
the medians, and peak RSS above the set-up RSS.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 20000,1000000] [--runs 3]
        [--server scripted|dynamodb-local] [--delay-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import bench_batch as bench

import dynamodb_wrapper_async as aio

MIB = 1024 * 1024


def rss_mib() -> float:
    """The process's resident set size now."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def upserts(count: int) -> Iterator[bench.BenchUpsert]:
    """The bench items as DTOs, built one by one as the batch engine reads them."""
    return (bench.BenchUpsert(**bench.make_item(n)) for n in range(count))


class ScanCheck:
    """Checks scanned items as they arrive, keeping one bit per item, not the items."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.seen = bytearray((count + 7) // 8)
        self.items = self.repeated = self.wrong = 0

    def add(self, view: bench.BenchView) -> None:
        seq = view.seq
        if seq is None or not 0 <= seq < self.count:
            self.wrong += 1
            return
        byte, bit = divmod(seq, 8)
        if self.seen[byte] & 1 << bit:
            self.repeated += 1
        self.seen[byte] |= 1 << bit
        self.items += 1
        as_written = view.pk == f"item-{seq:08d}" and view.count == seq * 7
        if as_written and seq % 1000 == 0:
            as_written = bench.normalise(view.__dict__) == bench.normalise(bench.make_item(seq))
        self.wrong += not as_written

    def problems(self) -> str:
        missing = self.count - (self.items - self.repeated)
        found = [f"{missing} missing"] if missing else []
        found += [f"{self.repeated} repeated"] if self.repeated else []
        found += [f"{self.wrong} different"] if self.wrong else []
        return ", ".join(found)


def child(size: int, endpoint: str, table: str) -> dict[str, Any]:
    """One size, in this process: write, then scan; returns the figures."""
    config = bench.library_config(endpoint, table)
    figures: dict[str, Any] = {}

    async def main() -> None:
        write, read = bench.BenchWriteApi(config), bench.BenchReadApi(config)
        await read.batch_get(["warm-up"])  # opens the pooled client before the measurement
        figures["rss_setup"] = rss_mib()
        wall, cpu = time.perf_counter(), time.process_time()
        result = await write.batch_upsert(upserts(size))
        figures["write"] = (time.perf_counter() - wall, time.process_time() - cpu)
        figures["written"] = result.processed
        figures["peak_write"] = peak_rss_mib()
        check = ScanCheck(size)
        wall, cpu = time.perf_counter(), time.process_time()
        async for view in read.scan_iter(segments=4):
            check.add(view)
        figures["scan"] = (time.perf_counter() - wall, time.process_time() - cpu)
        figures["peak_scan"] = peak_rss_mib()
        figures["scan_problems"] = check.problems()
        await aio.close_clients()

    asyncio.run(main())
    return figures


def run_size(size: int, direct: str, endpoint: str, table: str) -> dict[str, Any]:
    """Run one size in a fresh interpreter on a fresh table; add the stored count."""
    bench.create_table(direct, table)
    try:
        process = subprocess.run(
            [sys.executable, __file__, "--child", str(size), endpoint, table],
            capture_output=True,
            text=True,
            check=False,
        )
        if process.returncode != 0:
            return {
                "error": process.stderr.strip().splitlines()[-1:]
                or ["exit " + str(process.returncode)]
            }
        figures: dict[str, Any] = json.loads(process.stdout.strip().splitlines()[-1])
        figures["stored"] = bench.count_stored(direct, table)
        return figures
    finally:
        bench.delete_table(direct, table)


def problems(size: int, figures: dict[str, Any]) -> str:
    if "error" in figures:
        return f"raised: {figures['error'][0][:160]}"
    found = [f"wrote {figures['written']}"] if figures["written"] != size else []
    found += [f"stored {figures['stored']}"] if figures["stored"] != size else []
    found += [f"scan: {figures['scan_problems']}"] if figures["scan_problems"] else []
    return ", ".join(found)


def per_item(size: int, phase: tuple[float, float]) -> tuple[float, float]:
    """Items per second and client CPU µs per item of one phase."""
    wall, cpu = phase
    return size / wall, cpu / size * 1e6


def print_run(number: int, runs: dict[int, dict[str, Any]]) -> None:
    print(f"\nrun {number}, order: {', '.join(f'{s:,}' for s in runs)}")
    print(
        f"{'items':>10}{'write items/s':>15}{'µs/item':>9}{'scan items/s':>14}{'µs/item':>9}"
        f"{'RSS set up':>12}{'peak write':>12}{'peak scan':>11}  check"
    )
    for size, figures in runs.items():
        trouble = problems(size, figures)
        if "error" in figures:
            print(f"{size:>10,}  FAILED {trouble}")
            continue
        write, scan = per_item(size, figures["write"]), per_item(size, figures["scan"])
        print(
            f"{size:>10,}{write[0]:>15,.0f}{write[1]:>9.1f}{scan[0]:>14,.0f}{scan[1]:>9.1f}"
            f"{figures['rss_setup']:>9.0f} MiB{figures['peak_write']:>8.0f} MiB"
            f"{figures['peak_scan']:>7.0f} MiB  {'FAILED ' + trouble if trouble else 'ok'}"
        )


def print_summary(sizes: list[int], rounds: list[dict[int, dict[str, Any]]]) -> None:
    """Per size the medians; the largest size against the smallest, per run and median."""
    print(f"\nmedians over {len(rounds)} runs")
    medians: dict[int, dict[str, float]] = {}
    for size in sizes:
        good = [r[size] for r in rounds if not problems(size, r[size])]
        if not good:
            print(f"{size:>10,}  no run passed")
            continue
        medians[size] = {
            "write_rate": statistics.median(per_item(size, f["write"])[0] for f in good),
            "write_cpu": statistics.median(per_item(size, f["write"])[1] for f in good),
            "scan_rate": statistics.median(per_item(size, f["scan"])[0] for f in good),
            "scan_cpu": statistics.median(per_item(size, f["scan"])[1] for f in good),
            "growth": statistics.median(f["peak_scan"] - f["rss_setup"] for f in good),
        }
        m = medians[size]
        print(
            f"{size:>10,}  write {m['write_rate']:>8,.0f} items/s {m['write_cpu']:>6.1f} µs/item"
            f"   scan {m['scan_rate']:>8,.0f} items/s {m['scan_cpu']:>6.1f} µs/item"
            f"   peak RSS {m['growth']:>6.0f} MiB above set-up"
        )
    small, large = min(sizes), max(sizes)
    if small == large or small not in medians or large not in medians:
        return
    print(f"\n{large:,} against {small:,} items, CPU per item (target: within 10%)")
    for phase in ("write", "scan"):
        ratios = [
            per_item(large, r[large][phase])[1] / per_item(small, r[small][phase])[1]
            for r in rounds
            if not problems(small, r[small]) and not problems(large, r[large])
        ]
        figures = " ".join(f"{x:.3f}" for x in ratios)
        paired = statistics.median(ratios)
        verdict = "within 10%" if abs(paired - 1) <= 0.10 else "NOT within 10%"
        of_medians = medians[large][f"{phase}_cpu"] / medians[small][f"{phase}_cpu"]
        print(
            f"  {phase:<6} per run {figures}: median {paired:.3f} ({verdict}); "
            f"the medians' ratio {of_medians:.3f}"
        )
    print(
        f"  peak RSS above set-up: {medians[small]['growth']:.0f} MiB at {small:,} items, "
        f"{medians[large]['growth']:.0f} MiB at {large:,}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="20000,1000000", help="comma-separated item counts")
    parser.add_argument("--runs", type=int, default=3, help="rounds, sizes in alternating order")
    parser.add_argument("--server", choices=bench.SERVERS, default="scripted")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="one-way proxy delay")
    parser.add_argument(
        "--child", nargs=3, metavar=("SIZE", "ENDPOINT", "TABLE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        size, endpoint, table = args.child
        print(json.dumps(child(int(size), endpoint, table)))
        return 0
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 1000 or args.runs < 1:
        parser.error("need sizes of at least 1000 items and --runs >= 1")
    print(
        f"sizes {', '.join(f'{s:,}' for s in sizes)}; {args.runs} runs; server {args.server}; "
        f"{os.cpu_count()} cores"
    )
    rounds: list[dict[int, dict[str, Any]]] = []
    with bench.dynamodb_server(args.server) as direct:
        if args.server == "dynamodb-local":
            bench.warm_up_server(direct, bench.make_items(5_000))
        with (
            bench.latency_proxy(direct, args.delay_ms) if args.delay_ms else nullcontext(direct)
        ) as endpoint:
            for number in range(args.runs):
                order = sizes[number % len(sizes) :] + sizes[: number % len(sizes)]
                runs = {
                    size: run_size(size, direct, endpoint, f"s_r{number + 1}_{size}_bench")
                    for size in order
                }
                rounds.append(runs)
                print_run(number + 1, runs)
    print_summary(sizes, rounds)
    failed = [
        f"{s:,} (run {n})" for n, r in enumerate(rounds, 1) for s, f in r.items() if problems(s, f)
    ]
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
