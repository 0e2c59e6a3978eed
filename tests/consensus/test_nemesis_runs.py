"""Long seeded runs under a nemesis: every invariant after every step, and a
linearizable client history at the end, with log compaction and chunked
InstallSnapshot on in two runs of three, and runs that change the
membership under the same faults. ``HYPOTHESIS_PROFILE=soak`` runs
many more seeds (the same switch as the property tests)."""

from __future__ import annotations

import os

import pytest

from lmteams.consensus import EntryKind, RaftConfig
from lmteams.consensus.testing import Simulation
from lmteams.consensus.testing.linearizability import check_linearizable
from lmteams.consensus.testing.models import KVModel
from lmteams.consensus.testing.nemesis import NemesisConfig, run_with_nemesis

SOAK = os.environ.get("HYPOTHESIS_PROFILE") == "soak"
SEEDS = range(1000) if SOAK else range(25)
NEMESIS = NemesisConfig(partition=0.05, heal=0.1, crash=0.05, restart=0.2, propose=0.5)


@pytest.mark.timeout(3600 if SOAK else 300)
@pytest.mark.parametrize("size", [3, 5])
def test_nemesis_runs_stay_safe_and_linearizable(size: int) -> None:
    completed = taken = installed = 0
    for seed in SEEDS:
        cfg = RaftConfig(
            max_entries_per_msg=1 + seed % 3,
            pre_vote=seed % 2 == 0,
            check_quorum=seed % 4 < 2,
            # Two runs in three compact their logs (often, or now and then)
            # and ship snapshots in small chunks.
            snapshot_threshold=(0, 4, 25)[(seed // 3) % 3],
            snapshot_chunk_bytes=(8, 64)[seed % 2],
        )
        sim = Simulation(size, seed=seed, drop=0.2, duplicate=0.1, reorder=0.1, max_delay_ticks=4, config=cfg)
        run_with_nemesis(sim, 600, NEMESIS)
        sim.check()
        assert sim.commit_one(["put", "final", seed], 400), f"seed {seed}: no progress after healing"
        result = check_linearizable(sim.history.operations(), KVModel())
        assert result.ok, f"seed {seed}: {result}"
        completed += sum(1 for o in sim.history.operations() if o.completed)
        taken += sim.snapshots_taken
        installed += sim.snapshots_installed
    # Some seeds spend most of their time without a majority; across seeds
    # there must be real work for the checks to mean something.
    assert completed >= 20 * len(SEEDS), f"only {completed} operations completed over {len(SEEDS)} seeds"
    # The snapshot paths were exercised: compaction, and followers brought
    # back by InstallSnapshot (after crashes and partitions).
    assert taken >= 5 * len(SEEDS) and installed >= len(SEEDS), (taken, installed)


MEMBERSHIP_SEEDS = range(1000, 2000) if SOAK else range(1000, 1012)
CHURN = NemesisConfig(partition=0.05, heal=0.1, crash=0.05, restart=0.2, propose=0.5, membership=0.05)


@pytest.mark.timeout(3600 if SOAK else 300)
def test_nemesis_runs_with_membership_changes_stay_safe_and_linearizable() -> None:
    """Five nodes, three of them voters at the start: the nemesis also adds
    learners, promotes them and removes voters (leaders too) and learners,
    under the same faults, with compaction in two runs of three (so learners
    often catch up by snapshot)."""
    completed = changes = 0
    configs: set[tuple[frozenset[str], frozenset[str]]] = set()
    for seed in MEMBERSHIP_SEEDS:
        cfg = RaftConfig(
            max_entries_per_msg=1 + seed % 3,
            pre_vote=seed % 2 == 0,
            check_quorum=seed % 4 < 2,
            snapshot_threshold=(0, 4, 25)[(seed // 3) % 3],
            snapshot_chunk_bytes=(8, 64)[seed % 2],
        )
        sim = Simulation(
            5, seed=seed, drop=0.2, duplicate=0.1, reorder=0.1, max_delay_ticks=4, config=cfg, voters=["n1", "n2", "n3"]
        )
        run_with_nemesis(sim, 600, CHURN)
        sim.check()
        assert sim.commit_one(["put", "final", seed], 400), f"seed {seed}: no progress after healing"
        result = check_linearizable(sim.history.operations(), KVModel())
        assert result.ok, f"seed {seed}: {result}"
        completed += sum(1 for o in sim.history.operations() if o.completed)
        changes += sum(1 for e in sim.checker.committed.values() if e.kind is EntryKind.CONF_CHANGE)
        final = sim.membership()
        configs.add((final.voters, final.learners))
        # Every live node ends in the leader's configuration once it has caught up.
        sim.run(100)
        assert {sim.cores[n].membership for n, _ in sim.live_cores() if n in final.members} == {final}, seed
    assert completed >= 20 * len(MEMBERSHIP_SEEDS), completed
    # The configuration really changed, in many ways.
    assert changes >= 5 * len(MEMBERSHIP_SEEDS) and len(configs) >= len(MEMBERSHIP_SEEDS) // 2, (changes, configs)
