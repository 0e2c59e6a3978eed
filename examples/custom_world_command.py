"""A custom world-state command: a team journal, replicated through Raft like every other command.

Every replica registers the same handler, ``journal``, which appends an
entry stamped with committed time and refuses a second entry for the same
task. Agents submit it after each completed task; the handler runs on
every replica, so they all hold the same journal.

    python examples/custom_world_command.py
"""

from __future__ import annotations

import sys
from typing import Any

import anyio

from lmteams import Latency, SimulatedModel, Task, TaskGraph, Team, WorldState
from lmteams.consensus.world import Custom, CustomContext, Get, reject
from lmteams.runtime.logging import configure
from lmteams.runtime.suites import coding_suite, make_responder
from lmteams.runtime.work import WorkContext
from lmteams.runtime.work.coding import CodingWork


def journal(world: CustomContext, args: Any) -> Any:
    """Append ``{task, agent, at}`` to the journal; a task is journalled once."""
    entries = world.get("journal") or []
    if any(e["task"] == args["task"] for e in entries):
        return reject(f"task {args['task']!r} is already in the journal")
    entries.append({"task": args["task"], "agent": args["agent"], "at": world.now})
    world.put("journal", entries)
    return len(entries)


def make_world() -> WorldState:
    return WorldState(custom={"journal": journal})


coding = CodingWork()


async def journalled(task: Task, ctx: WorkContext) -> Any:
    """The coding work, then a journal entry (a replay by a backup is refused by the handler)."""
    result = await coding(task, ctx)
    await ctx.world.submit(Custom(name="journal", args={"task": task.id, "agent": ctx.agent_id}))
    return result


async def main(agents: int = 3) -> int:
    configure("warning")
    suite = coding_suite()
    graph = TaskGraph.from_file(suite.graph_path)
    model = SimulatedModel(seed=3, latency=Latency(median_s=0.02), responder=make_responder(suite, seed=3))
    async with Team(size=agents, model=model, work=journalled, world=make_world, seed=3, runs_dir=None) as team:
        report = await team.run(graph, timeout=120)
        entries = (await team.cluster.client().query(Get(key="journal"))).value  # type: ignore[union-attr]
        with anyio.move_on_after(5):  # followers apply a heartbeat or so after the leader
            while not all(m.kv.get("journal") == entries for m in team.cluster.machines.values()):  # type: ignore[union-attr]
                await anyio.sleep(0.01)
        replicas = {n: m.kv.get("journal") for n, m in team.cluster.machines.items()}  # type: ignore[union-attr]
    same = all(v == entries for v in replicas.values())
    print(
        f"{report.status.value}: {len(entries)} journal entries for {report.tasks_total} tasks;"
        f" identical on all {len(replicas)} replicas: {same}"
    )
    for e in entries[:3]:
        print(f"  {e['task']:<12} by {e['agent']} at committed time {e['at']:.3f}")
    return 0 if report.status.value == "completed" and len(entries) == report.tasks_total and same else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 3))
