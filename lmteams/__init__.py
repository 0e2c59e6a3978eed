"""lmteams: run teams of language-model agents as a distributed system.

The names here are the public face; deeper modules (``lmteams.runtime``,
``lmteams.consensus``, ``lmteams.transports``) stay importable for advanced use.
The three layers live in the repository's top-level folders of those names and
install under this one package (see ``[tool.setuptools] package-dir``).

Each name is imported on first use, so that ``import lmteams.<anything>`` (a
worker, a test-runner subprocess) does not pay for the whole runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "LocalCluster": "lmteams.consensus.cluster",
    "RaftNode": "lmteams.consensus.node",
    "KVModel": "lmteams.consensus.testing",
    "Simulation": "lmteams.consensus.testing",
    "check_linearizable": "lmteams.consensus.testing",
    "WorldState": "lmteams.consensus.world",
    "Task": "lmteams.runtime.graph",
    "TaskGraph": "lmteams.runtime.graph",
    "Latency": "lmteams.runtime.models",
    "LiteLLMModel": "lmteams.runtime.models",
    "SimulatedModel": "lmteams.runtime.models",
    "RunReport": "lmteams.runtime.report",
    "Budget": "lmteams.runtime.resilience",
    "CircuitBreaker": "lmteams.runtime.resilience",
    "Fallback": "lmteams.runtime.resilience",
    "Retry": "lmteams.runtime.resilience",
    "Team": "lmteams.runtime.team",
}

__all__ = [
    "Budget",
    "CircuitBreaker",
    "Fallback",
    "KVModel",
    "Latency",
    "LiteLLMModel",
    "LocalCluster",
    "RaftNode",
    "Retry",
    "RunReport",
    "SimulatedModel",
    "Simulation",
    "Task",
    "TaskGraph",
    "Team",
    "WorldState",
    "check_linearizable",
]

if TYPE_CHECKING:
    from lmteams.consensus.cluster import LocalCluster
    from lmteams.consensus.node import RaftNode
    from lmteams.consensus.testing import KVModel, Simulation, check_linearizable
    from lmteams.consensus.world import WorldState
    from lmteams.runtime.graph import Task, TaskGraph
    from lmteams.runtime.models import Latency, LiteLLMModel, SimulatedModel
    from lmteams.runtime.report import RunReport
    from lmteams.runtime.resilience import Budget, CircuitBreaker, Fallback, Retry
    from lmteams.runtime.team import Team


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'lmteams' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
