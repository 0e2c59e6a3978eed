"""Snapshots and log compaction in the core, in the style of etcd's
raft_snap_test.go and the snapshot cases of raft_test.go / log_test.go.

As in test_raft_core.py, cores are driven by hand over MemoryStorage and
expected values come from the protocol (the paper's figure 13 and etcd's
behaviour), not from running the code. ``SNAP`` below plays etcd's
``testingSnap``: index 11, term 11.
"""

from __future__ import annotations

import random

import pytest

from lmteams.consensus import (
    CompactedError,
    Entry,
    HardState,
    MemoryStorage,
    Message,
    MessageType,
    RaftConfig,
    RaftCore,
    Ready,
    Role,
)
from lmteams.consensus.core.log import RaftLog
from lmteams.consensus.core.messages import Snapshot, SnapshotMeta
from lmteams.consensus.core.progress import ProgressState

from .test_raft_core import elect, msg, new_core, process, run, sent

MT = MessageType
SNAP = Snapshot(SnapshotMeta(11, 11, ("1", "2")), b"state-at-11")


def storage_with(snap: Snapshot, hs: HardState | None = None, entries: list[Entry] | None = None) -> MemoryStorage:
    s = MemoryStorage()
    s.save(hs or HardState(term=snap.term, commit=snap.index), entries or [], snap)
    return s


def leader_with_snapshot(peers: tuple[str, ...] = ("1", "2"), **config: object) -> RaftCore:
    """etcd's "restore(testingSnap); becomeCandidate; becomeLeader": a leader of
    term 12 whose log is the snapshot at 11 and its no-op at 12."""
    config.setdefault("pre_vote", False)
    core = RaftCore("1", peers, storage_with(SNAP), RaftConfig(**config), random.Random(1))  # type: ignore[arg-type]
    elect(core)
    assert (core.term, core.log.first_index(), core.last_index) == (12, 12, 12)
    return core


def chunk(
    term: int = 12,
    *,
    src: str = "1",
    dst: str = "2",
    offset: int = 0,
    data: bytes,
    done: bool,
    index: int = 11,
    snap_term: int = 11,
) -> Message:
    return Message(
        MT.SNAP, src, dst, term, log_term=snap_term, index=index, offset=offset, data=data, done=done, voters=("1", "2")
    )


def chunks_of(snap: Snapshot, size: int, term: int = 12) -> list[Message]:
    data = snap.data
    return [
        chunk(
            term, offset=o, data=data[o : o + size], done=o + size >= len(data), index=snap.index, snap_term=snap.term
        )
        for o in range(0, max(len(data), 1), size)
    ]


def handle(core: RaftCore) -> tuple[Ready, list[bytes]]:
    """Process a Ready like a node: save, then restore the machine, then apply."""
    rd = core.ready()
    core.log.storage.save(rd.hard_state, rd.entries, rd.snapshot)  # type: ignore[attr-defined]
    restored = [rd.snapshot.data] if rd.snapshot is not None else []
    core.advance()
    return rd, restored


# -- raft_snap_test.go -----------------------------------------------------------------------


def test_sending_snapshot_sets_pending_snapshot() -> None:
    sm = leader_with_snapshot()
    pr = sm.prs["2"]
    pr.next = sm.log.first_index()  # force node 2 to need the snapshot
    sm.step(msg(MT.APPEND_RESP, "2", "1", 12, index=pr.next - 1, reject=True))
    assert pr.state is ProgressState.SNAPSHOT
    assert pr.pending_snapshot == 11
    [m] = sent(sm.msgs, MT.SNAP)
    assert (m.dst, m.index, m.log_term, m.offset, m.data, m.done, m.voters) == (
        "2",
        11,
        11,
        0,
        b"state-at-11",
        True,
        ("1", "2"),
    )


def test_pending_snapshot_pauses_replication() -> None:
    sm = leader_with_snapshot()
    sm.prs["2"].become_snapshot(11)
    sm.propose(b"somedata")
    assert process(sm).messages == []


def test_snapshot_rejected_by_follower_starts_over() -> None:
    # etcd's TestSnapshotFailure: the transfer failed; here the follower
    # says so itself (it dropped its chunks) and the leader resends from 0.
    sm = leader_with_snapshot(snapshot_chunk_bytes=4)
    pr = sm.prs["2"]
    pr.next = 1
    pr.become_snapshot(11)
    pr.snap_offset = 8
    sm.step(msg(MT.SNAP_RESP, "2", "1", 12, index=11, reject=True))
    assert (pr.state, pr.pending_snapshot, pr.snap_offset, pr.next) == (ProgressState.SNAPSHOT, 11, 0, 1)
    [m] = sent(process(sm), MT.SNAP)
    assert (m.offset, m.data, m.done) == (0, b"stat", False)


def test_snapshot_succeed() -> None:
    # The follower installed the snapshot and acknowledges its index: the
    # leader probes from there, sees it match, and replicates (etcd's
    # TestSnapshotSucceed + TestSnapshotAbort: next is 13 because the no-op
    # at 12 went out at once, and one append is in flight).
    sm = leader_with_snapshot()
    pr = sm.prs["2"]
    pr.next = 1
    pr.become_snapshot(11)
    sm.step(msg(MT.APPEND_RESP, "2", "1", 12, index=11))
    assert (pr.state, pr.pending_snapshot, pr.match, pr.next) == (ProgressState.REPLICATE, 0, 11, 13)
    assert len(pr.inflights) == 1
    [m] = sent(process(sm), MT.APPEND)
    assert (m.index, m.log_term, [e.index for e in m.entries]) == (11, 11, [12])


def test_snapshot_abort_by_a_higher_ack() -> None:
    # An acknowledgement at or past the pending snapshot (the follower caught
    # up another way) ends the transfer too.
    sm = leader_with_snapshot()
    pr = sm.prs["2"]
    pr.next = 1
    pr.become_snapshot(11)
    sm.step(msg(MT.APPEND_RESP, "2", "1", 12, index=12))
    assert (pr.state, pr.match, pr.next) == (ProgressState.REPLICATE, 12, 13)
    assert not sent(process(sm), MT.SNAP)


def test_stale_append_reject_does_not_end_the_transfer() -> None:
    sm = leader_with_snapshot()
    pr = sm.prs["2"]
    pr.next = 1
    pr.become_snapshot(11)
    sm.step(msg(MT.APPEND_RESP, "2", "1", 12, index=0, reject=True))
    assert (pr.state, pr.pending_snapshot) == (ProgressState.SNAPSHOT, 11)
    assert process(sm).messages == []


# -- raft_test.go: providing and restoring -------------------------------------------------------


def test_provide_snap() -> None:
    sm = leader_with_snapshot()
    sm.prs["2"].next = sm.log.first_index()
    sm.step(msg(MT.APPEND_RESP, "2", "1", 12, index=sm.prs["2"].next - 1, reject=True))
    msgs = process(sm).messages
    assert [m.type for m in msgs] == [MT.SNAP]


def test_ignore_providing_snap_to_an_inactive_follower() -> None:
    sm = leader_with_snapshot()
    process(sm)
    pr = sm.prs["2"]
    pr.next = sm.log.first_index() - 1
    pr.probe_sent = False
    pr.recent_active = False
    sm.propose(b"somedata")
    assert process(sm).messages == []
    assert pr.state is ProgressState.PROBE
    # Once it answers a heartbeat, it is active and gets the snapshot.
    sm.step(msg(MT.HEARTBEAT_RESP, "2", "1", 12))
    assert [m.type for m in process(sm).messages] == [MT.SNAP]


def test_restore_from_snap_msg() -> None:
    # A follower of an older term learns the term and the leader from the chunk.
    core = new_core("2", ("1", "2"))
    core.step(chunk(2, data=b"x", done=True, snap_term=1))
    assert (core.term, core.leader_id, core.role) == (2, "1", Role.FOLLOWER)
    assert core.log.pending_snapshot() is not None


def test_restore() -> None:
    core = new_core("2", ("1", "2"), log_terms=[1, 1, 2])
    core.step(chunk(12, data=SNAP.data, done=True))
    assert (core.last_index, core.log.first_index(), core.log.term(11), core.commit_index) == (11, 12, 11, 11)
    assert core.log.slice(12, 12) == []
    [resp] = core.msgs
    assert (resp.type, resp.index, resp.reject) == (MT.APPEND_RESP, 11, False)
    rd, restored = handle(core)
    # The Ready carries the snapshot to save and restore, and no entries to apply.
    assert rd.snapshot == SNAP and rd.committed_entries == [] and rd.hard_state == HardState(12, None, 11)
    assert restored == [SNAP.data]
    assert (core.applied_index, core.log.pending_snapshot()) == (11, None)
    storage = core.log.storage
    assert isinstance(storage, MemoryStorage)
    assert (storage.snapshot(), storage.first_index(), storage.last_index(), storage.all_entries()) == (
        SNAP,
        12,
        11,
        [],
    )
    assert not core.has_ready()


def test_restore_ignore_snapshot() -> None:
    # etcd's TestRestoreIgnoreSnapshot: a snapshot at the commit index is
    # ignored; one at a later index whose entry the log holds fast-forwards
    # the commit index without restoring anything.
    core = new_core("2", ("1", "2"), log_terms=[1, 1, 1], hs=HardState(term=1, commit=1))
    core.step(chunk(1, data=b"s", done=True, index=1, snap_term=1))
    assert (core.commit_index, core.log.pending_snapshot(), core.last_index) == (1, None, 3)
    [resp] = core.msgs
    assert (resp.type, resp.index) == (MT.APPEND_RESP, 1)
    process(core)
    core.step(chunk(1, data=b"s", done=True, index=2, snap_term=1))
    assert (core.commit_index, core.log.pending_snapshot(), core.last_index) == (2, None, 3)
    assert [m.index for m in process(core).messages] == [2]


def test_snapshot_behind_commit_is_ignored_at_any_chunk() -> None:
    core = new_core("2", ("1", "2"), log_terms=[1, 1, 1], hs=HardState(term=1, commit=3))
    for m in chunks_of(Snapshot(SnapshotMeta(2, 1, ("1", "2")), b"abcdef"), 2, term=1):
        core.step(m)
    assert [(m.type, m.index) for m in core.msgs] == [(MT.APPEND_RESP, 3)] * 3
    assert core.log.pending_snapshot() is None and core.last_index == 3


def test_snapshot_with_mismatching_term_at_a_held_index_is_restored() -> None:
    # The follower holds index 2 but of another term: its log is not the
    # leader's there, so the whole log is replaced.
    core = new_core("2", ("1", "2"), log_terms=[1, 1, 1], hs=HardState(term=1, commit=1))
    core.step(chunk(3, data=b"s", done=True, index=2, snap_term=2))
    assert (core.commit_index, core.last_index, core.log.term(2), core.log.first_index()) == (2, 2, 2, 3)


# -- chunks ------------------------------------------------------------------------------------------


def test_chunks_are_assembled_in_order_and_acknowledged() -> None:
    core = new_core("2", ("1", "2"))
    msgs = chunks_of(SNAP, 4)
    assert [len(m.data) for m in msgs] == [4, 4, 3] and [m.done for m in msgs] == [False, False, True]
    for m in msgs[:-1]:
        core.step(m)
        assert core.log.pending_snapshot() is None  # nothing installed before the last chunk
    assert [(m.type, m.offset) for m in core.msgs] == [(MT.SNAP_RESP, 4), (MT.SNAP_RESP, 8)]
    core.step(msgs[-1])
    assert core.log.pending_snapshot() == SNAP
    assert (core.msgs[-1].type, core.msgs[-1].index) == (MT.APPEND_RESP, 11)


def test_out_of_order_chunk_restarts_assembly() -> None:
    core = new_core("2", ("1", "2"))
    msgs = chunks_of(SNAP, 4)
    core.step(msgs[0])
    core.step(msgs[2])  # the chunk at 4 is missing
    resp = core.msgs[-1]
    assert (resp.type, resp.reject, resp.offset) == (MT.SNAP_RESP, True, 0)
    core.step(msgs[1])  # the assembly was dropped: this one is out of order too
    assert core.msgs[-1].reject
    for m in msgs:  # from the start again
        core.step(m)
    assert core.log.pending_snapshot() == SNAP


def test_duplicated_chunk_is_acknowledged_again_without_restart() -> None:
    core = new_core("2", ("1", "2"))
    msgs = chunks_of(SNAP, 4)
    core.step(msgs[0])
    core.step(msgs[1])
    core.step(msgs[0])  # late duplicate
    core.step(msgs[1])
    assert [(m.offset, m.reject) for m in core.msgs] == [(4, False), (8, False), (8, False), (8, False)]
    core.step(msgs[2])
    assert core.log.pending_snapshot() == SNAP


@pytest.mark.parametrize(
    "other",
    [
        dict(term=13),  # a new leader's snapshot
        dict(index=12, snap_term=12),  # the leader compacted again
    ],
    ids=["new term", "new index"],
)
def test_chunk_of_another_snapshot_restarts_assembly(other: dict[str, int]) -> None:
    core = new_core("2", ("1", "2"))
    core.step(chunks_of(SNAP, 4)[0])
    term = other.get("term", 12)
    core.step(
        chunk(
            term, offset=4, data=b"-at-", done=False, index=other.get("index", 11), snap_term=other.get("snap_term", 11)
        )
    )
    assert core.msgs[-1].reject
    newer = Snapshot(SnapshotMeta(other.get("index", 11), other.get("snap_term", 11), ("1", "2")), b"another state")
    for m in chunks_of(newer, 4, term=term):
        core.step(m)
    assert core.log.pending_snapshot() == newer


def test_leader_sends_chunks_one_at_a_time_on_acknowledgement() -> None:
    sm = leader_with_snapshot(snapshot_chunk_bytes=4)
    pr = sm.prs["2"]
    pr.next, pr.recent_active = 1, True
    sm.step(msg(MT.HEARTBEAT_RESP, "2", "1", 12))
    [m] = sent(process(sm), MT.SNAP)
    assert (m.offset, m.data, m.done) == (0, b"stat", False)
    sm.step(msg(MT.SNAP_RESP, "2", "1", 12, index=11, offset=4))
    [m] = process(sm).messages
    assert (m.type, m.offset, m.data, m.done) == (MT.SNAP, 4, b"e-at", False)
    # A duplicated or stale acknowledgement sends nothing.
    for stale in (4, 0):
        sm.step(msg(MT.SNAP_RESP, "2", "1", 12, index=11, offset=stale))
        assert process(sm).messages == []
    # An acknowledgement of another snapshot is ignored.
    sm.step(msg(MT.SNAP_RESP, "2", "1", 12, index=5, offset=8))
    assert process(sm).messages == []
    sm.step(msg(MT.SNAP_RESP, "2", "1", 12, index=11, offset=8))
    [m] = process(sm).messages
    assert (m.offset, m.data, m.done) == (8, b"-11", True)


def test_heartbeat_response_resends_the_unacknowledged_chunk() -> None:
    sm = leader_with_snapshot(snapshot_chunk_bytes=4)
    pr = sm.prs["2"]
    pr.next = 1
    pr.become_snapshot(11)
    pr.snap_offset = 4
    sm.step(msg(MT.HEARTBEAT_RESP, "2", "1", 12))
    [m] = process(sm).messages
    assert (m.type, m.offset, m.data) == (MT.SNAP, 4, b"e-at")


def test_leader_that_compacted_again_sends_the_newer_snapshot_from_the_start() -> None:
    sm = leader_with_snapshot(snapshot_chunk_bytes=4)
    pr = sm.prs["2"]
    pr.next = 1
    pr.become_snapshot(11)
    pr.snap_offset = 4
    sm.propose(b"x")
    process(sm)
    sm.step(msg(MT.APPEND_RESP, "2", "1", 12, index=0, reject=True))  # stale, ignored
    # commit 13 by hand (node 2 cannot ack it): a one-node view is enough here
    sm.log.commit_to(13)
    process(sm)
    newer = sm.compact(13, b"newer")
    sm.log.storage.save_snapshot(newer)  # type: ignore[attr-defined]
    # The next acknowledgement of the old snapshot makes it send the newer one.
    sm.step(msg(MT.SNAP_RESP, "2", "1", 12, index=11, offset=8))
    [m] = process(sm).messages
    assert (m.type, m.index, m.log_term, m.offset, m.data) == (MT.SNAP, 13, 12, 0, b"newe")
    assert (pr.pending_snapshot, pr.snap_offset) == (13, 0)
    # From then on, acknowledgements of the old one are ignored.
    sm.step(msg(MT.SNAP_RESP, "2", "1", 12, index=11, offset=12))
    assert process(sm).messages == []
    sm.step(msg(MT.SNAP_RESP, "2", "1", 12, index=13, offset=4))
    [m] = process(sm).messages
    assert (m.index, m.offset, m.data, m.done) == (13, 4, b"r", True)


def test_stale_term_snapshot_gets_our_term() -> None:
    core = new_core("2", ("1", "2"), hs=HardState(term=5), check_quorum=True)
    core.step(chunk(3, data=b"x", done=True))
    [resp] = core.msgs
    assert (resp.type, resp.term) == (MT.APPEND_RESP, 5)
    assert core.log.pending_snapshot() is None


def test_candidate_steps_down_for_a_snapshot_of_its_term() -> None:
    core = new_core("2", ("1", "2", "3"), pre_vote=False)
    core.campaign()
    process(core)
    assert core.role is Role.CANDIDATE
    core.step(chunk(core.term, data=b"x", done=True))
    assert (core.role, core.leader_id) == (Role.FOLLOWER, "1")
    assert core.log.pending_snapshot() is not None


# -- compaction --------------------------------------------------------------------------------------


def test_compact_describes_a_snapshot_at_an_applied_index() -> None:
    core = new_core("1", ("1",), log_terms=[1], hs=HardState(term=1, commit=1), pre_vote=False)
    elect(core)  # term 2, no-op at 2
    for d in (b"a", b"b", b"c"):
        core.propose(d)
    process(core)
    assert core.applied_index == 5
    snap = core.compact(2, b"state")
    assert snap == Snapshot(SnapshotMeta(2, 2, ("1",)), b"state")  # the term of entry 2, not of 1
    core.log.storage.save_snapshot(snap)  # type: ignore[attr-defined]
    assert (core.log.first_index(), core.last_index, core.log.term(2), core.log.term(1)) == (3, 5, 2, 0)
    with pytest.raises(CompactedError):
        core.log.slice(2, 4)
    with pytest.raises(ValueError, match="applied"):
        core.compact(6, b"")
    with pytest.raises(CompactedError):
        core.compact(2, b"")
    core.propose(b"d")
    core.ready()
    with pytest.raises(RuntimeError, match="advance"):
        core.compact(5, b"")


def test_a_snapshot_older_than_the_followers_own_is_ignored() -> None:
    # The follower compacted past the stale snapshot's index: its log cannot
    # say whether it matches there, but its commit index can.
    core = RaftCore("2", ("1", "2"), storage_with(SNAP), RaftConfig(), random.Random(1))
    for m in chunks_of(Snapshot(SnapshotMeta(5, 3, ("1", "2")), b"old state"), 4):
        core.step(m)
    assert [(m.type, m.index) for m in core.msgs] == [(MT.APPEND_RESP, 11)] * 3
    assert core.log.pending_snapshot() is None and (core.log.first_index(), core.commit_index) == (12, 11)


def test_restart_from_a_compacted_storage() -> None:
    storage = storage_with(SNAP, HardState(term=12, vote="1", commit=12), [Entry(12, 12, b"after")])
    core = RaftCore("2", ("1", "2"), storage, RaftConfig(), random.Random(1))
    assert (core.log.first_index(), core.last_index, core.log.term(11), core.log.term(10)) == (12, 12, 11, 0)
    assert (core.term, core.vote, core.applied_index, core.commit_index) == (12, "1", 11, 12)
    rd = core.ready()
    # Only the entry after the snapshot is handed out: the caller restored the
    # state machine from the storage's snapshot first.
    assert rd.snapshot is None and [e.data for e in rd.committed_entries] == [b"after"]


def test_term_catches_up_with_a_log_saved_before_its_hard_state() -> None:
    # A crash between saving a snapshot (or entries) and the hard state.
    storage = storage_with(SNAP, HardState(term=3, vote="2", commit=0))
    core = RaftCore("2", ("1", "2"), storage, RaftConfig(), random.Random(1))
    assert (core.term, core.vote, core.commit_index) == (11, None, 11)
    assert core.ready().hard_state == HardState(11, None, 11)


def test_append_below_the_snapshot_is_answered_with_the_commit_index() -> None:
    core = RaftCore("2", ("1", "2"), storage_with(SNAP), RaftConfig(), random.Random(1))
    core.step(msg(MT.APPEND, "1", "2", 12, index=5, log_term=3, commit=11, entries=(Entry(3, 6), Entry(3, 7))))
    [resp] = core.msgs
    assert (resp.type, resp.index, resp.reject) == (MT.APPEND_RESP, 11, False)


# -- log_test.go ---------------------------------------------------------------------------------------


def test_log_restore_and_unstable_snapshot() -> None:
    log = RaftLog(storage_with(Snapshot(SnapshotMeta(3, 1, ("1",)), b"")))
    log.append([Entry(1, 4), Entry(2, 5)])
    snap = Snapshot(SnapshotMeta(7, 3, ("1",)), b"s")
    log.restore(snap)
    assert (log.first_index(), log.last_index(), log.term(7), log.term(6), log.committed) == (8, 7, 3, 0, 7)
    assert log.snapshot() == snap and log.pending_snapshot() == snap
    assert log.next_committed() == [] and not log.has_next_committed()
    log.append([Entry(3, 8)])
    assert (log.last_index(), log.term(8)) == (8, 3)
    log.stable_snap_to(6)  # another snapshot's index: still pending
    assert log.pending_snapshot() == snap
    log.stable_snap_to(7)
    assert log.pending_snapshot() is None
    with pytest.raises(AssertionError):
        log.restore(Snapshot(SnapshotMeta(7, 3, ("1",)), b"s"))  # not ahead of the commit index


# -- a network: etcd's TestSlowNodeRestore -----------------------------------------------------------


def test_slow_node_restores_from_snapshot_and_catches_up() -> None:
    ids = ("1", "2", "3")
    cores = {i: new_core(i, ids, seed=int(i), snapshot_chunk_bytes=16) for i in ids}
    cores["1"].campaign()
    run(cores, [])
    down = {"3"}
    for k in range(30):
        cores["1"].propose(f"v{k}".encode())
        run(cores, [], drop=lambda m: m.dst in down or m.src in down)
    leader = cores["1"]
    assert leader.commit_index == 31 and cores["3"].commit_index == 1
    for i in ("1", "2"):
        c = cores[i]
        c.log.storage.save_snapshot(c.compact(c.applied_index, b"machine state " * 5))  # type: ignore[attr-defined]
    assert leader.log.first_index() == 32
    # Node 3 is back: a heartbeat round starts the snapshot, then replication.
    for _ in range(leader.config.heartbeat_interval):
        leader.tick()
    delivered = run(cores, [])
    snaps = [m for m in delivered if m.type is MT.SNAP]
    assert len(snaps) == 5 and snaps[-1].done and all(len(m.data) == 16 for m in snaps[:-1])
    assert cores["3"].commit_index == leader.commit_index == 31
    assert cores["3"].log.first_index() == 32 and cores["3"].applied_index == 31
    leader.propose(b"after")
    run(cores, [])
    assert all(c.commit_index == 32 for c in cores.values())
    assert cores["3"].log.slice(32, 33)[0].data == b"after"
