"""Liveness: with a connected majority and no message loss, a leader is
elected within a bounded number of ticks, and a proposal then commits."""

from __future__ import annotations

import pytest

from lmteams.consensus import RaftConfig
from lmteams.consensus.testing import Simulation

CFG = RaftConfig()  # election timeout in [10, 20) ticks
ELECTION_BOUND = 10 * CFG.election_timeout_max  # 500 seeds: worst seen 103
COMMIT_BOUND = 10  # two message hops each way take 4 ticks


def _crash_minority(sim: Simulation) -> None:
    for n in sim.ids[: (len(sim.ids) - 1) // 2]:
        sim.crash(n)


def _isolate_minority(sim: Simulation) -> None:
    k = (len(sim.ids) - 1) // 2
    sim.partition(sim.ids[k:], *[[n] for n in sim.ids[:k]])


@pytest.mark.parametrize("size", [3, 5])
@pytest.mark.parametrize(
    "setup", [None, _crash_minority, _isolate_minority], ids=["all", "minority-crashed", "minority-isolated"]
)
def test_leader_elected_and_proposal_commits(size: int, setup) -> None:
    for seed in range(100):
        sim = Simulation(size, seed=seed, config=CFG)
        if setup is not None:
            setup(sim)
        assert sim.run_until(lambda sim=sim: sim.leader() is not None, ELECTION_BOUND), (
            f"no leader within {ELECTION_BOUND} ticks, seed {seed}"
        )
        leader = sim.leader()
        start = sim.now
        op = sim.propose(["put", "k", seed])
        assert op is not None
        assert sim.run_until(lambda sim=sim, op=op: not sim.history.is_open(op), COMMIT_BOUND), (
            f"seed {seed}: no commit in {COMMIT_BOUND} ticks"
        )
        assert sim.now - start <= COMMIT_BOUND
        assert sim.leader() == leader
        committed = {n: c.commit_index for n, c in sim.live_cores() if sim.connected(n, leader)}
        assert min(committed.values()) >= 1


def test_no_progress_without_a_majority() -> None:
    sim = Simulation(5, seed=1, config=CFG)
    sim.partition(["n1", "n2"], ["n3"], ["n4"], ["n5"])
    sim.run(ELECTION_BOUND)
    assert sim.leader() is None
    assert all(c.commit_index == 0 for _, c in sim.live_cores())
    # Pre-vote keeps the isolated nodes from inflating their terms meanwhile.
    assert all(c.term == 0 for _, c in sim.live_cores())
