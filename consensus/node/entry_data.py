"""What a `RaftNode` puts in the data of the entries it proposes.

The core treats entry data as opaque bytes; the node gives it this shape:

- ``NORMAL``: the leader's stamp (a big-endian float64, its clock when it
  took the proposal) followed by one command;
- ``BATCH``: the stamp, a u32 count, then ``count`` commands each prefixed
  by its u32 length. The leader packs the proposals that were waiting
  together into one entry (as TiKV batches commands into one Raft entry),
  so the per-entry costs (log record, AppendEntries entry, fsync share,
  follower append) are paid once per batch, not per command. The commands
  are applied in order at the entry's index, each with its own result.

``unpack`` is strict, and ``check`` applies the same rules without copying
the commands: the codec uses it to refuse a malformed batch from a peer,
the node ``unpack`` to refuse one it finds in its log.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from lmteams.consensus.core.messages import Entry, EntryKind
from lmteams.consensus.errors import DecodeError

__all__ = ["STAMP", "check", "pack", "unpack"]

STAMP = struct.Struct(">d")
_U32 = struct.Struct(">I")


def pack(stamp: float, commands: Sequence[bytes]) -> tuple[EntryKind, bytes]:
    """The kind and data of an entry holding ``commands`` (one: NORMAL, more: BATCH)."""
    if not commands:
        raise ValueError("an entry holds at least one command")
    if len(commands) == 1:
        return EntryKind.NORMAL, STAMP.pack(stamp) + commands[0]
    parts = [STAMP.pack(stamp), _U32.pack(len(commands))]
    for command in commands:
        parts.append(_U32.pack(len(command)))
        parts.append(command)
    return EntryKind.BATCH, b"".join(parts)


def unpack(entry: Entry) -> tuple[float, list[bytes]]:
    """The stamp and the commands of a NORMAL or BATCH entry; ``DecodeError`` if malformed."""
    stamp, spans = _spans(entry)
    data = entry.data
    return stamp, [data[lo:hi] for lo, hi in spans]


def check(entry: Entry) -> None:
    """``DecodeError`` if ``unpack`` would refuse ``entry``; copies no command."""
    _spans(entry)


def _spans(entry: Entry) -> tuple[float, list[tuple[int, int]]]:
    """The stamp and where each command lies in the entry's data."""
    data = entry.data
    if len(data) < STAMP.size:
        raise DecodeError(f"entry {entry.index} is too short to carry a leader stamp ({len(data)} bytes)")
    (stamp,) = STAMP.unpack_from(data)
    if entry.kind is EntryKind.NORMAL:
        return stamp, [(STAMP.size, len(data))]
    if entry.kind is not EntryKind.BATCH:
        raise DecodeError(f"entry {entry.index} is a {entry.kind.name} entry, not a command")
    pos = STAMP.size + _U32.size
    if len(data) < pos:
        raise DecodeError(f"batch entry {entry.index} is truncated before its command count")
    (count,) = _U32.unpack_from(data, STAMP.size)
    if count < 2:
        raise DecodeError(f"batch entry {entry.index} holds {count} commands; a batch holds at least 2")
    spans: list[tuple[int, int]] = []
    for k in range(count):
        if pos + _U32.size > len(data):
            raise DecodeError(f"batch entry {entry.index} is truncated at the length of command {k + 1} of {count}")
        (size,) = _U32.unpack_from(data, pos)
        pos += _U32.size
        if pos + size > len(data):
            raise DecodeError(
                f"batch entry {entry.index}: command {k + 1} of {count} needs {size} bytes, {len(data) - pos} left"
            )
        spans.append((pos, pos + size))
        pos += size
    if pos != len(data):
        raise DecodeError(f"batch entry {entry.index} has {len(data) - pos} bytes after its {count} commands")
    return stamp, spans
