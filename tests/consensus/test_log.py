"""Tests for consensus.log.RaftLog (stable prefix in MemoryStorage + unstable suffix)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmteams.consensus import CompactedError, Entry, HardState, MemoryStorage, StorageError
from lmteams.consensus.core.log import RaftLog


def ents(start: int, terms: list[int], tag: str = "") -> list[Entry]:
    """Entries with consecutive indexes from ``start`` and the given terms."""
    return [Entry(t, start + i, f"{tag}{t}/{start + i}".encode()) for i, t in enumerate(terms)]


def stored(terms: list[int]) -> MemoryStorage:
    s = MemoryStorage()
    if terms:
        s.save(None, ents(1, terms))
    return s


def terms_of(log: RaftLog) -> list[int]:
    return [e.term for e in log.slice(1, log.last_index() + 1)]


def persist(log: RaftLog) -> None:
    """What the core does per Ready: save the unstable entries, then stable_to."""
    unstable = log.unstable_entries()
    if unstable:
        log.storage.save(None, unstable)
        log.stable_to(unstable[-1].index, unstable[-1].term)


# -- reading across the boundary ---------------------------------------------------


def test_empty_log() -> None:
    log = RaftLog(MemoryStorage())
    assert log.first_index() == 1
    assert log.last_index() == 0
    assert log.last_term() == 0
    assert log.term(0) == 0
    assert log.term(1) == 0
    assert log.committed == 0 and log.applied == 0
    assert log.slice(1, 1) == []
    assert log.unstable_entries() == []


def test_append_and_slice_across_stable_unstable_boundary() -> None:
    log = RaftLog(stored([1, 1, 2]))
    assert log.last_index() == 3
    assert log.unstable.offset == 4
    assert log.append(ents(4, [2, 3], "u")) == 5
    assert log.last_index() == 5
    assert log.last_term() == 3
    assert [log.term(i) for i in range(0, 7)] == [0, 1, 1, 2, 2, 3, 0]
    whole = log.slice(1, 6)
    assert [(e.index, e.term) for e in whole] == [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3)]
    # stored part from storage, unstable part from the suffix
    assert [e.data for e in whole] == [b"1/1", b"1/2", b"2/3", b"u2/4", b"u3/5"]
    assert log.slice(3, 5) == [whole[2], whole[3]]
    assert log.slice(2, 4) == whole[1:3]
    assert log.slice(4, 6) == whole[3:5]
    assert log.slice(1, 6, max_count=2) == whole[:2]
    assert log.slice(3, 6, max_count=10) == whole[2:]
    assert log.unstable_entries() == whole[3:]
    with pytest.raises(StorageError):
        log.slice(4, 7)


def test_slice_below_first_index_is_compacted() -> None:
    log = RaftLog(stored([1]))
    with pytest.raises(CompactedError):
        log.slice(0, 1)


def test_stable_to_moves_entries_to_storage() -> None:
    log = RaftLog(MemoryStorage())
    log.append(ents(1, [1, 1, 1]))
    unstable = log.unstable_entries()
    log.storage.save(None, unstable[:2])
    log.stable_to(2, 1)
    assert log.unstable.offset == 3
    assert log.unstable_entries() == unstable[2:]
    assert log.slice(1, 4) == unstable
    persist(log)
    assert log.unstable_entries() == []
    assert log.slice(1, 4) == unstable
    assert log.storage.last_index() == 3


def test_stable_to_with_stale_term_is_ignored() -> None:
    log = RaftLog(MemoryStorage())
    log.append(ents(1, [1, 1]))
    taken = log.unstable_entries()  # a Ready is taken with these ...
    log.append(ents(2, [2], "new"))  # ... then index 2 is replaced before advance
    log.storage.save(None, taken)
    log.stable_to(taken[-1].index, taken[-1].term)  # (2, 1): stale
    assert log.term(2) == 2
    assert [e.term for e in log.unstable_entries()] == [1, 2]
    assert log.unstable.offset == 1


def test_stable_to_past_unstable_is_ignored() -> None:
    log = RaftLog(MemoryStorage())
    log.append(ents(1, [1]))
    log.stable_to(5, 1)
    assert log.unstable_entries() == ents(1, [1])


def test_append_refuses_to_overwrite_committed() -> None:
    log = RaftLog(stored([1, 1]))
    log.commit_to(2)
    with pytest.raises(AssertionError):
        log.append(ents(2, [2]))


# -- maybe_append --------------------------------------------------------------------


def test_maybe_append_accepts_matching_prev() -> None:
    log = RaftLog(stored([1, 1]))
    assert log.maybe_append(2, 1, 0, ents(3, [2, 2])) == 4
    assert terms_of(log) == [1, 1, 2, 2]


def test_maybe_append_on_empty_log_from_zero() -> None:
    log = RaftLog(MemoryStorage())
    assert log.maybe_append(0, 0, 1, ents(1, [1])) == 1
    assert log.committed == 1


@pytest.mark.parametrize(("prev_index", "prev_term"), [(2, 2), (3, 1), (5, 1), (1, 2)])
def test_maybe_append_rejects_mismatching_prev(prev_index: int, prev_term: int) -> None:
    log = RaftLog(stored([1, 1, 2]))
    before = log.slice(1, 4)
    assert log.maybe_append(prev_index, prev_term, 3, ents(prev_index + 1, [3])) is None
    assert log.slice(1, log.last_index() + 1) == before
    assert log.committed == 0


def test_maybe_append_truncates_from_first_conflict_only() -> None:
    log = RaftLog(stored([1, 1, 1, 1, 1]))
    # Leader's entries 2..4 have terms 1, 2, 2: index 2 matches, 3 conflicts.
    new = ents(2, [1, 2, 2], "L")
    assert log.maybe_append(1, 1, 0, new) == 4
    assert terms_of(log) == [1, 1, 2, 2]
    # the matching entry 2 is untouched (the stored one, not the leader's copy)
    assert log.slice(2, 3)[0].data == b"1/2"
    assert log.slice(3, 5) == new[1:]
    # only the conflicting part is unstable
    assert log.unstable_entries() == new[1:]


def test_maybe_append_stale_duplicate_truncates_nothing() -> None:
    log = RaftLog(stored([1, 1, 2, 2, 2]))
    before = log.slice(1, 6)
    # An old, reordered AppendEntries carrying entries 2..3 that all match.
    assert log.maybe_append(1, 1, 0, ents(2, [1, 2], "old")) == 3
    assert log.last_index() == 5
    assert log.slice(1, 6) == before
    assert log.unstable_entries() == []


def test_maybe_append_duplicate_of_unstable_entries_truncates_nothing() -> None:
    log = RaftLog(MemoryStorage())
    log.append(ents(1, [1, 1, 1, 1]))
    before = log.unstable_entries()
    assert log.maybe_append(1, 1, 0, ents(2, [1, 1])) == 3
    assert log.unstable_entries() == before


def test_maybe_append_extends_past_matching_entries() -> None:
    log = RaftLog(stored([1, 1]))
    assert log.maybe_append(0, 0, 0, ents(1, [1, 1, 2, 2])) == 4
    assert terms_of(log) == [1, 1, 2, 2]
    assert [e.index for e in log.unstable_entries()] == [3, 4]


def test_commit_never_exceeds_last_new_index_of_the_message() -> None:
    # The follower has stale entries 2..5 from an old leader.
    log = RaftLog(stored([1, 1, 1, 1, 1]))
    # The leader (term 2) knows commit 5 but only proves the prefix up to 2.
    assert log.maybe_append(2, 1, 5, []) == 2
    assert log.committed == 2
    # With an entry, up to 3.
    assert log.maybe_append(2, 1, 5, ents(3, [2])) == 3
    assert log.committed == 3
    assert log.last_index() == 3


def test_commit_takes_the_leader_commit_when_lower() -> None:
    log = RaftLog(MemoryStorage())
    assert log.maybe_append(0, 0, 2, ents(1, [1, 1, 1, 1])) == 4
    assert log.committed == 2


def test_commit_does_not_go_backwards() -> None:
    log = RaftLog(stored([1, 1, 1]))
    log.commit_to(3)
    assert log.maybe_append(1, 1, 1, []) == 1
    assert log.committed == 3
    assert log.commit_to(2) is False
    assert log.committed == 3


def test_commit_past_last_index_is_refused() -> None:
    log = RaftLog(stored([1, 1]))
    with pytest.raises(AssertionError):
        log.commit_to(3)


def test_conflict_with_committed_entry_is_refused() -> None:
    log = RaftLog(stored([1, 1, 1]))
    log.commit_to(2)
    with pytest.raises(AssertionError):
        log.maybe_append(1, 1, 0, ents(2, [2]))


def test_find_conflict() -> None:
    log = RaftLog(stored([1, 2, 3]))
    assert log.find_conflict([]) == 0
    assert log.find_conflict(ents(1, [1, 2, 3])) == 0
    assert log.find_conflict(ents(2, [2, 3, 4])) == 4  # new entry past the end
    assert log.find_conflict(ents(2, [2, 4])) == 3
    assert log.find_conflict(ents(1, [4])) == 1


# -- find_conflict_by_term / is_up_to_date ------------------------------------------


@pytest.mark.parametrize(
    ("index", "term", "expected"),
    [
        (6, 5, 6),
        (6, 3, 6),
        (6, 2, 4),
        (5, 2, 4),
        (4, 2, 4),
        (6, 1, 2),
        (3, 1, 2),
        (6, 0, 0),
        (1, 0, 0),
        (0, 3, 0),
        (10, 2, 4),  # beyond the last index: clamped
        (10, 9, 6),
    ],
)
def test_find_conflict_by_term(index: int, term: int, expected: int) -> None:
    log = RaftLog(stored([1, 1, 2, 2]))
    log.append(ents(5, [3, 3]))  # the search spans storage and the unstable suffix
    assert log.find_conflict_by_term(index, term) == expected


@given(st.lists(st.integers(1, 4), max_size=12).map(sorted), st.integers(0, 15), st.integers(0, 5))
@settings(max_examples=200)
def test_find_conflict_by_term_property(terms: list[int], index: int, term: int) -> None:
    log = RaftLog(stored(terms))
    got = log.find_conflict_by_term(index, term)
    bound = min(index, len(terms))
    expected = max([i for i in range(1, bound + 1) if terms[i - 1] <= term], default=0)
    assert got == expected


@pytest.mark.parametrize(
    ("last_index", "last_term", "expected"),
    [
        (1, 4, True),  # higher last term wins even with a much shorter log
        (0, 4, True),
        (9, 2, False),  # lower last term loses even with a longer log
        (5, 3, True),  # equal term, equal index
        (6, 3, True),  # equal term, longer log
        (4, 3, False),  # equal term, shorter log
    ],
)
def test_is_up_to_date_compares_term_then_index(last_index: int, last_term: int, expected: bool) -> None:
    log = RaftLog(stored([1, 2, 2]))
    log.append(ents(4, [3, 3]))  # last: term 3, index 5
    assert log.is_up_to_date(last_index, last_term) is expected


def test_is_up_to_date_empty_log() -> None:
    log = RaftLog(MemoryStorage())
    assert log.is_up_to_date(0, 0)
    assert log.is_up_to_date(3, 1)


# -- shadowing and MemoryStorage.save ----------------------------------------------


def test_unstable_suffix_shadows_stored_entries_after_conflict() -> None:
    storage = stored([1, 1, 1, 1, 1])
    log = RaftLog(storage)
    new = ents(3, [2, 2], "L")
    assert log.maybe_append(2, 1, 0, new) == 4
    # The unstable suffix now starts before the storage's last index.
    assert log.unstable.offset == 3
    assert storage.last_index() == 5
    assert log.last_index() == 4
    assert terms_of(log) == [1, 1, 2, 2]
    assert log.term(5) == 0
    assert log.slice(3, 5) == new
    assert log.slice(1, 5)[:2] == storage.entries(1, 3)
    with pytest.raises(StorageError):
        log.slice(1, 6)
    # Saving the Ready replaces the stored suffix from the first new entry.
    storage.save(HardState(term=2), log.unstable_entries())
    log.stable_to(4, 2)
    assert storage.last_index() == 4
    assert [e.term for e in storage.all_entries()] == [1, 1, 2, 2]
    assert storage.all_entries()[2:] == new
    assert log.unstable_entries() == []
    assert log.unstable.offset == 5
    assert terms_of(log) == [1, 1, 2, 2]
    assert storage.initial_state() == HardState(term=2)


def test_conflict_inside_unstable_suffix() -> None:
    log = RaftLog(stored([1]))
    log.append(ents(2, [1, 1, 1]))
    assert log.maybe_append(2, 1, 0, ents(3, [2])) == 3
    assert log.unstable.offset == 2
    assert [e.term for e in log.unstable_entries()] == [1, 2]
    assert terms_of(log) == [1, 1, 2]


def test_conflict_at_unstable_offset_replaces_all_unstable() -> None:
    log = RaftLog(stored([1, 1]))
    log.append(ents(3, [1, 1]))
    assert log.maybe_append(2, 1, 0, ents(3, [2])) == 3
    assert log.unstable_entries() == ents(3, [2])
    assert terms_of(log) == [1, 1, 2]


def test_memory_storage_save_rules() -> None:
    s = MemoryStorage()
    assert (s.first_index(), s.last_index()) == (1, 0)
    assert s.term(0) == 0
    s.save(HardState(1, "a", 0), ents(1, [1, 1, 1]))
    assert s.initial_state() == HardState(1, "a", 0)
    # None keeps the hard state
    s.save(None, [])
    assert s.initial_state() == HardState(1, "a", 0)
    with pytest.raises(StorageError):
        s.save(None, ents(5, [1]))  # a gap
    with pytest.raises(StorageError):
        s.term(4)
    with pytest.raises(CompactedError):
        s.entries(0, 2)
    s.save(None, ents(2, [2]))
    assert [e.term for e in s.all_entries()] == [1, 2]


def test_committed_and_applied_bookkeeping() -> None:
    log = RaftLog(stored([1, 1, 1]))
    assert not log.has_next_committed()
    log.commit_to(2)
    assert log.has_next_committed()
    assert [e.index for e in log.next_committed()] == [1, 2]
    log.applied_to(2)
    assert not log.has_next_committed()
    assert log.next_committed() == []
    with pytest.raises(AssertionError):
        log.applied_to(3)  # past commit
    with pytest.raises(AssertionError):
        log.applied_to(1)  # backwards


@given(
    st.lists(st.integers(1, 3), max_size=8).map(sorted),
    st.lists(st.integers(1, 3), max_size=8).map(sorted),
    st.integers(0, 8),
)
@settings(max_examples=200)
def test_maybe_append_matches_reference(follower: list[int], leader: list[int], prev: int) -> None:
    """After a successful maybe_append, the log is: our entries up to the first
    conflict, then the leader's; never shorter than before unless a conflict."""
    prev = min(prev, len(leader))
    log = RaftLog(stored(follower))
    prev_term = leader[prev - 1] if prev else 0
    sent = [Entry(t, i + 1, b"L") for i, t in enumerate(leader)][prev:]
    result = log.maybe_append(prev, prev_term, 0, sent)
    matches_prev = prev == 0 or (prev <= len(follower) and follower[prev - 1] == prev_term)
    if not matches_prev:
        assert result is None
        assert terms_of(log) == follower
        return
    assert result == prev + len(sent)
    expected = list(follower)
    for e in sent:
        if e.index <= len(expected) and expected[e.index - 1] == e.term:
            continue
        expected = expected[: e.index - 1] + [x.term for x in sent[e.index - 1 - prev :]]
        break
    assert terms_of(log) == expected
    persist(log)
    assert [e.term for e in log.storage.all_entries()] == expected
