"""Sessions: a retried (client_id, seq) is applied once, and session memory stays bounded."""

from __future__ import annotations

from lmteams.consensus.world import (
    AcquireLock,
    Applied,
    ClaimTask,
    Get,
    Put,
    Rejected,
    RejectReason,
    WorldState,
)

from .support import Client


def test_retried_put_does_not_overwrite_a_later_write() -> None:
    w, a, b = WorldState(), Client("a"), Client("b")
    first = w.apply(a.propose(Put(key="k", value="from a"), stamp=1))
    w.apply(b.propose(Put(key="k", value="from b"), stamp=2))
    before = w.snapshot()

    again = w.apply(a.retry(1, stamp=3))  # a's reply was lost; it retries on a new leader

    assert again == first == Applied(value=None)
    assert w.kv["k"] == "from b"
    assert w.snapshot() == before  # nothing changed, not even the clock
    assert w.clock == 2


def test_retried_acquire_returns_the_same_token_and_lease() -> None:
    w, a = WorldState(), Client("a")
    first = w.apply(a.propose(AcquireLock(resource="f", agent="A", lease_s=10), stamp=5))
    retried = w.apply(a.retry(1, stamp=7))
    assert isinstance(first, Applied)
    assert retried == first
    assert first.value == {"resource": "f", "holder": "A", "token": 1, "lease_until": 15.0, "held": True}
    assert w.last_token == 1


def test_retry_returns_the_first_result_even_when_it_was_a_rejection() -> None:
    w, a, b = WorldState(), Client("a"), Client("b")
    w.apply(a.propose(ClaimTask(task="t", agent="A"), stamp=1))
    refused = w.apply(b.propose(ClaimTask(task="t", agent="B"), stamp=2))
    w.apply(a.propose(ClaimTask(task="t", agent="A"), stamp=3))
    assert isinstance(refused, Rejected) and refused.reason is RejectReason.CLAIM_TAKEN
    assert w.apply(b.retry(1, stamp=4)) == refused


def test_a_seq_reused_for_another_command_is_refused() -> None:
    w = WorldState()
    w.apply(Client("a").propose(Put(key="k", value=1), stamp=1))
    restarted = Client("a")  # a restarted agent that kept its client id and counts from 1 again
    result = w.apply(restarted.propose(Put(key="k", value=2), stamp=2))
    assert isinstance(result, Rejected) and result.reason is RejectReason.SEQ_REUSED
    assert w.kv["k"] == 1


def test_ack_below_forgets_acknowledged_results() -> None:
    w, a = WorldState(), Client("a")
    for i in range(5):
        w.apply(a.propose(Put(key="k", value=i), stamp=i))
    assert w.sessions["a"].remembered == (1, 2, 3, 4, 5)

    w.apply(a.propose(Put(key="k", value=5), stamp=5, ack_below=4))

    assert w.sessions["a"].remembered == (4, 5, 6)
    assert w.sessions["a"].floor == 4
    before = w.snapshot()
    stale = w.apply(a.retry(2, stamp=9))
    assert isinstance(stale, Rejected) and stale.reason is RejectReason.SESSION_EXPIRED
    assert w.snapshot() == before  # forgotten, so refused: not applied a second time
    assert w.apply(a.retry(5, stamp=9)) == Applied(value=None)  # still remembered
    assert w.kv["k"] == 5


def test_results_per_session_are_capped_without_reapplying() -> None:
    w, a = WorldState(max_results_per_session=4), Client("a")
    for i in range(10):
        w.apply(a.propose(Put(key=f"k{i}", value=i), stamp=i))
    assert w.sessions["a"].remembered == (7, 8, 9, 10)
    w.apply(Client("b").propose(Put(key="k3", value="changed"), stamp=20))
    retried = w.apply(a.retry(4, stamp=21))  # seq 4 wrote k3 = 3
    assert isinstance(retried, Rejected) and retried.reason is RejectReason.SESSION_EXPIRED
    assert w.kv["k3"] == "changed"


def test_session_count_is_capped_and_evicts_the_least_recently_used() -> None:
    w = WorldState(max_sessions=50)
    clients = [Client(f"c{i:03}") for i in range(300)]
    w.apply(clients[0].propose(Put(key="k", value=0), stamp=0))
    for i, c in enumerate(clients[1:], start=1):
        w.apply(c.propose(Put(key="k", value=i), stamp=i))
        if i % 10 == 0:  # c000 keeps using its session, so it is never the least recent
            w.apply(clients[0].propose(Get(key="k"), stamp=i))
        assert len(w.sessions) <= 50

    assert len(w.sessions) == 50
    order = [c.client_id for c in clients[251:291]] + ["c000"] + [c.client_id for c in clients[291:]]
    assert list(w.sessions) == order  # c000 last used right after c290; c001..c250 evicted


def test_an_evicted_client_is_refused_rather_than_reapplied() -> None:
    w = WorldState(max_sessions=2)
    a = Client("a")
    w.apply(a.propose(Put(key="k", value="a1"), stamp=1))
    w.apply(a.propose(Put(key="k", value="a2"), stamp=2))
    w.apply(Client("b").propose(Put(key="x", value=1), stamp=3))
    w.apply(Client("c").propose(Put(key="k", value="c1"), stamp=4))  # evicts a
    assert "a" not in w.sessions

    before = w.snapshot()
    late = w.apply(a.retry(2, stamp=5))

    assert isinstance(late, Rejected) and late.reason is RejectReason.SESSION_EXPIRED
    assert "new client_id" in late.detail
    assert w.kv["k"] == "c1"
    assert w.snapshot() == before


def test_a_new_client_must_start_at_seq_1() -> None:
    w, a = WorldState(), Client("a")
    a.seq = 4
    result = w.apply(a.propose(Put(key="k", value=1), stamp=1))
    assert isinstance(result, Rejected) and result.reason is RejectReason.SESSION_EXPIRED
    assert "k" not in w.kv and not w.sessions
