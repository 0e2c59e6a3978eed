"""Teams on the bundled coding graph: every topology, the gate, faults, leader crashes, budgets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from lmteams.runtime.report import RunStatus
from lmteams.runtime.resilience import Budget
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.suites import make_responder
from lmteams.runtime.team import Team, TeamError

from .team_support import (
    GRAPH,
    SETTINGS,
    SUITE,
    assert_exactly_once,
    assert_solution_written,
    events_of,
    model,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def team(tmp_path: Path, **kwargs: Any) -> Team:
    kwargs.setdefault("model", model())
    kwargs.setdefault("settings", SETTINGS)
    kwargs.setdefault("seed", 1)
    return Team(workspace=tmp_path / "ws", runs_dir=tmp_path / "runs", **kwargs)


def workspace_of(tmp_path: Path, run_id: str) -> Path:
    return tmp_path / "ws" / run_id


@pytest.mark.parametrize("topology,size", [("single", 1), ("preassigned", 3), ("centralized", 3), ("decentralized", 3)])
async def test_every_topology_completes_every_task_once_with_correct_files(
    tmp_path: Path, topology: str, size: int
) -> None:
    no_backups = SETTINGS.model_copy(update={"backup_after": None})
    async with team(tmp_path, size=size, topology=topology, settings=no_backups) as t:
        report = await t.run(GRAPH, timeout=90)
    assert report.status is RunStatus.COMPLETED, report.detail
    if topology != "decentralized":  # nobody races for a task: no claim is ever refused
        assert report.conflicts_rejected == {}, report.conflicts_rejected
    assert report.tasks_done == len(GRAPH.tasks) and report.tasks_failed == 0
    assert report.tests_passed > 0 and report.model_calls >= len(GRAPH.tasks)
    assert report.concurrent_writes == 0 and report.fenced_writes == 0
    assert_exactly_once(report)
    assert_solution_written(workspace_of(tmp_path, report.run_id))
    if size > 1:
        assert sum(report.messages.values()) > 0
    else:
        assert report.messages == {}


async def test_decentralized_five_agents_gate_rejects_conflicts_and_no_file_has_two_writers(tmp_path: Path) -> None:
    async with team(tmp_path, size=5, topology="decentralized") as t:
        report = await t.run(GRAPH, timeout=90)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert report.conflicts_rejected.get("claim_taken", 0) > 0, report.conflicts_rejected
    assert report.concurrent_writes == 0
    assert_exactly_once(report)
    assert_solution_written(workspace_of(tmp_path, report.run_id))
    events = events_of(report)
    rejected_claims = [e for e in events if e["event"] == "conflict" and e["reason"] == "claim_taken"]
    assert len(rejected_claims) == report.conflicts_rejected["claim_taken"]


async def test_without_the_gate_agents_write_the_same_files_at_once(tmp_path: Path) -> None:
    """The ablation: the same run with claims and locks switched off. This is what the gate prevents,
    and it shows the concurrent-write detector can see it."""
    ungated = SETTINGS.model_copy(update={"gate": False})
    async with team(tmp_path, size=5, topology="decentralized", settings=ungated) as t:
        report = await t.run(GRAPH, timeout=90)
    assert report.concurrent_writes > 0
    assert report.attempts > len(GRAPH.tasks)


async def test_model_errors_and_timeouts_are_retried_and_every_task_completes_once(tmp_path: Path) -> None:
    flaky = model(fail_rate=0.3, timeout_rate=0.2, hang_s=30.0)
    settings = SETTINGS.model_copy(update={"call_timeout_s": 0.3, "breaker_threshold": 2, "retry_attempts": 12})
    async with team(tmp_path, size=3, topology="decentralized", model=flaky, settings=settings) as t:
        report = await t.run(GRAPH, timeout=90)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert_exactly_once(report)
    assert report.retries > 0 and report.breaker_trips > 0, (report.retries, report.breaker_trips)
    names = {e["event"] for e in events_of(report)}
    assert {"retry", "breaker", "timeout"} <= names
    assert_solution_written(workspace_of(tmp_path, report.run_id))


async def test_unparsable_replies_are_repaired_not_fatal(tmp_path: Path) -> None:
    garbled = model(garbage_rate=0.3)
    async with team(tmp_path, size=2, topology="decentralized", model=garbled) as t:
        report = await t.run(GRAPH, timeout=90)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert report.parse_repairs > 0
    assert_exactly_once(report)


async def test_centralized_orchestrator_moves_with_the_leader_when_its_node_is_killed(tmp_path: Path) -> None:
    async with team(tmp_path, size=3, topology="centralized") as t:
        crashed: list[str] = []

        async def kill_leader_after_four_completions() -> None:
            done = 0
            async for event in t.events():
                if event["event"] == "complete":
                    done += 1
                    if done == 4:
                        leader = t.cluster.leader()  # type: ignore[union-attr]
                        assert leader is not None
                        crashed.append(leader)
                        await t.crash_node(leader)
                        return

        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_leader_after_four_completions)
            report = await t.run(GRAPH, timeout=90)
            tg.cancel_scope.cancel()
    assert crashed, "the leader was never killed"
    assert report.status is RunStatus.COMPLETED, report.detail
    assert report.leader_changes >= 1
    events = events_of(report)
    orchestrators = [e["agent"] for e in events if e["event"] == "orchestrator_start"]
    assert len(set(orchestrators)) >= 2 and f"orch-{crashed[0]}" in orchestrators
    assert orchestrators[-1] != f"orch-{crashed[0]}"
    assert any(e["event"] == "agent_crash" for e in events)
    assert_exactly_once(report)
    assert_solution_written(workspace_of(tmp_path, report.run_id))


async def test_a_crashed_agents_claim_expires_and_another_agent_finishes_the_task(tmp_path: Path) -> None:
    no_backups = SETTINGS.model_copy(update={"backup_after": None})  # else a backup takes over first
    async with team(tmp_path, size=3, topology="decentralized", settings=no_backups) as t:
        victim: dict[str, str] = {}

        async def crash_first_claimant_of_a_late_task() -> None:
            async for event in t.events():
                if event["event"] == "claim" and event["task"] == "tfidf":
                    victim.update(agent=event["agent"])
                    t.crash_agent(event["agent"])
                    return

        async with anyio.create_task_group() as tg:
            tg.start_soon(crash_first_claimant_of_a_late_task)
            report = await t.run(GRAPH, timeout=90)
            tg.cancel_scope.cancel()
    assert victim, "nobody claimed tfidf"
    assert report.status is RunStatus.COMPLETED, report.detail
    events = events_of(report)
    completed_by = [e["agent"] for e in events if e["event"] == "complete" and e["task"] == "tfidf"]
    assert completed_by and completed_by[0] != victim["agent"]
    claims = [e["t"] for e in events if e["event"] == "claim" and e["task"] == "tfidf"]
    assert claims[1] - claims[0] >= SETTINGS.lease_s * 0.9, "the task was taken before the dead agent's lease ran out"
    assert_exactly_once(report)


async def test_a_straggler_is_backed_up_the_first_completion_wins_and_its_late_write_is_fenced(tmp_path: Path) -> None:
    """The first call for 'stem' hangs until the backup has completed it; then the straggler
    wakes, and its write must be refused by the fence, and its completion never committed."""
    suite_reply = make_responder(SUITE, seed=1)
    release = anyio.Event()
    calls = {"stem": 0}

    async def responder(messages: list[Any]) -> str:
        if any("TASK-ID: stem" in m.content for m in messages):
            calls["stem"] += 1
            if calls["stem"] == 1:
                await release.wait()
        return suite_reply(messages)

    # A lease far beyond the test: no heartbeat renewal (every lease/3) cancels the straggler before it writes.
    settings = SETTINGS.model_copy(update={"backup_after": 2.0, "backup_min_samples": 2, "lease_s": 600.0})
    async with team(
        tmp_path, size=3, topology="decentralized", model=model(responder=responder), settings=settings
    ) as t:

        async def release_after_backup_completes() -> None:
            async for event in t.events():
                if event["event"] == "complete" and event["task"] == "stem":
                    release.set()
                    return

        async with anyio.create_task_group() as tg:
            tg.start_soon(release_after_backup_completes)
            report = await t.run(GRAPH, timeout=90)
            tg.cancel_scope.cancel()
    assert report.status is RunStatus.COMPLETED, report.detail
    events = events_of(report)
    [backup] = [e for e in events if e["event"] == "backup_start"]
    assert backup["task"] == "stem"
    [winner] = [e for e in events if e["event"] == "complete" and e["task"] == "stem"]
    assert winner["backup"] is True and winner["agent"] == backup["agent"]
    losses = [e for e in events if e["event"] == "conflict" and e["task"] == "stem"]
    assert losses and losses[0]["reason"] == "stale_token", losses
    assert report.fenced_writes == 1 and report.backups == 1
    assert_exactly_once(report)
    assert_solution_written(workspace_of(tmp_path, report.run_id))


async def test_the_budget_ends_the_run_with_a_status_not_an_exception(tmp_path: Path) -> None:
    budget = Budget(max_tokens=3000)
    async with team(tmp_path, size=3, topology="decentralized", budget=budget) as t:
        report = await t.run(GRAPH, timeout=90)
    assert report.status is RunStatus.BUDGET_EXCEEDED
    assert "3000" in report.detail
    assert report.tasks_done < len(GRAPH.tasks)
    assert report.tokens_in + report.tokens_out >= 3000


async def test_a_team_over_tcp_completes(tmp_path: Path) -> None:
    async with team(tmp_path, size=3, topology="decentralized", transport="tcp") as t:
        report = await t.run(GRAPH, timeout=90)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert report.transport == "tcp" and report.messages.get("done", 0) > 0
    assert_exactly_once(report)


async def test_two_runs_on_one_team_do_not_mix(tmp_path: Path) -> None:
    async with team(tmp_path, size=2, topology="decentralized") as t:
        first = await t.run(GRAPH, timeout=90)
        second = await t.run(GRAPH, timeout=90)
    assert first.run_id != second.run_id
    for report in (first, second):
        assert report.status is RunStatus.COMPLETED
        assert_exactly_once(report)


def test_bad_team_arguments_say_what_to_fix() -> None:
    with pytest.raises(TeamError, match="single topology runs one agent"):
        Team(size=3, topology="single")
    with pytest.raises(TeamError, match="unknown topology 'ring'"):
        Team(topology="ring")
    with pytest.raises(TeamError, match="at least one agent"):
        Team(size=0)
    with pytest.raises(ValueError, match="retry_max_s"):
        TeamSettings(retry_base_s=1.0, retry_max_s=0.5)


async def test_run_outside_the_context_manager_is_a_clear_error() -> None:
    with pytest.raises(TeamError, match="async with Team"):
        await Team(size=1, topology="single").run(GRAPH)


async def test_a_task_that_never_passes_fails_for_good_and_the_run_says_which_and_why(tmp_path: Path) -> None:
    from lmteams.runtime.suites import FileEdit, FileReply

    good = make_responder(SUITE, seed=1)
    broken = FileReply(files=[FileEdit(path=p, content=c) for p, c in SUITE.buggy("tokenize").items()]).to_text()

    def responder(messages: list[Any]) -> str:
        return broken if any("TASK-ID: tokenize" in m.content for m in messages) else good(messages)

    settings = SETTINGS.model_copy(update={"max_task_attempts": 2, "test_repairs": 1})
    async with team(
        tmp_path, size=2, topology="decentralized", model=model(responder=responder), settings=settings
    ) as t:
        report = await t.run(GRAPH, timeout=90)
    assert report.status is RunStatus.FAILED
    assert "tokenize: the tests of task 'tokenize' still fail" in report.detail
    blocked = {"tokenize", "counts", "ngrams", "tfidf", "similarity", "keywords", "summarize", "report"}
    assert report.tasks_done == len(GRAPH.tasks) - len(blocked)
    assert report.tasks_failed == 1 and list(report.failed_tasks) == ["tokenize"]
    assert report.tasks_blocked == len(blocked) - 1 and set(report.blocked_tasks) == blocked - {"tokenize"}
    events = events_of(report)
    assert sum(1 for e in events if e["event"] == "attempt_failed" and e["task"] == "tokenize") == 2
    assert not any(e["event"] == "claim" and e["task"] in blocked - {"tokenize"} for e in events)
