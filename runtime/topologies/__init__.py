"""How a team divides the work: single, centralized, preassigned or decentralized."""

from __future__ import annotations

from enum import StrEnum

from lmteams.runtime.topologies.centralized import run_orchestrator, run_worker
from lmteams.runtime.topologies.decentralized import run_decentralized
from lmteams.runtime.topologies.preassigned import run_preassigned


class Topology(StrEnum):
    SINGLE = "single"
    """One agent does everything, in dependency order: the baseline for speedup."""
    CENTRALIZED = "centralized"
    """An orchestrator on the Raft leader's node assigns tasks to workers."""
    PREASSIGNED = "preassigned"
    """Each agent works a list made up front by list scheduling."""
    DECENTRALIZED = "decentralized"
    """Agents self-claim ready tasks by compare-and-set on the log."""


__all__ = ["Topology", "run_decentralized", "run_orchestrator", "run_preassigned", "run_worker"]
