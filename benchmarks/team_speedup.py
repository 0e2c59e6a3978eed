"""Team speedup on the bundled coding graph, against its Amdahl and schedule bounds.

For each topology and team size, the same graph, model and seed run once;
speedup is the single-agent run's wall time over the team's. The simulated
model is the demo's (its latency, buggy replies and failures), so the
runtime's own overhead shows as the gap between speedup and the schedule
bound.

    python benchmarks/team_speedup.py [--agents 1 2 3 4 5] [--topologies preassigned decentralized]
                                      [--seed 1] [--json out.json] [--plot speedup.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import anyio
from rich.console import Console
from rich.table import Table

from lmteams import RunReport, SimulatedModel, TaskGraph, Team
from lmteams.runtime.cli.demo import DEMO_LATENCY
from lmteams.runtime.logging import configure
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.suites import Suite, coding_suite, make_responder


async def run_once(
    graph: TaskGraph, suite: Suite, topology: str, agents: int, seed: int, bug_rate: float, fail_rate: float
) -> RunReport:
    model = SimulatedModel(
        seed=seed,
        latency=DEMO_LATENCY,
        fail_rate=fail_rate,
        responder=make_responder(suite, bug_rate=bug_rate, seed=seed),
    )
    async with Team(
        size=agents, model=model, topology=topology, seed=seed, runs_dir=None, settings=TeamSettings(lease_s=30.0)
    ) as team:
        return await team.run(graph, timeout=600)


async def sweep(args: argparse.Namespace, console: Console) -> list[dict]:
    suite = coding_suite()
    graph = TaskGraph.from_file(suite.graph_path)
    single = await run_once(graph, suite, "single", 1, args.seed, args.bug_rate, args.fail_rate)
    console.print(f"single agent: {single.wall_s:.2f} s")
    rows = []
    for topology in args.topologies:
        for n in args.agents:
            report = (
                single
                if n == 1
                else await run_once(graph, suite, topology, n, args.seed, args.bug_rate, args.fail_rate)
            )
            report = report.with_baseline(single)
            row = {
                "topology": topology,
                "agents": n,
                "status": report.status.value,
                "wall_s": report.wall_s,
                "speedup": report.speedup,
                "amdahl_bound": report.graph.amdahl_bound,
                "schedule_bound": report.graph.schedule_bound,
                "of_schedule_bound": report.speedup / report.graph.schedule_bound,  # type: ignore[operator]  # set: compared with the one-agent run
                "tokens": report.tokens,
                "messages": sum(report.messages.values()),
                "conflicts": sum(report.conflicts_rejected.values()),
                "model_calls": report.model_calls,
            }
            rows.append(row)
            console.print(
                f"{topology:>13} n={n}: {report.wall_s:.2f} s, speedup {report.speedup:.2f}x"
                f" ({row['of_schedule_bound']:.0%} of the schedule bound)"
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--topologies", nargs="+", default=["preassigned", "decentralized"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bug-rate", type=float, default=0.1)
    parser.add_argument("--fail-rate", type=float, default=0.05)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG (needs matplotlib)")
    args = parser.parse_args()
    configure("warning")
    console = Console()
    rows = anyio.run(sweep, args, console)
    table = Table(title="speedup on the bundled coding graph (simulated model)")
    for col in (
        "topology",
        "agents",
        "speedup",
        "Amdahl bound",
        "schedule bound",
        "of bound",
        "tokens",
        "messages",
        "conflicts",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["topology"],
            str(r["agents"]),
            f"{r['speedup']:.2f}",
            f"{r['amdahl_bound']:.2f}",
            f"{r['schedule_bound']:.2f}",
            f"{r['of_schedule_bound']:.0%}",
            f"{r['tokens']:,}",
            str(r["messages"]),
            str(r["conflicts"]),
        )
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for topology in args.topologies:
            pts = [r for r in rows if r["topology"] == topology]
            ax.plot([r["agents"] for r in pts], [r["speedup"] for r in pts], marker="o", label=f"{topology} (measured)")
        pts = [r for r in rows if r["topology"] == args.topologies[0]]
        ax.plot([r["agents"] for r in pts], [r["schedule_bound"] for r in pts], "k--", label="schedule bound")
        ax.plot([r["agents"] for r in pts], [r["amdahl_bound"] for r in pts], "k:", label="Amdahl bound")
        ax.set_xlabel("agents")
        ax.set_ylabel("speedup over one agent")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
