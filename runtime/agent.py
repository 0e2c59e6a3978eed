"""An agent: an anyio task that works tasks through the consensus gate.

One attempt at a task, in the order the gate demands:

1. claim the task (committed);
2. lock its resources (committed), in one global order, which gives fencing tokens;
3. perform: the task's work function (user code) runs, while a heartbeat
   renews the claim and the locks; if a renewal is refused (the lease ran
   out, or a backup took the task over) the work is cancelled;
4. complete the task with the work's result (committed);
5. release the locks (and the claim, if the attempt did not complete).

A speculative backup of a straggler takes the claim and the locks over
(``preempt``) and then performs: from that entry on the straggler can no
longer complete, and its late writes carry a stale token, which a guarded
resource refuses. Either way one completion is committed.

The gate knows nothing of the work: the coding kind (files and tests) and
any other live in ``lmteams.runtime.work``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import anyio
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from lmteams.consensus import ConsensusError
from lmteams.consensus.world import (
    AcquireLock,
    Applied,
    Cas,
    ClaimTask,
    CompleteTask,
    Get,
    Rejected,
    ReleaseLock,
    ReleaseTask,
    RenewClaim,
    RenewLock,
    TaskStatusQuery,
)
from lmteams.runtime.errors import BudgetExceeded, ModelError
from lmteams.runtime.graph import Task
from lmteams.runtime.identity import AgentId
from lmteams.runtime.messaging import Inbox, Messenger
from lmteams.runtime.models.base import Completion, Model
from lmteams.runtime.report import RunStatus
from lmteams.runtime.run_state import RunContext
from lmteams.runtime.work.context import MeteredModel, WorkContext, WorkEvents, WorkFailed, WorkFn, World
from lmteams.runtime.work.fence import StaleToken

log = structlog.get_logger(__name__)

TASKS_TOPIC = "tasks"
"""Where an agent publishes that an attempt finished."""


class Done(BaseModel):
    """A task's completion was committed; waiting agents re-check what is ready."""

    model_config = ConfigDict(frozen=True)
    task: str


class Failed(BaseModel):
    """An attempt at a task failed; the task is open again (or failed for good)."""

    model_config = ConfigDict(frozen=True)
    task: str


class Outcome(StrEnum):
    DONE = "done"
    """This attempt's completion was committed."""
    LOST = "lost"
    """Someone else holds or finished the task (claim taken, lock held, preempted, fenced, lease lost)."""
    FAILED = "failed"
    """The work failed; the task was released for another attempt."""
    STOPPED = "stopped"
    """The run ended (budget spent) before the attempt could finish."""


class _Lost(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class _Failed(Exception):
    pass


class Member:
    """A team member on the run's committed state and agent network: a worker or an orchestrator."""

    def __init__(self, ident: AgentId, ctx: RunContext, client: Any, messenger: Messenger) -> None:
        self.ident = ident
        self.id = ident.name
        self.ctx = ctx
        self.client = client
        self.messenger = messenger
        self.wakeups: Inbox = messenger.listen(Done, Failed)
        """Messages that wake this member's loop; a topology may add its own types to it."""
        self.claims_seen: dict[tuple[str, str], float] = {}
        """(task, owner) -> leader-clock time the claim was first seen live: its age survives renewals."""
        self.log = log.bind(agent=self.id, run=ctx.run_id)


class Agent(Member):
    """A worker: performs tasks with the work function their kind selects, through the gate."""

    def __init__(
        self,
        ident: AgentId,
        ctx: RunContext,
        client: Any,
        messenger: Messenger,
        model: Model,
        work_for: Callable[[Task], WorkFn],
    ) -> None:
        super().__init__(ident, ctx, client, messenger)
        self.model = model
        self.work_for = work_for
        self.notify: Callable[[BaseModel], Awaitable[None]] = lambda m: messenger.publish(TASKS_TOPIC, m)
        """Who hears of a finished attempt: everyone by default; a topology may narrow it."""

    # -- one attempt ----------------------------------------------------------------------

    async def attempt(self, task_id: str, *, backup: bool = False) -> Outcome:
        """Work ``task_id`` once through the gate; never raises for a task's own failure."""
        ctx, task = self.ctx, self.ctx.graph.task(task_id)
        ctx.metrics.attempts += 1
        ctx.metrics.backups += backup
        started = time.monotonic()
        tokens: dict[str, int] = {}
        claimed = crashed = False
        try:
            if ctx.settings.gate:
                await self._claim(task, preempt=backup)
                claimed = True
                await self._lock(task, tokens, preempt=backup)
            result = await self._perform(task, tokens, backup)
            await self._complete(task, started, backup, result)
            claimed = False
            ctx.events.emit(
                "complete", task=task_id, agent=self.id, backup=backup, s=round(time.monotonic() - started, 4)
            )
            await self.notify(Done(task=task_id))
            return Outcome.DONE
        except _Lost as lost:
            ctx.metrics.conflicts[lost.reason] += 1
            ctx.events.emit(
                "conflict", task=task_id, agent=self.id, reason=lost.reason, detail=lost.detail, backup=backup
            )
            return Outcome.LOST
        except BudgetExceeded as exc:
            ctx.end(RunStatus.BUDGET_EXCEEDED, str(exc))
            return Outcome.STOPPED
        except _Failed as exc:
            ctx.events.emit("attempt_failed", task=task_id, agent=self.id, error=str(exc), backup=backup)
            if claimed:
                await self._record_failure(task_id, str(exc))
            await self.notify(Failed(task=task_id))
            return Outcome.FAILED
        except anyio.get_cancelled_exc_class():
            crashed = True  # a crash releases nothing: the leases run out, as for a dead process
            raise
        finally:
            if not crashed:
                with anyio.CancelScope(shield=True):
                    await self._release(task, tokens, claimed)
            ctx.agent_busy(self.id, time.monotonic() - started)

    # -- perform: the work function, under a heartbeat ----------------------------------------

    async def _perform(self, task: Task, tokens: dict[str, int], backup: bool) -> Any:
        work = self.work_for(task)
        wctx = await self._work_context(task, tokens, backup)
        lost: list[_Lost] = []
        error: Exception | None = None
        result: Any = None
        async with anyio.create_task_group() as tg:
            if self.ctx.settings.gate:
                tg.start_soon(self._heartbeat, task, tokens, lost, tg.cancel_scope)
            try:
                result = await work(task, wctx)
            except Exception as exc:  # user code: its failure is the attempt's, never the agent's
                error = exc
            tg.cancel_scope.cancel()
        if lost:
            raise lost[0]
        if error is None:
            return result
        if isinstance(error, StaleToken):
            raise _Lost("stale_token", str(error)) from None
        if isinstance(error, BudgetExceeded):
            raise error
        if isinstance(error, WorkFailed):
            raise _Failed(str(error)) from None
        if isinstance(error, ModelError):
            raise _Failed(f"model call for task {task.id!r} failed: {type(error).__name__}: {error}") from None
        raise _Failed(f"the work of task {task.id!r} raised {type(error).__name__}: {error}") from None

    async def _heartbeat(self, task: Task, tokens: dict[str, int], lost: list[_Lost], scope: anyio.CancelScope) -> None:
        """Renew the claim and the locks every third of a lease; a refusal cancels the work."""
        s, ctx = self.ctx.settings, self.ctx
        while True:
            await anyio.sleep(s.lease_s / 3)
            try:
                commands: list[Any] = [RenewClaim(task=ctx.task_key(task.id), agent=self.id, lease_s=s.lease_s)]
                commands += [
                    RenewLock(resource=ctx.lock_key(r), agent=self.id, token=t, lease_s=s.lease_s)
                    for r, t in tokens.items()
                ]
                for command in commands:
                    result = await self.client.submit(command)
                    if isinstance(result, Rejected):
                        ctx.events.emit("heartbeat_lost", task=task.id, agent=self.id, reason=result.reason.value)
                        lost.append(_Lost(result.reason.value, result.detail))
                        scope.cancel()
                        return
            except ConsensusError as exc:  # no leader for a moment: the lease has two more thirds
                ctx.events.emit("heartbeat_failed", task=task.id, agent=self.id, error=str(exc))
                continue
            ctx.events.emit("heartbeat", task=task.id, agent=self.id)

    async def _work_context(self, task: Task, tokens: dict[str, int], backup: bool) -> WorkContext:
        ctx = self.ctx
        events = WorkEvents(ctx.events, ctx.metrics.counters, task=task.id, agent=self.id)
        return WorkContext(
            task=task,
            agent_id=self.id,
            inputs=await self._inputs(task),
            model=MeteredModel(self.model, events, self._meter),
            world=World(self.client, ctx.user_prefix),
            events=events,
            settings=ctx.settings,
            graph=ctx.graph,
            workdir=ctx.workdir,
            run_id=ctx.run_id,
            backup=backup,
            tokens=tokens,
            messenger=self.messenger,
            lock_key=ctx.lock_key,
        )

    async def _inputs(self, task: Task) -> dict[str, Any]:
        """The committed results of the task's dependencies (each committed before this task was ready)."""
        inputs: dict[str, Any] = {}
        for dep in task.dependencies:
            view = await self.client.query(TaskStatusQuery(task=self.ctx.task_key(dep)))
            value = view.value if isinstance(view, Applied) else None
            result = value.get("result") if isinstance(value, dict) else None
            inputs[dep] = result.get("value") if isinstance(result, dict) else None
        return inputs

    def _meter(self, completion: Completion) -> None:
        m = self.ctx.metrics
        m.model_calls += 1
        m.tokens_in += completion.usage.prompt_tokens
        m.tokens_out += completion.usage.completion_tokens
        m.cost_usd += completion.cost_usd

    # -- the gate's steps -------------------------------------------------------------------

    async def _claim(self, task: Task, *, preempt: bool) -> None:
        result = await self.client.submit(
            ClaimTask(
                task=self.ctx.task_key(task.id), agent=self.id, lease_s=self.ctx.settings.lease_s, preempt=preempt
            )
        )
        if isinstance(result, Rejected):
            raise _Lost(result.reason.value, result.detail)
        self.ctx.events.emit("claim", task=task.id, agent=self.id, preempt=preempt)

    async def _lock(self, task: Task, tokens: dict[str, int], *, preempt: bool) -> None:
        """Fill ``tokens`` as locks are taken, so a partial set is still released."""
        for resource in task.locks:  # one global order: no two agents wait on each other
            result = await self.client.submit(
                AcquireLock(
                    resource=self.ctx.lock_key(resource),
                    agent=self.id,
                    lease_s=self.ctx.settings.lease_s,
                    preempt=preempt,
                )
            )
            if isinstance(result, Rejected):
                raise _Lost(result.reason.value, result.detail)
            tokens[resource] = int(result.value["token"])
            self.ctx.events.emit("lock", task=task.id, agent=self.id, resource=resource, token=tokens[resource])

    async def _complete(self, task: Task, started: float, backup: bool, value: Any) -> None:
        ctx = self.ctx
        result = {
            "value": value,
            "agent": self.id,
            "duration_s": round(time.monotonic() - started, 6),
            "backup": backup,
        }
        if not ctx.settings.gate:  # the ablation claims only now, after acting, just to record the result
            await self._claim(task, preempt=False)
        try:
            command = CompleteTask(task=ctx.task_key(task.id), agent=self.id, result=result)
        except ValidationError:
            raise _Failed(
                f"the work of task {task.id!r} returned {type(value).__name__} {value!r:.200}, which is not JSON:"
                " return dicts, lists, strings, numbers, booleans or None (model.model_dump(mode='json'))"
            ) from None
        done = await self.client.submit(command)
        if isinstance(done, Rejected):
            raise _Lost(done.reason.value, done.detail)
        ctx.metrics.completions[task.id] += 1

    async def _release(self, task: Task, tokens: dict[str, int], claimed: bool) -> None:
        """Best effort: a lock or claim not released here simply runs out its lease."""
        try:
            for resource, token in tokens.items():
                await self.client.submit(ReleaseLock(resource=self.ctx.lock_key(resource), agent=self.id, token=token))
            if claimed:
                await self.client.submit(ReleaseTask(task=self.ctx.task_key(task.id), agent=self.id))
        except Exception as exc:  # the run goes on; leases clean up
            self.log.info("agent.release_failed", task=task.id, error=str(exc))

    async def _record_failure(self, task_id: str, error: str) -> None:
        """Count a failed attempt in the world; at the limit, mark the task failed for good."""
        ctx, key = self.ctx, self.ctx.attempts_key(task_id)
        while True:
            current = (await self.client.query(Get(key=key))).value or 0
            if isinstance(await self.client.submit(Cas(key=key, expected=current or None, new=current + 1)), Applied):
                break
        if current + 1 >= ctx.settings.max_task_attempts:
            while True:
                failed = (await self.client.query(Get(key=ctx.failed_key))).value or {}
                new = {**failed, task_id: error[:500]}
                if isinstance(
                    await self.client.submit(Cas(key=ctx.failed_key, expected=failed or None, new=new)), Applied
                ):
                    break
            ctx.events.emit("task_failed", task=task_id, agent=self.id, error=error)
