"""The Raft log: a durable prefix in ``Storage`` plus an unstable, unsaved suffix.

As in etcd's ``log.go``/``log_unstable.go``: new entries (appended by a
leader, or received by a follower) go to the unstable suffix first; the
caller saves them from ``Ready`` and ``stable_to`` then drops them from the
suffix. A follower's conflicting entries may lie in either part, so the
unstable suffix can start *before* the storage's last index; it then shadows
the stored entries from its offset on.

A snapshot received from a leader is unstable too (etcd's
``unstable.snapshot``): ``restore`` resets the log to it, so that the
snapshot's index and term answer ``term`` and ``first_index`` moves past it,
while storage still holds the old log until the caller saves the Ready that
carries the snapshot; ``stable_snap_to`` then forgets it here. Until then no
committed entries are handed out: the state machine must be restored from
the snapshot first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lmteams.consensus.core.messages import Entry, Snapshot
from lmteams.consensus.core.storage import Storage
from lmteams.consensus.errors import CompactedError, StorageError


@dataclass(slots=True)
class Unstable:
    """Entries (and a leader's snapshot) not yet saved: ``entries[i].index == offset + i``."""

    offset: int
    entries: list[Entry] = field(default_factory=list)
    snapshot: Snapshot | None = None

    def last_index(self) -> int | None:
        return self.offset + len(self.entries) - 1 if self.entries else None

    def term(self, index: int) -> int | None:
        if self.entries and self.offset <= index < self.offset + len(self.entries):
            return self.entries[index - self.offset].term
        if self.snapshot is not None and index == self.snapshot.index:
            return self.snapshot.term
        return None

    def restore(self, snap: Snapshot) -> None:
        self.offset = snap.index + 1
        self.entries = []
        self.snapshot = snap

    def stable_snap_to(self, index: int) -> None:
        if self.snapshot is not None and self.snapshot.index == index:
            self.snapshot = None

    def stable_to(self, index: int, term: int) -> None:
        """Entries up to ``index`` (with ``term``) were saved; forget them.

        A mismatching term means the entry was replaced after the Ready was
        taken, so the saved copy is stale and stays unstable.
        """
        t = self.term(index)
        if t is None or t != term:
            return
        del self.entries[: index - self.offset + 1]
        self.offset = index + 1

    def truncate_and_append(self, ents: Sequence[Entry]) -> None:
        first = ents[0].index
        if first == self.offset + len(self.entries):
            self.entries.extend(ents)
        elif first <= self.offset:
            # Replaces everything unstable, and shadows stored entries >= first.
            self.offset = first
            self.entries = list(ents)
        else:
            del self.entries[first - self.offset :]
            self.entries.extend(ents)


class RaftLog:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.unstable = Unstable(offset=storage.last_index() + 1)
        first = storage.first_index()
        # committed/applied start at the compaction point; the core raises
        # committed to the saved hard state's commit.
        self.committed = first - 1
        self.applied = first - 1
        # Called with the entries just appended (any entry at or after the
        # first one's index was replaced) and with a snapshot the log was reset
        # to: the core follows its configuration through them.
        self.on_append: Callable[[Sequence[Entry]], None] | None = None
        self.on_restore: Callable[[Snapshot], None] | None = None

    # -- reading -----------------------------------------------------------

    def first_index(self) -> int:
        if self.unstable.snapshot is not None:
            return self.unstable.snapshot.index + 1
        return self.storage.first_index()

    def last_index(self) -> int:
        u = self.unstable.last_index()
        if u is not None:
            return u
        if self.unstable.snapshot is not None:
            return self.unstable.snapshot.index
        return self.storage.last_index()

    def snapshot(self) -> Snapshot:
        """The newest snapshot: a received one not yet saved, else the stored one."""
        if self.unstable.snapshot is not None:
            return self.unstable.snapshot
        return self.storage.snapshot()

    def pending_snapshot(self) -> Snapshot | None:
        """A leader's snapshot that the caller has yet to save and restore."""
        return self.unstable.snapshot

    def term(self, index: int) -> int:
        """Term at ``index``; 0 for an index past the end or before the log."""
        if index < self.first_index() - 1 or index > self.last_index():
            return 0
        t = self.unstable.term(index)
        if t is not None:
            return t
        try:
            return self.storage.term(index)
        except CompactedError:
            return 0

    def last_term(self) -> int:
        return self.term(self.last_index())

    def match_term(self, index: int, term: int) -> bool:
        if index < self.first_index() - 1 or index > self.last_index():
            return False
        return self.term(index) == term

    def slice(self, lo: int, hi: int, max_count: int | None = None) -> list[Entry]:
        """Entries in ``[lo, hi)``, at most ``max_count`` of them."""
        if max_count is not None:
            hi = min(hi, lo + max_count)
        if lo >= hi:
            return []
        if lo < self.first_index():
            raise CompactedError(f"entries from {lo} are compacted")
        if hi > self.last_index() + 1:
            raise StorageError(f"slice [{lo}, {hi}) is past the last index {self.last_index()}")
        out: list[Entry] = []
        u_off = self.unstable.offset
        if lo < u_off:
            out.extend(self.storage.entries(lo, min(hi, u_off)))
        if hi > u_off:
            start = max(lo, u_off)
            out.extend(self.unstable.entries[start - u_off : hi - u_off])
        return out

    def unstable_entries(self) -> list[Entry]:
        return list(self.unstable.entries)

    def next_committed(self) -> list[Entry]:
        """Committed entries not yet handed out for applying (none while a
        received snapshot waits to be restored: it comes first)."""
        if not self.has_next_committed():
            return []
        return self.slice(self.applied + 1, self.committed + 1)

    def has_next_committed(self) -> bool:
        return self.unstable.snapshot is None and self.committed > self.applied

    def is_up_to_date(self, last_index: int, last_term: int) -> bool:
        """Raft §5.4.1: compare last terms first, then last indexes."""
        my_term = self.last_term()
        return last_term > my_term or (last_term == my_term and last_index >= self.last_index())

    # -- writing -----------------------------------------------------------

    def append(self, entries: Sequence[Entry]) -> int:
        if not entries:
            return self.last_index()
        if entries[0].index <= self.committed:
            raise AssertionError(
                f"refusing to overwrite committed index {entries[0].index} (committed {self.committed})"
            )
        self.unstable.truncate_and_append(entries)
        if self.on_append is not None:
            self.on_append(entries)
        return self.last_index()

    def find_conflict(self, entries: Sequence[Entry]) -> int:
        """Index of the first entry whose term differs from ours, or 0.

        An entry past our last index counts as a conflict (it is new). An
        entry that matches is kept: this is what stops a stale or reordered
        AppendEntries from truncating entries that match.
        """
        for e in entries:
            if not self.match_term(e.index, e.term):
                return e.index
        return 0

    def find_conflict_by_term(self, index: int, term: int) -> int:
        """The largest index <= ``index`` whose term is <= ``term``.

        Used on both sides of fast backtracking: every entry above it has a
        term greater than ``term`` and so cannot match the other log there.
        """
        index = min(index, self.last_index())
        first = self.first_index() - 1
        while index > first and self.term(index) > term:
            index -= 1
        return index

    def maybe_append(self, prev_index: int, prev_term: int, commit: int, entries: Sequence[Entry]) -> int | None:
        """Follower side of AppendEntries. Returns the last index now known to
        match the leader's, or None when the consistency check fails."""
        if not self.match_term(prev_index, prev_term):
            return None
        last_new = prev_index + len(entries)
        conflict = self.find_conflict(entries)
        if conflict:
            if conflict <= self.committed:
                raise AssertionError(f"entry {conflict} conflicts with committed entry (committed {self.committed})")
            self.append(entries[conflict - entries[0].index :])
        # Never commit past what this message proved to match.
        self.commit_to(min(commit, last_new))
        return last_new

    def commit_to(self, index: int) -> bool:
        if index > self.committed:
            if index > self.last_index():
                raise AssertionError(f"commit {index} is past the last index {self.last_index()}")
            self.committed = index
            return True
        return False

    def restore(self, snap: Snapshot) -> None:
        """Reset the log to a leader's snapshot: every entry is discarded, the
        snapshot's index is committed, and the state machine will be restored
        from it (the caller does that from the Ready, before applying more)."""
        if snap.index <= self.committed:
            raise AssertionError(f"snapshot {snap.meta} is not ahead of the commit index {self.committed}")
        self.committed = snap.index
        self.unstable.restore(snap)
        if self.on_restore is not None:
            self.on_restore(snap)

    def applied_to(self, index: int) -> None:
        if index > self.committed or index < self.applied:
            raise AssertionError(f"applied {index} outside [{self.applied}, {self.committed}]")
        self.applied = index

    def stable_to(self, index: int, term: int) -> None:
        self.unstable.stable_to(index, term)

    def stable_snap_to(self, index: int) -> None:
        self.unstable.stable_snap_to(index)
