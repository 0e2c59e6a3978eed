"""``lmteams demo``: a coding team on the bundled graph, offline, against a single agent."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.models import Latency, LiteLLMModel, SimulatedModel
from lmteams.runtime.models.base import Model
from lmteams.runtime.report import RunReport
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.suites import coding_suite, make_responder
from lmteams.runtime.team import Team
from lmteams.runtime.topologies import Topology

DEMO_LATENCY = Latency(median_s=0.1, sigma=0.15, per_output_token_s=0.002)
"""About 0.9 s for a typical task's reply: slow enough that model time, not the runtime, dominates."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run a team of agents on the bundled coding graph, offline, and compare it with one agent",
        description="Run a team of agents on the bundled coding task graph (16 small Python modules with "
        "dependencies and tests) with the simulated model: no key, no server, no network. The workspace is a "
        "temporary directory and every task's tests really run on the written files. Then the same graph runs "
        "with a single agent, for the speedup.",
    )
    p.add_argument("--agents", type=int, default=3, help="agents in the team (default 3)")
    p.add_argument(
        "--topology",
        default=Topology.DECENTRALIZED.value,
        choices=[t.value for t in Topology if t is not Topology.SINGLE],
    )
    p.add_argument(
        "--model",
        default=None,
        help="'local' (the bundled SmolLM2-135M on a llama-cpp server this command starts and stops, on the tiny "
        "suite), or a litellm model string for a provider, e.g. openai/gpt-4o-mini (default: simulated)",
    )
    p.add_argument("--api-base", default=None, help="the provider's base URL, e.g. http://127.0.0.1:8080/v1")
    p.add_argument(
        "--api-key",
        default=None,
        help="the provider's API key (default: its usual variable, e.g. OPENAI_API_KEY; a server on 127.0.0.1 "
        "needs none)",
    )
    p.add_argument(
        "--schema-format",
        default="auto",
        choices=["auto", "json_schema", "json_object"],
        help="how the answer's JSON schema is sent: json_schema (OpenAI), json_object (llama-cpp); auto picks "
        "json_object for a server on 127.0.0.1",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--transport", default="memory", choices=["memory", "tcp"])
    p.add_argument("--bug-rate", type=float, default=0.1, help="share of simulated replies that are buggy on purpose")
    p.add_argument("--fail-rate", type=float, default=0.1, help="share of simulated calls that fail (retryable)")
    p.add_argument("--no-baseline", action="store_true", help="skip the single-agent run (no speedup)")
    p.add_argument("--runs-dir", default="runs", help="where runs/<id>/events.jsonl go (default ./runs)")
    p.add_argument("--json", action="store_true", help="print the reports as JSON instead of tables")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    console = Console()
    if args.agents < 1:
        console.print(f"[red]error:[/] --agents must be at least 1, got {args.agents}")
        return 2
    for name in ("bug_rate", "fail_rate"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            console.print(f"[red]error:[/] --{name.replace('_', '-')} is a probability in [0, 1]")
            return 2
    if args.model == "local":
        from lmteams.runtime.cli.local_demo import run_local

        return run_local(args, console)
    suite = coding_suite()
    graph = TaskGraph.from_file(suite.graph_path)
    problem = _check_args(args, len(graph.tasks))
    if problem is not None:
        code, message = problem
        print(f"lmteams demo: error: {message}", file=sys.stderr)
        return code
    reports = anyio.run(_demo, args, suite, graph, console)
    team, single = reports
    if args.json:
        out = {"team": team.model_dump(mode="json"), "single": single.model_dump(mode="json") if single else None}
        print(json.dumps(out, indent=2))
    else:
        console.print(_table(team, single))
        console.print(_summary(team))
    return 0 if team.status.value == "completed" else 1


def _check_args(args: argparse.Namespace, tasks: int) -> tuple[int, str] | None:
    """(exit code, one-line message) for arguments that cannot work, checked before anything runs."""
    if args.agents > tasks:
        return (
            2,
            f"--agents {args.agents}: the demo graph has {tasks} tasks, so at most {tasks} agents can work at once",
        )
    runs = Path(args.runs_dir)
    if runs.exists() and not runs.is_dir():
        return 2, f"--runs-dir {args.runs_dir!r} exists and is not a directory: give a directory"
    try:
        runs.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=runs, prefix=".write-check-"):
            pass
    except OSError as exc:
        return 2, f"--runs-dir {args.runs_dir!r} is not a writable directory: {exc.strerror or exc}"
    if args.api_base is not None:
        url = urlparse(args.api_base)
        if url.scheme not in ("http", "https") or not url.netloc:
            return 2, f"--api-base {args.api_base!r} is not an http(s) URL: e.g. http://127.0.0.1:8080/v1"
    if args.model:
        try:
            import litellm  # noqa: F401
        except ImportError:
            return 1, (
                f"--model {args.model!r} needs litellm, which is not installed: "
                'pip install "lmteams[llm]" (for a local model server: pip install "lmteams[local]")'
            )
    return None


async def _demo(
    args: argparse.Namespace, suite: Any, graph: TaskGraph, console: Console
) -> tuple[RunReport, RunReport | None]:
    team = await _run(args, suite, graph, args.agents, Topology(args.topology), console, "team")
    single = None
    if not args.no_baseline and team.status.value == "completed":  # no speedup of a failed run
        single = await _run(args, suite, graph, 1, Topology.SINGLE, console, "single agent")
        team = team.with_baseline(single)
    return team, single


def _model(args: argparse.Namespace, suite: Any) -> Model:
    if args.model:
        return LiteLLMModel(args.model, api_base=args.api_base, api_key=args.api_key, schema_format=args.schema_format)
    return SimulatedModel(
        seed=args.seed,
        latency=DEMO_LATENCY,
        fail_rate=args.fail_rate,
        responder=make_responder(suite, bug_rate=args.bug_rate, seed=args.seed),
    )


async def _run(
    args: argparse.Namespace,
    suite: Any,
    graph: TaskGraph,
    agents: int,
    topology: Topology,
    console: Console,
    label: str,
) -> RunReport:
    settings = TeamSettings(lease_s=30.0, poll_s=0.5)
    async with Team(
        size=agents,
        model=_model(args, suite),
        topology=topology,
        transport=args.transport,
        seed=args.seed,
        settings=settings,
        runs_dir=args.runs_dir,
    ) as team:
        with Progress(
            TextColumn(f"[bold]{label}[/] ({agents} agent{'s' if agents > 1 else ''}, {topology.value})"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tokens]} tokens · leader {task.fields[leader]}"),
            TimeElapsedColumn(),
            console=console,
            disable=args.json,
            transient=False,
        ) as progress:
            bar = progress.add_task(label, total=len(graph.tasks), tokens=0, leader="?")
            async with anyio.create_task_group() as tg:
                tg.start_soon(_follow, team, _updater(progress, bar))
                report = await team.run(graph, timeout=600)
                tg.cancel_scope.cancel()
    return report


def _updater(progress: Progress, bar: Any) -> Callable[[dict[str, Any]], None]:
    tokens = 0

    def update(event: dict[str, Any]) -> None:
        nonlocal tokens
        name = event.get("event")
        if name == "complete":
            progress.advance(bar)
        elif name == "model_call":
            tokens += int(event.get("tokens_in", 0)) + int(event.get("tokens_out", 0))
            progress.update(bar, tokens=tokens)
        elif name in ("leader", "leader_change"):
            progress.update(bar, leader=event.get("node") or event.get("new") or "?")

    return update


async def _follow(team: Team, update: Callable[[dict[str, Any]], None]) -> None:
    async for event in team.events():
        update(event)


def _table(team: RunReport, single: RunReport | None) -> Table:
    table = Table(title=f"lmteams demo · {team.graph.tasks} tasks · run {team.run_id}")
    table.add_column("")
    table.add_column(f"team ({team.agents}, {team.topology})", justify="right")
    if single:
        table.add_column("single agent", justify="right")
    rows: list[tuple[str, Callable[[RunReport], str]]] = [
        ("status", lambda r: r.status.value),
        ("wall time", lambda r: f"{r.wall_s:.2f} s"),
        ("tasks done / failed / blocked", lambda r: f"{r.tasks_done} / {r.tasks_failed} / {_blocked(r)}"),
        ("tests passed / failed", lambda r: f"{r.tests_passed} / {r.tests_failed}"),
        ("model calls", lambda r: str(r.model_calls)),
        ("tokens in / out", lambda r: f"{r.tokens_in:,} / {r.tokens_out:,}"),
        ("cost", lambda r: f"${r.cost_usd:.4f}"),
        ("messages", lambda r: _counts(r.messages)),
        ("conflicts rejected", lambda r: _counts(r.conflicts_rejected)),
        ("fenced / concurrent writes", lambda r: f"{r.fenced_writes} / {r.concurrent_writes}"),
        ("retries / breaker trips", lambda r: f"{r.retries} / {r.breaker_trips}"),
        ("idle agent-seconds", lambda r: f"{r.idle_agent_s:.2f}"),
        ("straggler gap", lambda r: f"{r.straggler_gap_s:.2f} s"),
    ]
    for name, cell in rows:
        table.add_row(name, cell(team), *([cell(single)] if single else []))
    return table


def _summary(team: RunReport) -> str:
    g = team.graph
    lines = [
        f"critical path {' → '.join(g.critical_path)} ({g.critical_path_length:g} of {g.work:g} units of work);"
        f" parallel fraction {g.parallel_fraction:.2f}",
    ]
    bounds = f"Amdahl bound {g.amdahl_bound:.2f}×, schedule bound {g.schedule_bound:.2f}×"
    if team.speedup is not None:
        lines.append(f"[bold]speedup {team.speedup:.2f}×[/] with {team.agents} agents against one · {bounds}")
    else:
        lines.append(bounds)
    if team.status.value != "completed":
        lines.append(f"[red]{team.status.value}:[/] {team.detail}")
    if team.events_path:
        lines.append(f"events: {team.events_path}")
    return "\n".join(lines)


def _blocked(report: RunReport) -> int:
    """Tasks never attempted because a dependency failed (or the run stopped first)."""
    blocked = getattr(report, "tasks_blocked", None)
    if isinstance(blocked, int):
        return blocked
    return max(0, report.tasks_total - report.tasks_done - report.tasks_failed)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "0"
