"""``lmteams plan``: does a task graph need a team, and how many agents?"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from lmteams.runtime.cli import advise
from lmteams.runtime.errors import TaskGraphError
from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.planning import MAX_COORDINATION, MAX_PLAN_AGENTS, plan
from lmteams.runtime.suites import coding_suite


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "plan",
        help="say whether a task graph needs a team, and how many agents",
        description="Amdahl's law and the list-scheduling bound over a task graph (JSON or YAML), with a "
        "coordination cost per task that grows with the team, and the smallest team near the best speedup.",
    )
    p.add_argument("graph", nargs="?", default=None, help="task graph file (default: the bundled coding graph)")
    p.add_argument(
        "--max-agents", type=int, default=8, help=f"largest team to consider, 1..{MAX_PLAN_AGENTS} (default 8)"
    )
    p.add_argument(
        "--coordination",
        type=float,
        default=0.02,
        help=f"extra cost per task and per extra agent, as a share of the task, 0..{MAX_COORDINATION:g} (default 0.02)",
    )
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    advise.add_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if advise.wanted(args):
        return advise.run(args)
    console = Console()
    try:
        graph = TaskGraph.from_file(args.graph or coding_suite().graph_path)
        result = plan(graph, max_agents=args.max_agents, coordination=args.coordination)
    except (TaskGraphError, ValueError) as exc:
        print(f"lmteams plan: error: {exc}", file=sys.stderr)  # one line, unwrapped
        return 2
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
        return 0
    table = Table(title=f"{result.graph}: {result.tasks} tasks, parallel fraction {result.parallel_fraction:.2f}")
    for column in ("agents", "Amdahl bound", "schedule bound", "predicted", "efficiency"):
        table.add_column(column, justify="right")
    for r in result.rows:
        mark = " ◀" if r.agents == result.recommended_agents else ""
        table.add_row(
            f"{r.agents}{mark}",
            f"{r.amdahl_bound:.2f}",
            f"{r.schedule_bound:.2f}",
            f"{r.predicted_speedup:.2f}",
            f"{r.efficiency:.0%}",
        )
    console.print(table)
    console.print(
        f"critical path {' → '.join(result.critical_path)} ({result.critical_path_length:g} of {result.work:g})"
    )
    console.print(
        f"[bold]{'a team of ' + str(result.recommended_agents) if result.needs_team else 'one agent'}:[/] {result.reason}"
    )
    return 0
