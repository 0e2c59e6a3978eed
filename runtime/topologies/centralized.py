"""Centralized: one orchestrator assigns tasks, and it runs on whichever node leads Raft.

Every agent hosted on a consensus node runs an orchestrator loop that is
active only while its node is the Raft leader. Assignments are committed
(one compare-and-set map in the world state) before the ``Assign`` message is
sent, so when the leader's node dies the next leader's orchestrator resumes
from committed state: finished tasks stay finished, claimed ones run on,
and an assignment nobody claimed within ``adopt_after`` goes to another
worker, whose first one is then suspected of being gone.

Workers do what they are told, and also read their committed assignments
on a timer, so a lost ASSIGN message costs latency, not progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from lmteams.consensus.world import Applied, Cas, TaskStatus
from lmteams.runtime.agent import Agent, Member, Outcome
from lmteams.runtime.topologies.common import end_if_finished, reserve_backup, straggler


class Assign(BaseModel):
    """Orchestrator to worker: do this task (the assignment is already committed)."""

    model_config = ConfigDict(frozen=True)
    task: str


class Backup(BaseModel):
    """Orchestrator to worker: start a speculative backup of this straggling task."""

    model_config = ConfigDict(frozen=True)
    task: str


async def run_worker(agent: Agent, orchestrator: Callable[[], str | None]) -> None:
    ctx = agent.ctx
    agent.messenger.listen(Assign, Backup, inbox=agent.wakeups)

    async def tell_orchestrator(message: BaseModel) -> None:
        target = orchestrator()
        if target is not None:
            await agent.messenger.send(target, message)

    agent.notify = tell_orchestrator
    settled: set[str] = set()  # done or taken by another: a late Assign for these is stale
    while not ctx.ended.is_set():
        received = await agent.wakeups.wait(ctx.settings.poll_s)
        work = [
            (m.message.task, isinstance(m.message, Backup))
            for m in received
            if isinstance(m.message, Assign | Backup) and m.message.task not in settled
        ]
        if not work:
            # The assignment is committed before its Assign is sent: a lost message costs a poll.
            view = await ctx.read_view(agent.client, assignments=True)
            if end_if_finished(agent, view):
                return
            work = [(t, False) for t in view.ready() if (view.assignments.get(t) or {}).get("agent") == agent.id]
        for task, backup in work:
            if ctx.ended.is_set():
                return
            if await agent.attempt(task, backup=backup) in (Outcome.DONE, Outcome.LOST):
                settled.add(task)


async def run_orchestrator(agent: Member, is_leader: Callable[[], bool], workers: list[str]) -> None:
    """``agent`` only orchestrates: it has no model and never attempts a task."""
    inbox = agent.wakeups
    ctx, s = agent.ctx, agent.ctx.settings
    suspects: set[str] = set()
    leading = False
    while not ctx.ended.is_set():
        if not is_leader():
            leading = False
            await inbox.wait(min(s.poll_s, 0.05))
            continue
        if not leading:
            leading = True
            ctx.events.emit("orchestrator_start", agent=agent.id)
        view = await ctx.read_view(agent.client, assignments=True)
        if end_if_finished(agent, view):
            return
        now = time.time()
        claimed_by = {v.owner for v in view.tasks.values() if v.status is TaskStatus.CLAIMED}
        suspects -= claimed_by
        pending: dict[str, str] = {}  # task -> agent, assigned recently and not yet claimed
        for task, a in view.assignments.items():
            if task in view.done or not view.claimable(task):
                continue
            if now - a["at"] < s.adopt_after:
                pending[task] = a["agent"]
            elif a["agent"] not in claimed_by:
                suspects.add(a["agent"])  # it never claimed what it was given
        busy = claimed_by | set(pending.values()) | suspects
        idle = [w for w in workers if w not in busy]
        plan = [(t, idle.pop(0)) for t in view.ready() if t not in pending and idle]
        if plan:
            new = dict(view.assignments)
            for task, worker in plan:
                new[task] = {"agent": worker, "at": now}
            committed = await agent.client.submit(
                Cas(key=ctx.assignments_key, expected=view.assignments or None, new=new)
            )
            if isinstance(committed, Applied):
                for task, worker in plan:
                    ctx.events.emit("assign", task=task, agent=worker, by=agent.id)
                    await agent.messenger.send(worker, Assign(task=task))
            continue
        if idle:
            late = straggler(agent, view)
            if late is not None and await reserve_backup(agent, late):
                await agent.messenger.send(idle[0], Backup(task=late))
                continue
        await inbox.wait(s.poll_s)
