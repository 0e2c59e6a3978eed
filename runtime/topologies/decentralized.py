"""Decentralized: every agent self-claims the most urgent ready task by compare-and-set on the log.

Agents race; the log decides. A loser's claim is rejected (counted as a
conflict) and it simply looks again. Tasks start the moment their last
dependency's completion is committed: the completing agent's ``Done`` message
wakes everyone, and a timer re-reads committed state in case one is lost.
"""

from __future__ import annotations

from lmteams.runtime.agent import Agent
from lmteams.runtime.topologies.common import end_if_finished, try_backup


async def run_decentralized(agent: Agent) -> None:
    ctx = agent.ctx
    while not ctx.ended.is_set():
        view = await ctx.read_view(agent.client)
        if end_if_finished(agent, view):
            return
        ready = view.ready()
        if ready:
            await agent.attempt(ready[0])
            continue
        if await try_backup(agent, view) is not None:
            continue
        await agent.wakeups.wait(ctx.settings.poll_s)
