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
    CONF_CHANGE = 2  # a single-server configuration change (membership.ConfChange)
    BATCH = 3  # several commands in one entry (entry_data.pack); opaque to the core, like NORMAL


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
    SNAP = 10  # InstallSnapshot: one chunk of the leader's snapshot
    SNAP_RESP = 11  # a follower's acknowledgement of the chunks it holds

    @property
    def label(self) -> str:
        return _LABELS[self]


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
    MessageType.SNAP: "Snap",
    MessageType.SNAP_RESP: "SnapResp",
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
        if self.kind is EntryKind.CONF_CHANGE:
            from lmteams.consensus.core.membership import ConfChange  # membership imports this module

            try:
                return f"{self.term}/{self.index} conf {ConfChange.decode(self.data)}"
            except ValueError:
                return f"{self.term}/{self.index} conf 0x{self.data.hex()}"
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
class SnapshotMeta:
    """Where a snapshot sits in the log: it stands for entries ``1..index``.

    ``term`` is the term of entry ``index``; ``voters`` and ``learners`` are
    the configuration in force at ``index`` (the latest one in entries
    ``1..index``), each sorted. ``index == 0`` means "no snapshot".
    """

    index: int = 0
    term: int = 0
    voters: tuple[NodeId, ...] = ()
    learners: tuple[NodeId, ...] = ()

    def __str__(self) -> str:
        return f"{self.term}/{self.index}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A state machine's state after applying entries ``1..meta.index``, as bytes."""

    meta: SnapshotMeta = field(default_factory=SnapshotMeta)
    data: bytes = b""

    @property
    def index(self) -> int:
        return self.meta.index

    @property
    def term(self) -> int:
        return self.meta.term

    def is_empty(self) -> bool:
        return self.meta.index == 0

    def __str__(self) -> str:
        voters = ",".join(self.meta.voters) or "-"
        learners = f" learners={','.join(self.meta.learners)}" if self.meta.learners else ""
        return f"snapshot {self.meta} voters={voters}{learners} {len(self.data)} bytes"


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
    - Snap (InstallSnapshot, one chunk): ``index``/``log_term`` are the
      snapshot's last included entry, ``voters`` and ``learners`` its configuration,
      ``data`` the bytes at ``offset`` of the snapshot, ``done`` marks the
      last chunk; ``commit`` is the leader's commit index.
    - SnapResp: ``index`` names the snapshot and ``offset`` how many of its
      bytes the follower holds (the leader sends on from there); ``reject``
      says the follower dropped what it had (an out-of-order chunk), so the
      leader starts over at ``offset`` 0. A follower that installed the
      snapshot, or needs none, answers with an AppResp instead.
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
    offset: int = 0
    done: bool = False
    data: bytes = b""
    voters: tuple[NodeId, ...] = ()
    learners: tuple[NodeId, ...] = ()

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
        if t is MessageType.SNAP:
            last = "done" if self.done else "more"
            return (
                f"{head} snap={self.log_term}/{self.index} commit={self.commit} "
                f"offset={self.offset} bytes={len(self.data)} {last}"
            )
        if t is MessageType.SNAP_RESP:
            return f"{head} snap index={self.index}{' reject' if self.reject else ''} offset={self.offset}"
        return head


def _show_bytes(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + data.hex()
    return repr(text) if text.isprintable() else "0x" + data.hex()
