"""Durable Raft storage in a directory: a checksummed append-only log, a
hard-state file and a snapshot file.

Layout under the data directory::

    log         an optional base record, then records, one per entry, in index order, each save's batch
                closed by a seal record
    hardstate   term, vote and a commit mark (replaced atomically; written before the log on a fresh directory)
    snapshot    the last saved snapshot (replaced atomically; absent until the first)
    lock        flock()ed by the process using the directory; holds its pid

A log record is ``length u32 | crc32 u32 | payload`` with
``payload = term u64 | index u64 | kind u8 | data``, all big-endian;
``length`` is the payload's length and ``crc32`` is ``zlib.crc32(payload)``.
The *base record* has kind 255 and no data; it comes first in a compacted
log and says that the log continues after entry ``term/index`` (the
snapshot's last included entry). A log without one starts at index 1.
A *seal record* has kind 254 and no data and repeats the ``term/index`` of
the entry before it: it closes the batch of one save.

When an entry is acknowledged, and the seal. A node acknowledges an entry
(an AppResp from a follower, the leader counting itself) or grants a vote
only after ``save`` returned, and ``save`` returns only after the fsync that
covers the batch's records *and its seal* (one write, one fsync: group
commit is kept). So every acknowledged entry lies at or before a durable
seal, and every entry after the last seal on disk belongs to a save that
never completed and was never acknowledged. :attr:`FileStorage.acked_index`
is that mark (the last sealed index). A power loss can only tear the bytes
after the last completed fsync, i.e. after the last seal: a damaged record
followed by a valid seal (or any valid record) is damage to acknowledged
data and is refused; a damaged tail with no valid record after it is a torn
tail and is truncated with a warning naming ``acknowledged_through``.
Damage that removes the seals as well (a file truncated or deleted) cannot
be seen in the log itself; the commit mark in the hard state catches it.

The hard-state file is ``crc32 u32 | json`` where the JSON holds ``term``,
``vote`` and ``commit`` and the crc covers the JSON bytes. It is rewritten
when a save changes the term or the vote, when the commit index has moved
``commit_mark_interval`` (1024) entries past the one on disk, and on a clean
``close()``; a save that changes only the commit index otherwise does not
touch it (so it costs one log fsync, not three). The commit index on disk
may lag, never lead, the real one; every index it names was committed
(hence acknowledged by this node's log) when it was written. It is the
durable mark of what the log must still hold: opening refuses
(:class:`LostEntriesError`) a log that ends before it. Raft needs no durable
commit index for progress: a restarted node applies up to the stored one and
learns the rest from the leader. ``initial_state()`` of an open instance
returns the last hard state given to ``save``; after reopening, the one on
disk.

What opening refuses, each with an error naming the file, what is wrong
and the recovery procedure (README, "Operations: a damaged node"): a
missing hard-state file when a log or snapshot exists (the node may have
voted in its term and would vote again; a fresh directory writes its hard
state first, so a missing one is never a fresh start), an empty or
unreadable one, a missing log file when the hard state or a snapshot says
the directory was used, a commit mark beyond the last surviving entry,
damage before the last seal, and a second opener (the ``lock`` file,
:class:`DataDirLockedError`). What it still cannot see: a log that lost
whole sealed batches past the commit mark (at most ``commit_mark_interval``
entries after a crash; none after a clean close). The leader sees that case
(a follower answering below its recorded match index, ``lost_disk``).

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
conflicting suffix (if any), append all new records and their seal with one write, fsync the
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

import fcntl
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
SEAL_KIND = 254  # the seal that closes one save's batch (see the module docstring); never an entry's kind
LOCK_FILE = "lock"

LOG_FILE = "log"
HARD_STATE_FILE = "hardstate"
SNAPSHOT_FILE = "snapshot"
_HARD_STATE_TMP = "hardstate.tmp"
_SNAPSHOT_TMP = "snapshot.tmp"
_LOG_TMP = "log.tmp"
SNAPSHOT_MAGIC = b"LMSNAP01"
_SNAP_HEAD = struct.Struct(">II")  # crc32, meta_len

RECOVERY_DOC = "README.md, section 'Operations: a damaged node'"
_RESTORE_ADVICE = (
    "this node's data directory is damaged and must not be used as is. Do not just delete it and restart "
    "the node under the same id (an empty voter may vote twice in a term and forget entries a quorum counted "
    "on it). Stop the node, remove it from the cluster (`lmteams kv member remove ID`), wipe the directory, "
    "start the node with `lmteams node --join ...` and add it back (`lmteams kv member add ID`): it catches "
    f"up as a learner and is then promoted. See {RECOVERY_DOC}"
)


class CorruptLogError(StorageError):
    """The log file is damaged somewhere other than its tail; nothing was changed on disk."""


class CorruptHardStateError(StorageError):
    """The hard-state file cannot be read back (bad checksum, truncated or malformed)."""


class CorruptSnapshotError(StorageError):
    """The snapshot file cannot be read back, or is missing or older than the compacted log needs."""


class LostEntriesError(CorruptLogError):
    """The log holds fewer entries than the node acknowledged: its hard state says more were committed."""


class DataDirLockedError(StorageError):
    """Another process (or another open FileStorage) is using the data directory."""


def encode_seal_record(term: int, index: int) -> bytes:
    """The on-disk bytes of the seal that closes a batch ending at entry ``term/index``."""
    payload = _PAYLOAD_HEAD.pack(term, index, SEAL_KIND)
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


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
    """The entry of a record that validates at ``offset`` and the offset after it, else None.

    A seal decodes as an entry of kind ``SEAL_KIND`` (an int, not an `EntryKind`): the caller tells them apart."""
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
    if kind == SEAL_KIND and length == _MIN_PAYLOAD:
        # The seal is a marker record read back as an Entry of kind 254, which no EntryKind names.
        return Entry(term=term, index=index, kind=SEAL_KIND), end_of_header + length  # type: ignore[arg-type]
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

    # The hard state is also rewritten when the commit index has advanced this far past the one on
    # disk, so a lost log tail is detectable (see the module docstring) at a cost of 2 fsyncs per
    # this many committed entries; ``close()`` writes the exact commit index.
    commit_mark_interval = 1024

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self._fsync = fsync
        self.blocking_io = fsync
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._failed: BaseException | None = None
        self.saves = 0
        self.acked_index = 0
        """The last entry index covered by a seal (a completed fsync that preceded any acknowledgement)."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.log_path = self.path / LOG_FILE
        self.hard_state_path = self.path / HARD_STATE_FILE
        self.snapshot_path = self.path / SNAPSHOT_FILE
        self._lock_fd = _lock_dir(self.path)
        try:
            self._open()
        except BaseException:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            os.close(self._lock_fd)
            self._lock_fd = None
            raise

    def _open(self) -> None:
        for leftover in (_HARD_STATE_TMP, _SNAPSHOT_TMP, _LOG_TMP):
            tmp = self.path / leftover
            if tmp.exists():  # a crash before os.replace: the file it was to replace is authoritative
                tmp.unlink()
        has_log, has_hs = self.log_path.exists(), self.hard_state_path.exists()
        has_snap = self.snapshot_path.exists()
        self.created = not (has_log or has_hs or has_snap)
        """True when this open found an empty directory (a new member, see ``RaftNode(joining=...)``)."""
        if self.created:  # the hard state first: from now on a missing one is damage, never a fresh start
            self._write_hard_state(HardState())
        elif not has_hs:
            what = "a log file" if has_log else "a snapshot file"
            raise CorruptHardStateError(
                f"hard-state file {str(self.hard_state_path)!r} is missing although the directory holds {what}: "
                f"this node may have voted in its current term and would vote again; {_RESTORE_ADVICE}"
            )
        self._hard_state = self._disk_hard_state = self._read_hard_state()
        self._snapshot = self._read_snapshot()
        if not has_log and not self.created and (self._disk_hard_state != HardState() or has_snap):
            raise CorruptLogError(
                f"log file {str(self.log_path)!r} is missing, but the hard state "
                f"({self._disk_hard_state}) and/or a snapshot say this node was in use; {_RESTORE_ADVICE}"
            )
        created_log = not has_log  # only on a fresh directory or after a crash while creating one
        fd = os.open(self.log_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._fd = fd
        if created_log:
            self._sync(fd)
            self._sync_dir()
        # _offsets[i] is the byte offset of the record of _ents[i + 1];
        # _size is the end of the last record (or seal).
        self._offsets: list[int] = []
        self._size = 0
        self._recover(fd)
        self._reconcile_snapshot()
        commit = self._disk_hard_state.commit
        if commit > self.last_index():
            raise LostEntriesError(
                f"log file {str(self.log_path)!r} ends at entry {self.last_index()}, but the hard state in "
                f"{str(self.hard_state_path)!r} says entries up to {commit} were committed: the log lost entries "
                f"this node had acknowledged (truncated, deleted or replaced); {_RESTORE_ADVICE}"
            )

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
                        f"and valid records follow it, so this is not a torn tail but damage to entries "
                        f"that were fsynced and may have been acknowledged); {_RESTORE_ADVICE}"
                    )
                self._truncate_tail(fd, offset, size)
                break
            entry, end = decoded
            if entry.kind == SEAL_KIND:
                if entry.index != prev.index or entry.term != prev.term or len(self._ents) == 1:
                    raise CorruptLogError(
                        f"log file {str(self.log_path)!r} is corrupt at byte offset {offset}: a seal of entry "
                        f"{entry.term}/{entry.index} follows entry {prev.term}/{prev.index}; {_RESTORE_ADVICE}"
                    )
                self.acked_index = entry.index
                offset = end
                continue
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
            acknowledged_through=self.acked_index,
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
                if (
                    hard_state.term != disk.term
                    or hard_state.vote != disk.vote
                    or hard_state.commit - disk.commit >= self.commit_mark_interval
                ):
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
            self.acked_index = min(self.acked_index, first - 1)
        last = entries[-1]
        seal = encode_seal_record(last.term, last.index)
        _write_all(fd, b"".join(records) + seal)  # O_APPEND: writes land at the (truncated) end
        self._sync(fd)  # the one fsync of this batch; it covers the seal, and comes before any ack
        pos = self._size
        for e, rec in zip(entries, records):
            self._ents.append(e)
            self._offsets.append(pos)
            pos += len(rec)
        self._size = pos + len(seal)
        self.acked_index = last.index

    def _rewrite_log(self, base: Entry, entries: Sequence[Entry]) -> None:
        """Atomically replace the log file with ``base``'s record and ``entries``."""
        head = encode_base_record(base.term, base.index)
        records = [encode_record(e) for e in entries]
        seal = encode_seal_record(entries[-1].term, entries[-1].index) if entries else b""
        tmp = self.path / _LOG_TMP
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, head + b"".join(records) + seal)
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
        self._size = pos + len(seal)
        self.acked_index = base.index if not entries else entries[-1].index

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

    def close(self, *, clean: bool = True) -> None:
        """Write the exact commit index (if it moved since the last hard-state write), close, unlock.

        ``clean=False`` skips the write, leaving the disk as a crash would (for tests)."""
        try:
            if clean and self._fd is not None and self._failed is None and self._hard_state != self._disk_hard_state:
                self._write_hard_state(self._hard_state)
                self._disk_hard_state = self._hard_state
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> FileStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FileStorage({str(self.path)!r}, first_index={self.first_index()}, last_index={self.last_index()})"


def _lock_dir(path: Path) -> int:
    """Take the data directory's lock (``flock`` on ``lock``, held until close) or raise `DataDirLockedError`."""
    lock_path = path / LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise DataDirLockedError(
            f"data directory {str(path)!r} is in use by another process (pid {holder}) or another open "
            "FileStorage: two nodes must never share one directory; stop the other one or use another --data"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    written = 0
    while written < len(data):
        written += os.write(fd, view[written:])
