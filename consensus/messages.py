"""The Raft wire vocabulary: entries, hard state and messages.

One flat ``Message`` type for every RPC, as etcd's raftpb does: a field a
message type does not use stays at its zero value. That keeps the codec and
the printouts simple, and the printout is what scenario tests compare.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

NodeId = str


class EntryKind(enum.IntEnum):
    NORMAL = 0
    NOOP = 1  # appended by every new leader at the start of its term


class MessageType(enum.IntEnum):
    VOTE = 1
    VOTE_RESP = 2
    PRE_VOTE = 3
    PRE_VOTE_RESP = 4
    APPEND = 5
    APPEND_RESP = 6
    HEARTBEAT = 7
    HEARTBEAT_RESP = 8
    TIMEOUT_NOW = 9

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_response(self) -> bool:
        return self in (
            MessageType.VOTE_RESP,
            MessageType.PRE_VOTE_RESP,
            MessageType.APPEND_RESP,
            MessageType.HEARTBEAT_RESP,
        )


_LABELS = {
    MessageType.VOTE: "Vote",
    MessageType.VOTE_RESP: "VoteResp",
    MessageType.PRE_VOTE: "PreVote",
    MessageType.PRE_VOTE_RESP: "PreVoteResp",
    MessageType.APPEND: "App",
    MessageType.APPEND_RESP: "AppResp",
    MessageType.HEARTBEAT: "Heartbeat",
    MessageType.HEARTBEAT_RESP: "HeartbeatResp",
    MessageType.TIMEOUT_NOW: "TimeoutNow",
}


@dataclass(frozen=True, slots=True)
class Entry:
    term: int
    index: int
    data: bytes = b""
    kind: EntryKind = EntryKind.NORMAL

    def __str__(self) -> str:
        if self.kind is EntryKind.NOOP:
            return f"{self.term}/{self.index} noop"
        return f"{self.term}/{self.index} {_show_bytes(self.data)}"


@dataclass(frozen=True, slots=True)
class HardState:
    """What must be on disk before any message that depends on it is sent."""

    term: int = 0
    vote: NodeId | None = None
    commit: int = 0

    def __str__(self) -> str:
        return f"term={self.term} vote={self.vote or '-'} commit={self.commit}"


@dataclass(frozen=True, slots=True)
class Message:
    """One Raft RPC.

    Field use by type:

    - Vote/PreVote: ``index``/``log_term`` are the candidate's last entry.
    - App: ``index``/``log_term`` identify the entry preceding ``entries``;
      ``commit`` is the leader's commit index.
    - AppResp: ``index`` is the last index now matching (or, with
      ``reject``, the rejected probe index); ``reject_hint``/``log_term``
      tell the leader where to probe next (fast backtracking).
    - Heartbeat/HeartbeatResp: ``commit`` and an opaque ``context`` that
      ReadIndex uses to confirm leadership.
    """

    type: MessageType
    src: NodeId
    dst: NodeId
    term: int
    log_term: int = 0
    index: int = 0
    commit: int = 0
    entries: tuple[Entry, ...] = field(default=())
    reject: bool = False
    reject_hint: int = 0
    context: int = 0

    def __str__(self) -> str:
        t = self.type
        head = f"{self.src}->{self.dst} Msg{t.label} term={self.term}"
        if t in (MessageType.VOTE, MessageType.PRE_VOTE):
            return f"{head} last={self.log_term}/{self.index}"
        if t in (MessageType.VOTE_RESP, MessageType.PRE_VOTE_RESP):
            return f"{head} {'reject' if self.reject else 'grant'}"
        if t is MessageType.APPEND:
            ents = " ".join(str(e) for e in self.entries)
            return f"{head} prev={self.log_term}/{self.index} commit={self.commit} [{ents}]"
        if t is MessageType.APPEND_RESP:
            if self.reject:
                return f"{head} reject index={self.index} hint={self.log_term}/{self.reject_hint}"
            return f"{head} index={self.index}"
        if t in (MessageType.HEARTBEAT, MessageType.HEARTBEAT_RESP):
            ctx = f" ctx={self.context}" if self.context else ""
            commit = f" commit={self.commit}" if t is MessageType.HEARTBEAT else ""
            return f"{head}{commit}{ctx}"
        return head


def _show_bytes(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + data.hex()
    return repr(text) if text.isprintable() else "0x" + data.hex()
