"""Cluster membership: configurations and the single-server changes between them.

A configuration (``Membership``) is a set of **voters**, which elect leaders
and whose majority commits entries, and a set of **learners**, which receive
the log but never count toward a quorum and never campaign. It changes one
server at a time (thesis §4.1) through a special log entry of kind
``EntryKind.CONF_CHANGE`` whose data is a ``ConfChange``:

- ``add_voter``: a node outside the configuration becomes a voter;
- ``add_learner``: a node outside the configuration becomes a learner;
- ``promote``: a learner becomes a voter;
- ``remove``: a voter or a learner leaves (at least one voter must remain).

Every node uses the latest configuration in its log, committed or not, from
the moment the entry is *appended* (thesis §4.1). If the entry is truncated
away (it was never committed), the node falls back to the configuration
before it. See ``RaftCore.propose_conf_change`` for the leader's rules
(one change at a time, none before the leader has committed an entry of its
own term: the fix for the single-server bug Ongaro described in 2015).

Entry payload (``ConfChange.encode``), big-endian and strict::

    magic "CC" | version u8 (1) | op u8 | id_len u8 | id utf-8

with ``op`` 1 add_voter, 2 add_learner, 3 promote, 4 remove, and ``id`` a
non-empty node id of at most 255 bytes. ``decode`` refuses anything else
(wrong magic, version or op, a length that does not match, bad UTF-8) with
``DecodeError``, so the codec refuses an AppendEntries carrying one, and
storage never hands a malformed change to the core.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from lmteams.consensus.core.messages import NodeId
from lmteams.consensus.errors import (
    ConfChangeInProgress,
    ConfChangeRejected,
    ConfChangeTooEarly,
    DecodeError,
    InvalidConfChange,
)

_MAGIC = b"CC"
_VERSION = 1
_MAX_ID = 255


class ConfChangeOp(enum.IntEnum):
    ADD_VOTER = 1
    ADD_LEARNER = 2
    PROMOTE = 3
    REMOVE = 4

    @property
    def label(self) -> str:
        return self.name.lower()


__all__ = [
    "ConfChange",
    "ConfChangeInProgress",
    "ConfChangeOp",
    "ConfChangeRejected",
    "ConfChangeTooEarly",
    "InvalidConfChange",
    "Membership",
]

_OPS = {int(op): op for op in ConfChangeOp}
_BY_LABEL = {op.label: op for op in ConfChangeOp}


@dataclass(frozen=True, slots=True)
class ConfChange:
    """One single-server change: ``op`` applied to ``node``."""

    op: ConfChangeOp
    node: NodeId

    @classmethod
    def parse(cls, op: str | ConfChangeOp, node: NodeId) -> ConfChange:
        """From a label (``"add_learner"``...) or an op, with a checked node id."""
        if not isinstance(op, ConfChangeOp):
            if op not in _BY_LABEL:
                raise InvalidConfChange(f"unknown configuration change {op!r}: use one of {sorted(_BY_LABEL)}")
            op = _BY_LABEL[op]
        if not isinstance(node, str) or not 0 < len(node.encode("utf-8")) <= _MAX_ID:
            raise InvalidConfChange(f"node ids must be 1..{_MAX_ID} bytes of UTF-8, got {node!r}")
        return cls(op, node)

    def encode(self) -> bytes:
        nid = self.node.encode("utf-8")
        if not 0 < len(nid) <= _MAX_ID:
            raise InvalidConfChange(f"node ids must be 1..{_MAX_ID} bytes of UTF-8, got {self.node!r}")
        return _MAGIC + bytes((_VERSION, int(self.op), len(nid))) + nid

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> ConfChange:
        raw = bytes(data)
        head = len(_MAGIC) + 3
        if len(raw) < head:
            raise DecodeError(f"configuration change too short: {len(raw)} bytes, the header alone is {head}")
        if raw[: len(_MAGIC)] != _MAGIC:
            raise DecodeError("configuration change has the wrong magic bytes")
        version, op, size = raw[2], raw[3], raw[4]
        if version != _VERSION:
            raise DecodeError(f"unsupported configuration change version {version} (this node speaks {_VERSION})")
        if op not in _OPS:
            raise DecodeError(f"unknown configuration change op {op}")
        if size == 0 or len(raw) != head + size:
            raise DecodeError(f"configuration change node id of {size} bytes does not fit the {len(raw)}-byte payload")
        try:
            node = raw[head:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"configuration change node id is not valid UTF-8: {exc.reason}") from exc
        return cls(_OPS[op], node)

    def __str__(self) -> str:
        return f"{self.op.label} {self.node}"


@dataclass(frozen=True, slots=True)
class Membership:
    """A configuration: who votes and who only learns. The two sets are disjoint."""

    voters: frozenset[NodeId]
    learners: frozenset[NodeId] = frozenset()

    @classmethod
    def of(cls, voters: Iterable[NodeId], learners: Iterable[NodeId] = ()) -> Membership:
        v, lrn = frozenset(voters), frozenset(learners)
        if v & lrn:
            raise InvalidConfChange(f"nodes {sorted(v & lrn)} cannot be both voters and learners")
        return cls(v, lrn)

    @property
    def members(self) -> frozenset[NodeId]:
        return self.voters | self.learners

    def apply(self, cc: ConfChange) -> Membership:
        """The configuration after ``cc``; ``InvalidConfChange`` if it does not apply."""
        n = cc.node
        if cc.op is ConfChangeOp.ADD_VOTER or cc.op is ConfChangeOp.ADD_LEARNER:
            if n in self.voters:
                raise InvalidConfChange(f"cannot {cc.op.label} {n!r}: it is already a voter")
            if n in self.learners:
                hint = "; use promote to make it a voter" if cc.op is ConfChangeOp.ADD_VOTER else ""
                raise InvalidConfChange(f"cannot {cc.op.label} {n!r}: it is already a learner{hint}")
            if cc.op is ConfChangeOp.ADD_VOTER:
                return Membership(self.voters | {n}, self.learners)
            return Membership(self.voters, self.learners | {n})
        if cc.op is ConfChangeOp.PROMOTE:
            if n not in self.learners:
                what = "a voter already" if n in self.voters else "not a learner (add_learner it first)"
                raise InvalidConfChange(f"cannot promote {n!r}: it is {what}")
            return Membership(self.voters | {n}, self.learners - {n})
        if n in self.learners:
            return Membership(self.voters, self.learners - {n})
        if n not in self.voters:
            raise InvalidConfChange(f"cannot remove {n!r}: it is not a member of {self}")
        if self.voters == {n}:
            raise InvalidConfChange(f"cannot remove {n!r}: it is the last voter, and a cluster needs at least one")
        return Membership(self.voters - {n}, self.learners)

    def __str__(self) -> str:
        voters = ",".join(sorted(self.voters)) or "-"
        learners = ",".join(sorted(self.learners)) or "-"
        return f"voters={voters} learners={learners}"
