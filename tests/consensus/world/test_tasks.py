"""Task claims: one claimant at a time, leases in committed time, completion once."""

from __future__ import annotations

from typing import Any

import pytest

from lmteams.consensus.world import (
    Applied,
    ClaimTask,
    CompleteTask,
    ListTasks,
    Rejected,
    RejectReason,
    ReleaseTask,
    RenewClaim,
    TaskStatus,
    TaskStatusQuery,
    WorldState,
)

from .support import Client


class Team:
    """One world and one client per agent; ``do(agent, command, at=stamp)`` applies a proposal."""

    def __init__(self) -> None:
        self.world = WorldState()
        self.clients: dict[str, Client] = {}

    def do(self, agent: str, command: Any, at: float) -> Applied | Rejected:
        client = self.clients.setdefault(agent, Client(f"client-{agent}"))
        return self.world.apply(client.propose(command, stamp=at))


def rejected(result: Applied | Rejected, reason: RejectReason) -> bool:
    return isinstance(result, Rejected) and result.reason is reason


@pytest.fixture
def team() -> Team:
    return Team()


def test_a_claimed_task_cannot_be_claimed_by_another(team: Team) -> None:
    ok = team.do("A", ClaimTask(task="t", agent="A", lease_s=10), at=0)
    assert isinstance(ok, Applied) and ok.value["owner"] == "A" and ok.value["lease_until"] == 10
    taken = team.do("B", ClaimTask(task="t", agent="B", lease_s=10), at=9.99)
    assert rejected(taken, RejectReason.CLAIM_TAKEN)
    assert "'A'" in taken.detail
    assert team.world.tasks["t"].owner == "A"


def test_a_claim_with_no_lease_is_held_until_released(team: Team) -> None:
    team.do("A", ClaimTask(task="t", agent="A"), at=0)
    assert rejected(team.do("B", ClaimTask(task="t", agent="B"), at=80_000), RejectReason.CLAIM_TAKEN)
    team.do("A", ReleaseTask(task="t", agent="A"), at=80_001)
    assert isinstance(team.do("B", ClaimTask(task="t", agent="B"), at=80_002), Applied)


def test_reclaiming_your_own_task_refreshes_the_lease(team: Team) -> None:
    team.do("A", ClaimTask(task="t", agent="A", lease_s=5), at=0)
    again = team.do("A", ClaimTask(task="t", agent="A", lease_s=5), at=4)
    assert isinstance(again, Applied) and again.value["lease_until"] == 9
    assert rejected(team.do("B", ClaimTask(task="t", agent="B"), at=6), RejectReason.CLAIM_TAKEN)


def test_an_expired_claim_is_taken_over_and_the_old_owner_cannot_complete(team: Team) -> None:
    team.do("A", ClaimTask(task="t", agent="A", lease_s=5), at=0)
    assert team.world.tasks["t"].status is TaskStatus.CLAIMED

    takeover = team.do("B", ClaimTask(task="t", agent="B", lease_s=5), at=5)  # lease_until 5 <= now 5

    assert isinstance(takeover, Applied) and takeover.value["owner"] == "B"
    late = team.do("A", CompleteTask(task="t", agent="A", result="stale work"), at=6)
    assert rejected(late, RejectReason.NOT_OWNER)
    assert rejected(team.do("A", RenewClaim(task="t", agent="A", lease_s=5), at=6), RejectReason.NOT_OWNER)
    assert rejected(team.do("A", ReleaseTask(task="t", agent="A"), at=6), RejectReason.NOT_OWNER)
    done = team.do("B", CompleteTask(task="t", agent="B", result="fresh work"), at=7)
    assert isinstance(done, Applied)
    view = team.world.tasks["t"]
    assert (view.status, view.owner, view.result) == (TaskStatus.COMPLETED, "B", "fresh work")


def test_an_expired_owner_must_claim_again(team: Team) -> None:
    team.do("A", ClaimTask(task="t", agent="A", lease_s=5), at=0)
    team.do("C", TaskStatusQuery(task="t"), at=8)  # any entry advances committed time
    assert team.world.tasks["t"].status is TaskStatus.EXPIRED and team.world.tasks["t"].claimable
    late = team.do("A", CompleteTask(task="t", agent="A"), at=8)
    assert rejected(late, RejectReason.LEASE_EXPIRED)
    assert rejected(team.do("A", RenewClaim(task="t", agent="A", lease_s=5), at=8), RejectReason.LEASE_EXPIRED)
    assert isinstance(team.do("A", ClaimTask(task="t", agent="A", lease_s=5), at=8), Applied)
    assert isinstance(team.do("A", CompleteTask(task="t", agent="A"), at=9), Applied)


def test_renewing_keeps_a_claim_alive_past_its_first_lease(team: Team) -> None:
    team.do("A", ClaimTask(task="t", agent="A", lease_s=5), at=0)
    renewed = team.do("A", RenewClaim(task="t", agent="A", lease_s=5), at=4)
    assert isinstance(renewed, Applied) and renewed.value["lease_until"] == 9
    assert rejected(team.do("B", ClaimTask(task="t", agent="B"), at=8), RejectReason.CLAIM_TAKEN)


def test_complete_happens_once(team: Team) -> None:
    team.do("A", ClaimTask(task="t", agent="A"), at=0)
    assert isinstance(team.do("A", CompleteTask(task="t", agent="A", result={"n": 1}), at=1), Applied)
    twice = team.do("A", CompleteTask(task="t", agent="A", result={"n": 2}), at=2)
    assert rejected(twice, RejectReason.ALREADY_COMPLETED)
    assert rejected(team.do("B", ClaimTask(task="t", agent="B"), at=3), RejectReason.ALREADY_COMPLETED)
    assert rejected(team.do("A", ReleaseTask(task="t", agent="A"), at=3), RejectReason.ALREADY_COMPLETED)
    assert team.world.tasks["t"].result == {"n": 1}


def test_release_needs_the_owner(team: Team) -> None:
    team.do("A", ClaimTask(task="t", agent="A"), at=0)
    assert rejected(team.do("B", ReleaseTask(task="t", agent="B"), at=1), RejectReason.NOT_OWNER)
    assert team.world.tasks["t"].owner == "A"
    assert isinstance(team.do("A", ReleaseTask(task="t", agent="A"), at=2), Applied)
    assert team.world.tasks["t"].status is TaskStatus.OPEN
    assert rejected(team.do("A", ReleaseTask(task="t", agent="A"), at=3), RejectReason.NOT_CLAIMED)
    assert rejected(team.do("A", CompleteTask(task="t", agent="A"), at=3), RejectReason.NOT_CLAIMED)


def test_commands_on_a_task_never_claimed(team: Team) -> None:
    for command in (
        CompleteTask(task="ghost", agent="A"),
        ReleaseTask(task="ghost", agent="A"),
        RenewClaim(task="ghost", agent="A", lease_s=1),
    ):
        assert rejected(team.do("A", command, at=0), RejectReason.UNKNOWN_TASK)
    assert team.world.query(TaskStatusQuery(task="ghost")) == Applied(value=None)
    assert "ghost" not in team.world.tasks


def test_task_reads_report_status_at_committed_time(team: Team) -> None:
    team.do("A", ClaimTask(task="a", agent="A", lease_s=5), at=0)
    team.do("B", ClaimTask(task="b", agent="B"), at=1)
    team.do("C", ClaimTask(task="c", agent="C"), at=2)
    team.do("C", CompleteTask(task="c", agent="C", result=42), at=3)
    w = team.world
    assert w.query(TaskStatusQuery(task="a")).value["status"] == "claimed"  # clock is 3 < 5
    team.do("B", ListTasks(), at=6)
    listed = w.query(ListTasks())
    assert [(t["task"], t["status"]) for t in listed.value] == [("a", "expired"), ("b", "claimed"), ("c", "completed")]
    assert w.query(ListTasks(status=TaskStatus.COMPLETED)).value == [
        {"task": "c", "status": "completed", "owner": "C", "lease_until": None, "result": 42}
    ]


def test_a_preempting_claim_takes_over_and_the_straggler_can_no_longer_complete(team: Team) -> None:
    team.do("A", ClaimTask(task="t", agent="A", lease_s=10), at=0)
    backup = team.do("B", ClaimTask(task="t", agent="B", lease_s=10, preempt=True), at=1)
    assert isinstance(backup, Applied) and backup.value["owner"] == "B"
    assert rejected(team.do("A", CompleteTask(task="t", agent="A", result=1), at=2), RejectReason.NOT_OWNER)
    done = team.do("B", CompleteTask(task="t", agent="B", result=2), at=3)
    assert isinstance(done, Applied) and done.value["result"] == 2


def test_a_preempting_claim_never_reopens_a_completed_task(team: Team) -> None:
    team.do("A", ClaimTask(task="t", agent="A", lease_s=10), at=0)
    team.do("A", CompleteTask(task="t", agent="A", result="first"), at=1)
    late = team.do("B", ClaimTask(task="t", agent="B", lease_s=10, preempt=True), at=2)
    assert rejected(late, RejectReason.ALREADY_COMPLETED)
    assert team.world.tasks["t"].result == "first" and team.world.tasks["t"].owner == "A"
