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

    def snapshot(self) -> bytes:
        """The whole state, as bytes that ``restore`` accepts.

        A ``RaftNode`` calls it after applying an entry once
        ``RaftConfig.snapshot_threshold`` entries were applied since the last
        snapshot, stores the bytes and compacts the log behind them. It must
        capture everything ``apply`` depends on (sessions, clocks, counters),
        because entries before the snapshot are never applied again.
        Equal states should give equal bytes.
        """
        ...

    def restore(self, data: bytes) -> None:
        """Replace this machine's whole state, in place, with a snapshot's.

        Called on a restart (with the stored snapshot, before the log after
        it is applied) and when a follower installs a leader's snapshot. On
        bad bytes raise, changing nothing.
        """
        ...
