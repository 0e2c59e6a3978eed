"""Rounds: the lock-step baseline, as the paper's reference harness ran its teams.

Time moves in synchronous rounds. At the start of a round the ready tasks
(committed state) are dealt to the agents, the most urgent first and one
each, in agent order, so a chain stays on the first agent; every agent with
a task calls the model and works it; the round ends when the slowest has
answered. Nobody starts the next task early, however idle, and there are no
speculative backups, so one heavy-tailed call holds up the whole team: that
is what event-driven scheduling and backups recover, and this topology
exists to measure it.

The topology uses one call of the agent API, ``await agent.attempt(task)``.
A crashed agent never reaches the barrier, so it stalls the team, as it
would have stalled the paper's harness.
"""

from __future__ import annotations

import anyio

from lmteams.runtime.agent import Agent
from lmteams.runtime.topologies.common import end_if_finished


class LockStep:
    """The barrier that ends a round: the last agent to arrive deals the next round's tasks."""

    def __init__(self, agents: list[str]) -> None:
        self.agents = list(agents)
        self.round = 0
        self.finished = False
        self._arrived: set[str] = set()
        self._deal: dict[str, str] = {}
        self._next = anyio.Event()

    async def run(self, agent: Agent) -> None:
        """The loop of one agent: meet the others, then work the task dealt to it, if any."""
        while not agent.ctx.ended.is_set() and not self.finished:
            task = await self.meet(agent)
            if task is not None:
                await agent.attempt(task)

    async def meet(self, agent: Agent) -> str | None:
        """Wait until every agent has ended this round; return ``agent``'s task in the next one (None: idle)."""
        self._arrived.add(agent.id)  # a set: an agent that re-enters after a consensus error counts once
        event = self._next
        if self._arrived >= set(self.agents):
            await self._deal_round(agent)
            self._arrived = set()
            self._next = anyio.Event()
            event.set()
        else:
            await event.wait()
        return None if self.finished else self._deal.get(agent.id)

    async def _deal_round(self, agent: Agent) -> None:
        ctx = agent.ctx
        view = await ctx.read_view(agent.client)
        if end_if_finished(agent, view):
            self.finished = True
            return
        ready = view.ready()
        self.round += 1
        self._deal = dict(zip(self.agents, ready))
        ctx.events.emit("round", round=self.round, deal=self._deal, ready=len(ready))


__all__ = ["LockStep"]
