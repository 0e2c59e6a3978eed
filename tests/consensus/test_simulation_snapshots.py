"""The testing kit with log compaction: the Simulation snapshots and restarts
from snapshots, and the invariant checker copes with (and checks) compacted logs."""

from __future__ import annotations

from typing import Any

import pytest

from lmteams.consensus import Entry, RaftConfig
from lmteams.consensus.core.messages import Snapshot, SnapshotMeta
from lmteams.consensus.testing import InvariantViolation, KVStateMachine, Simulation

CFG = dict(election_timeout_min=4, election_timeout_max=8, heartbeat_interval=1)


def elected(sim: Simulation) -> str:
    assert sim.run_until(lambda: sim.leader() is not None, 400)
    leader = sim.leader()
    assert leader is not None
    return leader


def commit_puts(sim: Simulation, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        assert sim.commit_one(["put", f"k{i % 5}", i], 200), i


def test_compaction_crash_restart_and_catch_up() -> None:
    sim = Simulation(3, seed=3, config=RaftConfig(snapshot_threshold=5, snapshot_chunk_bytes=8, **CFG))
    leader = elected(sim)
    follower = next(n for n in sim.ids if n != leader)
    sim.crash(follower)
    commit_puts(sim, 30)
    for n in sim.ids:
        if n != follower:
            assert sim.storages[n].snapshot().index >= 25 and sim.storages[n].first_index() > 25
    # A live node restarts from snapshot + suffix with the same state.
    other = next(n for n in sim.ids if n not in (leader, follower))
    before = dict(sim.machines[other].data)  # type: ignore[attr-defined]
    sim.crash(other)
    sim.restart(other)
    assert sim.machines[other].data == before  # type: ignore[attr-defined]
    # The node that missed the compaction catches up by InstallSnapshot.
    sim.restart(follower)
    installed = sim.snapshots_installed
    commit_puts(sim, 1, start=100)
    sim.run(50)
    assert sim.snapshots_installed > installed
    states = {n: sim.machines[n].snapshot() for n in sim.ids}  # type: ignore[attr-defined]
    assert len(set(states.values())) == 1, states
    sim.check()


def test_explicit_threshold_needs_snapshot_methods() -> None:
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def apply(self, command: Any) -> Any:
            self.n += 1
            return self.n

    with pytest.raises(ValueError, match=r"snapshot\(\)"):
        Simulation(3, state_machine=Counter, config=RaftConfig(snapshot_threshold=5))
    # The default config simply never compacts such a machine.
    sim = Simulation(3, state_machine=Counter, config=RaftConfig(**CFG))
    assert sim.snapshot_threshold == 0
    with pytest.raises(ValueError, match="cannot be compacted"):
        sim.compact("n1")


def _compacted_sim() -> tuple[Simulation, str]:
    sim = Simulation(3, seed=5, config=RaftConfig(snapshot_threshold=0, **CFG))
    leader = elected(sim)
    commit_puts(sim, 8)
    sim.run(20)
    sim.compact(leader)
    commit_puts(sim, 3, start=50)  # entries above the leader's snapshot, on every node
    sim.run(20)
    return sim, leader


def test_check_full_compares_compacted_logs_by_index() -> None:
    sim, leader = _compacted_sim()
    sim.check()  # logs that start at different indexes still agree
    follower = next(n for n in sim.ids if n != leader)
    storage = sim.storages[follower]
    # Tamper with a follower's entry above the leader's snapshot: same index
    # and term as the leader's, other data. Log Matching must notice.
    i = sim.storages[leader].first_index() - 1
    e = storage.all_entries()[-1]
    assert e.index > i
    storage._ents[-1] = Entry(e.term, e.index, b'["put","evil",1]')  # noqa: SLF001 - deliberate corruption
    with pytest.raises(InvariantViolation, match="Log Matching"):
        sim.checker.check_full()


def test_installed_snapshot_must_match_the_committed_entry() -> None:
    sim, leader = _compacted_sim()
    good = sim.storages[leader].snapshot()
    sim.checker.on_snapshot("n2", good)  # fine
    bogus = Snapshot(SnapshotMeta(good.index, good.term + 1, good.meta.voters), good.data)
    with pytest.raises(InvariantViolation, match="State Machine Safety"):
        sim.checker.on_snapshot("n2", bogus)
    ahead = Snapshot(SnapshotMeta(good.index + 100, good.term, good.meta.voters), good.data)
    with pytest.raises(InvariantViolation, match="no node committed"):
        sim.checker.on_snapshot("n2", ahead)


def test_kv_state_machine_snapshot_roundtrip() -> None:
    m = KVStateMachine()
    for cmd in (["put", "b", [1, 2]], ["put", "a", {"x": 1}], ["put", 3, None]):
        m.apply(cmd)
    again = KVStateMachine()
    again.restore(m.snapshot())
    assert again.data == m.data and again.snapshot() == m.snapshot()
    other = KVStateMachine()
    for cmd in (["put", 3, None], ["put", "a", {"x": 1}], ["put", "b", [1, 2]]):
        other.apply(cmd)
    assert other.snapshot() == m.snapshot()  # canonical: insertion order does not matter
