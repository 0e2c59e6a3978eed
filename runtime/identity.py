"""Who is who in a team: typed identities, never strings parsed back."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    WORKER = "worker"
    """Works tasks through the consensus gate."""
    ORCHESTRATOR = "orchestrator"
    """Assigns tasks (centralized topology); active only while its node leads Raft."""


@dataclass(frozen=True, slots=True)
class AgentId:
    """A team member: its name on the wire and in the world, its role, and the consensus node it lives on."""

    name: str
    role: Role
    node: str | None = None
    """The consensus node hosting it (a crash of that node kills it), or None for an agent on no node."""

    def __str__(self) -> str:
        return self.name

    @classmethod
    def worker(cls, index: int, nodes: list[str]) -> AgentId:
        """The ``index``-th worker (from 1); workers 1..len(nodes) live on those nodes, the rest on none."""
        return cls(f"a{index}", Role.WORKER, nodes[index - 1] if index <= len(nodes) else None)

    @classmethod
    def orchestrator(cls, node: str) -> AgentId:
        return cls(f"orch-{node}", Role.ORCHESTRATOR, node)
