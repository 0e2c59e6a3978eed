"""What every topology's agent loop shares: ending a run, and backing up stragglers."""

from __future__ import annotations

import time

from lmteams.consensus.world import Applied, Cas
from lmteams.runtime.agent import Agent, Member, Outcome
from lmteams.runtime.report import RunStatus
from lmteams.runtime.run_state import CommittedView


def end_if_finished(agent: Member, view: CommittedView) -> bool:
    """End the run when every task is done or blocked by one that failed for good."""
    if not view.finished:
        return False
    if view.failed:
        reasons = "; ".join(f"{task}: {error}" for task, error in sorted(view.failed.items())[:3])
        blocked = len(view.blocked()) - len(view.failed)
        agent.ctx.end(RunStatus.FAILED, f"{len(view.failed)} task(s) failed for good, blocking {blocked}: {reasons}")
    else:
        agent.ctx.end(RunStatus.COMPLETED)
    return True


def straggler(agent: Member, view: CommittedView) -> str | None:
    """A task claimed for longer than ``backup_after`` × the median task time, by another agent."""
    s = agent.ctx.settings
    if s.backup_after is None or not s.gate:
        return None
    median = view.median_duration(s.backup_min_samples)
    if median is None:
        return None
    now = time.time()
    for task in view.graph.topological_order():
        since = view.claimed_since(task, s.lease_s)
        owner = view.tasks[task].owner if since is not None else None
        if since is None or owner is None or owner == agent.id:
            continue
        # A heartbeat moves the lease on, so the claim's age is when it was first seen.
        since = agent.claims_seen.setdefault((task, owner), since)
        if now - since > s.backup_after * median:
            return task
    return None


async def reserve_backup(agent: Member, task: str) -> bool:
    """Commit that ``agent`` backs ``task`` up: at most one backup per task, ever."""
    result = await agent.client.submit(Cas(key=agent.ctx.backup_key(task), expected=None, new=agent.id))
    if isinstance(result, Applied):
        agent.ctx.events.emit("backup_start", task=task, agent=agent.id)
        return True
    return False


async def try_backup(agent: Agent, view: CommittedView) -> Outcome | None:
    task = straggler(agent, view)
    if task is not None and await reserve_backup(agent, task):
        return await agent.attempt(task, backup=True)
    return None
