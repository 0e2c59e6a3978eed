"""FileStorage under simulated power loss at every write and fsync point of a run of saves.

The shim (tests/consensus/powerloss.py) keeps only what completed fsyncs made durable. After a
crash at any point, the directory must open, and every save that returned (so the node could
have acknowledged its entries or sent its vote) must be there. The last test moves the log's
fsync before its write and checks that this layer catches it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from lmteams.consensus.core.messages import Entry, HardState, Snapshot, SnapshotMeta
from lmteams.consensus.core.storage import MemoryStorage
from lmteams.consensus.errors import StorageError
from lmteams.consensus.node import file_storage
from lmteams.consensus.node.file_storage import FileStorage

from .powerloss import PowerLoss, PowerLossDisk

VOTERS = ("a", "b", "c")


def _e(term: int, lo: int, hi: int, tag: str) -> list[Entry]:
    return [Entry(term, i, f"{tag}{i}".encode()) for i in range(lo, hi + 1)]


@dataclass(frozen=True)
class Op:
    """One call on the storage: ``save(hs, entries, snapshot)`` or, with ``compact``, ``save_snapshot``."""

    hs: HardState | None = None
    entries: Sequence[Entry] = ()
    snapshot: Snapshot | None = None
    compact: Snapshot | None = None

    def apply(self, s: FileStorage | MemoryStorage) -> None:
        if self.compact is not None:
            s.save_snapshot(self.compact)
        else:
            s.save(self.hs, list(self.entries), self.snapshot)

    def replaces_from(self) -> int | None:
        """The first index this op may legitimately replace (a conflicting suffix, or all of it)."""
        if self.snapshot is not None:
            return 0
        return self.entries[0].index if self.entries else None


RUN = [
    Op(HardState(1, "a", 0), _e(1, 1, 3, "x")),
    Op(None, _e(1, 4, 5, "x")),
    Op(HardState(2, None, 3), _e(2, 6, 6, "y")),  # a new term: the hard state is replaced
    Op(HardState(2, "b", 4), []),  # a vote, alone
    Op(compact=Snapshot(SnapshotMeta(4, 1, VOTERS), b"state@4")),  # compaction: snapshot file, log rewrite
    Op(HardState(3, None, 5), _e(3, 6, 7, "z")),  # a new leader's entries replace entry 6
    Op(HardState(3, None, 7), [], Snapshot(SnapshotMeta(9, 3, VOTERS), b"state@9")),  # a leader's snapshot
    Op(None, _e(3, 10, 12, "w")),
    Op(HardState(4, "c", 9), []),
]


@dataclass
class Acked:
    hs: HardState
    snapshot: Snapshot
    entries: list[Entry]


def _run(path: Path, disk: PowerLossDisk) -> tuple[list[Acked], bool]:
    """Run RUN on ``path`` over ``disk``; the acknowledged state after each op that returned, and whether all did."""
    mem = MemoryStorage()
    acked = [Acked(HardState(), Snapshot(), [])]
    try:
        s = FileStorage(path)
        for op in RUN:
            op.apply(s)
            op.apply(mem)
            acked.append(Acked(mem.initial_state(), mem.snapshot(), mem.all_entries()))
        s.close()
    except PowerLoss:
        return acked, False
    return acked, True


def _violations(reopened: FileStorage, acked: list[Acked], done: bool) -> list[str]:
    """What ``reopened`` lost of the last acknowledged state (allowing what the interrupted op may replace)."""
    last = acked[-1]
    pending = None if done else RUN[len(acked) - 1]  # the op the power loss interrupted
    bad: list[str] = []
    hs = reopened.initial_state()
    allowed = {(last.hs.term, last.hs.vote)}
    if pending is not None and pending.hs is not None:
        allowed.add((pending.hs.term, pending.hs.vote))
    if (hs.term, hs.vote) not in allowed:
        bad.append(f"hard state {hs} but {last.hs} was durable (a forgotten term or vote)")
    snap = reopened.snapshot()
    if snap.index < last.snapshot.index:
        bad.append(f"snapshot {snap.meta} older than the saved {last.snapshot.meta}")
    replaced = pending.replaces_from() if pending is not None else None
    for e in last.entries:
        if e.index <= snap.index:
            continue  # covered by the snapshot
        if replaced is not None and e.index >= replaced:
            continue  # the interrupted save may replace it
        if e.index > reopened.last_index() or reopened.entries(e.index, e.index + 1)[0] != e:
            bad.append(f"acknowledged entry {e.term}/{e.index} is lost")
    return bad


def _every_crash_point(tmp_path: Path) -> list[str]:
    """Crash at every point of RUN; the violations found (with the crash point)."""
    counting = PowerLossDisk(tmp_path / "count")
    original = file_storage.os
    file_storage.os = counting  # type: ignore[assignment]
    try:
        _, done = _run(tmp_path / "count", counting)
    finally:
        file_storage.os = original
        counting.release()
    assert done
    found: list[str] = []
    for k in range(counting.points + 1):
        data = tmp_path / f"crash{k}"
        disk = PowerLossDisk(data, crash_at=k)
        file_storage.os = disk  # type: ignore[assignment]
        try:
            acked, done = _run(data, disk)
        finally:
            file_storage.os = original
            disk.release()
        image = disk.image(tmp_path / f"image{k}")
        try:
            reopened = FileStorage(image)
        except StorageError as exc:
            found.append(f"crash point {k}: the directory no longer opens: {exc}")
            continue
        with reopened:
            found += [f"crash point {k}: {v}" for v in _violations(reopened, acked, done)]
    return found


def test_power_loss_at_every_write_and_fsync_point_loses_nothing_acknowledged(tmp_path: Path) -> None:
    assert _every_crash_point(tmp_path) == []


def _append_with_fsync_first(self: FileStorage, fd: int, entries: Sequence[Entry]) -> None:
    """The mutation: FileStorage._append with its fsync moved before its write."""
    first = entries[0].index
    keep = first - 1 - self._ents[0].index
    records = [file_storage.encode_record(e) for e in entries]
    if keep < len(self._offsets):
        cut = self._offsets[keep]
        file_storage.os.ftruncate(fd, cut)
        del self._ents[keep + 1 :]
        del self._offsets[keep:]
        self._size = cut
    last = entries[-1]
    seal = file_storage.encode_seal_record(last.term, last.index)
    self._sync(fd)  # moved up: covers nothing of this batch
    file_storage._write_all(fd, b"".join(records) + seal)
    pos = self._size
    for e, rec in zip(entries, records):
        self._ents.append(e)
        self._offsets.append(pos)
        pos += len(rec)
    self._size = pos + len(seal)
    self.acked_index = last.index


def _no_directory_fsync(self: FileStorage) -> None:
    """The mutation: renames and creations never made durable."""


@pytest.mark.parametrize(
    ("name", "mutation"),
    [("_append", _append_with_fsync_first), ("_sync_dir", _no_directory_fsync)],
    ids=["fsync moved before the log write", "directory fsync missing"],
)
def test_the_layer_catches_a_misplaced_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, mutation: Callable[..., None]
) -> None:
    monkeypatch.setattr(FileStorage, name, mutation)
    found = _every_crash_point(tmp_path)
    assert found, "the mutation went unnoticed"
    assert any("lost" in v or "opens" in v or "forgotten" in v for v in found)


def test_the_shim_counts_points_and_keeps_only_fsynced_bytes(tmp_path: Path) -> None:
    disk = PowerLossDisk(tmp_path / "d")
    (tmp_path / "d").mkdir()
    fd = disk.open(tmp_path / "d" / "f", os.O_RDWR | os.O_CREAT, 0o644)
    disk.write(fd, b"synced")
    disk.fsync(fd)
    dfd = disk.open(tmp_path / "d", os.O_RDONLY)
    disk.fsync(dfd)
    disk.close(dfd)
    disk.write(fd, b" and not")
    disk.release()
    assert disk.points == 4
    assert (disk.image(tmp_path / "img") / "f").read_bytes() == b"synced"
