"""Binary codec for ``Message``: compact, strict, and safe on untrusted bytes.

Layout (big-endian)::

    version u8 | type u8 | term u64 | log_term u64 | index u64 | commit u64
    | reject u8 | reject_hint u64 | context u64
    | src_len u8 | src utf-8 | dst_len u8 | dst utf-8
    | n_entries u32 | n x (term u64 | index u64 | kind u8 | len u32 | data)
    [ | offset u64 | done u8 | n_voters u8 | n_voters x (len u8 | utf-8)
      | n_learners u8 | n_learners x (len u8 | utf-8)
      | data_len u32 | data ]                       only for Snap and SnapResp

The bracketed snapshot section follows the entries of an InstallSnapshot
chunk (Snap) and of its acknowledgement (SnapResp), and of no other type,
so every other message is laid out byte for byte as before it existed.
Version 2 added the learners to the snapshot section (and the
configuration-change entry kind); a version-1 message is refused.

``decode`` checks every length against the bytes present before reading,
every enum value, and the shape an AppendEntries must have (consecutive
indexes after ``index``, non-decreasing terms no newer than the message)
and a snapshot chunk must have (a snapshot entry ``log_term/index`` of at
least 1/1 and no newer than the message, distinct non-empty voters, and
distinct learners that are not voters; a SnapResp carries no data, voters,
learners or ``done``), and that a configuration-change entry's data is a
well-formed ``ConfChange``, so the core never sees a malformed message. Anything wrong raises
``DecodeError`` naming the problem.
"""

from __future__ import annotations

import struct

from lmteams.consensus.core.membership import ConfChange
from lmteams.consensus.core.messages import Entry, EntryKind, Message, MessageType
from lmteams.consensus.errors import DecodeError
from lmteams.consensus.node import entry_data

VERSION = 2
_HEAD = struct.Struct(">BBQQQQBQQ")
_ENTRY = struct.Struct(">QQBI")
_COUNT = struct.Struct(">I")
_SNAP = struct.Struct(">QBB")  # offset, done, n_voters
_SNAP_TYPES = (MessageType.SNAP, MessageType.SNAP_RESP)
_MAX_ID = 255
_TYPES = {int(t): t for t in MessageType}
_KINDS = {int(k): k for k in EntryKind}


def encode(m: Message) -> bytes:
    src, dst = m.src.encode(), m.dst.encode()
    if not 0 < len(src) <= _MAX_ID or not 0 < len(dst) <= _MAX_ID:
        raise ValueError(f"node ids must be 1..{_MAX_ID} bytes of UTF-8, got {m.src!r} -> {m.dst!r}")
    parts = [
        _HEAD.pack(VERSION, m.type, m.term, m.log_term, m.index, m.commit, m.reject, m.reject_hint, m.context),
        bytes((len(src),)),
        src,
        bytes((len(dst),)),
        dst,
        _COUNT.pack(len(m.entries)),
    ]
    for e in m.entries:
        parts.append(_ENTRY.pack(e.term, e.index, e.kind, len(e.data)))
        parts.append(e.data)
    if m.type in _SNAP_TYPES:
        for what, ids in (("voters", m.voters), ("learners", m.learners)):
            if len(ids) > 255:
                raise ValueError(f"a snapshot names at most 255 {what}, got {len(ids)}")
        parts.append(_SNAP.pack(m.offset, m.done, len(m.voters)))
        _pack_ids(parts, m.voters, "voter")
        parts.append(bytes((len(m.learners),)))
        _pack_ids(parts, m.learners, "learner")
        parts.append(_COUNT.pack(len(m.data)))
        parts.append(bytes(m.data))
    elif m.offset or m.done or m.data or m.voters or m.learners:
        raise ValueError(
            f"only Snap and SnapResp messages carry offset, done, data, voters or learners, not {m.type.label}"
        )
    return b"".join(parts)


def _pack_ids(parts: list[bytes], ids: tuple[str, ...], what: str) -> None:
    for v in ids:
        vb = v.encode()
        if not 0 < len(vb) <= _MAX_ID:
            raise ValueError(f"{what} ids must be 1..{_MAX_ID} bytes of UTF-8, got {v!r}")
        parts.append(bytes((len(vb),)))
        parts.append(vb)


def decode(data: bytes | bytearray | memoryview) -> Message:
    buf = memoryview(data)
    try:
        return _decode(buf)
    except DecodeError:
        raise
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise DecodeError(f"malformed message ({len(buf)} bytes): {exc}") from exc


def _decode(buf: memoryview) -> Message:
    if len(buf) < _HEAD.size:
        raise DecodeError(f"message too short: {len(buf)} bytes, the header alone is {_HEAD.size}")
    version, mtype, term, log_term, index, commit, reject, hint, context = _HEAD.unpack_from(buf, 0)
    if version != VERSION:
        raise DecodeError(f"unsupported codec version {version} (this node speaks {VERSION})")
    if mtype not in _TYPES:
        raise DecodeError(f"unknown message type {mtype}")
    if reject > 1:
        raise DecodeError(f"reject flag must be 0 or 1, got {reject}")
    pos = _HEAD.size
    src, pos = _read_id(buf, pos, "src")
    dst, pos = _read_id(buf, pos, "dst")
    _need(buf, pos, _COUNT.size, "entry count")
    (count,) = _COUNT.unpack_from(buf, pos)
    pos += _COUNT.size
    if count * _ENTRY.size > len(buf) - pos:
        raise DecodeError(f"claims {count} entries but only {len(buf) - pos} bytes follow")
    entries: list[Entry] = []
    for _ in range(count):
        _need(buf, pos, _ENTRY.size, "entry header")
        e_term, e_index, kind, size = _ENTRY.unpack_from(buf, pos)
        pos += _ENTRY.size
        if kind not in _KINDS:
            raise DecodeError(f"unknown entry kind {kind} at entry index {e_index}")
        _need(buf, pos, size, f"data of entry {e_index}")
        entries.append(Entry(e_term, e_index, bytes(buf[pos : pos + size]), _KINDS[kind]))
        pos += size
    msg_type = _TYPES[mtype]
    offset, done, data = 0, False, b""
    voters: tuple[str, ...] = ()
    learners: tuple[str, ...] = ()
    if msg_type in _SNAP_TYPES:
        offset, done, voters, learners, data, pos = _read_snapshot_section(buf, pos)
    if pos != len(buf):
        raise DecodeError(f"{len(buf) - pos} trailing bytes after the message")
    _check_entries(msg_type, term, log_term, index, entries)
    if msg_type is MessageType.SNAP:
        _check_snap(term, log_term, index, voters, learners)
    elif msg_type is MessageType.SNAP_RESP and (done or voters or learners or data):
        raise DecodeError("a SnapResp carries no done flag, voters, learners or data")
    return Message(
        msg_type,
        src,
        dst,
        term,
        log_term,
        index,
        commit,
        tuple(entries),
        bool(reject),
        hint,
        context,
        offset,
        done,
        data,
        voters,
        learners,
    )


def _read_snapshot_section(buf: memoryview, pos: int) -> tuple[int, bool, tuple[str, ...], tuple[str, ...], bytes, int]:
    _need(buf, pos, _SNAP.size, "snapshot section")
    offset, done, n_voters = _SNAP.unpack_from(buf, pos)
    pos += _SNAP.size
    if done > 1:
        raise DecodeError(f"done flag must be 0 or 1, got {done}")
    voters: list[str] = []
    for i in range(n_voters):
        voter, pos = _read_id(buf, pos, f"voter {i}")
        voters.append(voter)
    _need(buf, pos, 1, "learner count")
    n_learners = buf[pos]
    pos += 1
    learners: list[str] = []
    for i in range(n_learners):
        learner, pos = _read_id(buf, pos, f"learner {i}")
        learners.append(learner)
    _need(buf, pos, _COUNT.size, "snapshot data length")
    (size,) = _COUNT.unpack_from(buf, pos)
    pos += _COUNT.size
    _need(buf, pos, size, "snapshot data")
    data = bytes(buf[pos : pos + size])
    return offset, bool(done), tuple(voters), tuple(learners), data, pos + size


def _check_snap(term: int, log_term: int, index: int, voters: tuple[str, ...], learners: tuple[str, ...]) -> None:
    if index == 0 or log_term == 0:
        raise DecodeError(f"a snapshot chunk must name a snapshot entry of at least 1/1, got {log_term}/{index}")
    if log_term > term:
        raise DecodeError(f"snapshot term {log_term} is newer than the message term {term}")
    if not voters:
        raise DecodeError("a snapshot chunk must name the snapshot's voters")
    if len(set(voters)) != len(voters):
        raise DecodeError(f"snapshot voters repeat: {list(voters)}")
    if len(set(learners)) != len(learners):
        raise DecodeError(f"snapshot learners repeat: {list(learners)}")
    if set(voters) & set(learners):
        raise DecodeError(f"snapshot names {sorted(set(voters) & set(learners))} both as voters and as learners")


def _read_id(buf: memoryview, pos: int, what: str) -> tuple[str, int]:
    _need(buf, pos, 1, f"{what} length")
    size = buf[pos]
    if size == 0:
        raise DecodeError(f"empty {what} node id")
    _need(buf, pos + 1, size, what)
    try:
        name = bytes(buf[pos + 1 : pos + 1 + size]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{what} node id is not valid UTF-8: {exc.reason} at byte {exc.start}") from exc
    return name, pos + 1 + size


def _need(buf: memoryview, pos: int, size: int, what: str) -> None:
    if pos + size > len(buf):
        raise DecodeError(f"truncated message: {what} needs {size} bytes at offset {pos}, {len(buf) - pos} left")


def _check_entries(msg_type: MessageType, term: int, log_term: int, index: int, entries: list[Entry]) -> None:
    if not entries:
        return
    if msg_type is not MessageType.APPEND:
        raise DecodeError(f"a {msg_type.name} message carries no entries, got {len(entries)}")
    prev_term = log_term
    for offset, e in enumerate(entries, start=1):
        if e.index != index + offset:
            raise DecodeError(f"entry indexes must follow {index} consecutively, got {e.index} at position {offset}")
        if not prev_term <= e.term <= term or e.term == 0:
            raise DecodeError(f"entry {e.index} has term {e.term}: terms must not decrease and not exceed {term}")
        if e.kind is EntryKind.CONF_CHANGE:
            try:
                ConfChange.decode(e.data)
            except DecodeError as exc:
                raise DecodeError(f"entry {e.index}: {exc}") from None
        elif e.kind is EntryKind.BATCH:
            entry_data.check(e)
        prev_term = e.term
