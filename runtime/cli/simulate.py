"""``lmteams simulate``: a seeded Raft cluster under faults, every invariant checked."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lmteams.consensus import RaftConfig
from lmteams.consensus.testing import PROPERTIES, InvariantViolation, Simulation
from lmteams.consensus.testing.linearizability import check_linearizable
from lmteams.consensus.testing.models import KVModel
from lmteams.consensus.testing.nemesis import NemesisConfig, run_with_nemesis


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="run a seeded Raft cluster under faults and check its safety invariants",
        description="Run a deterministic simulated Raft cluster with injected faults. Every Raft safety "
        "invariant is checked after every step, and the client history is checked for linearizability. "
        "Exits 1, naming the seed, if anything breaks.",
    )
    p.add_argument("--nodes", type=int, default=5, choices=range(1, 10), metavar="N", help="cluster size (default 5)")
    p.add_argument("--seed", type=int, default=1, help="the seed that decides everything (default 1)")
    p.add_argument("--ticks", type=int, default=2000, help="simulated ticks under faults (default 2000)")
    p.add_argument("--drop", type=float, default=0.0, help="probability that a message is lost")
    p.add_argument("--duplicate", type=float, default=0.0, help="probability that a message is delivered twice")
    p.add_argument("--reorder", type=float, default=0.0, help="probability that a message is overtaken by later ones")
    p.add_argument("--max-delay", type=int, default=0, help="extra delivery delay, uniform in 0..N ticks")
    p.add_argument("--partitions", action="store_true", help="let a nemesis partition and heal the network")
    p.add_argument("--crashes", action="store_true", help="let a nemesis crash and restart nodes (a minority at once)")
    p.add_argument("--propose-rate", type=float, default=0.3, help="client proposals per tick (default 0.3)")
    p.add_argument("--no-pre-vote", action="store_true", help="turn pre-vote off")
    p.add_argument("--no-check-quorum", action="store_true", help="turn check-quorum off")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=False)
    for name in ("drop", "duplicate", "reorder", "propose_rate"):
        value = getattr(args, name)
        if not 0.0 <= value <= 1.0:
            console.print(f"[red]error:[/] --{name.replace('_', '-')} is a probability in [0, 1], got {value}")
            return 2
    if args.ticks < 0 or args.max_delay < 0:
        console.print("[red]error:[/] --ticks and --max-delay must be >= 0")
        return 2
    config = RaftConfig(pre_vote=not args.no_pre_vote, check_quorum=not args.no_check_quorum)
    sim = Simulation(
        args.nodes,
        seed=args.seed,
        drop=args.drop,
        duplicate=args.duplicate,
        reorder=args.reorder,
        max_delay_ticks=args.max_delay,
        config=config,
    )
    nemesis = NemesisConfig(
        partition=0.01 if args.partitions else 0.0,
        crash=0.005 if args.crashes else 0.0,
        propose=args.propose_rate,
    )
    violation: InvariantViolation | None = None
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("ticks"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=args.json or not console.is_terminal,
    ) as progress:
        task = progress.add_task("ticks", total=args.ticks)
        try:
            run_with_nemesis(sim, args.ticks, nemesis, on_step=lambda t: progress.advance(task))
            sim.check()
        except InvariantViolation as exc:
            violation = exc
    lin = check_linearizable(sim.history.operations(), KVModel(), timeout_s=60) if violation is None else None
    summary = _summary(sim, args, violation, lin)
    if args.json:
        console.print_json(json.dumps(summary))
    else:
        _print_tables(console, summary)
    if violation is not None:
        console.print(f"[bold red]INVARIANT BROKEN[/] with seed {args.seed}: {violation}")
        return 1
    if lin is not None and not lin.ok:
        console.print(f"[bold red]NOT LINEARIZABLE[/] with seed {args.seed}:\n{lin.explain()}")
        return 1
    return 0


def _summary(
    sim: Simulation, args: argparse.Namespace, violation: InvariantViolation | None, lin: Any
) -> dict[str, Any]:
    ops = sim.history.operations()
    return {
        "seed": args.seed,
        "nodes": len(sim.ids),
        "ticks": sim.now,
        "leaders_by_term": {str(t): n for t, n in sorted(sim.checker.leaders.items())},
        "highest_term": max((c.term for _, c in sim.live_cores()), default=0),
        "entries_committed": max((c.commit_index for _, c in sim.live_cores()), default=0),
        "client_ops": {
            "completed": sum(1 for o in ops if o.completed),
            "indeterminate": sum(1 for o in ops if not o.completed),
        },
        "messages_delivered": sim.delivered,
        "faults": dict(sorted(sim.faults.items())),
        "invariants": {p: sim.checker.counts.get(p, 0) for p in PROPERTIES},
        "violation": str(violation) if violation else None,
        "linearizability": None
        if lin is None
        else {"verdict": lin.verdict, "operations": lin.operations, "partitions": lin.partitions},
    }


def _print_tables(console: Console, s: dict[str, Any]) -> None:
    run = _table(f"Simulated Raft cluster: {s['nodes']} nodes, seed {s['seed']}", show_header=False)
    run.add_row("ticks", str(s["ticks"]))
    run.add_row("highest term", str(s["highest_term"]))
    run.add_row("terms with a leader", f"{len(s['leaders_by_term'])} of {s['highest_term']}")
    run.add_row("entries committed", str(s["entries_committed"]))
    run.add_row("client ops completed", str(s["client_ops"]["completed"]))
    run.add_row("client ops indeterminate", str(s["client_ops"]["indeterminate"]))
    run.add_row("messages delivered", str(s["messages_delivered"]))
    console.print(run)

    leaders = _table("Leaders elected per term")
    leaders.add_column("term", justify="right")
    leaders.add_column("leader")
    items = list(s["leaders_by_term"].items())
    shown = items if len(items) <= 12 else items[:6] + [("…", f"{len(items) - 12} more")] + items[-6:]
    for term, node in shown:
        leaders.add_row(term, node)
    console.print(leaders)

    faults = _table("Faults injected")
    faults.add_column("fault")
    faults.add_column("count", justify="right")
    for name, count in s["faults"].items() or [("none", 0)]:
        faults.add_row(name, str(count))
    console.print(faults)

    inv = _table("Invariants")
    inv.add_column("property")
    inv.add_column("checks", justify="right")
    inv.add_column("result")
    broken = s["violation"] or ""
    for prop, count in s["invariants"].items():
        ok = prop not in broken
        inv.add_row(prop, str(count), "[green]held[/]" if ok else "[red]BROKEN[/]")
    lin = s["linearizability"]
    if lin is not None:
        verdict = lin["verdict"]
        style = "green" if verdict == "linearizable" else "red"
        inv.add_row("Linearizable history", f"{lin['operations']} ops", f"[{style}]{verdict}[/]")
    console.print(inv)


def _table(title: str, **kwargs: Any) -> Table:
    """A table at least as wide as its title, so that the title never wraps."""
    return Table(title=title, min_width=len(title) + 4, **kwargs)
