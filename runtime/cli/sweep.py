"""``lmteams sweep``: the paper's experiment, suites x variants x team sizes x topologies x seeds (x models)."""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from lmteams.runtime.models.profiles import PAPER_LATENCY
from lmteams.runtime.sweep import (
    EVENTS_DIR,
    SHAPES,
    TEAM_TOPOLOGIES,
    VARIANTS,
    Cell,
    SweepError,
    append_row,
    available_suites,
    done_keys,
    grid,
    read_rows,
    report_row,
    run_cell,
    with_speedups,
    write_table,
)

QUICK: dict[str, Any] = {
    "suites": [SHAPES],
    "variants": list(VARIANTS),
    "agents": [2, 3, 5],
    "topologies": list(TEAM_TOPOLOGIES),
    "seeds": [1, 2],
    "time_scale": 0.01,
}
"""A small grid, offline, in well under 2 minutes: 60 runs of 20 tasks each."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="run the paper's experiment: suites x variants x team sizes x topologies x seeds",
        description="Run every cell of a grid with the simulated model replaying the paper's latency profile "
        "(scaled in time), each against a single-agent run of the same graph and seed, and write one tidy table "
        "(results.parquet, or results.csv without pyarrow), runs.jsonl and each run's events under OUT/events/. "
        "An interrupted sweep resumes where it stopped: cells already in OUT are skipped.",
    )
    p.add_argument("--out", default="sweep-results", help="results directory (default ./sweep-results)")
    p.add_argument("--quick", action="store_true", help="a small grid (shapes, n = 2, 3, 5, 2 seeds), about a minute")
    p.add_argument(
        "--suites",
        nargs="+",
        default=None,
        help=f"suites to run (default: every one available; {SHAPES!r} is built in)",
    )
    p.add_argument("--variants", nargs="+", type=float, default=list(VARIANTS), help="parallel fractions")
    p.add_argument("--agents", nargs="+", type=int, default=[2, 3, 4, 5], help="team sizes (default 2 3 4 5)")
    p.add_argument("--topologies", nargs="+", default=list(TEAM_TOPOLOGIES), choices=["centralized", *TEAM_TOPOLOGIES])
    p.add_argument("--seeds", type=int, default=3, help="seeds 1..N per cell (default 3)")
    p.add_argument(
        "--model",
        nargs="+",
        default=None,
        choices=sorted({m for m, _ in PAPER_LATENCY}),
        help="replay these models' latency profiles (by mode) instead of the pooled one",
    )
    p.add_argument(
        "--work",
        default="schedule",
        choices=["schedule", "coding"],
        help="schedule: each task is its model calls (no tests run); coding: run each task's tests (suites on disk)",
    )
    p.add_argument(
        "--time-scale", type=float, default=0.02, help="multiply every latency by this (default 0.02: 50x faster)"
    )
    p.add_argument(
        "--baseline-repeats",
        type=int,
        default=1,
        help="run each single-agent baseline this many times (same draws) and keep the fastest: on a busy machine "
        "one disturbed baseline skews every speedup of its seed (default 1)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    console = Console()
    try:
        cells = _cells(args)
    except (SweepError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    out = Path(args.out)
    done = done_keys(out)
    todo = [c for c in cells if c.key not in done]
    console.print(
        f"sweep: {len(cells)} runs ({len(cells) - len(todo)} already in {out}), work={cells[0].work}, "
        f"latency x{cells[0].time_scale:g}"
    )
    failures = anyio.run(_sweep, todo, out, console)
    table = write_table(out)
    console.print(_summary(read_rows(out)))
    console.print(f"table: {table} · events: {out / EVENTS_DIR}/ · then: lmteams plot {out}")
    if failures:
        console.print(f"[yellow]{failures} run(s) did not complete; see their status and detail in the table[/]")
    return 0 if not failures else 1


def _cells(args: argparse.Namespace) -> list[Cell]:
    quick: dict[str, Any] = QUICK if args.quick else {}
    suites = quick.get("suites") or args.suites or available_suites()
    for suite in suites:
        if suite != SHAPES and suite not in available_suites():
            raise SweepError(f"unknown suite {suite!r}; available: {', '.join(available_suites())}")
    agents = quick.get("agents") or args.agents
    if any(n < 1 for n in agents):
        raise SweepError(f"--agents must all be at least 1, got {agents}")
    if args.baseline_repeats < 1:
        raise SweepError(f"--baseline-repeats must be at least 1, got {args.baseline_repeats}")
    if args.seeds < 1:
        raise SweepError(f"--seeds must be at least 1, got {args.seeds}")
    if not (args.time_scale > 0 and math.isfinite(args.time_scale)):
        raise SweepError(f"--time-scale must be a positive number, got {args.time_scale}")
    variants = quick.get("variants") or args.variants
    for v in variants:
        if round(v, 1) not in VARIANTS:
            raise SweepError(f"--variants are the paper's parallel fractions {list(VARIANTS)}, got {v}")
    return grid(
        suites=suites,
        variants=[round(v, 1) for v in variants],
        agents=agents,
        topologies=quick.get("topologies") or args.topologies,
        seeds=quick.get("seeds") or list(range(1, args.seeds + 1)),
        models=args.model or ["all"],
        work=args.work,
        time_scale=quick.get("time_scale") or args.time_scale,
        baseline_repeats=args.baseline_repeats,
    )


async def _sweep(cells: list[Cell], out: Path, console: Console) -> int:
    failures = 0
    with Progress(
        TextColumn("[bold]sweep[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[cell]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task("sweep", total=len(cells), cell="")
        for cell in cells:
            progress.update(bar, cell=f"{cell.suite} p={cell.variant:g} {cell.topology} n={cell.agents} s{cell.seed}")
            report = await run_cell(cell, runs_dir=out / EVENTS_DIR)
            failures += report.status.value != "completed"
            append_row(out, report_row(cell, report))
            progress.advance(bar)
    return failures


def _summary(rows: list[dict[str, Any]]) -> Table:
    """Median speedup by variant and topology, over seeds, suites and team sizes n >= 2."""
    rows = [r for r in with_speedups(rows) if r["agents"] >= 2 and r["speedup"] is not None]
    variants = sorted({r["variant"] for r in rows})
    topologies = [
        t for t in ("preassigned", "decentralized", "centralized", "rounds") if any(r["topology"] == t for r in rows)
    ]
    table = Table(title="median speedup against one agent (n >= 2)")
    table.add_column("topology")
    for v in variants:
        table.add_column(f"p = {v:g}", justify="right")
    for t in topologies:
        cells = []
        for v in variants:
            values = [r["speedup"] for r in rows if r["topology"] == t and r["variant"] == v]
            cells.append(f"{statistics.median(values):.2f}" if values else "-")
        table.add_row(t, *cells)
    return table
