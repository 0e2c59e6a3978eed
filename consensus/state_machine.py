"""What a ``RaftNode`` needs from the state machine it replicates."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ReplicatedStateMachine(Protocol):
    def apply(self, data: bytes, stamp: float) -> Any:
        """Apply one committed command; return its result.

        ``stamp`` is the clock of the leader that proposed the entry, the
        same on every replica: use it (never a local clock) for anything
        time-based, such as lease expiry. Deterministic: the same entries in
        the same order must give the same results everywhere. Return
        rejections as values; an exception fails only that proposal.
        """
        ...

    def query(self, query: Any) -> Any:
        """Answer a read-only query from the current state."""
        ...
