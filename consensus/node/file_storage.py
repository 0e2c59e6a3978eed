"""Durable Raft storage in a directory: a checksummed append-only log, a
hard-state file and a snapshot file.

Layout under the data directory::

    log         an optional base record, then records, one per entry, in index order
    hardstate   the HardState of the last save that changed the term or the vote (replaced atomically)
    snapshot    the last saved snapshot (replaced atomically; absent until the first)

A log record is ``length u32 | crc32 u32 | payload`` with
``payload = term u64 | index u64 | kind u8 | data``, all big-endian;
``length`` is the payload's length and ``crc32`` is ``zlib.crc32(payload)``.
The *base record* has kind 255 and no data; it comes first in a compacted
log and says that the log continues after entry ``term/index`` (the
snapshot's last included entry). A log without one starts at index 1.

The hard-state file is ``crc32 u32 | json`` where the JSON holds ``term``,
``vote`` and ``commit`` and the crc covers the JSON bytes. It is rewritten
only when a save changes the term or the vote; a save that changes only
the commit index does not touch it (so such a save costs one log fsync,
not three). The commit index on disk is therefore the one of the last
term or vote change: it may lag, never lead, the real one, and every
index it names was committed when it was written. Raft needs no durable
commit index: a restarted node applies up to the stored one and learns
the rest from the leader (etcd persists it for the same reason, as a
hint). ``initial_state()`` of an open instance returns the last hard
state given to ``save``; after reopening, the one on disk.

The snapshot file is ``magic "LMSNAP01" | crc32 u32 | meta_len u32 | meta | data``
where ``meta`` is JSON with ``index``, ``term``, ``voters`` and ``learners``
(written with sorted keys and no spaces; a file without ``learners``, as
written before learners existed, reads as having none), ``data`` is the
rest of the file, and the crc covers everything after itself. Damage of
any kind is :class:`CorruptSnapshotError`.

Snapshots and compaction. :meth:`FileStorage.save_snapshot` (a snapshot of
this node's state machine) first replaces the snapshot file atomically
(``snapshot.tmp``, fsync, ``os.replace``, fsync the directory), and only then
compacts the log: it writes the base record and the entries after the
snapshot to ``log.tmp``, fsyncs it and renames it onto ``log`` (fsync the
directory). A snapshot installed from a leader (``save(..., snapshot=...)``)
does the same with only that Ready's new entries after the base record, so
the whole save stays one log write and one log fsync. A crash between the
two renames leaves a snapshot newer than the log's base; opening finishes
the job: it keeps the log entries after the snapshot if the log holds the
snapshot's last entry with the same term, drops them otherwise (they belong
to a log the snapshot replaced), rewrites the log and logs
``storage.compaction_completed``. A log whose base lies *beyond* the
snapshot (the snapshot file is missing or older) is :class:`CorruptSnapshotError`:
the entries in between exist nowhere. Restart is therefore always
"snapshot + log suffix". Leftover ``*.tmp`` files are half-written and are
removed on open; the files they were to replace are authoritative.

Ordering of one :meth:`FileStorage.save` (without a snapshot): truncate the
conflicting suffix (if any), append all new records with one write, fsync the
log once (group commit), and only then, if the term or the vote changed, replace the hard
state (write ``hardstate.tmp``, fsync it, ``os.replace`` it onto ``hardstate``, fsync the
directory). A crash between the two steps keeps every entry of the save and the previous
hard state, whose commit index may lag; Raft recomputes the commit index, so nothing is
lost. A vote is durable when ``save`` returns, before the node sends it.

Recovery rule (on open) for a record at offset ``X`` that does not validate
(header incomplete, length impossible or past EOF, or CRC mismatch):

- scan forward byte by byte from ``X + 1`` for an offset where a complete
  record validates (plausible length, matching CRC, known kind) and whose
  index and term continue the log plausibly (index greater than the last good
  index, term not lower than the last good term);
- if such a record exists, the damage is in the middle of the log: raise
  :class:`CorruptLogError` naming the file and ``X`` and leave the file alone;
- otherwise the damage is a torn or garbage tail (a write interrupted by a
  crash, or junk after the last record): truncate the file to ``X``, log
  ``storage.torn_tail_truncated`` and continue.

A record that validates but breaks continuity (index not previous + 1, or a
term lower than the previous one, or a first index other than the base's
index + 1) is always :class:`CorruptLogError`: a torn write cannot produce a
record with a good CRC.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import structlog

from lmteams.consensus.core.messages import Entry, EntryKind, HardState, Snapshot, SnapshotMeta
from lmteams.consensus.core.storage import EntryIndex
from lmteams.consensus.errors import StorageError

log = structlog.get_logger(__name__)

_HEADER = struct.Struct(">II")  # length, crc32
_PAYLOAD_HEAD = struct.Struct(">QQB")  # term, index, kind
_MIN_PAYLOAD = _PAYLOAD_HEAD.size
_MAX_PAYLOAD = 0xFFFFFFFF
_KINDS = {int(k) for k in EntryKind}
BASE_KIND = 255  # the base record of a compacted log; never an entry's kind

LOG_FILE = "log"
HARD_STATE_FILE = "hardstate"
SNAPSHOT_FILE = "snapshot"
_HARD_STATE_TMP = "hardstate.tmp"
_SNAPSHOT_TMP = "snapshot.tmp"
_LOG_TMP = "log.tmp"
SNAPSHOT_MAGIC = b"LMSNAP01"
_SNAP_HEAD = struct.Struct(">II")  # crc32, meta_len

_RESTORE_ADVICE = (
    "this node's data directory is damaged and must not be used as is: stop the node, then "
    "either restore the directory from a backup or a healthy peer's copy, or remove it so the "
    "node rejoins empty and catches up from the leader"
)


class CorruptLogError(StorageError):
    """The log file is damaged somewhere other than its tail; nothing was changed on disk."""


class CorruptHardStateError(StorageError):
    """The hard-state file cannot be read back (bad checksum, truncated or malformed)."""


class CorruptSnapshotError(StorageError):
    """The snapshot file cannot be read back, or is missing or older than the compacted log needs."""


def encode_record(entry: Entry) -> bytes:
    """The on-disk bytes of one log record for ``entry``."""
    payload = _PAYLOAD_HEAD.pack(entry.term, entry.index, int(entry.kind)) + bytes(entry.data)
    if len(payload) > _MAX_PAYLOAD:
        raise StorageError(f"entry {entry.index} is too large to store ({len(entry.data)} bytes)")
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def encode_base_record(term: int, index: int) -> bytes:
    """The on-disk bytes of the base record: the log continues after entry ``term/index``."""
    payload = _PAYLOAD_HEAD.pack(term, index, BASE_KIND)
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _decode_base_at(buf: bytes | memoryview, offset: int) -> tuple[Entry, int] | None:
    """The base (as a sentinel entry) of a base record that validates at ``offset``, else None."""
    end_of_header = offset + _HEADER.size
    if end_of_header > len(buf):
        return None
    length, crc = _HEADER.unpack_from(buf, offset)
    if length != _MIN_PAYLOAD or end_of_header + length > len(buf):
        return None
    payload = buf[end_of_header : end_of_header + length]
    if zlib.crc32(payload) != crc:
        return None
    term, index, kind = _PAYLOAD_HEAD.unpack_from(payload, 0)
    if kind != BASE_KIND:
        return None
    return Entry(term=term, index=index), end_of_header + length


def encode_snapshot_file(snap: Snapshot) -> bytes:
    """The bytes of a snapshot file holding ``snap``."""
    meta = json.dumps(
        {
            "index": snap.index,
            "term": snap.term,
            "voters": list(snap.meta.voters),
            "learners": list(snap.meta.learners),
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")
    body = struct.pack(">I", len(meta)) + meta + bytes(snap.data)
    return SNAPSHOT_MAGIC + struct.pack(">I", zlib.crc32(body)) + body


def _decode_snapshot_file(raw: bytes, path: Path) -> Snapshot:
    def bad(why: str) -> CorruptSnapshotError:
        return CorruptSnapshotError(f"snapshot file {str(path)!r} is corrupt ({why}); {_RESTORE_ADVICE}")

    head = len(SNAPSHOT_MAGIC) + _SNAP_HEAD.size
    if len(raw) < head:
        raise bad(f"only {len(raw)} bytes, the header alone is {head}")
    if raw[: len(SNAPSHOT_MAGIC)] != SNAPSHOT_MAGIC:
        raise bad("wrong magic bytes: not a snapshot file")
    crc, meta_len = _SNAP_HEAD.unpack_from(raw, len(SNAPSHOT_MAGIC))
    if zlib.crc32(raw[len(SNAPSHOT_MAGIC) + 4 :]) != crc:
        raise bad("checksum mismatch")
    if head + meta_len > len(raw):
        raise bad(f"metadata length {meta_len} runs past the end of the file")
    try:
        obj = json.loads(raw[head : head + meta_len].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"metadata is not valid JSON: {exc}") from None
    index = obj.get("index") if isinstance(obj, dict) else None
    term = obj.get("term") if isinstance(obj, dict) else None
    voters = obj.get("voters") if isinstance(obj, dict) else None
    learners = obj.get("learners", []) if isinstance(obj, dict) else None
    if (
        not isinstance(index, int)
        or not isinstance(term, int)
        or isinstance(index, bool)
        or isinstance(term, bool)
        or index < 1
        or term < 1
        or not isinstance(voters, list)
        or not all(isinstance(v, str) and v for v in voters)
        or not isinstance(learners, list)
        or not all(isinstance(v, str) and v for v in learners)
        or set(voters) & set(learners)
        or set(obj) - {"index", "term", "voters", "learners"}
    ):
        raise bad(f"unexpected metadata {obj!r}")
    return Snapshot(SnapshotMeta(index, term, tuple(voters), tuple(learners)), raw[head + meta_len :])


def _decode_at(buf: bytes | memoryview, offset: int) -> tuple[Entry, int] | None:
    """The entry of a record that validates at ``offset`` and the offset after it, else None."""
    end_of_header = offset + _HEADER.size
    if end_of_header > len(buf):
        return None
    length, crc = _HEADER.unpack_from(buf, offset)
    if length < _MIN_PAYLOAD or end_of_header + length > len(buf):
        return None
    payload = buf[end_of_header : end_of_header + length]
    if zlib.crc32(payload) != crc:
        return None
    term, index, kind = _PAYLOAD_HEAD.unpack_from(payload, 0)
    if kind not in _KINDS:
        return None
    entry = Entry(term=term, index=index, data=bytes(payload[_MIN_PAYLOAD:]), kind=EntryKind(kind))
    return entry, end_of_header + length


def _encode_hard_state(hs: HardState) -> bytes:
    body = json.dumps(
        {"term": hs.term, "vote": hs.vote, "commit": hs.commit}, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")
    return struct.pack(">I", zlib.crc32(body)) + body


def _decode_hard_state(raw: bytes, path: Path) -> HardState:
    def bad(why: str) -> CorruptHardStateError:
        return CorruptHardStateError(f"hard-state file {str(path)!r} is corrupt ({why}); {_RESTORE_ADVICE}")

    if len(raw) < 4:
        raise bad(f"only {len(raw)} bytes")
    (crc,) = struct.unpack_from(">I", raw, 0)
    body = raw[4:]
    if zlib.crc32(body) != crc:
        raise bad("checksum mismatch")
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise bad("not a JSON object")
    term, vote, commit = obj.get("term"), obj.get("vote"), obj.get("commit")
    if (
        not isinstance(term, int)
        or not isinstance(commit, int)
        or isinstance(term, bool)
        or isinstance(commit, bool)
        or term < 0
        or commit < 0
        or not (vote is None or isinstance(vote, str))
    ):
        raise bad(f"unexpected fields {obj!r}")
    return HardState(term=term, vote=vote, commit=commit)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStorage(EntryIndex):
    """A :class:`~lmteams.consensus.core.storage.Storage` kept in a directory on disk.

    Every method does blocking file I/O (``save`` fsyncs): call it from a
    worker thread, never directly on an event loop, while ``blocking_io``
    is true (it is ``fsync``: without fsync the writes only reach the page
    cache, which takes less time than a hop to a worker thread). Reads (``term``,
    ``entries``, ``snapshot``, ...) are served from memory and never touch
    the disk; the current snapshot's bytes are kept in memory for that.

    ``save`` is one durable write: when it returns, the installed snapshot
    (if any), the entries and then the hard state's term and vote are on
    disk (with ``fsync=True``); its commit index only when the term or vote
    changed too (see the module docstring). ``save_snapshot`` stores a local snapshot and then
    compacts the log behind it (see the module docstring for the order).
    ``fsync=False`` skips only the fsync calls (for benchmarks); the bytes
    written are the same.

    Opening recovers from a torn tail (see the module docstring for the exact
    rule), finishes an interrupted compaction, and raises
    :class:`CorruptLogError`, :class:`CorruptHardStateError` or
    :class:`CorruptSnapshotError` for damage anywhere else. After an I/O
    error during a write the instance refuses further use: reopen it.
    Not thread-safe: one caller at a time.
    """

    # RaftNode runs save() in a worker thread when this is set, so fsync
    # never blocks the event loop. Set per instance: True with fsync, False
    # without (page-cache writes take microseconds, less than a thread hop).
    blocking_io = True

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self._fsync = fsync
        self.blocking_io = fsync
        self._fd: int | None = None
        self._failed: BaseException | None = None
        self.saves = 0
        self.path.mkdir(parents=True, exist_ok=True)
        self.log_path = self.path / LOG_FILE
        self.hard_state_path = self.path / HARD_STATE_FILE
        self.snapshot_path = self.path / SNAPSHOT_FILE

        for leftover in (_HARD_STATE_TMP, _SNAPSHOT_TMP, _LOG_TMP):
            tmp = self.path / leftover
            if tmp.exists():  # a crash before os.replace: the file it was to replace is authoritative
                tmp.unlink()
        self._hard_state = self._disk_hard_state = self._read_hard_state()
        self._snapshot = self._read_snapshot()

        created = not self.log_path.exists()
        fd = os.open(self.log_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._fd = fd
        try:
            if created:
                self._sync(fd)
                self._sync_dir()
            # _offsets[i] is the byte offset of the record of _ents[i + 1];
            # _size is the end of the last record.
            self._offsets: list[int] = []
            self._size = 0
            self._recover(fd)
            self._reconcile_snapshot()
        except BaseException:
            os.close(self._fd)
            self._fd = None
            raise

    # -- open / recovery -------------------------------------------------

    def _read_hard_state(self) -> HardState:
        try:
            raw = self.hard_state_path.read_bytes()
        except FileNotFoundError:
            return HardState()
        return _decode_hard_state(raw, self.hard_state_path)

    def _read_snapshot(self) -> Snapshot:
        try:
            raw = self.snapshot_path.read_bytes()
        except FileNotFoundError:
            return Snapshot()
        return _decode_snapshot_file(raw, self.snapshot_path)

    def _recover(self, fd: int) -> None:
        size = os.fstat(fd).st_size
        buf = os.pread(fd, size, 0) if size else b""
        if len(buf) != size:
            raise StorageError(f"short read of {str(self.log_path)!r}: {len(buf)} of {size} bytes")
        view = memoryview(buf)
        offset = 0
        base = _decode_base_at(view, 0)
        if base is not None:
            self._ents = [base[0]]
            offset = base[1]
        prev = self._ents[0]
        while offset < size:
            decoded = _decode_at(view, offset)
            if decoded is None:
                if self._valid_record_after(view, offset, prev):
                    raise CorruptLogError(
                        f"log file {str(self.log_path)!r} is corrupt at byte offset {offset} "
                        f"(the record after entry {prev.index} fails its length or checksum check, "
                        f"and valid records follow it, so this is not a torn tail); {_RESTORE_ADVICE}"
                    )
                self._truncate_tail(fd, offset, size)
                break
            entry, end = decoded
            if entry.index != prev.index + 1 or entry.term < prev.term:
                raise CorruptLogError(
                    f"log file {str(self.log_path)!r} is corrupt at byte offset {offset}: "
                    f"record holds entry {entry.term}/{entry.index} after entry {prev.term}/{prev.index} "
                    f"(expected index {prev.index + 1} with term >= {prev.term}); {_RESTORE_ADVICE}"
                )
            self._ents.append(entry)
            self._offsets.append(offset)
            prev = entry
            offset = end
        self._size = offset

    def _reconcile_snapshot(self) -> None:
        """Make the log start right after the snapshot (see the module docstring)."""
        snap, base = self._snapshot, self._ents[0]
        if snap.index < base.index or (snap.index == base.index and snap.term != base.term):
            where = f"holds snapshot {snap.meta}" if snap.index else "is missing"
            raise CorruptSnapshotError(
                f"log file {str(self.log_path)!r} continues after entry {base.term}/{base.index}, but the "
                f"snapshot file {str(self.snapshot_path)!r} {where}: the entries up to {base.index} are in "
                f"neither; {_RESTORE_ADVICE}"
            )
        if snap.index == base.index:
            return
        pos = snap.index - base.index
        matches = snap.index <= self.last_index() and self._ents[pos].term == snap.term
        keep = self._ents[pos + 1 :] if matches else []
        dropped = len(self._ents) - 1 - len(keep)
        self._rewrite_log(Entry(snap.term, snap.index), keep)
        log.warning(
            "storage.compaction_completed",
            path=str(self.log_path),
            snapshot_index=snap.index,
            snapshot_term=snap.term,
            dropped_entries=dropped,
            kept_entries=len(keep),
        )

    @staticmethod
    def _valid_record_after(view: memoryview, bad: int, prev: Entry) -> bool:
        for pos in range(bad + 1, len(view) - _HEADER.size - _MIN_PAYLOAD + 1):
            length, _ = _HEADER.unpack_from(view, pos)
            if length < _MIN_PAYLOAD or pos + _HEADER.size + length > len(view):
                continue  # cheap rejection before computing a CRC
            decoded = _decode_at(view, pos)
            if decoded is None:
                continue
            entry = decoded[0]
            if entry.index > prev.index and entry.term >= prev.term:
                return True
        return False

    def _truncate_tail(self, fd: int, offset: int, size: int) -> None:
        os.ftruncate(fd, offset)
        self._sync(fd)
        log.warning(
            "storage.torn_tail_truncated",
            path=str(self.log_path),
            offset=offset,
            dropped_bytes=size - offset,
        )

    # -- Storage protocol (reads come from EntryIndex) -------------------

    def save(self, hard_state: HardState | None, entries: Sequence[Entry], snapshot: Snapshot | None = None) -> None:
        fd = self._check_open()
        if snapshot is not None:
            self._check_install(snapshot)
        if entries:
            self._check_batch(entries, after=snapshot)
        try:
            if snapshot is not None:
                self._write_snapshot_file(snapshot)
                self._snapshot = snapshot
                # One log write for the install and the entries after it.
                self._rewrite_log(Entry(snapshot.term, snapshot.index), list(entries))
            elif entries:
                self._append(fd, entries)
            if hard_state is not None:
                disk = self._disk_hard_state
                if hard_state.term != disk.term or hard_state.vote != disk.vote:
                    self._write_hard_state(hard_state)
                    self._disk_hard_state = hard_state
                self._hard_state = hard_state
        except BaseException as exc:
            # Disk and memory may now disagree: refuse further use (fail-stop).
            self._failed = exc
            raise
        self.saves += 1

    def save_snapshot(self, snapshot: Snapshot) -> None:
        self._check_open()
        dropped = self._check_compact(snapshot)
        try:
            self._write_snapshot_file(snapshot)  # durable before any entry is dropped
            self._snapshot = snapshot
            self._rewrite_log(Entry(snapshot.term, snapshot.index), self._ents[dropped + 1 :])
        except BaseException as exc:
            self._failed = exc
            raise

    # -- writing ---------------------------------------------------------

    def _check_open(self) -> int:
        if self._failed is not None:
            raise StorageError(
                f"storage at {str(self.path)!r} failed during an earlier save ({self._failed!r}); reopen it"
            )
        if self._fd is None:
            raise StorageError(f"storage at {str(self.path)!r} is closed")
        return self._fd

    def _append(self, fd: int, entries: Sequence[Entry]) -> None:
        first = entries[0].index
        keep = first - 1 - self._ents[0].index  # entries kept (not counting the sentinel)
        records = [encode_record(e) for e in entries]
        if keep < len(self._offsets):
            cut = self._offsets[keep]
            os.ftruncate(fd, cut)
            del self._ents[keep + 1 :]
            del self._offsets[keep:]
            self._size = cut
        blob = b"".join(records)
        _write_all(fd, blob)  # O_APPEND: writes land at the (truncated) end
        self._sync(fd)
        pos = self._size
        for e, rec in zip(entries, records):
            self._ents.append(e)
            self._offsets.append(pos)
            pos += len(rec)
        self._size = pos

    def _rewrite_log(self, base: Entry, entries: Sequence[Entry]) -> None:
        """Atomically replace the log file with ``base``'s record and ``entries``."""
        head = encode_base_record(base.term, base.index)
        records = [encode_record(e) for e in entries]
        tmp = self.path / _LOG_TMP
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, head + b"".join(records))
            self._sync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.log_path)
        self._sync_dir()
        new_fd = os.open(self.log_path, os.O_RDWR | os.O_APPEND)
        old_fd, self._fd = self._fd, new_fd
        if old_fd is not None:
            os.close(old_fd)
        self._ents = [base, *entries]
        self._offsets = []
        pos = len(head)
        for rec in records:
            self._offsets.append(pos)
            pos += len(rec)
        self._size = pos

    def _write_snapshot_file(self, snap: Snapshot) -> None:
        self._replace_file(_SNAPSHOT_TMP, self.snapshot_path, encode_snapshot_file(snap))

    def _write_hard_state(self, hs: HardState) -> None:
        self._replace_file(_HARD_STATE_TMP, self.hard_state_path, _encode_hard_state(hs))

    def _replace_file(self, tmp_name: str, target: Path, data: bytes) -> None:
        """Write ``tmp_name``, fsync it, rename it onto ``target``, fsync the directory."""
        tmp = self.path / tmp_name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
            self._sync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        self._sync_dir()

    def _sync(self, fd: int) -> None:
        if self._fsync:
            os.fsync(fd)

    def _sync_dir(self) -> None:
        if self._fsync:
            _fsync_dir(self.path)

    # -- lifecycle -------------------------------------------------------

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FileStorage({str(self.path)!r}, first_index={self.first_index()}, last_index={self.last_index()})"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    written = 0
    while written < len(data):
        written += os.write(fd, view[written:])
