"""The coding work kind: ask the model for files, write them fenced, run the task's tests, feed failures back.

It is one work function among others (``Team(work={"coding": CodingWork()})``;
a team given no work runs it for every task). Each task's ``files`` are
resources the gate has locked, so every write carries that lock's fencing
token and the run's ``Workspace`` refuses a stale one. The result committed
with the completion names the files written and the tests passed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lmteams.runtime.graph import Task, TaskGraph
from lmteams.runtime.models.base import Completion, Message
from lmteams.runtime.resilience import complete_structured
from lmteams.runtime.suites import TASK_ID_PREFIX, TESTS_FAILED_MARKER, FileReply
from lmteams.runtime.testrunner import install_tests, run_tests
from lmteams.runtime.work.context import WorkContext, WorkFailed
from lmteams.runtime.work.fence import StaleToken
from lmteams.runtime.workspace import Workspace

SYSTEM_PROMPT = (
    "You are a software engineer on a team. Write exactly the files the task names. "
    'Reply with JSON only: {"files": [{"path": "...", "content": "..."}], "notes": "..."}.'
)

ReplyCheck = Callable[[Task, FileReply], "str | None"]
"""What is wrong with a parsed reply, or None; the problem is fed back to the model."""


def writes_exactly_the_task_files(task: Task, reply: FileReply) -> str | None:
    """The default check: a reply must write exactly the task's files."""
    written = sorted(f.path for f in reply.files)
    if written != sorted(task.files):
        return f"the reply wrote {written}, but this task writes exactly {sorted(task.files)}"
    return None


class CodingWork:
    """The coding work function. ``instructions`` extend the system prompt; ``check`` vets each reply."""

    def __init__(self, *, instructions: str = "", check: ReplyCheck | None = None) -> None:
        self.instructions = instructions
        self.check = check
        self._workspaces: dict[Path, Workspace] = {}

    def prepare(self, graph: TaskGraph, workdir: Path) -> None:
        """Before a run: the run's workspace, with every task's acceptance tests (agents never write tests)."""
        self._workspaces[workdir] = Workspace(workdir)
        install_tests(graph, workdir)

    def finish(self, workdir: Path) -> None:
        self._workspaces.pop(workdir, None)

    def workspace(self, workdir: Path, graph: TaskGraph) -> Workspace:
        """The run's workspace; made here, tests and all, when this function is wrapped and was not prepared."""
        if workdir not in self._workspaces:
            self.prepare(graph, workdir)
        return self._workspaces[workdir]

    async def __call__(self, task: Task, ctx: WorkContext) -> dict[str, Any]:
        workspace = self.workspace(ctx.workdir, ctx.graph)
        try:
            conversation = self.build_messages(task, self.context(task, ctx.graph, workspace))
            conversation, reply = await self._ask(task, ctx, conversation)
            return await self._write_and_verify(task, ctx, workspace, conversation, reply)
        finally:
            workspace.end_session(ctx.agent_id, task.files)

    # -- what the model is asked --------------------------------------------------------

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
        system = SYSTEM_PROMPT + (f" {self.instructions}" if self.instructions else "")
        return [Message(role="system", content=system), Message(role="user", content="\n".join(lines))]

    @staticmethod
    def context(task: Task, graph: TaskGraph, workspace: Workspace) -> dict[str, str]:
        """The files of the task's transitive dependencies, as the workspace holds them now."""
        seen: set[str] = set()
        stack, files = list(task.dependencies), {}
        while stack:
            dep = stack.pop()
            if dep in seen:
                continue
            seen.add(dep)
            stack.extend(graph.task(dep).dependencies)
            for path in graph.task(dep).files:
                content = workspace.read(path)
                if content is not None:
                    files[path] = content
        return files

    def _problem(self, task: Task, reply: FileReply) -> str | None:
        problem = writes_exactly_the_task_files(task, reply)
        if problem is None and self.check is not None:
            problem = self.check(task, reply)
        return problem

    async def _ask(self, task: Task, ctx: WorkContext, messages: list[Message]) -> tuple[list[Message], FileReply]:
        """Call the model until a reply parses and passes the checks."""
        conversation = list(messages)
        problem = None
        for _ in range(ctx.settings.parse_repairs + 1):

            async def call(messages: list[Message]) -> Completion:
                return await ctx.model.complete(messages)

            reply, _ = await complete_structured(
                call, conversation, FileReply, max_repairs=ctx.settings.parse_repairs, on_event=ctx.events.sink()
            )
            problem = self._problem(task, reply)
            if problem is None:
                return conversation, reply
            ctx.events.count("parse_repairs")
            conversation += [
                Message(role="assistant", content=reply.model_dump_json()),
                Message(role="user", content=f"That reply cannot be used: {problem}. Reply again."),
            ]
        raise WorkFailed(f"the model's replies for task {task.id!r} never passed the check: {problem}")

    async def _write_and_verify(
        self,
        task: Task,
        ctx: WorkContext,
        workspace: Workspace,
        conversation: list[Message],
        reply: FileReply,
    ) -> dict[str, Any]:
        s = ctx.settings
        for repair in range(s.test_repairs + 1):
            for f in reply.files:
                token = ctx.fence(f.path)
                try:
                    concurrent = await workspace.write(f.path, f.content, token=token, agent=ctx.agent_id)
                except StaleToken:
                    ctx.events.count("fenced_writes")
                    raise  # StaleToken: the gate counts this attempt as lost
                ctx.events.count("concurrent_writes", int(concurrent))
                ctx.events.emit("write", file=f.path, token=token)
            if not task.tests:
                return {"files": sorted(task.files), "tests_passed": 0}
            outcome = await run_tests(workspace.root, task.tests, timeout=s.test_timeout_s)
            ctx.events.count("tests_passed", outcome.passed)
            ctx.events.count("tests_failed", outcome.failed)
            ctx.events.emit("tests", passed=outcome.passed, failed=outcome.failed)
            if outcome.ok:
                return {"files": sorted(task.files), "tests_passed": outcome.passed}
            if repair == s.test_repairs:
                break
            failures = "\n".join(f"{f.test}: {f.error}" for f in outcome.failures[:10]) or "(timed out)"
            conversation = conversation + [
                Message(role="assistant", content=reply.model_dump_json()),
                Message(role="user", content=f"{TESTS_FAILED_MARKER}:\n{failures}\nFix the files and reply again."),
            ]
            conversation, reply = await self._ask(task, ctx, conversation)
        raise WorkFailed(f"the tests of task {task.id!r} still fail after {s.test_repairs} repairs")
