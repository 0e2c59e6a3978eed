"""An agent: an anyio task with a mailbox that works tasks through the consensus gate.

One attempt at a task, in the order the gate demands:

1. claim the task (committed);
2. lock its files (committed), which gives fencing tokens;
3. call the model (through retry, timeout, circuit breaker and budget);
4. write the files, which the workspace refuses for a stale token;
5. run the task's tests, feeding failures back to the model within limits;
6. complete the task (committed), then release the locks.

A speculative backup of a straggler calls the model first, and only then
takes the claim and the locks over (``preempt``), so the first attempt to
finish wins: if the straggler completes first the takeover is refused; if
the takeover commits first the straggler's completion is refused and its
late writes are fenced off. Either way one completion is committed.

Subclass ``Agent`` and override ``build_messages`` (what the model is
asked) or ``check_reply`` (what a reply must satisfy) to make a custom one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import anyio
import structlog

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
)
from lmteams.runtime.errors import BudgetExceeded, ModelError
from lmteams.runtime.graph import Task
from lmteams.runtime.messaging import Mailbox, MessageKind
from lmteams.runtime.models.base import Completion, Message, Model
from lmteams.runtime.report import RunStatus
from lmteams.runtime.resilience import complete_structured
from lmteams.runtime.run_state import RunContext
from lmteams.runtime.suites import TASK_ID_PREFIX, TESTS_FAILED_MARKER, FileReply
from lmteams.runtime.testrunner import run_tests
from lmteams.runtime.workspace import StaleToken

log = structlog.get_logger(__name__)

SYSTEM_PROMPT = (
    "You are a software engineer on a team. Write exactly the files the task names. "
    'Reply with JSON only: {"files": [{"path": "...", "content": "..."}], "notes": "..."}.'
)


class Outcome(StrEnum):
    DONE = "done"
    """This attempt's completion was committed."""
    LOST = "lost"
    """Someone else holds or finished the task (claim taken, lock held, preempted, fenced)."""
    FAILED = "failed"
    """The model or the tests failed; the task was released for another attempt."""
    STOPPED = "stopped"
    """The run ended (budget spent) before the attempt could finish."""


class _Lost(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class _Failed(Exception):
    pass


class Agent:
    """One team member. ``client`` reaches consensus; ``mailbox`` reaches the other agents."""

    def __init__(self, agent_id: str, ctx: RunContext, client: Any, mailbox: Mailbox, model: Model) -> None:
        self.id = agent_id
        self.ctx = ctx
        self.client = client
        self.mailbox = mailbox
        self.model = model
        self.log = log.bind(agent=agent_id, run=ctx.run_id)
        self.notify: Callable[[MessageKind, str], Awaitable[None]] = mailbox.broadcast
        """Who hears of a finished attempt: everyone by default; a topology may narrow it."""

    # -- what the model is asked: override these for a custom agent -----------------------

    def build_messages(self, task: Task, context: dict[str, str]) -> list[Message]:
        """The conversation for ``task``; ``context`` holds its dependencies' files."""
        lines = [
            f"{TASK_ID_PREFIX} {task.id}",
            f"Title: {task.title}",
            f"Files to write: {', '.join(task.files)}",
            "",
            task.description,
        ]
        for path, content in sorted(context.items()):
            lines += ["", f"--- {path} (already written by a dependency) ---", content]
        return [Message(role="system", content=SYSTEM_PROMPT), Message(role="user", content="\n".join(lines))]

    def check_reply(self, task: Task, reply: FileReply) -> str | None:
        """What is wrong with a parsed reply, or None. Default: it must write exactly the task's files."""
        written = sorted(f.path for f in reply.files)
        if written != sorted(task.files):
            return f"the reply wrote {written}, but this task writes exactly {sorted(task.files)}"
        return None

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
            if backup:  # speculate first; take over only with a finished answer in hand
                conversation, reply = await self._ask(task, self.build_messages(task, self._context(task)))
            if ctx.settings.gate:
                await self._claim(task, preempt=backup)
                claimed = True
                await self._lock(task, tokens, preempt=backup)
            if not backup:
                conversation, reply = await self._ask(task, self.build_messages(task, self._context(task)))
            await self._write_and_verify(task, conversation, reply, tokens)
            await self._complete(task, started, backup)
            claimed = False
            ctx.events.emit(
                "complete", task=task_id, agent=self.id, backup=backup, s=round(time.monotonic() - started, 4)
            )
            await self.notify(MessageKind.DONE, task_id)
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
            await self.notify(MessageKind.FAILED, task_id)
            return Outcome.FAILED
        except anyio.get_cancelled_exc_class():
            crashed = True  # a crash releases nothing: the leases run out, as for a dead process
            raise
        finally:
            ctx.workspace.end_session(self.id, task.files)
            if not crashed:
                with anyio.CancelScope(shield=True):
                    await self._release(task, tokens, claimed)
            ctx.agent_busy(self.id, time.monotonic() - started)

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
        for path in sorted(task.files):  # one global order: no two agents wait on each other
            result = await self.client.submit(
                AcquireLock(
                    resource=self.ctx.file_key(path), agent=self.id, lease_s=self.ctx.settings.lease_s, preempt=preempt
                )
            )
            if isinstance(result, Rejected):
                raise _Lost(result.reason.value, result.detail)
            tokens[path] = int(result.value["token"])
            self.ctx.events.emit("lock", task=task.id, agent=self.id, file=path, token=tokens[path])

    async def _ask(self, task: Task, messages: list[Message]) -> tuple[list[Message], FileReply]:
        """Call the model until a reply parses and passes ``check_reply``."""
        conversation = list(messages)
        for _ in range(self.ctx.settings.parse_repairs + 1):
            reply = await self._call_structured(task, conversation)
            problem = self.check_reply(task, reply)
            if problem is None:
                return conversation, reply
            self.ctx.metrics.parse_repairs += 1
            conversation += [
                Message(role="assistant", content=reply.model_dump_json()),
                Message(role="user", content=f"That reply cannot be used: {problem}. Reply again."),
            ]
        raise _Failed(f"the model's replies for task {task.id!r} never passed the check: {problem}")

    async def _call_structured(self, task: Task, conversation: list[Message]) -> FileReply:
        ctx = self.ctx

        async def call(messages: list[Message]) -> Completion:
            completion = await self.model.complete(messages)
            ctx.metrics.model_calls += 1
            ctx.metrics.tokens_in += completion.usage.prompt_tokens
            ctx.metrics.tokens_out += completion.usage.completion_tokens
            ctx.metrics.cost_usd += completion.cost_usd
            ctx.events.emit(
                "model_call",
                task=task.id,
                agent=self.id,
                model=completion.model or self.model.name,
                tokens_in=completion.usage.prompt_tokens,
                tokens_out=completion.usage.completion_tokens,
                latency_s=round(completion.latency_s, 4),
            )
            return completion

        try:
            reply, _ = await complete_structured(
                call,
                conversation,
                FileReply,
                max_repairs=ctx.settings.parse_repairs,
                on_event=ctx.events.sink(agent=self.id),
            )
            return reply
        except ModelError as exc:
            raise _Failed(f"model call for task {task.id!r} failed: {type(exc).__name__}: {exc}") from None

    async def _write_and_verify(
        self, task: Task, conversation: list[Message], reply: FileReply, tokens: dict[str, int]
    ) -> None:
        ctx = self.ctx
        for repair in range(ctx.settings.test_repairs + 1):
            for f in reply.files:
                try:
                    await ctx.workspace.write(f.path, f.content, token=tokens.get(f.path, 0), agent=self.id)
                except StaleToken as exc:
                    raise _Lost("stale_token", str(exc)) from None
                ctx.events.emit("write", task=task.id, agent=self.id, file=f.path, token=tokens.get(f.path, 0))
            if not task.tests:
                return
            outcome = await run_tests(ctx.workspace.root, task.tests, timeout=ctx.settings.test_timeout_s)
            ctx.metrics.tests_passed += outcome.passed
            ctx.metrics.tests_failed += outcome.failed
            ctx.events.emit("tests", task=task.id, agent=self.id, passed=outcome.passed, failed=outcome.failed)
            if outcome.ok:
                return
            if repair == ctx.settings.test_repairs:
                break
            failures = "\n".join(f"{f.test}: {f.error}" for f in outcome.failures[:10]) or "(timed out)"
            conversation = conversation + [
                Message(role="assistant", content=reply.model_dump_json()),
                Message(role="user", content=f"{TESTS_FAILED_MARKER}:\n{failures}\nFix the files and reply again."),
            ]
            conversation, reply = await self._ask(task, conversation)
        raise _Failed(f"the tests of task {task.id!r} still fail after {ctx.settings.test_repairs} repairs")

    async def _complete(self, task: Task, started: float, backup: bool) -> None:
        ctx = self.ctx
        result: dict[str, Any] = dict(agent=self.id, duration_s=round(time.monotonic() - started, 6), backup=backup)
        if not ctx.settings.gate:  # the ablation claims only now, after acting, just to record the result
            await self._claim(task, preempt=False)
        done = await self.client.submit(CompleteTask(task=ctx.task_key(task.id), agent=self.id, result=result))
        if isinstance(done, Rejected):
            raise _Lost(done.reason.value, done.detail)
        ctx.metrics.completions[task.id] += 1

    async def _release(self, task: Task, tokens: dict[str, int], claimed: bool) -> None:
        """Best effort: a lock or claim not released here simply runs out its lease."""
        try:
            for path, token in tokens.items():
                await self.client.submit(ReleaseLock(resource=self.ctx.file_key(path), agent=self.id, token=token))
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

    # -- context ------------------------------------------------------------------------------

    def _context(self, task: Task) -> dict[str, str]:
        """The files of the task's transitive dependencies, as the workspace holds them now."""
        graph, seen, stack, files = self.ctx.graph, set(), list(task.dependencies), {}
        while stack:
            dep = stack.pop()
            if dep in seen:
                continue
            seen.add(dep)
            stack.extend(graph.task(dep).dependencies)
            for path in graph.task(dep).files:
                content = self.ctx.workspace.read(path)
                if content is not None:
                    files[path] = content
        return files
