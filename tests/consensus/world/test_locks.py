"""Locks: leases in committed time, and fencing tokens that only ever grow."""

from __future__ import annotations

from lmteams.consensus.world import (
    AcquireLock,
    Applied,
    CheckFence,
    Rejected,
    RejectReason,
    ReleaseLock,
    RenewLock,
    WorldState,
)

from .support import Client


def token_of(result: Applied | Rejected) -> int:
    assert isinstance(result, Applied), result
    return result.value["token"]


def test_a_stale_fencing_token_is_rejected_after_takeover() -> None:
    w, a, b = WorldState(), Client("a"), Client("b")
    t_a = token_of(w.apply(a.propose(AcquireLock(resource="db", agent="A", lease_s=10), stamp=100)))
    held = w.apply(b.propose(AcquireLock(resource="db", agent="B", lease_s=10), stamp=109.9))
    assert isinstance(held, Rejected) and held.reason is RejectReason.LOCK_HELD

    # A stalls; its lease runs out in committed time and B takes over.
    t_b = token_of(w.apply(b.propose(AcquireLock(resource="db", agent="B", lease_s=10), stamp=110)))
    assert t_b > t_a

    for late in (
        RenewLock(resource="db", agent="A", token=t_a, lease_s=10),
        ReleaseLock(resource="db", agent="A", token=t_a),
    ):
        result = w.apply(a.propose(late, stamp=111))
        assert isinstance(result, Rejected) and result.reason is RejectReason.STALE_TOKEN
        assert f"current token is {t_b}" in result.detail
    assert w.query(CheckFence(resource="db", token=t_a)) == Applied(value=False)
    assert w.query(CheckFence(resource="db", token=t_b)) == Applied(value=True)
    assert w.locks["db"].holder == "B"


def test_fencing_tokens_strictly_increase_across_resources() -> None:
    w, c = WorldState(), Client("c")
    tokens = []
    for i in range(30):
        resource = ("a", "b", "c")[i % 3]
        result = w.apply(c.propose(AcquireLock(resource=resource, agent=f"agent{i}", lease_s=1), stamp=i))
        tokens.append(token_of(result))  # each lease lapses before the same resource comes round again
        if i % 2:  # half are released, half lapse: both free the resource for a higher token
            w.apply(c.propose(ReleaseLock(resource=resource, agent=f"agent{i}", token=tokens[-1]), stamp=i + 0.5))
    assert tokens == sorted(set(tokens)) and len(tokens) == 30
    assert w.last_token == tokens[-1]


def test_the_holder_cannot_acquire_again_but_can_renew() -> None:
    w, a = WorldState(), Client("a")
    token = token_of(w.apply(a.propose(AcquireLock(resource="r", agent="A", lease_s=5), stamp=0)))
    again = w.apply(a.propose(AcquireLock(resource="r", agent="A", lease_s=5), stamp=1))
    assert isinstance(again, Rejected) and again.reason is RejectReason.LOCK_HELD and "renew_lock" in again.detail
    renewed = w.apply(a.propose(RenewLock(resource="r", agent="A", token=token, lease_s=5), stamp=4))
    assert isinstance(renewed, Applied) and renewed.value["lease_until"] == 9 and renewed.value["token"] == token
    assert w.query(CheckFence(resource="r", token=token)).value is True
    w.apply(a.propose(CheckFence(resource="r", token=token), stamp=8.5))
    assert w.query(CheckFence(resource="r", token=token)).value is True  # renewed lease: until 9
    assert w.last_token == token


def test_a_lapsed_lease_cannot_be_renewed_or_released_and_fails_the_fence() -> None:
    w, a = WorldState(), Client("a")
    token = token_of(w.apply(a.propose(AcquireLock(resource="r", agent="A", lease_s=5), stamp=0)))
    w.apply(a.propose(CheckFence(resource="r", token=token), stamp=5))
    assert w.query(CheckFence(resource="r", token=token)).value is False
    assert w.locks["r"].held is False
    for late in (
        RenewLock(resource="r", agent="A", token=token, lease_s=5),
        ReleaseLock(resource="r", agent="A", token=token),
    ):
        result = w.apply(a.propose(late, stamp=6))
        assert isinstance(result, Rejected) and result.reason is RejectReason.LEASE_EXPIRED
    assert token_of(w.apply(a.propose(AcquireLock(resource="r", agent="A", lease_s=5), stamp=7))) == token + 1


def test_a_token_belongs_to_its_holder() -> None:
    w, a, b = WorldState(), Client("a"), Client("b")
    token = token_of(w.apply(a.propose(AcquireLock(resource="r", agent="A", lease_s=5), stamp=0)))
    stolen = w.apply(b.propose(ReleaseLock(resource="r", agent="B", token=token), stamp=1))
    assert isinstance(stolen, Rejected) and stolen.reason is RejectReason.NOT_OWNER
    assert w.locks["r"].holder == "A"


def test_release_frees_the_lock_and_retires_the_token() -> None:
    w, a, b = WorldState(), Client("a"), Client("b")
    t_a = token_of(w.apply(a.propose(AcquireLock(resource="r", agent="A", lease_s=60), stamp=0)))
    released = w.apply(a.propose(ReleaseLock(resource="r", agent="A", token=t_a), stamp=1))
    assert isinstance(released, Applied)
    assert "r" not in w.locks
    assert w.query(CheckFence(resource="r", token=t_a)).value is False
    again = w.apply(a.propose(ReleaseLock(resource="r", agent="A", token=t_a), stamp=2))
    assert isinstance(again, Rejected) and again.reason is RejectReason.STALE_TOKEN and "not locked" in again.detail
    assert token_of(w.apply(b.propose(AcquireLock(resource="r", agent="B", lease_s=60), stamp=2))) == t_a + 1


def test_a_preempting_acquire_takes_a_live_lock_with_a_higher_token() -> None:
    w, a, b = WorldState(), Client("a"), Client("b")
    t_a = token_of(w.apply(a.propose(AcquireLock(resource="f.py", agent="A", lease_s=10), stamp=0)))
    t_b = token_of(w.apply(b.propose(AcquireLock(resource="f.py", agent="B", lease_s=10, preempt=True), stamp=1)))
    assert t_b > t_a and w.locks["f.py"].holder == "B"
    assert w.query(CheckFence(resource="f.py", token=t_a)) == Applied(value=False)
    late = w.apply(a.propose(ReleaseLock(resource="f.py", agent="A", token=t_a), stamp=2))
    assert isinstance(late, Rejected) and late.reason is RejectReason.STALE_TOKEN
