"""ReadIndex (Raft thesis §6.4): linearizable reads without writing the log.

The leader notes its commit index when a read arrives, then confirms it is
still the leader with a heartbeat round that carries the read's context.
Once a majority has answered that round, the read may be served as soon as
the state machine has applied up to the noted index. An acknowledgement of
a later read confirms every earlier one too, so reads are released in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lmteams.consensus.core.messages import NodeId


@dataclass(frozen=True, slots=True)
class ReadState:
    """A read may be answered once ``index`` is applied."""

    index: int
    context: int


@dataclass(slots=True)
class _Request:
    index: int
    acks: set[NodeId] = field(default_factory=set)


class ReadOnlyQueue:
    def __init__(self) -> None:
        self._requests: dict[int, _Request] = {}
        self._order: list[int] = []

    def add(self, context: int, index: int) -> None:
        if context in self._requests:
            raise ValueError(f"read context {context} is already pending; use a fresh one per read")
        self._requests[context] = _Request(index)
        self._order.append(context)

    def ack(self, context: int, voter: NodeId) -> set[NodeId] | None:
        """Record ``voter``'s answer to the round for ``context``."""
        req = self._requests.get(context)
        if req is None:
            return None
        req.acks.add(voter)
        return req.acks

    def release_through(self, context: int) -> list[ReadState]:
        """Every read up to and including ``context``, oldest first."""
        if context not in self._requests:
            return []
        out: list[ReadState] = []
        while self._order:
            ctx = self._order.pop(0)
            out.append(ReadState(self._requests.pop(ctx).index, ctx))
            if ctx == context:
                break
        return out

    def last_context(self) -> int:
        return self._order[-1] if self._order else 0

    def __len__(self) -> int:
        return len(self._order)
