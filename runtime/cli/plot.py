"""``lmteams plot RESULTS``: PNG figures of a sweep and the timeline of one of its runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from lmteams.runtime.plots import PlotError, conflict_figure, cost_figure, speedup_figure, timeline_figure
from lmteams.runtime.sweep import EVENTS_DIR, read_table


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "plot",
        help="draw a sweep's results as PNG figures",
        description="From a sweep's results (its directory, or its results.parquet / results.csv): speedup against "
        "n per p with the Amdahl curve and the schedule bound; tokens and messages; conflicts and straggler gap; "
        "and run timelines (agents x time, a bar per attempt) from the runs' events.",
    )
    p.add_argument("results", help="a sweep's output directory or table file")
    p.add_argument("--out", default=None, help="where the PNGs go (default RESULTS/plots)")
    p.add_argument(
        "--run", dest="run_ids", nargs="*", default=None, help="run ids to draw timelines of (default: two chosen runs)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    console = Console()
    results = Path(args.results)
    if not results.exists():
        console.print(f"[red]error:[/] {results} does not exist: give a sweep's --out directory or its table")
        return 2
    root = results if results.is_dir() else results.parent
    out = Path(args.out) if args.out else root / "plots"
    try:
        rows = read_table(results)
        if not rows:
            raise PlotError(f"{results} holds no runs: run `lmteams sweep --out {root}` first")
        written = [
            speedup_figure(rows, out / "speedup.png"),
            cost_figure(rows, out / "cost.png"),
            conflict_figure(rows, out / "conflicts.png"),
        ]
        chosen = [r for r in rows if r["run_id"] in args.run_ids] if args.run_ids else timeline_runs(rows)
        if args.run_ids and len(chosen) < len(args.run_ids):
            missing = sorted(set(args.run_ids) - {r["run_id"] for r in chosen})
            raise PlotError(f"no run {', '.join(missing)} in {results}")
        for row in chosen:
            name = f"timeline-{row['topology']}-n{row['agents']}-p{row['variant']:g}.png" if not args.run_ids else None
            written.append(timeline_figure(events_of(row, root), out / (name or f"timeline-{row['run_id']}.png")))
    except PlotError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    for path in written:
        console.print(f"wrote {path}")
    return 0


def timeline_runs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An event-driven run and the rounds run of the same cell: the largest team, p = 0.5 if there, first seed."""
    teams = [r for r in rows if r["agents"] > 1 and r.get("events_path")]
    if not teams:
        return []
    variant = min({r["variant"] for r in teams}, key=lambda v: abs(v - 0.5))
    n = max(r["agents"] for r in teams if r["variant"] == variant)
    seed = min(r["seed"] for r in teams)
    same = [r for r in teams if (r["variant"], r["agents"], r["seed"]) == (variant, n, seed)]
    picks: list[dict[str, Any]] = []
    for topology in ("decentralized", "preassigned", "rounds"):
        match = next((r for r in same if r["topology"] == topology), None)
        if match is not None and (topology == "rounds" or not picks):
            picks.append(match)
    return picks


def events_of(row: dict[str, Any], root: Path) -> Path:
    """The run's events.jsonl: where the sweep wrote it, or under ROOT/events/ if the results were moved."""
    recorded = Path(row["events_path"]) if row.get("events_path") else None
    if recorded is not None and recorded.is_file():
        return recorded
    moved = root / EVENTS_DIR / row["run_id"] / "events.jsonl"
    if moved.is_file():
        return moved
    raise PlotError(f"the events of run {row['run_id']} are neither at {recorded} nor at {moved}")
