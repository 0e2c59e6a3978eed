"""FileStorage: durability, recovery and equivalence with MemoryStorage, on real files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from lmteams.consensus.core.messages import Entry, EntryKind, HardState
from lmteams.consensus.core.storage import MemoryStorage, Storage
from lmteams.consensus.errors import CompactedError, StorageError
from lmteams.consensus.node.file_storage import CorruptHardStateError, CorruptLogError, FileStorage


def record(term: int, index: int, data: bytes = b"", kind: int = 0) -> bytes:
    """Independent encoder of the documented record format."""
    payload = struct.pack(">QQB", term, index, kind) + data
    return struct.pack(">II", len(payload), zlib.crc32(payload)) + payload


def ents(lo: int, hi: int, term: int = 1, tag: bytes = b"v") -> list[Entry]:
    return [Entry(term=term, index=i, data=tag + str(i).encode()) for i in range(lo, hi + 1)]


def view(s: FileStorage | MemoryStorage) -> tuple:
    last = s.last_index()
    return (
        s.initial_state(),
        s.first_index(),
        last,
        s.all_entries(),
        [s.term(i) for i in range(0, last + 1)],
        s.entries(1, last + 1),
    )


SEAL_SIZE = 8 + 17  # a seal record: header and term, index, kind 254


def record_offsets(path: Path) -> list[tuple[int, int]]:
    """(start, end) of each entry record (not seals) in a log file, parsed independently."""
    buf = path.read_bytes()
    out, pos = [], 0
    while pos < len(buf):
        (length,) = struct.unpack_from(">I", buf, pos)
        if buf[pos + 8 + 16] != 254:
            out.append((pos, pos + 8 + length))
        pos += 8 + length
    return out


def hardstate_file(term: int = 0, vote: str | None = None, commit: int = 0) -> bytes:
    """Independent encoder of the documented hard-state file."""
    body = json.dumps({"commit": commit, "term": term, "vote": vote}, separators=(",", ":")).encode()
    return struct.pack(">I", zlib.crc32(body)) + body


def test_protocol_and_empty(tmp_path: Path) -> None:
    with FileStorage(tmp_path / "d") as s:
        assert isinstance(s, Storage)
        assert s.initial_state() == HardState()
        assert (s.first_index(), s.last_index(), s.term(0), s.all_entries()) == (1, 0, 0, [])
        assert (tmp_path / "d" / "log").exists()
        with pytest.raises(StorageError):
            s.term(1)
        with pytest.raises(CompactedError):
            s.entries(0, 1)


def test_roundtrip(tmp_path: Path) -> None:
    es = ents(1, 3, term=1) + [Entry(term=2, index=4, kind=EntryKind.NOOP)] + [Entry(2, 5, b"\x00\xff" * 300)]
    hs = HardState(term=2, vote="n2", commit=4)
    with FileStorage(tmp_path) as s:
        s.save(hs, es)
        before = view(s)
    with FileStorage(tmp_path) as s:
        assert view(s) == before
        assert s.initial_state() == hs
        assert s.all_entries() == es
        assert s.entries(2, 5) == es[1:4]
        assert s.all_entries()[3].kind is EntryKind.NOOP
    assert record_offsets(tmp_path / "log")[-1][1] + SEAL_SIZE == (tmp_path / "log").stat().st_size


def test_conflicting_suffix_replaced(tmp_path: Path) -> None:
    with FileStorage(tmp_path) as s:
        s.save(HardState(1, "a", 0), ents(1, 5, term=1))
        s.save(None, ents(3, 4, term=2, tag=b"new"))
        assert [(e.term, e.index) for e in s.all_entries()] == [(1, 1), (1, 2), (2, 3), (2, 4)]
        s.save(None, ents(5, 5, term=2, tag=b"new"))
    with FileStorage(tmp_path) as s:
        got = s.all_entries()
        assert got == ents(1, 2, term=1) + ents(3, 5, term=2, tag=b"new")
        assert b"v4" not in (tmp_path / "log").read_bytes()
    assert len(record_offsets(tmp_path / "log")) == 5


def test_save_rejects_gap_and_bad_batches(tmp_path: Path) -> None:
    with FileStorage(tmp_path) as s:
        s.save(None, ents(1, 2))
        size = (tmp_path / "log").stat().st_size
        for bad in (ents(4, 5), [Entry(1, 3), Entry(1, 5)], [Entry(0, 3)], [Entry(1, 0)]):
            with pytest.raises(StorageError):
                s.save(None, bad)
        assert (tmp_path / "log").stat().st_size == size
        assert s.all_entries() == ents(1, 2)


def test_one_fsync_of_the_log_per_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = FileStorage(tmp_path)
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    s.save(None, ents(1, 50))
    assert calls == [s._fd]  # group commit: one fsync for 50 entries
    calls.clear()
    s.save(HardState(1, "a", 3), ents(51, 60))
    assert len(calls) == 3 and calls[0] == s._fd  # log, hardstate.tmp, directory
    s.close()


# -- equivalence with MemoryStorage ---------------------------------------

_ops = st.lists(
    st.tuples(
        st.floats(0, 1),  # where the batch starts, as a fraction of last+1
        st.integers(0, 4),  # batch length
        st.integers(0, 2),  # term bump
        st.one_of(st.none(), st.tuples(st.integers(0, 2), st.sampled_from([None, "a", "b"]), st.integers(0, 20))),
        st.binary(max_size=12),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_ops)
def test_matches_memory_storage(ops: list) -> None:
    with tempfile.TemporaryDirectory() as d:
        fs, ms = FileStorage(d), MemoryStorage()
        hs_term = committed = 0
        on_disk = HardState()  # a clean close writes the last hard state given
        for frac, n, bump, hs_spec, data in ops:
            # As in Raft: a batch never replaces a committed entry, and the commit index never
            # passes the log's end nor goes back.
            first = max(1 + int(frac * ms.last_index()), committed + 1)  # in 1..last+1
            prev_term = ms.term(first - 1)
            term = max(prev_term, hs_term) + bump
            batch = [Entry(term, first + k, data + bytes([k]), EntryKind(k % 2)) for k in range(n)]
            hs = None
            if hs_spec is not None:
                hs_term += hs_spec[0]
                last = first + n - 1 if n else ms.last_index()
                committed = max(committed, min(hs_spec[2], last))
                hs = HardState(hs_term, hs_spec[1], committed)
            fs.save(hs, batch)
            ms.save(hs, batch)
            assert view(fs) == view(ms)
            if hs is not None:
                on_disk = hs
        fs.close()
        with FileStorage(d) as again:
            assert view(again)[1:] == view(ms)[1:]
            assert again.initial_state() == on_disk


# -- torn tails -----------------------------------------------------------


def _build(path: Path, n: int = 5) -> list[Entry]:
    es = ents(1, n, tag=b"payload-")
    with FileStorage(path) as s:
        s.save(HardState(1, "a", 2), es)
    return es


def test_torn_tail_at_every_offset_of_last_record(tmp_path: Path) -> None:
    src = tmp_path / "src"
    es = _build(src)
    good = (src / "log").read_bytes()
    start, end = record_offsets(src / "log")[-1]
    assert end + SEAL_SIZE == len(good)  # the batch's seal follows its last entry
    for cut in range(start + 1, end):
        d = tmp_path / f"cut{cut}"
        shutil.copytree(src, d)
        with open(d / "log", "r+b") as f:
            f.truncate(cut)
        with capture_logs() as logs:
            s = FileStorage(d)
        assert s.all_entries() == es[:-1], cut
        assert s.initial_state() == HardState(1, "a", 2)
        warn = [e for e in logs if e["event"] == "storage.torn_tail_truncated"]
        assert len(warn) == 1 and warn[0]["log_level"] == "warning"
        assert warn[0]["offset"] == start and warn[0]["dropped_bytes"] == cut - start
        assert warn[0]["path"] == str(d / "log")
        assert (d / "log").stat().st_size == start
        s.save(None, [Entry(2, 5, b"again")])
        s.close()
        with FileStorage(d) as s2:
            assert s2.all_entries() == es[:-1] + [Entry(2, 5, b"again")]
        shutil.rmtree(d)


def test_clean_log_logs_nothing(tmp_path: Path) -> None:
    _build(tmp_path)
    with capture_logs() as logs:
        FileStorage(tmp_path).close()
    assert logs == []


@pytest.mark.parametrize(
    "garbage", [b"\x00" * 40, b"\xde\xad\xbe\xef" * 9, b"\x01", struct.pack(">II", 30, 7) + b"x" * 30]
)
def test_garbage_after_last_record_is_torn_tail(tmp_path: Path, garbage: bytes) -> None:
    es = _build(tmp_path)
    size = (tmp_path / "log").stat().st_size
    with open(tmp_path / "log", "ab") as f:
        f.write(garbage)
    with capture_logs() as logs:
        s = FileStorage(tmp_path)
    assert s.all_entries() == es
    assert [e["event"] for e in logs] == ["storage.torn_tail_truncated"]
    assert logs[0]["offset"] == size and logs[0]["dropped_bytes"] == len(garbage)
    assert (tmp_path / "log").stat().st_size == size
    s.save(None, [Entry(1, 6, b"six")])
    s.close()
    with FileStorage(tmp_path) as s:
        assert s.all_entries() == es + [Entry(1, 6, b"six")]


# -- corruption in the middle ---------------------------------------------


@pytest.mark.parametrize("where", [0, 3, 5, 12, 20, 26])  # length, crc, term, index, kind, data
def test_flipped_byte_in_middle_record(tmp_path: Path, where: int) -> None:
    _build(tmp_path, n=10)
    path = tmp_path / "log"
    start, _ = record_offsets(path)[4]  # entry 5 of 10
    buf = bytearray(path.read_bytes())
    buf[start + where] ^= 0x40
    path.write_bytes(bytes(buf))
    with pytest.raises(CorruptLogError) as info:
        FileStorage(tmp_path)
    msg = str(info.value)
    assert str(path) in msg
    assert f"offset {start}" in msg
    assert "member remove" in msg and "Operations: a damaged node" in msg
    assert path.read_bytes() == bytes(buf)  # untouched


def test_valid_crc_but_broken_continuity(tmp_path: Path) -> None:
    tmp_path.joinpath("hardstate").write_bytes(hardstate_file(1))
    tmp_path.joinpath("log").write_bytes(record(1, 1) + record(1, 2) + record(1, 4) + record(1, 5))
    with pytest.raises(CorruptLogError, match=f"offset {2 * len(record(1, 1))}"):
        FileStorage(tmp_path)
    tmp_path.joinpath("log").write_bytes(record(2, 1) + record(1, 2))
    with pytest.raises(CorruptLogError, match=f"offset {len(record(2, 1))}"):
        FileStorage(tmp_path)
    tmp_path.joinpath("log").write_bytes(record(1, 2))
    with pytest.raises(CorruptLogError, match="offset 0"):
        FileStorage(tmp_path)


def test_independent_encoder_matches(tmp_path: Path) -> None:
    tmp_path.joinpath("hardstate").write_bytes(hardstate_file(3))
    tmp_path.joinpath("log").write_bytes(record(1, 1, b"a") + record(3, 2, b"bc", kind=1))
    with FileStorage(tmp_path) as s:
        assert s.all_entries() == [Entry(1, 1, b"a"), Entry(3, 2, b"bc", EntryKind.NOOP)]


@pytest.mark.parametrize("content", [b"", b"\x00\x01", b"\x00\x00\x00\x00{}", b"garbage-not-a-hardstate"])
def test_corrupt_hardstate(tmp_path: Path, content: bytes) -> None:
    _build(tmp_path)
    (tmp_path / "hardstate").write_bytes(content)
    with pytest.raises(CorruptHardStateError, match="hard-state file") as info:
        FileStorage(tmp_path)
    assert str(tmp_path / "hardstate") in str(info.value)


def test_hardstate_bitflip_detected(tmp_path: Path) -> None:
    _build(tmp_path)
    p = tmp_path / "hardstate"
    buf = bytearray(p.read_bytes())
    buf[-3] ^= 0x01
    p.write_bytes(bytes(buf))
    with pytest.raises(CorruptHardStateError, match="checksum"):
        FileStorage(tmp_path)


def test_leftover_tmp_hardstate_ignored(tmp_path: Path) -> None:
    _build(tmp_path)
    (tmp_path / "hardstate.tmp").write_bytes(b"half-written")
    with FileStorage(tmp_path) as s:
        assert s.initial_state() == HardState(1, "a", 2)
    assert not (tmp_path / "hardstate.tmp").exists()


# -- crash between the log fsync and the hard-state write ----------------

_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from lmteams.consensus.node.file_storage import FileStorage
    from lmteams.consensus.core.messages import Entry, HardState

    s = FileStorage(sys.argv[1])
    fsyncs = []
    real_fsync = os.fsync
    def counting_fsync(fd):
        fsyncs.append(fd)
        real_fsync(fd)
    os.fsync = counting_fsync

    def die(self, hs):
        os.write(1, f"log_fsyncs={fsyncs.count(s._fd)} total={len(fsyncs)}".encode())
        os.kill(os.getpid(), signal.SIGKILL)
    FileStorage._write_hard_state = die

    s.save(HardState(term=3, vote="b", commit=8), [Entry(3, i, b"new%d" % i) for i in range(6, 11)])
    os.write(1, b"not reached")
    """
)


def test_crash_between_log_and_hard_state(tmp_path: Path) -> None:
    es = _build(tmp_path)  # entries 1..5, HardState(1, "a", 2)
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path)], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert proc.stdout == b"log_fsyncs=1 total=1"
    with FileStorage(tmp_path) as s:
        assert s.all_entries() == es + [Entry(3, i, b"new%d" % i) for i in range(6, 11)]
        assert s.initial_state() == HardState(1, "a", 2)


def test_fsync_off_writes_identical_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)

    def run(d: Path, fsync: bool) -> None:
        with FileStorage(d, fsync=fsync) as s:
            s.save(HardState(1, "a", 0), ents(1, 6))
            s.save(HardState(2, "b", 3), ents(4, 8, term=2, tag=b"x"))
            s.save(None, ents(9, 9, term=2))

    run(tmp_path / "on", True)
    assert len(calls) >= 3
    calls.clear()
    run(tmp_path / "off", False)
    assert calls == []  # fsync=False skips every fsync
    for name in ("log", "hardstate"):
        assert (tmp_path / "on" / name).read_bytes() == (tmp_path / "off" / name).read_bytes()
    assert sorted(os.listdir(tmp_path / "on")) == sorted(os.listdir(tmp_path / "off")) == ["hardstate", "lock", "log"]
    with FileStorage(tmp_path / "off", fsync=False) as s:
        assert s.last_index() == 9 and s.initial_state() == HardState(2, "b", 3)


def test_closed_storage_refuses_save(tmp_path: Path) -> None:
    s = FileStorage(tmp_path)
    s.close()
    s.close()  # idempotent
    with pytest.raises(StorageError, match="closed"):
        s.save(None, ents(1, 1))


# -- the hard-state file is written only when the term or the vote changes ----


def test_commit_only_change_is_one_fsync_and_no_hardstate_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = FileStorage(tmp_path)
    s.save(HardState(1, "a", 0), ents(1, 5))
    written = (tmp_path / "hardstate").read_bytes()
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    s.save(HardState(1, "a", 3), ents(6, 8))
    assert calls == [s._fd]  # the log only: a commit-only change writes no hard state
    assert s.initial_state() == HardState(1, "a", 3)  # in memory: the latest
    calls.clear()
    s.save(HardState(1, "a", 5), [])
    assert calls == []  # nothing to make durable
    assert (tmp_path / "hardstate").read_bytes() == written
    calls.clear()
    s.save(HardState(2, None, 5), [])  # a new term: written (tmp, directory)
    assert len(calls) == 2
    calls.clear()
    s.save(HardState(2, "b", 6), [])  # a vote: written
    assert len(calls) == 2
    s.close()
    with FileStorage(tmp_path) as again:
        assert again.initial_state() == HardState(2, "b", 6)


def test_reopened_commit_lags_but_never_leads(tmp_path: Path) -> None:
    s = FileStorage(tmp_path)
    s.save(HardState(1, "a", 2), ents(1, 5))
    for c in range(3, 6):
        s.save(HardState(1, "a", c), [])
    s.close(clean=False)  # as a crash: no shutdown write
    with FileStorage(tmp_path) as s:
        hs = s.initial_state()
        assert (hs.term, hs.vote) == (1, "a")
        assert hs.commit == 2  # a commit index that was committed when it was written: 2 <= 5


def test_restarted_core_commits_only_what_it_saved_then_catches_up(tmp_path: Path) -> None:
    import random

    from lmteams.consensus import Message, MessageType, RaftConfig, RaftCore

    s = FileStorage(tmp_path)
    s.save(HardState(1, "2", 2), ents(1, 6))
    s.save(HardState(1, "2", 6), [])  # commit-only: not written
    s.close(clean=False)  # as a crash
    with FileStorage(tmp_path) as s:
        core = RaftCore("1", ("1", "2", "3"), s, RaftConfig(pre_vote=False), random.Random(1))
        assert core.commit_index == 2  # never beyond what the disk proves committed
        rd = core.ready()
        assert [e.index for e in rd.committed_entries] == [1, 2]
        s.save(rd.hard_state, rd.entries, rd.snapshot)
        core.advance()
        # The leader's next heartbeat brings the commit index back.
        core.step(Message(MessageType.HEARTBEAT, "2", "1", 1, commit=6))
        rd = core.ready()
        assert [e.index for e in rd.committed_entries] == [3, 4, 5, 6]


_VOTE_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from lmteams.consensus.node.file_storage import FileStorage
    from lmteams.consensus.core.messages import HardState

    s = FileStorage(sys.argv[1])
    s.save(HardState(term=2, vote="c", commit=2), [])  # the vote for c, durable before it is sent
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_vote_survives_sigkill_right_after_being_granted(tmp_path: Path) -> None:
    _build(tmp_path)  # entries 1..5, HardState(1, "a", 2)
    with FileStorage(tmp_path) as s:
        s.save(HardState(1, "a", 5), [])  # commit-only: not written
    proc = subprocess.run([sys.executable, "-c", _VOTE_CHILD, str(tmp_path)], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    with FileStorage(tmp_path) as s:
        assert s.initial_state() == HardState(2, "c", 2)


def test_blocking_io_follows_fsync(tmp_path: Path) -> None:
    # With fsync the node saves in a worker thread; without, inline on the event loop.
    with FileStorage(tmp_path / "on") as on, FileStorage(tmp_path / "off", fsync=False) as off:
        assert on.blocking_io is True and off.blocking_io is False
