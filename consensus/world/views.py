"""Read-only pictures of the world state, as of one committed time.

They are what ``task_status`` and ``list_tasks`` answer with (as JSON),
and what ``WorldState.tasks`` / ``.locks`` / ``.sessions`` show. A view is
a copy: changing it changes nothing replicated.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from lmteams.consensus.world.values import Value


class TaskStatus(StrEnum):
    OPEN = "open"
    """Nobody holds it: its last claim was released."""
    CLAIMED = "claimed"
    """An agent holds a claim whose lease has not run out by committed time."""
    EXPIRED = "expired"
    """The claim's lease ran out by committed time: claimable, as open is."""
    COMPLETED = "completed"
    """Done, once; ``result`` holds what the completing agent reported."""


class TaskView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    status: TaskStatus
    owner: str | None
    """The claimant (or, once completed, the agent that completed it)."""
    lease_until: float | None
    """Committed time at which the claim lapses; None for no lease."""
    result: Value = None

    @property
    def claimable(self) -> bool:
        return self.status in (TaskStatus.OPEN, TaskStatus.EXPIRED)


class LockView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    resource: str
    holder: str
    token: int
    """The fencing token of the acquisition; pass it to whatever the lock guards."""
    lease_until: float
    held: bool
    """False once ``lease_until`` has passed in committed time."""


class SessionView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str
    floor: int
    """Every seq below this is forgotten: a retry of one is ``session_expired``."""
    remembered: tuple[int, ...]
    """The seqs whose results are kept for retries, ascending."""
