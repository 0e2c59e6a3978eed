"""The storage protocol the core reads its durable log from, and an in-memory one.

The core never writes storage itself. The caller persists each ``Ready``
with :meth:`Storage.save` (an installed snapshot, hard state and new
entries, durable when it returns) before sending that Ready's messages. The
core reads back only what was saved: entries not yet saved live in the
core's unstable suffix.

Snapshots and compaction: storage holds at most one snapshot, the state
machine's state after entries ``1..snapshot.index``, and only the entries
after it. ``first_index()`` is ``snapshot.index + 1``; ``term`` answers for
the snapshot's own index (from its metadata) and raises ``CompactedError``
below it, as ``entries`` does for any range that starts at or below it. A
snapshot arrives in one of two ways:

- the driver took it of its own state machine at an applied index and
  stores it with :meth:`Storage.save_snapshot`, which keeps the log entries
  after it (etcd's ``CreateSnapshot`` + ``Compact``);
- a leader sent it, and ``Ready.snapshot`` hands it to :meth:`Storage.save`,
  which replaces the whole log with it (etcd's ``ApplySnapshot``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from lmteams.consensus.core.messages import Entry, HardState, Snapshot
from lmteams.consensus.errors import CompactedError, StorageError


@runtime_checkable
class Storage(Protocol):
    @property
    def blocking_io(self) -> bool:
        """Whether ``save`` and ``save_snapshot`` block on I/O (fsync): a ``RaftNode`` then calls
        them in a worker thread, so the event loop never waits for a disk."""
        ...

    def initial_state(self) -> HardState:
        """The hard state saved last, or ``HardState()`` for a new node."""
        ...

    def first_index(self) -> int:
        """Index of the first entry still stored (1 until a log is compacted)."""
        ...

    def last_index(self) -> int:
        """Index of the last stored entry (first_index() - 1 when empty)."""
        ...

    def term(self, index: int) -> int:
        """Term of the entry at ``index``, for first_index()-1 <= index <= last_index().

        Raises ``CompactedError`` below that range and ``StorageError`` above.
        """
        ...

    def entries(self, lo: int, hi: int) -> list[Entry]:
        """Entries with index in ``[lo, hi)``; ``CompactedError`` if ``lo <= snapshot().index``."""
        ...

    def snapshot(self) -> Snapshot:
        """The snapshot stored last, or an empty ``Snapshot()`` (index 0) if none."""
        ...

    def save(self, hard_state: HardState | None, entries: Sequence[Entry], snapshot: Snapshot | None = None) -> None:
        """Durably store a leader's snapshot (if given), the entries and the
        hard state (if given), in that order, then return.

        A ``snapshot`` replaces the whole log: afterwards the storage holds
        that snapshot and no entries, and ``entries`` must start right
        after it. It must be newer than the stored snapshot.
        ``entries`` are consecutive; any stored entry at or after
        ``entries[0].index`` is replaced (a follower's conflicting suffix).
        One call is one durable write: implementations group-commit it.
        """
        ...

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Durably store a snapshot of this node's own state machine, then
        drop the entries it covers (compaction).

        ``snapshot.index`` must be a stored entry (``first_index() <= index
        <= last_index()``) whose term is ``snapshot.term``. The entries after
        it are kept. The snapshot is durable before any entry is dropped, so
        a crash in between loses nothing.
        """
        ...


class EntryIndex:
    """The read side every storage shares: entries and the snapshot held in memory.

    ``_ents[0]`` is a sentinel standing for the last compacted entry (the
    snapshot's index and term, or 0/0 without a snapshot); ``_ents[i]`` has
    index ``_ents[0].index + i``. Subclasses decide how ``save`` and
    ``save_snapshot`` make things durable.
    """

    def __init__(self) -> None:
        self._hard_state = HardState()
        self._ents: list[Entry] = [Entry(term=0, index=0)]
        self._snapshot = Snapshot()

    def initial_state(self) -> HardState:
        return self._hard_state

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def first_index(self) -> int:
        return self._ents[0].index + 1

    def last_index(self) -> int:
        return self._ents[0].index + len(self._ents) - 1

    def term(self, index: int) -> int:
        offset = self._ents[0].index
        if index < offset:
            raise CompactedError(f"index {index} is compacted (first index is {offset + 1})")
        if index > self.last_index():
            raise StorageError(f"index {index} is past the last stored index {self.last_index()}")
        return self._ents[index - offset].term

    def entries(self, lo: int, hi: int) -> list[Entry]:
        offset = self._ents[0].index
        if lo <= offset:
            raise CompactedError(f"entries from {lo} are compacted (first index is {offset + 1})")
        if hi > self.last_index() + 1:
            raise StorageError(f"entries up to {hi - 1} requested, last stored index is {self.last_index()}")
        return self._ents[lo - offset : hi - offset]

    def all_entries(self) -> list[Entry]:
        """Every stored entry; for checkers and tests."""
        return self._ents[1:]

    def _check_batch(self, entries: Sequence[Entry], after: Snapshot | None = None) -> None:
        """Refuse a batch that would leave a gap, rewrite compacted entries,
        or break the log's shape (consecutive indexes, non-decreasing terms).

        With ``after``, check the batch against a log that holds only that
        (installed) snapshot."""
        first = entries[0].index
        if after is not None:
            if first != after.index + 1:
                raise StorageError(
                    f"entries saved with snapshot {after.meta} must start at {after.index + 1}, not {first}"
                )
            prev = Entry(after.term, after.index)
        else:
            offset = self._ents[0].index
            if first <= offset:
                raise StorageError(f"cannot overwrite compacted index {first}")
            if first > self.last_index() + 1:
                raise StorageError(f"gap: appending index {first} after last index {self.last_index()}")
            prev = self._ents[first - 1 - offset]
        for e in entries:
            if e.index != prev.index + 1 or e.term < prev.term:
                raise StorageError(
                    f"entries must be consecutive with non-decreasing terms: {e.term}/{e.index} "
                    f"follows {prev.term}/{prev.index}"
                )
            prev = e

    def _check_install(self, snap: Snapshot) -> None:
        """A leader's snapshot must be a real one and newer than ours."""
        if snap.index < 1 or snap.term < 1:
            raise StorageError(f"cannot install an empty snapshot ({snap.meta})")
        if snap.index <= self._snapshot.index:
            raise StorageError(
                f"cannot install snapshot {snap.meta}: storage already holds snapshot {self._snapshot.meta}"
            )

    def _check_compact(self, snap: Snapshot) -> int:
        """A local snapshot must sit on a stored entry of the same term.
        Returns how many entries (after the sentinel) it drops."""
        offset = self._ents[0].index
        if snap.index <= offset:
            raise CompactedError(f"cannot snapshot at index {snap.index}: the log is already compacted up to {offset}")
        if snap.index > self.last_index():
            raise StorageError(f"cannot snapshot at index {snap.index}: the last stored index is {self.last_index()}")
        if self._ents[snap.index - offset].term != snap.term:
            raise StorageError(
                f"snapshot {snap.meta} does not match stored entry {self._ents[snap.index - offset].term}/{snap.index}"
            )
        return snap.index - offset

    def _install_in_memory(self, snap: Snapshot) -> None:
        self._ents = [Entry(snap.term, snap.index)]
        self._snapshot = snap

    def _compact_in_memory(self, snap: Snapshot, dropped: int) -> None:
        del self._ents[:dropped]
        self._ents[0] = Entry(snap.term, snap.index)  # the sentinel keeps no data
        self._snapshot = snap


class MemoryStorage(EntryIndex):
    """Storage held in memory: for tests, simulations and ephemeral teams.

    It survives a simulated crash (the Simulation keeps it and rebuilds the
    core from it), which is how a real disk behaves for saved data.
    """

    blocking_io = False
    """Saves are list appends: a worker thread would cost more than they do."""

    def __init__(self) -> None:
        super().__init__()
        self.saves = 0

    def save(self, hard_state: HardState | None, entries: Sequence[Entry], snapshot: Snapshot | None = None) -> None:
        if snapshot is not None:
            self._check_install(snapshot)
        if entries:
            self._check_batch(entries, after=snapshot)
        if snapshot is not None:
            self._install_in_memory(snapshot)
        if entries:
            del self._ents[entries[0].index - self._ents[0].index :]
            self._ents.extend(entries)
        if hard_state is not None:
            self._hard_state = hard_state
        self.saves += 1

    def save_snapshot(self, snapshot: Snapshot) -> None:
        self._compact_in_memory(snapshot, self._check_compact(snapshot))
