"""What the core hands its caller: a ``Ready`` batch of work, in order."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from lmteams.consensus.core.messages import Entry, HardState, Message, NodeId, Snapshot
from lmteams.consensus.core.read_only import ReadState


class Role(enum.Enum):
    FOLLOWER = "follower"
    PRE_CANDIDATE = "pre-candidate"
    CANDIDATE = "candidate"
    LEADER = "leader"


@dataclass(frozen=True, slots=True)
class SoftState:
    """Volatile state, reported when it changes; never persisted."""

    leader_id: NodeId | None
    role: Role


@dataclass(slots=True)
class Ready:
    """Work the caller must do, in this order, then call ``advance()``:

    1. save ``snapshot`` (if not None), ``hard_state`` (if not None) and
       ``entries`` durably: ``storage.save(hard_state, entries, snapshot)``;
    2. send ``messages`` (only after step 1: they promise what it saved);
    3. restore the state machine from ``snapshot`` (if not None), then
       apply ``committed_entries`` to it.

    ``snapshot`` is a leader's snapshot this follower installs: it replaces
    the log and the state machine's state up to its index. A Ready that
    carries one carries no committed entries; they come after it.
    """

    hard_state: HardState | None
    entries: list[Entry] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    committed_entries: list[Entry] = field(default_factory=list)
    soft_state: SoftState | None = None
    read_states: list[ReadState] = field(default_factory=list)
    snapshot: Snapshot | None = None

    def is_empty(self) -> bool:
        return not (
            self.hard_state
            or self.entries
            or self.messages
            or self.committed_entries
            or self.soft_state
            or self.read_states
            or self.snapshot
        )
