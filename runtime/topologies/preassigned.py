"""Pre-assigned: the plan is made up front by list scheduling over the task graph.

Each agent works its own list in order, starting a task as soon as its
dependencies are committed done. The plan is only a plan: claims still go
through the log, and a ready task left unclaimed for ``adopt_after`` (its
agent crashed or is stuck) is adopted by whichever agent is free.
"""

from __future__ import annotations

import time

from lmteams.runtime.agent import Agent
from lmteams.runtime.topologies.common import end_if_finished, try_backup


async def run_preassigned(agent: Agent, plan: list[str]) -> None:
    ctx = agent.ctx
    queue = list(plan)
    ready_since: dict[str, float] = {}
    while not ctx.ended.is_set():
        view = await ctx.read_view(agent.client)
        if end_if_finished(agent, view):
            return
        settled = view.done | view.blocked()
        queue = [t for t in queue if t not in settled]
        ready = view.ready()
        now = time.monotonic()
        for t in ready:
            ready_since.setdefault(t, now)
        if queue and queue[0] in ready:
            await agent.attempt(queue[0])
            continue
        orphan = next((t for t in ready if now - ready_since[t] >= ctx.settings.adopt_after), None)
        if orphan is not None:
            ctx.events.emit("adopt", task=orphan, agent=agent.id)
            await agent.attempt(orphan)
            continue
        if await try_backup(agent, view) is not None:
            continue
        await agent.wakeups.wait(ctx.settings.poll_s)
