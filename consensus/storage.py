"""The storage protocol the core reads its durable log from, and an in-memory one.

The core never writes storage itself. The caller persists each ``Ready``
with :meth:`Storage.save` (hard state and new entries, durable when it
returns) before sending that Ready's messages. The core reads back only
what was saved: entries not yet saved live in the core's unstable suffix.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from .errors import CompactedError, StorageError
from .messages import Entry, HardState


@runtime_checkable
class Storage(Protocol):
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
        """Entries with index in ``[lo, hi)``."""
        ...

    def save(self, hard_state: HardState | None, entries: Sequence[Entry]) -> None:
        """Durably store the hard state (if given) and entries, then return.

        ``entries`` are consecutive; any stored entry at or after
        ``entries[0].index`` is replaced (a follower's conflicting suffix).
        One call is one durable write: implementations group-commit it.
        """
        ...


class EntryIndex:
    """The read side every storage shares: entries held in memory.

    ``_ents[0]`` is a sentinel standing for the last compacted entry (index
    0, term 0 until snapshots arrive); ``_ents[i]`` has index ``_ents[0].index + i``.
    Subclasses decide how ``save`` makes entries durable.
    """

    def __init__(self) -> None:
        self._hard_state = HardState()
        self._ents: list[Entry] = [Entry(term=0, index=0)]

    def initial_state(self) -> HardState:
        return self._hard_state

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

    def _check_batch(self, entries: Sequence[Entry]) -> None:
        """Refuse a batch that would leave a gap, rewrite compacted entries,
        or break the log's shape (consecutive indexes, non-decreasing terms)."""
        first = entries[0].index
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


class MemoryStorage(EntryIndex):
    """Storage held in memory: for tests, simulations and ephemeral teams.

    It survives a simulated crash (the Simulation keeps it and rebuilds the
    core from it), which is how a real disk behaves for saved data.
    """

    def __init__(self) -> None:
        super().__init__()
        self.saves = 0

    def save(self, hard_state: HardState | None, entries: Sequence[Entry]) -> None:
        if entries:
            self._check_batch(entries)
            del self._ents[entries[0].index - self._ents[0].index :]
            self._ents.extend(entries)
        if hard_state is not None:
            self._hard_state = hard_state
        self.saves += 1
