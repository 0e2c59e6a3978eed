"""How a team divides the work: single, centralized, preassigned, decentralized or rounds (lock-step)."""

from __future__ import annotations

from enum import StrEnum

from lmteams.runtime.topologies.centralized import run_orchestrator, run_worker
from lmteams.runtime.topologies.decentralized import run_decentralized
from lmteams.runtime.topologies.preassigned import run_preassigned
from lmteams.runtime.topologies.rounds import LockStep


class Topology(StrEnum):
    SINGLE = "single"
    """One agent does everything, in dependency order: the baseline for speedup."""
    CENTRALIZED = "centralized"
    """An orchestrator on the Raft leader's node assigns tasks to workers."""
    PREASSIGNED = "preassigned"
    """Each agent works a list made up front by list scheduling."""
    DECENTRALIZED = "decentralized"
    """Agents self-claim ready tasks by compare-and-set on the log."""
    ROUNDS = "rounds"
    """Lock-step baseline, as the paper's harness: each round, every agent with a task calls the model; the slowest ends it."""


__all__ = ["LockStep", "Topology", "run_decentralized", "run_orchestrator", "run_preassigned", "run_worker"]
