"""A node never starts with less than it promised: FileStorage refuses a damaged data directory
(a lost hard state, a lost or truncated log, a damaged acknowledged record) and two openers."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from lmteams.consensus import Message, MessageType, RaftConfig, RaftCore
from lmteams.consensus.core.messages import HardState
from lmteams.consensus.node.file_storage import (
    CorruptHardStateError,
    CorruptLogError,
    DataDirLockedError,
    FileStorage,
    LostEntriesError,
)
from tests.consensus.test_file_storage import SEAL_SIZE, ents, record_offsets

PEERS = ("a", "b", "c")


def _vote(storage: FileStorage, candidate: str, term: int) -> bool:
    """Ask a core over ``storage`` for its vote; persist the Ready as a node would; True when granted."""
    core = RaftCore("a", PEERS, storage, RaftConfig(pre_vote=False), random.Random(7))
    core.step(Message(MessageType.VOTE, candidate, "a", term, index=storage.last_index(), log_term=9))
    rd = core.ready()
    storage.save(rd.hard_state, rd.entries, rd.snapshot)
    core.advance()
    replies = [m for m in rd.messages if m.type == MessageType.VOTE_RESP]
    assert len(replies) == 1
    return not replies[0].reject


def _voted_in_term_2(path: Path) -> None:
    with FileStorage(path) as s:
        s.save(HardState(1, None, 3), ents(1, 3))
        assert _vote(s, "b", 2)


@pytest.mark.parametrize("damage", ["deleted", "empty"])
def test_lost_hard_state_is_refused_so_no_second_vote(tmp_path: Path, damage: str) -> None:
    _voted_in_term_2(tmp_path)
    with FileStorage(tmp_path) as s:  # the control: intact, the vote is remembered
        assert not _vote(s, "c", 2)
    hs = tmp_path / "hardstate"
    if damage == "deleted":
        hs.unlink()
    else:
        hs.write_bytes(b"")
    with pytest.raises(CorruptHardStateError) as info:
        FileStorage(tmp_path)  # before the fix: opened with term 0 and granted c a second vote in term 2
    msg = str(info.value)
    assert str(hs) in msg and "member remove" in msg and "Operations: a damaged node" in msg


def test_lost_hard_state_without_entries_is_refused_too(tmp_path: Path) -> None:
    with FileStorage(tmp_path) as s:
        assert _vote(s, "b", 2)  # a vote before any entry arrived
    (tmp_path / "hardstate").unlink()
    with pytest.raises(CorruptHardStateError, match="missing"):
        FileStorage(tmp_path)


@pytest.mark.parametrize("damage", ["deleted", "zero-length"])
def test_lost_log_is_refused(tmp_path: Path, damage: str) -> None:
    with FileStorage(tmp_path) as s:
        s.save(HardState(1, "a", 0), ents(1, 5))
        s.save(HardState(1, "a", 4), [])
    log = tmp_path / "log"
    if damage == "deleted":
        log.unlink()
    else:
        log.write_bytes(b"")
    with pytest.raises(CorruptLogError, match="log file") as info:
        FileStorage(tmp_path)
    assert "member remove" in str(info.value)


def test_log_truncated_below_the_commit_index_is_refused(tmp_path: Path) -> None:
    with FileStorage(tmp_path) as s:
        for lo in range(1, 300, 10):
            s.save(HardState(1, "a", max(0, lo - 1)), ents(lo, lo + 9))
        s.save(HardState(1, "a", 300), [])
    log = tmp_path / "log"
    log.write_bytes(log.read_bytes()[: log.stat().st_size // 2])  # entries ~151..300 gone
    with capture_logs() as logs, pytest.raises(LostEntriesError) as info:
        FileStorage(tmp_path)  # before the fix: a torn-tail warning and a start at ~150
    msg = str(info.value)
    assert "up to 300 were committed" in msg and "member remove" in msg
    assert [e["event"] for e in logs] == ["storage.torn_tail_truncated"]


def test_commit_mark_is_refreshed_without_a_clean_close(tmp_path: Path) -> None:
    """A SIGKILLed node still records its commit index every ``commit_mark_interval`` entries."""
    s = FileStorage(tmp_path)
    s.commit_mark_interval = 50
    for lo in range(1, 200, 10):
        s.save(HardState(1, "a", max(0, lo - 1)), ents(lo, lo + 9))
    s.close(clean=False)
    with FileStorage(tmp_path) as again:
        assert again.initial_state().commit >= 150
    log = tmp_path / "log"
    start, _ = record_offsets(log)[120]
    with open(log, "r+b") as f:
        f.truncate(start + 3)
    with pytest.raises(LostEntriesError):
        FileStorage(tmp_path)


def test_flipped_byte_in_an_acknowledged_last_record_is_not_a_torn_tail(tmp_path: Path) -> None:
    with FileStorage(tmp_path) as s:
        s.save(HardState(1, "a", 0), ents(1, 5))
    log = tmp_path / "log"
    start, end = record_offsets(log)[-1]
    assert end + SEAL_SIZE == log.stat().st_size
    buf = bytearray(log.read_bytes())
    buf[end - 1] ^= 0x01  # the last entry's data: it was fsynced, then acknowledged
    log.write_bytes(bytes(buf))
    with pytest.raises(CorruptLogError, match=f"offset {start}.*acknowledged"):
        FileStorage(tmp_path)  # before the fix: dropped with a torn-tail warning
    assert log.read_bytes() == bytes(buf)


def test_torn_unacknowledged_batch_is_still_a_warning(tmp_path: Path) -> None:
    with FileStorage(tmp_path) as s:
        s.save(HardState(1, "a", 0), ents(1, 5))
        s.save(None, ents(6, 8))
    log = tmp_path / "log"
    start, _ = record_offsets(log)[6]  # entry 7, in the second batch, whose write a crash cut short
    with open(log, "r+b") as f:
        f.truncate(start + 5)
    with capture_logs() as logs, FileStorage(tmp_path) as s:
        assert s.last_index() == 6
    (warn,) = logs
    assert warn["event"] == "storage.torn_tail_truncated" and warn["acknowledged_through"] == 5


def test_second_opener_of_a_data_directory_is_refused(tmp_path: Path) -> None:
    with FileStorage(tmp_path) as s:
        s.save(HardState(1, "a", 0), ents(1, 2))
        with pytest.raises(DataDirLockedError, match="in use by another process"):
            FileStorage(tmp_path)
        assert s.last_index() == 2
    with FileStorage(tmp_path) as again:  # released on close
        assert again.last_index() == 2


def test_a_fresh_directory_is_marked_created_and_a_used_one_not(tmp_path: Path) -> None:
    with FileStorage(tmp_path / "d") as s:
        assert s.created
    with FileStorage(tmp_path / "d") as s:
        assert not s.created
    shutil.rmtree(tmp_path / "d")
    with FileStorage(tmp_path / "d") as s:
        assert s.created
