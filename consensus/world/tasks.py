"""Tasks: claim, renew, release and complete, with leases in committed time.

A task exists from its first claim. Its claim is *live* while committed
time is before ``lease_until`` (a claim with no lease stays live until
released or completed). The rules:

- claim: succeeds if nobody holds a live claim, or ``agent`` itself holds
  one (the lease is refreshed), or it preempts (a backup taking over);
  never after completion;
- renew, release, complete: only by the agent with the live claim. An
  agent whose own lease ran out gets ``lease_expired`` (claim again);
  one whose claim was taken over gets ``not_owner``;
- complete happens once and keeps the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import JsonValue

from lmteams.consensus.world.commands import (
    ClaimTask,
    CompleteTask,
    ListTasks,
    ReleaseTask,
    RenewClaim,
    TaskStatusQuery,
)
from lmteams.consensus.world.results import Applied, Rejected, RejectReason
from lmteams.consensus.world.values import detached
from lmteams.consensus.world.views import TaskStatus, TaskView


@dataclass(slots=True)
class TaskRecord:
    owner: str | None = None
    lease_until: float | None = None
    completed: bool = False
    result: JsonValue = None

    def status(self, now: float) -> TaskStatus:
        if self.completed:
            return TaskStatus.COMPLETED
        if self.owner is None:
            return TaskStatus.OPEN
        if self.lease_until is not None and now >= self.lease_until:
            return TaskStatus.EXPIRED
        return TaskStatus.CLAIMED


class TaskTable:
    def __init__(self, records: dict[str, TaskRecord] | None = None) -> None:
        self.records: dict[str, TaskRecord] = dict(records or {})

    # -- commands -----------------------------------------------------------

    def claim(self, cmd: ClaimTask, now: float) -> Applied | Rejected:
        rec = self.records.get(cmd.task)
        if rec is not None:
            if rec.completed:
                return _rejected(RejectReason.ALREADY_COMPLETED, f"task {cmd.task!r} was completed by {rec.owner!r}")
            if rec.status(now) is TaskStatus.CLAIMED and rec.owner != cmd.agent and not cmd.preempt:
                return _rejected(
                    RejectReason.CLAIM_TAKEN,
                    f"task {cmd.task!r} is claimed by {rec.owner!r}{_until(rec.lease_until)}",
                )
        else:
            rec = self.records[cmd.task] = TaskRecord()
        rec.owner = cmd.agent
        rec.lease_until = None if cmd.lease_s is None else now + cmd.lease_s
        return self._applied(cmd.task, now)

    def renew(self, cmd: RenewClaim, now: float) -> Applied | Rejected:
        refused = self._not_held(cmd.task, cmd.agent, now)
        if refused:
            return refused
        self.records[cmd.task].lease_until = now + cmd.lease_s
        return self._applied(cmd.task, now)

    def release(self, cmd: ReleaseTask, now: float) -> Applied | Rejected:
        refused = self._not_held(cmd.task, cmd.agent, now)
        if refused:
            return refused
        rec = self.records[cmd.task]
        rec.owner = None
        rec.lease_until = None
        return self._applied(cmd.task, now)

    def complete(self, cmd: CompleteTask, now: float) -> Applied | Rejected:
        refused = self._not_held(cmd.task, cmd.agent, now)
        if refused:
            return refused
        rec = self.records[cmd.task]
        rec.completed = True
        rec.lease_until = None
        rec.result = detached(cmd.result)
        return self._applied(cmd.task, now)

    # -- reads --------------------------------------------------------------

    def status(self, cmd: TaskStatusQuery, now: float) -> Applied:
        if cmd.task not in self.records:
            return Applied(value=None)
        return Applied(value=self.view(cmd.task, now).model_dump(mode="json"))

    def list(self, cmd: ListTasks, now: float) -> Applied:
        views = [self.view(task, now) for task in sorted(self.records)]
        return Applied(value=[v.model_dump(mode="json") for v in views if cmd.status in (None, v.status)])

    def view(self, task: str, now: float) -> TaskView:
        rec = self.records[task]
        return TaskView(
            task=task,
            status=rec.status(now),
            owner=rec.owner,
            lease_until=rec.lease_until,
            result=detached(rec.result),
        )

    # -- helpers ------------------------------------------------------------

    def _not_held(self, task: str, agent: str, now: float) -> Rejected | None:
        """Why ``agent`` does not hold a live claim on ``task``, or None if it does."""
        rec = self.records.get(task)
        if rec is None:
            return _rejected(RejectReason.UNKNOWN_TASK, f"task {task!r} has never been claimed")
        if rec.completed:
            return _rejected(RejectReason.ALREADY_COMPLETED, f"task {task!r} was completed by {rec.owner!r}")
        if rec.owner is None:
            return _rejected(RejectReason.NOT_CLAIMED, f"task {task!r} is not claimed by anyone (it was released)")
        status = rec.status(now)
        if rec.owner != agent:
            lapsed = " (that claim has expired too)" if status is TaskStatus.EXPIRED else ""
            return _rejected(
                RejectReason.NOT_OWNER,
                f"task {task!r} is claimed by {rec.owner!r}, not {agent!r}{lapsed}; claim it first",
            )
        if status is TaskStatus.EXPIRED:
            return _rejected(
                RejectReason.LEASE_EXPIRED,
                f"{agent!r}'s claim on task {task!r} expired at {rec.lease_until} (committed time is now {now});"
                " claim it again",
            )
        return None

    def _applied(self, task: str, now: float) -> Applied:
        return Applied(value=self.view(task, now).model_dump(mode="json"))


def _rejected(reason: RejectReason, detail: str) -> Rejected:
    return Rejected(reason=reason, detail=detail)


def _until(lease_until: float | None) -> str:
    return " with no lease" if lease_until is None else f" until {lease_until}"
