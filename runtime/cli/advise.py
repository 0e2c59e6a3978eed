"""``lmteams plan --calibrate RESULTS`` and ``lmteams plan GRAPH --from RESULTS``: the calibrated advisor."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lmteams.runtime.calibration import (
    Calibration,
    CalibrationError,
    ErrorRow,
    Recommendation,
    calibrate,
    evaluate,
    predict,
)
from lmteams.runtime.errors import TaskGraphError
from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.suites import coding_suite
from lmteams.runtime.sweep import read_table

CALIBRATION = "calibration.json"
ERRORS = "advisor-errors.csv"


def add_arguments(p: Any) -> None:
    p.add_argument(
        "--calibrate",
        metavar="RESULTS",
        default=None,
        help="fit the coordination cost per task and per extra agent of each topology to a sweep's results, "
        "and test the fit on held-out seeds",
    )
    p.add_argument(
        "--holdout-seeds",
        type=int,
        nargs="*",
        default=None,
        help="with --calibrate: seeds to hold out for the error table (default: the upper half, given 4 seeds or more)",
    )
    p.add_argument(
        "--from",
        dest="from_results",
        metavar="RESULTS",
        default=None,
        help="predict speedup per team size, with an interval, from the calibration of RESULTS",
    )


def wanted(args: argparse.Namespace) -> bool:
    return args.calibrate is not None or args.from_results is not None


def run(args: argparse.Namespace) -> int:
    console = Console()
    try:
        if args.calibrate is not None:
            return _calibrate(args, console)
        return _advise(args, console)
    except (CalibrationError, TaskGraphError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2


def _calibrate(args: argparse.Namespace, console: Console) -> int:
    results = Path(args.calibrate)
    if not results.exists():
        raise CalibrationError(f"{results} does not exist: give a sweep's --out directory or its table")
    rows = read_table(results)
    seeds = sorted({int(r["seed"]) for r in rows})
    holdout = (
        args.holdout_seeds if args.holdout_seeds is not None else (seeds[len(seeds) // 2 :] if len(seeds) >= 4 else [])
    )
    unknown = sorted(set(holdout) - set(seeds))
    if unknown:
        raise CalibrationError(f"--holdout-seeds {unknown} are not in the results (seeds {seeds})")
    train = [s for s in seeds if s not in holdout]
    if not train:
        raise CalibrationError("every seed is held out: leave at least one to calibrate on")
    calibration = calibrate(rows, seeds=train)
    root = results if results.is_dir() else results.parent
    (root / CALIBRATION).write_text(calibration.model_dump_json(indent=2), encoding="utf-8")
    fits = Table(title=f"coordination fitted on seeds {train} (latency sigma {calibration.sigma:.3f})")
    for column in ("topology", "per task", "per extra agent", "cells", "rms ln error"):
        fits.add_column(column, justify="right")
    for f in calibration.fits.values():
        fits.add_row(f.topology, f"{f.per_task:.3f}", f"{f.per_agent:+.3f}", str(f.cells), f"{f.rms_log_error:.3f}")
    console.print(fits)
    console.print("costs are in mean model calls per unit of task weight")
    if not holdout:
        console.print(f"wrote {root / CALIBRATION} (no seeds held out: no error table)")
        return 0
    errors, recommendations = evaluate(rows, calibration, seeds=holdout)
    write_errors(root / ERRORS, errors)
    console.print(error_table(errors, holdout))
    console.print(recommendation_table(recommendations))
    worst = max((abs(e.error) for e in errors), default=0.0)
    within = sum(abs(e.error) <= 0.15 for e in errors)
    console.print(
        f"held-out cells within 15%: {within} of {len(errors)} (worst {worst:.1%}); recommended size within 5% of "
        f"the measured best: {sum(r.shortfall <= 0.05 for r in recommendations)} of {len(recommendations)}"
    )
    console.print(f"wrote {root / CALIBRATION} and {root / ERRORS}")
    return 0


def write_errors(path: Path, errors: list[ErrorRow]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["topology", "suite", "variant", "agents", "measured", "predicted", "low", "high", "error"])
        for e in errors:
            writer.writerow(
                [e.topology, e.suite, e.variant, e.agents, f"{e.measured:.3f}", f"{e.predicted:.3f}"]
                + [f"{e.low:.3f}", f"{e.high:.3f}", f"{e.error:+.3f}"]
            )


def error_table(errors: list[ErrorRow], holdout: list[int]) -> Table:
    table = Table(title=f"predicted against measured speedup, held-out seeds {holdout} (median over them)")
    for column in ("topology", "suite", "p", "n", "measured", "predicted", "80% interval", "error"):
        table.add_column(column, justify="right")
    for e in errors:
        style = "" if abs(e.error) <= 0.15 else "[red]"
        table.add_row(
            e.topology,
            e.suite,
            f"{e.variant:g}",
            str(e.agents),
            f"{e.measured:.2f}",
            f"{e.predicted:.2f}",
            f"{e.low:.2f} – {e.high:.2f}",
            f"{style}{e.error:+.1%}",
        )
    return table


def recommendation_table(recommendations: list[Recommendation]) -> Table:
    table = Table(title="recommended team size (smallest within 5% of the best predicted) against the measured best")
    for column in ("topology", "suite", "p", "recommended", "measured best", "shortfall"):
        table.add_column(column, justify="right")
    for r in recommendations:
        style = "" if r.shortfall <= 0.05 else "[red]"
        table.add_row(
            r.topology, r.suite, f"{r.variant:g}", str(r.recommended), str(r.measured_best), f"{style}{r.shortfall:.1%}"
        )
    return table


def _advise(args: argparse.Namespace, console: Console) -> int:
    results = Path(args.from_results)
    root = results if results.is_dir() else results.parent
    path = root / CALIBRATION
    if not path.is_file():
        raise CalibrationError(f"{path} does not exist: run `lmteams plan --calibrate {results}` first")
    calibration = Calibration.model_validate(json.loads(path.read_text(encoding="utf-8")))
    graph = TaskGraph.from_file(args.graph or coding_suite().graph_path)
    if args.max_agents < 1:
        raise ValueError(f"--max-agents must be at least 1, got {args.max_agents}")
    predictions = {
        topology: [predict(graph, topology, n, fit, sigma=calibration.sigma) for n in range(1, args.max_agents + 1)]
        for topology, fit in calibration.fits.items()
    }
    if args.json:
        out: dict[str, Any] = {
            "graph": graph.name,
            "calibration": calibration.model_dump(mode="json"),
            "predictions": {t: [p.model_dump(mode="json") for p in ps] for t, ps in predictions.items()},
            "recommended": {t: recommend(ps) for t, ps in predictions.items()},
        }
        print(json.dumps(out, indent=2))
        return 0
    table = Table(
        title=f"{graph.name}: {len(graph.tasks)} tasks, p = {graph.parallel_fraction():.2f}; "
        f"predicted speedup (80% interval of one run), calibrated on {path}"
    )
    table.add_column("agents", justify="right")
    table.add_column("schedule bound", justify="right")
    for topology in predictions:
        table.add_column(topology, justify="right")
    for n in range(1, args.max_agents + 1):
        cells = []
        for ps in predictions.values():
            p = ps[n - 1]
            mark = " ◀" if recommend(ps) == n else ""
            cells.append(f"{p.speedup:.2f} ({p.low:.2f}–{p.high:.2f}){mark}")
        table.add_row(str(n), f"{graph.bound(n).speedup:.2f}", *cells)
    console.print(table)
    best = max(predictions, key=lambda t: predictions[t][recommend(predictions[t]) - 1].speedup)
    n = recommend(predictions[best])
    console.print(
        f"[bold]advice:[/] {best} with {n} agent{'s' if n > 1 else ''}: {predictions[best][n - 1].speedup:.2f}x "
        "(◀ marks each topology's smallest team within 5% of its best prediction)"
    )
    return 0


def recommend(predictions: list[Any], tolerance: float = 0.95) -> int:
    """The smallest team within ``tolerance`` of the best predicted speedup."""
    best = max(p.speedup for p in predictions)
    return next(p.agents for p in predictions if p.speedup >= tolerance * best)
