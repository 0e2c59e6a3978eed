"""Errors raised by the consensus layer. Each says what to do about it."""

from __future__ import annotations


class ConsensusError(Exception):
    """Base class for every error the consensus layer raises."""


class NotLeader(ConsensusError):
    """The node asked to propose is not the leader.

    ``leader_hint`` is the node it believes leads, or None while an election
    is under way; retry there (or later).
    """

    def __init__(self, node_id: str, leader_hint: str | None) -> None:
        self.node_id = node_id
        self.leader_hint = leader_hint
        where = f"retry on {leader_hint!r}" if leader_hint else "no leader is known yet; retry after an election"
        super().__init__(f"node {node_id!r} is not the leader: {where}")


class ProposalDropped(ConsensusError):
    """The leader refused the proposal (for example during a leadership transfer); retry."""


class ProposalOutcomeUnknown(ProposalDropped):
    """The node installed a leader's snapshot that covers the proposal's index.

    The snapshot does not say whose entry it holds there, so the proposal
    may or may not have taken effect. Retry with the same ``(client_id,
    seq)``: sessions make the retry apply at most once.
    """


class DecodeError(ConsensusError, ValueError):
    """Bytes from the network (or disk) are not a valid encoded message."""


class StorageError(ConsensusError):
    """The storage cannot answer (for example, an index compacted away)."""


class CompactedError(StorageError):
    """The requested index is older than the storage's first index."""


class ConfChangeRejected(ConsensusError):
    """The leader refused a configuration change; the message says why and what to do."""


class ConfChangeInProgress(ConfChangeRejected):
    """An earlier configuration change is not committed yet: changes go one at a time."""


class ConfChangeTooEarly(ConfChangeRejected):
    """A new leader has not committed an entry of its own term yet (Ongaro's fix): retry shortly."""


class InvalidConfChange(ConfChangeRejected, ValueError):
    """The change does not apply to the current configuration (unknown node, no voter left...)."""
