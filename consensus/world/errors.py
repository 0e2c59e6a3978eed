"""Errors raised at the world state's boundary. Each says what to fix.

Inside ``WorldState.apply`` nothing raises: a bad entry becomes a
``Rejected(invalid_command)`` result, because a committed entry must give
the same answer on every replica and must never stop the apply loop. These
exceptions are for the callers that can still do something about it: a
client encoding a proposal, a reader calling ``query``, and a node restoring
a snapshot.
"""

from __future__ import annotations

from lmteams.consensus.errors import ConsensusError


class InvalidCommand(ConsensusError, ValueError):
    """Bytes or fields that are not a valid world-state proposal or command.

    The message names each problem by its location, for example
    ``command.lease_s: Input should be greater than 0 (got -1.0)``.
    """


class NotReadOnly(ConsensusError, ValueError):
    """``WorldState.query`` was given a command that would change state.

    Propose it through the log instead (``RaftNode.propose``); only
    ``get``, ``check_fence``, ``task_status`` and ``list_tasks`` are reads.
    """


class SnapshotError(ConsensusError, ValueError):
    """Bytes given to ``WorldState.restore`` are not a world-state snapshot."""
