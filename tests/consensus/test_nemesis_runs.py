"""Long seeded runs under a nemesis: every invariant after every step, and a
linearizable client history at the end, with log compaction and chunked
InstallSnapshot on in two runs of three. ``HYPOTHESIS_PROFILE=soak`` runs
many more seeds (the same switch as the property tests)."""

from __future__ import annotations

import os

import pytest

from consensus import RaftConfig
from consensus.testing import Simulation
from consensus.testing.linearizability import check_linearizable
from consensus.testing.models import KVModel
from consensus.testing.nemesis import NemesisConfig, run_with_nemesis

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
