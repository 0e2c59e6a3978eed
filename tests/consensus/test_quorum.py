"""Tests for consensus.quorum: majority, committed_index and vote_result."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmteams.consensus.core.quorum import VoteResult, committed_index, majority, vote_result

W, L, P = VoteResult.WON, VoteResult.LOST, VoteResult.PENDING


def voters(n: int) -> list[str]:
    return [f"n{i}" for i in range(1, n + 1)]


@pytest.mark.parametrize(("n", "need"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4)])
def test_majority(n: int, need: int) -> None:
    assert majority(n) == need


@pytest.mark.parametrize(
    ("matches", "expected"),
    [
        # 1 voter
        ([0], 0),
        ([7], 7),
        # 2 voters: both must have it
        ([5, 0], 0),
        ([5, 3], 3),
        ([4, 4], 4),
        # 3 voters: the median
        ([0, 0, 0], 0),
        ([5, 0, 0], 0),
        ([5, 3, 0], 3),
        ([1, 9, 4], 4),
        ([6, 6, 6], 6),
        # 4 voters: three must have it
        ([5, 5, 0, 0], 0),
        ([5, 5, 2, 0], 2),
        ([8, 7, 6, 5], 6),
        # 5 voters
        ([5, 5, 2, 2, 2], 2),
        ([5, 5, 5, 2, 2], 5),
        ([5, 5, 0, 0, 0], 0),
        ([9, 1, 8, 2, 7], 7),
    ],
)
def test_committed_index(matches: list[int], expected: int) -> None:
    vs = voters(len(matches))
    assert committed_index(vs, dict(zip(vs, matches))) == expected
    # The result does not depend on the order voters are given in.
    assert committed_index(list(reversed(vs)), dict(zip(vs, matches))) == expected


def test_committed_index_missing_voter_counts_as_zero() -> None:
    vs = voters(3)
    assert committed_index(vs, {"n1": 5, "n2": 5}) == 5
    assert committed_index(vs, {"n1": 5}) == 0


def test_committed_index_ignores_non_voters() -> None:
    vs = voters(3)
    assert committed_index(vs, {"n1": 5, "x": 5, "y": 5}) == 0


def test_committed_index_no_voters() -> None:
    assert committed_index([], {"n1": 3}) == 0


def brute_force_committed(vs: list[str], match: dict[str, int]) -> int:
    """The largest index such that at least a majority of voters have match >= it."""
    best = 0
    for candidate in set(match.values()) | {0}:
        have = sum(1 for v in vs if match.get(v, 0) >= candidate)
        if have * 2 > len(vs) and candidate > best:
            best = candidate
    return best


@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=9), st.data())
@settings(max_examples=200)
def test_committed_index_matches_brute_force(matches: list[int], data: st.DataObject) -> None:
    vs = voters(len(matches))
    match = dict(zip(vs, matches))
    # Sometimes drop voters from the map (unknown progress) and add non-voters.
    dropped = data.draw(st.sets(st.sampled_from(vs)))
    for v in dropped:
        del match[v]
    match.update(data.draw(st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 30))))
    assert committed_index(vs, match) == brute_force_committed(vs, match)


@pytest.mark.parametrize(
    ("n", "granted", "rejected", "expected"),
    [
        (1, 0, 0, P),
        (1, 1, 0, W),
        (1, 0, 1, L),
        (2, 1, 0, P),
        (2, 2, 0, W),
        (2, 1, 1, L),
        (2, 0, 1, L),
        (3, 1, 0, P),
        (3, 2, 0, W),
        (3, 1, 1, P),
        (3, 0, 2, L),
        (3, 2, 1, W),
        (4, 2, 0, P),
        (4, 2, 1, P),
        (4, 3, 0, W),
        (4, 2, 2, L),
        (4, 1, 2, L),
        (5, 2, 2, P),
        (5, 3, 0, W),
        (5, 3, 2, W),
        (5, 2, 3, L),
        (5, 0, 3, L),
        (5, 1, 2, P),
    ],
)
def test_vote_result(n: int, granted: int, rejected: int, expected: VoteResult) -> None:
    vs = voters(n)
    votes = {v: True for v in vs[:granted]}
    votes.update({v: False for v in vs[granted : granted + rejected]})
    assert vote_result(vs, votes) is expected


def test_vote_result_ignores_non_voters() -> None:
    vs = voters(3)
    assert vote_result(vs, {"n1": True, "x": True, "y": True}) is P
    assert vote_result(vs, {"n1": True, "x": False, "y": False}) is P


@given(st.integers(1, 9), st.data())
@settings(max_examples=200)
def test_vote_result_matches_counting(n: int, data: st.DataObject) -> None:
    vs = voters(n)
    votes = data.draw(st.dictionaries(st.sampled_from(vs), st.booleans()))
    granted = sum(votes.values())
    rejected = len(votes) - granted
    result = vote_result(vs, votes)
    if granted * 2 > n:
        assert result is W
    elif (n - rejected) * 2 <= n:  # even if every undecided voter grants, no majority
        assert result is L
    else:
        assert result is P
