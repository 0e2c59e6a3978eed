"""Snapshots and compaction in MemoryStorage and FileStorage (etcd's storage_test.go
cases, plus durability: restart = snapshot + log suffix, corrupt snapshot files,
and crashes between writing the snapshot and compacting the log, by SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from lmteams.consensus.core.messages import Entry, HardState, Snapshot, SnapshotMeta
from lmteams.consensus.core.storage import MemoryStorage, Storage
from lmteams.consensus.errors import CompactedError, StorageError
from lmteams.consensus.node.file_storage import CorruptLogError, CorruptSnapshotError, FileStorage
from tests.consensus.test_file_storage import SEAL_SIZE, hardstate_file

VOTERS = ("n1", "n2", "n3")


def snap(index: int, term: int, data: bytes = b"state") -> Snapshot:
    return Snapshot(SnapshotMeta(index, term, VOTERS), data)


def ents(lo: int, hi: int, term: int = 1) -> list[Entry]:
    return [Entry(term, i, b"v%d" % i) for i in range(lo, hi + 1)]


def view(s: MemoryStorage | FileStorage) -> tuple:
    first, last = s.first_index(), s.last_index()
    return (
        s.initial_state(),
        s.snapshot(),
        first,
        last,
        s.all_entries(),
        [s.term(i) for i in range(first - 1, last + 1)],
        s.entries(first, last + 1),
    )


def record(term: int, index: int, data: bytes = b"", kind: int = 0) -> bytes:
    """Independent encoder of the documented log record (kind 255: the base record)."""
    payload = struct.pack(">QQB", term, index, kind) + data
    return struct.pack(">II", len(payload), zlib.crc32(payload)) + payload


def snapshot_file(
    index: int,
    term: int,
    voters: list[str],
    data: bytes,
    *,
    meta: bytes | None = None,
    learners: list[str] | None = None,
) -> bytes:
    """Independent encoder of the documented snapshot file."""
    if meta is None:
        fields = {"index": index, "term": term, "voters": voters, "learners": learners or []}
        meta = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    body = struct.pack(">I", len(meta)) + meta + data
    return b"LMSNAP01" + struct.pack(">I", zlib.crc32(body)) + body


@pytest.fixture(params=["memory", "file"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Storage]]:
    if request.param == "memory":
        yield MemoryStorage
        return
    opened: list[FileStorage] = []

    def factory() -> FileStorage:
        s = FileStorage(tmp_path / "data")
        opened.append(s)
        return s

    yield factory
    for s in opened:
        s.close()


# -- the Storage contract, both implementations (etcd's storage_test.go) ---------------------


def test_compact_keeps_the_suffix_and_answers_the_snapshot_term(make: Callable[[], Storage]) -> None:
    s = make()
    s.save(HardState(2, "n1", 8), ents(1, 5) + ents(6, 10, term=2))
    s.save_snapshot(snap(6, 2))
    assert (s.first_index(), s.last_index(), s.term(6), s.snapshot()) == (7, 10, 2, snap(6, 2))
    assert s.entries(7, 11) == ents(7, 10, term=2)
    with pytest.raises(CompactedError):
        s.term(5)
    with pytest.raises(CompactedError):
        s.entries(6, 8)
    with pytest.raises(StorageError):
        s.term(11)
    # The log goes on after the snapshot; a conflicting suffix is replaced.
    s.save(None, ents(9, 12, term=3))
    assert [(e.term, e.index) for e in s.all_entries()] == [(2, 7), (2, 8), (3, 9), (3, 10), (3, 11), (3, 12)]
    with pytest.raises(StorageError, match="compacted"):
        s.save(None, ents(6, 7, term=3))


@pytest.mark.parametrize(
    ("index", "term", "error"),
    [(4, 1, CompactedError), (3, 1, CompactedError), (11, 2, StorageError), (8, 1, StorageError)],
    ids=["compacted", "below", "past the end", "term mismatch"],
)
def test_compact_refuses_bad_snapshots(make: Callable[[], Storage], index: int, term: int, error: type) -> None:
    s = make()
    s.save(None, ents(1, 5) + ents(6, 10, term=2))
    s.save_snapshot(snap(4, 1))
    before = view(s)  # type: ignore[arg-type]
    with pytest.raises(error):
        s.save_snapshot(snap(index, term))
    assert view(s) == before  # type: ignore[arg-type]


def test_compact_the_whole_log(make: Callable[[], Storage]) -> None:
    s = make()
    s.save(None, ents(1, 3))
    s.save_snapshot(snap(3, 1))
    assert (s.first_index(), s.last_index(), s.all_entries(), s.term(3)) == (4, 3, [], 1)
    s.save(None, [Entry(2, 4, b"x")])
    assert s.all_entries() == [Entry(2, 4, b"x")]


def test_installed_snapshot_replaces_the_log(make: Callable[[], Storage]) -> None:
    s = make()
    s.save(HardState(1, "n1", 2), ents(1, 6))
    s.save(HardState(4, None, 9), [Entry(4, 10, b"a"), Entry(4, 11, b"b")], snap(9, 3, b"leader's"))
    assert (s.first_index(), s.last_index(), s.term(9), s.snapshot().data) == (10, 11, 3, b"leader's")
    assert s.all_entries() == [Entry(4, 10, b"a"), Entry(4, 11, b"b")]
    assert s.initial_state() == HardState(4, None, 9)
    # An older (or the same) snapshot is refused, and entries must follow it.
    for bad in (snap(9, 3), snap(5, 1)):
        with pytest.raises(StorageError, match="already holds"):
            s.save(None, [], bad)
    with pytest.raises(StorageError, match="must start at 13"):
        s.save(None, [Entry(4, 14)], snap(12, 4))
    with pytest.raises(StorageError, match="empty"):
        s.save(None, [], Snapshot())
    assert s.last_index() == 11


def test_empty_storage_has_an_empty_snapshot(make: Callable[[], Storage]) -> None:
    s = make()
    assert s.snapshot() == Snapshot() and s.snapshot().is_empty()
    assert (s.first_index(), s.term(0)) == (1, 0)


# -- FileStorage: durability -----------------------------------------------------------------


def test_restart_is_snapshot_plus_suffix(tmp_path: Path) -> None:
    with FileStorage(tmp_path) as s:
        s.save(HardState(2, "n2", 7), ents(1, 4) + ents(5, 9, term=2))
        s.save_snapshot(snap(6, 2, b"\x00binary\xff" * 100))
        s.save(None, ents(10, 12, term=2))
        before = view(s)
    with FileStorage(tmp_path) as again:
        assert view(again) == before
    raw = (tmp_path / "log").read_bytes()
    # The compacted log is the base record and the entries after the snapshot.
    assert raw.startswith(record(2, 6, kind=255) + record(2, 7, b"v7"))
    assert record(2, 6, b"v6") not in raw and record(1, 1, b"v1") not in raw
    assert (tmp_path / "snapshot").read_bytes() == snapshot_file(6, 2, list(VOTERS), b"\x00binary\xff" * 100)


def test_installed_snapshot_survives_restart_and_writes_the_log_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = FileStorage(tmp_path)
    s.save(HardState(1, "n1", 3), ents(1, 6))
    fsyncs: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real(fd))[1])
    s.save(HardState(3, None, 8), ents(9, 10, term=3), snap(8, 2))
    # snapshot.tmp + dir, log.tmp (the base and both entries) + dir, hardstate.tmp + dir
    assert len(fsyncs) == 6
    before = view(s)
    s.close()
    with FileStorage(tmp_path) as again:
        assert view(again) == before
        assert again.all_entries() == ents(9, 10, term=3)


def test_files_match_the_documented_layout(tmp_path: Path) -> None:
    (tmp_path / "hardstate").write_bytes(hardstate_file(4))
    (tmp_path / "log").write_bytes(record(3, 5, kind=255) + record(3, 6, b"a") + record(4, 7, b"b"))
    (tmp_path / "snapshot").write_bytes(snapshot_file(5, 3, ["a", "b"], b"machine"))
    with FileStorage(tmp_path) as s:
        assert s.snapshot() == Snapshot(SnapshotMeta(5, 3, ("a", "b")), b"machine")
        assert (s.first_index(), s.term(5), s.all_entries()) == (6, 3, [Entry(3, 6, b"a"), Entry(4, 7, b"b")])


def test_snapshot_file_keeps_learners_and_reads_a_file_without_them(tmp_path: Path) -> None:
    (tmp_path / "hardstate").write_bytes(hardstate_file(3))
    (tmp_path / "snapshot").write_bytes(snapshot_file(5, 3, ["a", "b"], b"m", learners=["c"]))
    (tmp_path / "log").write_bytes(record(3, 5, kind=255))
    with FileStorage(tmp_path) as s:
        assert s.snapshot().meta == SnapshotMeta(5, 3, ("a", "b"), ("c",))
    # A snapshot file written before learners existed has no "learners" key.
    legacy = json.dumps({"index": 5, "term": 3, "voters": ["a", "b"]}, sort_keys=True, separators=(",", ":")).encode()
    (tmp_path / "snapshot").write_bytes(snapshot_file(5, 3, [], b"m", meta=legacy))
    with FileStorage(tmp_path) as s:
        assert s.snapshot().meta == SnapshotMeta(5, 3, ("a", "b"), ())
    with FileStorage(tmp_path / "again") as s:
        s.save(HardState(1, None, 2), ents(1, 3))
        s.save_snapshot(Snapshot(SnapshotMeta(2, 1, ("a",), ("b", "c")), b"x"))
    with FileStorage(tmp_path / "again") as s:
        assert s.snapshot().meta.learners == ("b", "c")


def _compacted(path: Path) -> None:
    with FileStorage(path) as s:
        s.save(HardState(1, "n1", 8), ents(1, 10))
        s.save_snapshot(snap(8, 1, b"the state at 8"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),  # a flipped data bit
        lambda b: b[:20],  # truncated
        lambda b: b"",  # empty
        lambda b: b"XXSNAP01" + b[8:],  # wrong magic
        lambda b: snapshot_file(0, 0, [], b"", meta=b"{not json"),  # a valid checksum over garbage
        lambda b: snapshot_file(8, 1, [], b"", meta=b'{"index": 8, "term": 0, "voters": []}'),
        lambda b: snapshot_file(8, 1, [], b"", meta=b'{"index":8,"learners":["a"],"term":1,"voters":["a"]}'),
        lambda b: snapshot_file(8, 1, [], b"", meta=b'{"index":8,"learners":"a","term":1,"voters":["a"]}'),
    ],
    ids=["bitflip", "truncated", "empty", "magic", "bad json", "bad meta", "learner is a voter", "bad learners"],
)
def test_corrupt_snapshot_file_is_a_named_error(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    _compacted(tmp_path)
    path = tmp_path / "snapshot"
    path.write_bytes(damage(path.read_bytes()))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(CorruptSnapshotError, match="snapshot file") as info:
        FileStorage(tmp_path)
    assert str(path) in str(info.value) and "member remove" in str(info.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing changed


def test_missing_snapshot_behind_a_compacted_log(tmp_path: Path) -> None:
    _compacted(tmp_path)
    (tmp_path / "snapshot").unlink()
    with pytest.raises(CorruptSnapshotError, match="continues after entry 1/8.*is missing"):
        FileStorage(tmp_path)


def test_snapshot_older_than_the_log_base(tmp_path: Path) -> None:
    _compacted(tmp_path)
    (tmp_path / "snapshot").write_bytes(snapshot_file(5, 1, list(VOTERS), b"old"))
    with pytest.raises(CorruptSnapshotError, match="holds snapshot 1/5"):
        FileStorage(tmp_path)


def test_damaged_base_record_is_corruption_not_a_torn_tail(tmp_path: Path) -> None:
    _compacted(tmp_path)
    log = tmp_path / "log"
    buf = bytearray(log.read_bytes())
    buf[12] ^= 0x01  # inside the base record's term
    log.write_bytes(bytes(buf))
    with pytest.raises(CorruptLogError, match="offset 0"):
        FileStorage(tmp_path)


def test_torn_tail_after_compaction(tmp_path: Path) -> None:
    _compacted(tmp_path)
    log = tmp_path / "log"
    log.write_bytes(log.read_bytes()[: -(SEAL_SIZE + 3)])  # into entry 10, before its batch's seal
    with capture_logs() as logs:
        s = FileStorage(tmp_path)
    assert [e["event"] for e in logs] == ["storage.torn_tail_truncated"]
    assert (s.first_index(), s.all_entries()) == (9, ents(9, 9))
    s.close()


def test_leftover_tmp_files_are_removed(tmp_path: Path) -> None:
    _compacted(tmp_path)
    (tmp_path / "snapshot.tmp").write_bytes(b"half a snapshot")
    (tmp_path / "log.tmp").write_bytes(b"half a log")
    with capture_logs() as logs, FileStorage(tmp_path) as s:
        assert (s.snapshot().index, s.all_entries()) == (8, ents(9, 10))
    assert logs == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hardstate", "lock", "log", "snapshot"]


# -- crashes between the snapshot and the log compaction (SIGKILL) ------------------------------

_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from lmteams.consensus.node.file_storage import FileStorage
    from lmteams.consensus.core.messages import Entry, HardState, Snapshot, SnapshotMeta

    where, path = sys.argv[1], sys.argv[2]
    s = FileStorage(path)

    def die(*args, **kwargs):
        os.write(1, b"killed " + where.encode())
        os.kill(os.getpid(), signal.SIGKILL)

    real_replace = os.replace
    if where == "before-log-rewrite":
        FileStorage._rewrite_log = die
    elif where == "before-snapshot-rename":
        def replace(src, dst):
            if str(dst).endswith("snapshot"):
                die()
            real_replace(src, dst)
        os.replace = replace
    elif where == "before-log-rename":
        def replace(src, dst):
            if str(dst).endswith("log"):
                die()
            real_replace(src, dst)
        os.replace = replace

    snap = Snapshot(SnapshotMeta(int(sys.argv[3]), int(sys.argv[4]), ("n1", "n2", "n3")), b"state")
    if sys.argv[5] == "compact":
        s.save_snapshot(snap)
    else:
        s.save(HardState(5, None, snap.meta.index), [], snap)
    os.write(1, b"not reached")
    """
)


def _kill_child(path: Path, where: str, index: int, term: int, how: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, where, str(path), str(index), str(term), how], capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert proc.stdout == b"killed " + where.encode()


def _build(path: Path) -> list[Entry]:
    es = ents(1, 6) + ents(7, 12, term=2)
    with FileStorage(path) as s:
        s.save(HardState(2, "n1", 12), es)
    return es


@pytest.mark.parametrize("where", ["before-log-rewrite", "before-log-rename"])
def test_crash_between_snapshot_and_compaction_loses_nothing(tmp_path: Path, where: str) -> None:
    es = _build(tmp_path)
    _kill_child(tmp_path, where, 9, 2, "compact")
    assert (tmp_path / "snapshot").exists()  # the snapshot was durable before the log was touched
    with capture_logs() as logs:
        s = FileStorage(tmp_path)
    # Opening finished the compaction: snapshot + every entry after it.
    assert (s.snapshot().index, s.snapshot().data, s.first_index(), s.all_entries()) == (9, b"state", 10, es[9:])
    assert s.initial_state() == HardState(2, "n1", 12)
    done = [e for e in logs if e["event"] == "storage.compaction_completed"]
    assert len(done) == 1 and done[0]["kept_entries"] == 3 and done[0]["dropped_entries"] == 9
    s.close()
    assert (tmp_path / "log").read_bytes().startswith(record(2, 9, kind=255))
    assert not (tmp_path / "log.tmp").exists()
    with capture_logs() as logs, FileStorage(tmp_path) as again:  # and it stays done
        assert again.all_entries() == es[9:]
    assert logs == []


def test_crash_before_the_snapshot_rename_keeps_the_old_state(tmp_path: Path) -> None:
    es = _build(tmp_path)
    _kill_child(tmp_path, "before-snapshot-rename", 9, 2, "compact")
    with FileStorage(tmp_path) as s:
        assert (s.snapshot(), s.all_entries()) == (Snapshot(), es)
    assert not (tmp_path / "snapshot.tmp").exists()


@pytest.mark.parametrize(("index", "term"), [(15, 4), (10, 3)], ids=["past our log", "inside our log"])
def test_crash_while_installing_a_leaders_snapshot(tmp_path: Path, index: int, term: int) -> None:
    _build(tmp_path)  # entries 1..12, the last six of term 2
    with FileStorage(tmp_path) as s:  # a follower that knows 1..6 committed: a leader's snapshot may replace 7..
        s.save(HardState(2, "n1", 6), [])
    # The leader's snapshot does not match our log (we have no entry at its
    # index, or one of another term): once its file is durable, our old
    # entries belong to a replaced log and are dropped.
    _kill_child(tmp_path, "before-log-rewrite", index, term, "install")
    with FileStorage(tmp_path) as s:
        assert (s.snapshot().index, s.first_index(), s.last_index(), s.all_entries(), s.term(index)) == (
            index,
            index + 1,
            index,
            [],
            term,
        )
        # The hard state is the old one (it is written last); Raft copes.
        assert s.initial_state() == HardState(2, "n1", 6)


# -- equivalence with MemoryStorage, compaction included --------------------------------------

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.floats(0, 1), st.integers(0, 4), st.integers(0, 2)),
        st.tuples(st.just("compact"), st.floats(0, 1)),
        st.tuples(st.just("install"), st.integers(1, 4), st.integers(0, 2)),
        st.just(("reopen",)),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_ops)
def test_matches_memory_storage_with_compaction(ops: list) -> None:
    with tempfile.TemporaryDirectory() as d:
        fs, ms = FileStorage(d), MemoryStorage()
        try:
            for op in ops:
                first, last = ms.first_index(), ms.last_index()
                if op[0] == "append":
                    _, frac, n, bump = op
                    start = first + int(frac * (last + 1 - first))  # in first..last+1
                    term = ms.term(start - 1) + bump or 1
                    batch = [Entry(term, start + k, b"%d" % k) for k in range(n)]
                    hs = HardState(term, None, 0)
                    fs.save(hs, batch)
                    ms.save(hs, batch)
                elif op[0] == "compact":
                    if last < first:
                        continue
                    at = first + int(op[1] * (last - first))
                    sn = snap(at, ms.term(at), b"s%d" % at)
                    fs.save_snapshot(sn)
                    ms.save_snapshot(sn)
                elif op[0] == "install":
                    _, ahead, bump = op
                    at = last + ahead
                    sn = snap(at, ms.term(last) + bump or 1, b"i%d" % at)
                    fs.save(None, [Entry(sn.term, at + 1, b"after")], sn)
                    ms.save(None, [Entry(sn.term, at + 1, b"after")], sn)
                else:
                    fs.close()
                    fs = FileStorage(d)
                assert view(fs) == view(ms)
        finally:
            fs.close()
        with FileStorage(d) as again:
            assert view(again) == view(ms)
