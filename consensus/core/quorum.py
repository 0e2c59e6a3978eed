"""Majority arithmetic: commit indexes and vote tallies, apart from any role logic."""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping

from lmteams.consensus.core.messages import NodeId


class VoteResult(enum.Enum):
    PENDING = "pending"
    WON = "won"
    LOST = "lost"


def majority(n: int) -> int:
    """The smallest number of voters that is a majority of ``n``."""
    return n // 2 + 1


def committed_index(voters: Collection[NodeId], match: Mapping[NodeId, int]) -> int:
    """The largest index stored on a majority of ``voters``.

    Sort the voters' match indexes in descending order; the value at
    position majority-1 is replicated on at least a majority.
    """
    if not voters:
        return 0
    acked = sorted((match.get(v, 0) for v in voters), reverse=True)
    return acked[majority(len(voters)) - 1]


def vote_result(voters: Collection[NodeId], votes: Mapping[NodeId, bool]) -> VoteResult:
    """WON once a majority granted, LOST once a majority can no longer be reached."""
    need = majority(len(voters))
    granted = sum(1 for v in voters if votes.get(v) is True)
    rejected = sum(1 for v in voters if votes.get(v) is False)
    if granted >= need:
        return VoteResult.WON
    if len(voters) - rejected < need:
        return VoteResult.LOST
    return VoteResult.PENDING
