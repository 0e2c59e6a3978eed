"""Work functions through the consensus gate: results, inputs, fencing, heartbeats, committed counting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from lmteams import Task, TaskGraph, Team
from lmteams.consensus.world import ClaimTask, CompleteTask, TaskStatusQuery
from lmteams.runtime.report import RunStatus
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.team import TeamError
from lmteams.runtime.work import Fence, StaleToken, WorkContext

from .team_support import events_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

SETTINGS = TeamSettings(lease_s=2.0, poll_s=0.05, backup_after=None)


def graph(*tasks: dict[str, Any]) -> TaskGraph:
    return TaskGraph.from_dict({"name": "t", "tasks": [{"title": t["id"], **t} for t in tasks]})


def team(tmp_path: Path, work: Any, **kwargs: Any) -> Team:
    kwargs.setdefault("settings", SETTINGS)
    kwargs.setdefault("size", 2)
    return Team(work=work, workspace=tmp_path / "ws", runs_dir=tmp_path / "runs", seed=1, **kwargs)


async def test_tasks_without_files_complete_and_dependents_read_their_inputs(tmp_path: Path) -> None:
    seen: dict[str, dict[str, Any]] = {}

    async def work(task: Task, ctx: WorkContext) -> Any:
        seen[task.id] = dict(ctx.inputs)
        if task.id == "sum":
            return sum(ctx.inputs.values())
        return task.input["x"] * 10

    g = graph(
        {"id": "a", "input": {"x": 1}},
        {"id": "b", "input": {"x": 2}},
        {"id": "sum", "dependencies": ["a", "b"]},
    )
    async with team(tmp_path, work) as t:
        report = await t.run(g, timeout=60)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert report.tasks_done == 3 and report.tasks_failed == 0
    assert seen["a"] == {} and seen["sum"] == {"a": 10, "b": 20}
    assert report.results == {"a": 10, "b": 20, "sum": 30}


async def test_a_work_function_runs_inside_the_gate_holding_the_claim_and_its_locks(tmp_path: Path) -> None:
    held: dict[str, Any] = {}

    async def work(task: Task, ctx: WorkContext) -> Any:
        view = (await ctx.world.client.query(TaskStatusQuery(task=f"{ctx.run_id}/task/{task.id}"))).value
        held.update(owner=view["owner"], status=view["status"], agent=ctx.agent_id, token=ctx.fence("db"))
        await ctx.guard("db").check(ctx.fence("db"))  # the live token passes
        return "ok"

    async with team(tmp_path, work, size=1, topology="single") as t:
        report = await t.run(graph({"id": "q", "resources": ["db"]}), timeout=60)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert held["owner"] == held["agent"] == "a1" and held["status"] == "claimed"
    order = [
        e["event"] for e in events_of(report) if e.get("task") == "q" and e["event"] in ("claim", "lock", "complete")
    ]
    assert order == ["claim", "lock", "complete"]
    [lock] = [e for e in events_of(report) if e["event"] == "lock"]
    assert lock["resource"] == "db" and lock["token"] == held["token"] > 0


async def test_a_stale_fencing_token_is_refused_by_the_guard(tmp_path: Path) -> None:
    async def work(task: Task, ctx: WorkContext) -> Any:
        token = ctx.fence("ledger")
        if "first" not in ctx.inputs:
            return token
        old = ctx.inputs["first"]  # the first task's lock was released: its token is stale now
        try:
            await ctx.guard("ledger").check(old)
        except StaleToken:
            return {"refused": old, "mine": token}
        return {"accepted": old}

    g = graph(
        {"id": "first", "resources": ["ledger"]}, {"id": "second", "dependencies": ["first"], "resources": ["ledger"]}
    )
    async with team(tmp_path, work) as t:
        report = await t.run(g, timeout=60)
    second = report.results["second"]
    assert second["refused"] == report.results["first"] and second["mine"] > second["refused"]


def test_a_resource_owners_fence_refuses_a_lower_token() -> None:
    fence = Fence()
    fence.admit("row", 5)
    fence.admit("row", 5)
    with pytest.raises(StaleToken, match="token 3 refused: token 5"):
        fence.admit("row", 3)
    fence.admit("other", 1)
    assert fence.refused == 1


async def test_the_heartbeat_keeps_a_slow_tasks_claim_beyond_its_lease(tmp_path: Path) -> None:
    """A work function three leases long: without renewals another agent would claim it after one lease."""
    settings = SETTINGS.model_copy(update={"lease_s": 0.6})

    async def work(task: Task, ctx: WorkContext) -> Any:
        if task.id == "slow":
            await anyio.sleep(1.8)
        return task.id

    g = graph({"id": "slow", "resources": ["r"]}, {"id": "quick"})
    async with team(tmp_path, work, size=3, settings=settings) as t:
        report = await t.run(g, timeout=60)
    assert report.status is RunStatus.COMPLETED, report.detail
    events = events_of(report)
    claims = [e for e in events if e["event"] == "claim" and e["task"] == "slow"]
    assert len(claims) == 1, claims  # nobody took the task over
    assert sum(1 for e in events if e["event"] == "heartbeat" and e["task"] == "slow") >= 2
    assert [e["task"] for e in events if e["event"] == "complete"].count("slow") == 1
    assert not any(e["event"] == "heartbeat_lost" for e in events)


async def test_an_attempt_that_loses_its_claim_is_cancelled_and_the_task_is_done_later(tmp_path: Path) -> None:
    settings = SETTINGS.model_copy(update={"lease_s": 0.6})
    cancelled: list[str] = []

    async def work(task: Task, ctx: WorkContext) -> Any:
        if not cancelled:  # the first attempt: someone takes the task over, so its next renewal is refused
            await ctx.world.client.submit(
                ClaimTask(task=f"{ctx.run_id}/task/{task.id}", agent="intruder", lease_s=0.6, preempt=True)
            )
            try:
                await anyio.sleep(30)
            except anyio.get_cancelled_exc_class():
                cancelled.append(ctx.agent_id)
                raise
        return ctx.agent_id

    async with team(tmp_path, work, size=1, settings=settings, topology="single") as t:
        report = await t.run(graph({"id": "x"}), timeout=60)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert cancelled == ["a1"] and report.results == {"x": "a1"} and report.attempts >= 2
    assert report.conflicts_rejected.get("not_owner") == 1, report.conflicts_rejected
    assert any(e["event"] == "heartbeat_lost" and e["agent"] == "a1" for e in events_of(report))


async def test_the_report_counts_from_committed_state_not_from_what_agents_heard(tmp_path: Path) -> None:
    """The completion of 'b' is committed behind its agent's back, so its own CompleteTask is refused:
    the agent never counts it, but the world has it done, and so must the report."""

    async def work(task: Task, ctx: WorkContext) -> Any:
        if task.id == "b":
            key = f"{ctx.run_id}/task/{task.id}"
            await ctx.world.submit(CompleteTask(task=key, agent=ctx.agent_id, result={"value": "early"}))
        return task.id

    async with team(tmp_path, work, size=1, topology="single") as t:
        report = await t.run(graph({"id": "a"}, {"id": "b"}, {"id": "c", "dependencies": ["b"]}), timeout=60)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert report.conflicts_rejected == {"already_completed": 1}
    assert report.tasks_done == 3 and report.tasks_failed == 0
    assert report.results == {"a": "a", "b": "early", "c": "c"}


async def test_failed_tasks_are_told_from_the_tasks_they_block(tmp_path: Path) -> None:
    async def work(task: Task, ctx: WorkContext) -> Any:
        if task.id == "bad":
            raise ValueError("no good")
        return 1

    settings = SETTINGS.model_copy(update={"max_task_attempts": 2})
    g = graph(
        {"id": "bad"},
        {"id": "after", "dependencies": ["bad"]},
        {"id": "later", "dependencies": ["after"]},
        {"id": "free"},
    )
    async with team(tmp_path, work, settings=settings) as t:
        report = await t.run(g, timeout=60)
    assert report.status is RunStatus.FAILED
    assert report.tasks_done == 1 and report.tasks_failed == 1 and report.tasks_blocked == 2
    assert report.blocked_tasks == ["after", "later"]
    assert "ValueError: no good" in report.failed_tasks["bad"]


class Ask(BaseModel):
    question: str


class Answer(BaseModel):
    text: str


async def test_work_functions_talk_by_typed_request_and_reply(tmp_path: Path) -> None:
    async def answer(message: Ask, sender: str) -> Answer:
        return Answer(text=f"{message.question.upper()} (asked by {sender})")

    async def work(task: Task, ctx: WorkContext) -> Any:
        peer = next(p for p in ctx.peers if p != ctx.agent_id)
        reply = await ctx.request(peer, Ask(question=task.id), timeout=5.0, reply=Answer)
        return reply.text

    async with team(tmp_path, work, handlers={Ask: answer}, transport="tcp") as t:
        report = await t.run(graph({"id": "hello"}), timeout=60)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert report.results["hello"].startswith("HELLO (asked by a")
    assert report.messages.get("ask") == 1 and report.messages.get("reply") == 1


async def test_a_task_kind_without_a_work_function_is_refused_before_the_run(tmp_path: Path) -> None:
    async def work(task: Task, ctx: WorkContext) -> Any:
        return None

    async with team(tmp_path, {"sql": work}) as t:
        with pytest.raises(TeamError, match=r"no work function for task kind\(s\) \['default'\]"):
            await t.run(graph({"id": "a"}, {"id": "b", "kind": "sql"}))


async def test_a_straggler_that_keeps_renewing_its_claim_is_still_backed_up(tmp_path: Path) -> None:
    """Heartbeats move the lease on; the claim's age must not reset with them, or no backup ever starts."""
    settings = SETTINGS.model_copy(update={"lease_s": 0.6, "backup_after": 2.0, "backup_min_samples": 2})
    stalled: list[str] = []

    async def work(task: Task, ctx: WorkContext) -> Any:
        if task.id == "slow" and not ctx.backup:
            stalled.append(ctx.agent_id)
            await anyio.sleep(30)  # renewed every 0.2 s all along, until the backup takes over
        await anyio.sleep(0.3)
        return ctx.agent_id

    g = graph({"id": "slow"}, {"id": "q1"}, {"id": "q2"}, {"id": "q3"})
    async with team(tmp_path, work, size=3, settings=settings) as t:
        report = await t.run(g, timeout=20)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert report.backups == 1 and report.results["slow"] != stalled[0]
    lost = [e for e in events_of(report) if e["event"] == "heartbeat_lost" and e["task"] == "slow"]
    assert [e["agent"] for e in lost] == stalled and lost[0]["reason"] == "not_owner"


async def test_a_result_that_is_not_json_fails_the_task_saying_so(tmp_path: Path) -> None:
    async def work(task: Task, ctx: WorkContext) -> Any:
        return object()

    settings = SETTINGS.model_copy(update={"max_task_attempts": 1})
    async with team(tmp_path, work, size=1, topology="single", settings=settings) as t:
        report = await t.run(graph({"id": "a"}), timeout=30)
    assert report.status is RunStatus.FAILED
    assert "returned object" in report.failed_tasks["a"] and "not JSON" in report.failed_tasks["a"]
