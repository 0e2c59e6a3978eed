"""lmteams: run teams of language-model agents as a distributed system.

The names here are the public face; deeper modules (``lmteams.runtime``,
``lmteams.consensus``, ``lmteams.transports``) stay importable for advanced use.
The three layers live in the repository's top-level folders of those names and
install under this one package (see ``[tool.setuptools] package-dir``).
"""

from lmteams.consensus.cluster import LocalCluster
from lmteams.consensus.node import RaftNode
from lmteams.consensus.testing import KVModel, Simulation, check_linearizable
from lmteams.consensus.world import WorldState
from lmteams.runtime.graph import Task, TaskGraph
from lmteams.runtime.models import Latency, LiteLLMModel, SimulatedModel
from lmteams.runtime.report import RunReport
from lmteams.runtime.resilience import Budget, CircuitBreaker, Fallback, Retry
from lmteams.runtime.team import Team

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
    "Simulation",
    "SimulatedModel",
    "Task",
    "TaskGraph",
    "Team",
    "WorldState",
    "check_linearizable",
]
