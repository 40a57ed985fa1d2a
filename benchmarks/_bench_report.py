"""What bench_batch.py measures per phase, and how it prints a run and the medians over runs."""

from __future__ import annotations

import dataclasses
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

PHASES = ("write", "read", "query", "scan")
OURS = "ours_async"
BASE = "boto3_batch_writer"

# one round: client name -> phase name -> its measurement
Round = dict[str, dict[str, "Phase"]]


@dataclass
class Phase:
    wall: float
    cpu: float
    items: int
    ok: bool
    note: str = ""

    @property
    def rate(self) -> float:
        return self.items / self.wall

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.items * 1e6


def run_in_child(script: str, child_args: Sequence[str], items: int) -> dict[str, Phase]:
    """Run ``script --child *child_args`` in a fresh interpreter, so that no client runs on a
    heap (and garbage collections) that the clients before it grew; return the phases it
    printed with :func:`print_phases` (a child that fails is an error phase)."""
    child = subprocess.run(
        [sys.executable, script, "--child", *child_args],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        note = f"child exited {child.returncode}: {child.stderr[-300:]}"
        return {"error": Phase(1, 0, items, ok=False, note=note)}
    phases = json.loads(child.stdout.strip().splitlines()[-1])
    return {phase: Phase(**fields) for phase, fields in phases.items()}


def print_phases(phases: dict[str, Phase]) -> None:
    """Print a child's phases for :func:`run_in_child` (as JSON, on the last line)."""
    print(json.dumps({phase: dataclasses.asdict(p) for phase, p in phases.items()}))


def is_peer(name: str) -> bool:
    return not name.startswith("ours_")


def best_peer(results: Round, phase: str) -> tuple[str, Phase, str, Phase] | None:
    """The peer with the highest throughput and the one with the lowest CPU per item."""
    peers = {n: p[phase] for n, p in results.items() if is_peer(n) and phase in p and p[phase].ok}
    if not peers:
        return None
    fast = max(peers, key=lambda n: peers[n].rate)
    frugal = min(peers, key=lambda n: peers[n].cpu_us)
    return fast, peers[fast], frugal, peers[frugal]


def print_round(
    number: int,
    order: list[str],
    results: Round,
    phases: tuple[str, ...] = PHASES,
    ours: str = OURS,
) -> None:
    print(f"\nrun {number}, order: {', '.join(order)}")
    header = "".join(f"{phase + ' items/s':>15}{'µs/item':>9}" for phase in phases)
    print(f"{'client':<22}{header}")
    for name in order:
        measured = results[name]
        cells = []
        for phase in phases:
            p = measured.get(phase)
            cells.append(f"{p.rate:>15.0f}{p.cpu_us:>9.1f}" if p else f"{'-':>15}{'-':>9}")
        print(f"{name:<22}{''.join(cells)}")
        for phase, p in measured.items():
            if not p.ok:
                print(f"  FAILED {name} {phase}: {p.note}")
    line = []
    for phase in phases:
        ratio = ours_ratio(results, phase, ours)
        if ratio:
            line.append(f"{phase} {ratio[0]:.2f}x / CPU {ratio[1]:.2f}x")
    if line:
        print(
            f"{ours} vs best peer (throughput / CPU per item, CPU < 1 is less): {'; '.join(line)}"
        )


def ours_ratio(
    results: Round, phase: str, ours: str = OURS
) -> tuple[float, float, str, str] | None:
    """Ours' throughput over the fastest peer's, ours' CPU per item over the most frugal's."""
    mine = results.get(ours, {}).get(phase)
    best = best_peer(results, phase)
    if mine is None or not mine.ok or best is None:
        return None
    fast, fast_phase, frugal, frugal_phase = best
    return mine.rate / fast_phase.rate, mine.cpu_us / frugal_phase.cpu_us, fast, frugal


def print_summary(
    rounds: list[Round],
    titles: dict[str, str],
    phases: tuple[str, ...] = PHASES,
    ours: str = OURS,
) -> None:
    """Per phase: each client's medians over the runs, then ours / best peer per run."""
    for phase in phases:
        names = [n for n in rounds[0] if any(phase in r.get(n, {}) for r in rounds)]
        if not names:
            continue
        print(f"\n{titles[phase]}, median of {len(rounds)} runs")
        print(f"{'client':<22}{'items/s':>10}{'CPU µs/item':>13}{'vs ' + BASE:>28}{'runs OK':>9}")
        for name in names:
            done = [r[name][phase] for r in rounds if phase in r.get(name, {})]
            ok = [p for p in done if p.ok]
            base_ratios = [
                r[name][phase].rate / r[BASE][phase].rate
                for r in rounds
                if phase in r.get(name, {}) and phase in r.get(BASE, {})
            ]
            if not ok:
                print(f"{name:<22}{'FAILED':>10}")
                continue
            rate = statistics.median(p.rate for p in ok)
            cpu = statistics.median(p.cpu_us for p in ok)
            vs = f"{statistics.median(base_ratios):.2f}x" if base_ratios else "-"
            print(f"{name:<22}{rate:>10.0f}{cpu:>13.1f}{vs:>28}{f'{len(ok)}/{len(done)}':>9}")
        ratios = [ours_ratio(r, phase, ours) for r in rounds]
        got = [r for r in ratios if r]
        if not got:
            continue
        speed = " ".join(f"{r[0]:.2f}" for r in got)
        cpu = " ".join(f"{r[1]:.2f}" for r in got)
        print(
            f"{ours} / best peer per run: throughput {speed} (median "
            f"{statistics.median(r[0] for r in got):.2f}); CPU per item {cpu} (median "
            f"{statistics.median(r[1] for r in got):.2f})"
        )
        print(
            f"  fastest peer per run: {', '.join(r[2] for r in got)}; "
            f"most frugal: {', '.join(r[3] for r in got)}"
        )


def exit_status(rounds: list[Round]) -> int:
    """Print every failed phase (client, phase, run) and return 1 if any failed, else 0."""
    failed = sorted(
        {
            f"{name} ({phase}, run {number})"
            for number, r in enumerate(rounds, 1)
            for name, phases in r.items()
            for phase, p in phases.items()
            if not p.ok
        }
    )
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    return 0
