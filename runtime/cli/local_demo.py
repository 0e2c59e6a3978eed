"""``lmteams demo --model local``: the bundled SmolLM2-135M on a local llama-cpp server, end to end.

It starts ``python -m llama_cpp.server`` on 127.0.0.1 (one thread), waits
until it answers, runs a team on the tiny suite (a 135M model cannot write
the coding suite's modules; see ``lmteams.runtime.suites.tiny``), and stops
the server, also on Ctrl-C and on failure. Without the local extra it says
which command installs it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import anyio
from rich.console import Console
from rich.markup import escape

from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.models.local_server import LocalModelServer, LocalModelUnavailable, LocalServerError
from lmteams.runtime.report import RunReport
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.suites.tiny import tiny_graph_spec, tiny_work
from lmteams.runtime.team import Team
from lmteams.runtime.topologies import Topology

# One server thread answers one call at a time: long leases and call timeouts, no speculative backups.
LOCAL_SETTINGS = TeamSettings(lease_s=180.0, poll_s=0.5, call_timeout_s=180.0, backup_after=None)


def run_local(args: argparse.Namespace, console: Console) -> int:
    try:
        server = LocalModelServer()
        console.print("starting the local model server (SmolLM2-135M, llama-cpp, 1 thread) ...")
        with server:  # stopped on any exit: the run's end, an error, Ctrl-C
            console.print(f"server up at {server.api_base}; running the tiny suite")
            model = server.model(temperature=0.0, seed=args.seed, timeout=180.0)
            return anyio.run(_run, args, model, console)
    except LocalModelUnavailable as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        return 2
    except LocalServerError as exc:
        console.print(f"[red]error:[/] the local model server failed: {escape(str(exc))}")
        return 1
    except KeyboardInterrupt:
        console.print("interrupted: the local model server was stopped")
        return 130


async def _run(args: argparse.Namespace, model: Any, console: Console) -> int:
    from lmteams.runtime.cli.demo import _summary, _table

    graph = TaskGraph.from_dict(tiny_graph_spec(), source="the tiny suite")
    team = await _team(args, model, graph, args.agents, Topology(args.topology))
    single = None
    if not args.no_baseline and team.status.value == "completed":
        single = await _team(args, model, graph, 1, Topology.SINGLE)
        team = team.with_baseline(single)
    if args.json:
        print(json.dumps({"team": team.model_dump(mode="json"), "single": single and single.model_dump(mode="json")}))
    else:
        console.print(_table(team, single))
        console.print(_summary(team))
    return 0 if team.status.value == "completed" else 1


async def _team(args: argparse.Namespace, model: Any, graph: TaskGraph, agents: int, topology: Topology) -> RunReport:
    team_kwargs: dict[str, Any] = {"work": tiny_work()}
    async with Team(
        size=agents,
        model=model,
        topology=topology,
        transport=args.transport,
        seed=args.seed,
        settings=LOCAL_SETTINGS,
        runs_dir=args.runs_dir,
        **team_kwargs,
    ) as team:
        return await team.run(graph, timeout=1800)
