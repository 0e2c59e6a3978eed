"""Membership changes in the core, in the style of etcd's raft_test.go
(TestStepConfig, TestStepIgnoreConfig, TestNewLeaderPendingConfig,
TestAddNode, TestAddLearner, TestRemoveNode, TestRemoveLearner,
TestPromotable, TestLearnerCanVote, TestLearnerElectionTimeout,
TestLearnerPromotion, TestLearnerLogReplication, TestCommitAfterRemoveNode)
and of the thesis, chapter 4.

One semantic difference from etcd, on purpose: a configuration takes effect
when its entry is *appended* (thesis §4.1), not when it is applied, so a
removal that shrinks the quorum can commit at once (see
``test_commit_after_remove_node``), and a truncated change rolls back.
Expected values come from the thesis and etcd's behaviour, not from running
the code.
"""

from __future__ import annotations

import random

import pytest

from lmteams.consensus import (
    ConfChange,
    ConfChangeInProgress,
    ConfChangeOp,
    ConfChangeTooEarly,
    Entry,
    EntryKind,
    HardState,
    InvalidConfChange,
    Membership,
    MemoryStorage,
    MessageType,
    NotLeader,
    RaftConfig,
    RaftCore,
    Role,
)
from lmteams.consensus.core.messages import Snapshot, SnapshotMeta

from .test_raft_core import elect, msg, new_core, process, run, sent, ticks_until_campaign

MT = MessageType
OP = ConfChangeOp


def cc(op: ConfChangeOp, node: str) -> ConfChange:
    return ConfChange(op, node)


def conf_entry(term: int, index: int, op: ConfChangeOp, node: str) -> Entry:
    return Entry(term, index, cc(op, node).encode(), EntryKind.CONF_CHANGE)


def leader(peers: tuple[str, ...] = ("1", "2", "3"), learners: tuple[str, ...] = (), **config: object) -> RaftCore:
    """Core "1" elected leader, its no-op committed by every peer's ack."""
    config.setdefault("pre_vote", False)
    storage = MemoryStorage()
    core = RaftCore("1", peers, storage, RaftConfig(**config), random.Random(1), learners=learners)  # type: ignore[arg-type]
    elect(core)
    for p in sorted(set(peers) | set(learners)):
        if p != "1":
            core.step(msg(MT.APPEND_RESP, p, "1", core.term, index=core.last_index))
    process(core)
    assert core.commit_index == core.last_index
    return core


def ack(core: RaftCore, *peers: str) -> None:
    for p in peers:
        core.step(msg(MT.APPEND_RESP, p, core.id, core.term, index=core.last_index))
    process(core)


# -- proposing changes (TestStepConfig, TestStepIgnoreConfig, TestNewLeaderPendingConfig) ----------


def test_step_config() -> None:
    # The leader appends a change as a CONF_CHANGE entry and records it as pending.
    core = leader()
    index = core.last_index + 1
    assert core.propose_conf_change(cc(OP.ADD_LEARNER, "4")) == index
    [e] = core.log.slice(index, index + 1)
    assert (e.kind, ConfChange.decode(e.data)) == (EntryKind.CONF_CHANGE, cc(OP.ADD_LEARNER, "4"))
    assert core.pending_conf_index == index > core.commit_index


def test_step_ignore_config() -> None:
    # A second change while the first is uncommitted is refused, and the log
    # is unchanged (etcd drops it to an empty entry; we raise instead).
    core = leader()
    core.propose_conf_change(cc(OP.ADD_LEARNER, "4"))
    last = core.last_index
    with pytest.raises(ConfChangeInProgress, match=f"index {last} is not committed yet.*one server at a time"):
        core.propose_conf_change(cc(OP.REMOVE, "3"))
    assert core.last_index == last and core.pending_conf_index == last
    assert core.membership == Membership.of({"1", "2", "3"}, {"4"})
    # Once it commits, the next change is accepted.
    process(core)
    ack(core, "2")
    assert core.commit_index == last
    core.propose_conf_change(cc(OP.REMOVE, "3"))
    assert core.membership == Membership.of({"1", "2"}, {"4"})


def test_proposing_a_change_on_a_follower_raises_not_leader() -> None:
    core = new_core()
    with pytest.raises(NotLeader):
        core.propose_conf_change(cc(OP.ADD_LEARNER, "4"))


@pytest.mark.parametrize("inherited", [False, True], ids=["no-pending-change", "pending-change-of-old-term"])
def test_new_leader_pending_config(inherited: bool) -> None:
    # Ongaro's fix: a new leader proposes no change until it has committed an
    # entry of its own term (its no-op), whether or not its log holds an
    # uncommitted change of an earlier leader.
    entries = [Entry(1, 1, b"x")]
    if inherited:
        entries.append(conf_entry(1, 2, OP.ADD_LEARNER, "4"))
    storage = MemoryStorage()
    storage.save(HardState(term=1, commit=1), entries)
    core = RaftCore("1", ("1", "2", "3"), storage, RaftConfig(pre_vote=False), random.Random(1))
    assert core.pending_conf_index == (2 if inherited else 0)
    elect(core)
    with pytest.raises(ConfChangeTooEarly, match="not yet committed an entry of its term 2"):
        core.propose_conf_change(cc(OP.REMOVE, "3"))
    assert core.last_index == len(entries) + 1  # only the no-op
    ack(core, "2")  # commits the no-op (and the inherited change before it)
    assert core.log.term(core.commit_index) == core.term
    core.propose_conf_change(cc(OP.REMOVE, "3"))
    assert "3" not in core.voters


# -- the configuration (TestAddNode, TestAddLearner, TestRemoveNode, TestRemoveLearner) --------------


def test_add_node() -> None:
    core = leader(("1",))
    core.propose_conf_change(cc(OP.ADD_VOTER, "2"))
    assert core.voters == {"1", "2"} and core.learners == frozenset()
    assert core.progress("2") is not None


def test_add_learner() -> None:
    core = leader(("1",))
    core.propose_conf_change(cc(OP.ADD_LEARNER, "2"))
    assert core.voters == {"1"} and core.learners == {"2"}
    assert core.progress("2") is not None
    # A single voter commits alone: a learner adds nothing to the quorum.
    assert core.commit_index == core.last_index


def test_remove_node() -> None:
    core = leader(("1", "2"))
    core.propose_conf_change(cc(OP.REMOVE, "2"))
    assert core.voters == {"1"}
    # Removing the last voter would leave a cluster that can never elect anyone.
    with pytest.raises(InvalidConfChange, match="last voter"):
        core.propose_conf_change(cc(OP.REMOVE, "1"))
    assert core.voters == {"1"}


def test_remove_learner() -> None:
    core = leader(("1",), learners=("2",))
    assert core.learners == {"2"}
    core.propose_conf_change(cc(OP.REMOVE, "2"))
    assert core.membership == Membership.of({"1"})
    ack(core)
    assert core.progress("2") is None


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (cc(OP.ADD_VOTER, "2"), "already a voter"),
        (cc(OP.ADD_LEARNER, "2"), "already a voter"),
        (cc(OP.ADD_VOTER, "4"), "already a learner; use promote"),
        (cc(OP.PROMOTE, "2"), "a voter already"),
        (cc(OP.PROMOTE, "9"), "not a learner"),
        (cc(OP.REMOVE, "9"), "not a member"),
    ],
)
def test_changes_that_do_not_apply_are_refused_with_the_reason(change: ConfChange, why: str) -> None:
    core = leader(("1", "2", "3"), learners=("4",))
    last = core.last_index
    with pytest.raises(InvalidConfChange, match=why):
        core.propose_conf_change(change)
    assert core.last_index == last


def test_promotable() -> None:
    assert new_core("1", ("1", "2")).promotable
    assert not RaftCore("1", ("2",), MemoryStorage(), learners=("1",)).promotable
    assert not RaftCore("1", ("2", "3"), MemoryStorage()).promotable  # outside the configuration


# -- learners ------------------------------------------------------------------------------


def test_learner_election_timeout() -> None:
    # A learner never campaigns, whatever its ticks, campaign() or TimeoutNow.
    core = RaftCore("2", ("1",), MemoryStorage(), RaftConfig(), random.Random(1), learners=("2",))
    for _ in range(10 * core.config.election_timeout_max):
        core.tick()
    core.campaign()
    core.step(msg(MT.TIMEOUT_NOW, "1", "2", 0))
    assert core.role is Role.FOLLOWER and core.term == 0
    assert process(core).messages == []


def test_learner_promotion() -> None:
    # Once its log says it is a voter, the learner campaigns and can win.
    cfg = RaftConfig(pre_vote=False, check_quorum=False)
    cores = {
        "1": RaftCore("1", ("1",), MemoryStorage(), cfg, random.Random(1), learners=("2",)),
        "2": RaftCore("2", ("1",), MemoryStorage(), cfg, random.Random(2), learners=("2",)),
    }
    cores["1"].campaign()
    run(cores, [])
    assert cores["1"].role is Role.LEADER and cores["2"].last_index == 1
    cores["1"].propose_conf_change(cc(OP.PROMOTE, "2"))
    run(cores, [])
    assert cores["2"].voters == {"1", "2"} and cores["2"].promotable
    # 2's timeout fires (1 sends no heartbeats: its messages are not
    # delivered); 2 campaigns and needs 1's vote too now.
    assert ticks_until_campaign(cores["2"]) <= cores["2"].config.election_timeout_max
    run(cores, [])
    assert cores["2"].role is Role.LEADER and cores["2"].term == 2


def test_learner_log_replication_does_not_count_for_commit() -> None:
    # Learners get the log (and the commit index) but their acks commit nothing.
    core = leader(("1", "2", "3"), learners=("4", "5"))
    core.propose(b"x")
    rd = process(core)
    assert {m.dst for m in sent(rd, MT.APPEND)} == {"2", "3", "4", "5"}
    ack(core, "4", "5")
    assert core.commit_index == core.last_index - 1
    ack(core, "2")
    assert core.commit_index == core.last_index
    heartbeats = []
    for _ in range(core.config.heartbeat_interval):
        core.tick()
        heartbeats += sent(process(core), MT.HEARTBEAT)
    assert {m.dst for m in heartbeats} == {"2", "3", "4", "5"}
    assert {m.commit for m in heartbeats if m.dst in ("4", "5")} == {core.commit_index}


def test_learner_can_vote() -> None:
    # etcd's TestLearnerCanVote: a node votes without consulting its own
    # configuration; the candidate may know of a promotion it has not seen.
    core = RaftCore("2", ("1",), MemoryStorage(), RaftConfig(), random.Random(1), learners=("2",))
    core.step(msg(MT.VOTE, "1", "2", 2, index=11, log_term=11))
    [resp] = process(core).messages
    assert (resp.type, resp.reject, core.vote) == (MT.VOTE_RESP, False, "1")


def test_a_learners_vote_counts_only_where_it_is_a_voter() -> None:
    # The "cannot vote" half of learners: a candidate counts only the voters
    # of its configuration, so grants from learners elect nobody.
    storage = MemoryStorage()
    core = RaftCore("1", ("1", "2", "3"), storage, RaftConfig(pre_vote=False), random.Random(1), learners=("4", "5"))
    core.campaign()
    rd = process(core)
    assert {m.dst for m in sent(rd, MT.VOTE)} == {"2", "3"}  # learners are not asked
    core.step(msg(MT.VOTE_RESP, "4", "1", 1))
    core.step(msg(MT.VOTE_RESP, "5", "1", 1))
    assert core.role is Role.CANDIDATE
    core.step(msg(MT.VOTE_RESP, "2", "1", 1))
    assert core.role is Role.LEADER


def test_promotion_committed_without_the_learner_still_elects() -> None:
    # The case that makes learners vote (etcd's comment in Step): voters
    # {2, 3}, learner 1. Leader 2 promotes 1; the change commits on {2, 3}
    # before it reaches 1. Leader 2 dies. 3 needs 1's vote to win, and 1
    # still believes it is a learner.
    ids = ("2", "3")
    cores = {
        n: RaftCore(n, ids, MemoryStorage(), RaftConfig(pre_vote=False), random.Random(int(n)), learners=("1",))
        for n in ("1", "2", "3")
    }
    cores["2"].campaign()
    run(cores, [])
    assert cores["2"].role is Role.LEADER
    cores["2"].propose_conf_change(cc(OP.PROMOTE, "1"))
    run(cores, [], drop=lambda m: m.dst == "1")
    assert cores["2"].commit_index == cores["2"].last_index  # committed by {2, 3}
    assert cores["1"].learners == {"1"} and cores["3"].voters == {"1", "2", "3"}
    del cores["2"]
    for _ in range(cores["1"].config.election_timeout_min):
        cores["1"].tick()  # 1's lease on leader 2 runs out (it never campaigns itself)
    assert process(cores["1"]).messages == []
    cores["3"].campaign()
    run(cores, [])
    assert cores["3"].role is Role.LEADER
    assert cores["1"].voters == {"1", "2", "3"}  # and then it learns of its promotion


def test_transfer_leadership_to_a_learner_is_refused() -> None:
    core = leader(("1", "2"), learners=("3",))
    with pytest.raises(ValueError, match="not a voter"):
        core.transfer_leadership("3")


# -- removal (TestCommitAfterRemoveNode, the thesis §4.2.2) ---------------------------------------------


def test_commit_after_remove_node() -> None:
    # Pending entries commit when a change shrinks the quorum. With the
    # change in force on append, the removal of 2 from {1, 2} commits on 1
    # alone, and the entry proposed before it with it.
    core = leader(("1", "2"))
    core.propose(b"hello")
    process(core)
    assert core.commit_index == core.last_index - 1
    index = core.propose_conf_change(cc(OP.REMOVE, "2"))
    rd = process(core)
    assert core.commit_index == index
    assert [e.data for e in rd.committed_entries[:1]] == [b"hello"]
    assert rd.committed_entries[-1].kind is EntryKind.CONF_CHANGE


def test_leader_keeps_replicating_to_a_removed_node_until_the_removal_commits() -> None:
    core = leader(("1", "2", "3", "4"))
    index = core.propose_conf_change(cc(OP.REMOVE, "4"))
    rd = process(core)
    # 4 gets the entry that removes it, so it learns not to campaign ...
    assert [m.entries[-1].index for m in sent(rd, MT.APPEND, to="4")] == [index]
    core.step(msg(MT.APPEND_RESP, "4", "1", core.term, index=index))
    assert core.commit_index < index  # ... but its ack does not count,
    ack(core, "2")
    assert core.commit_index == index  # a majority of {1, 2, 3} does.
    assert core.progress("4") is None  # and then it is dropped


def test_removed_follower_never_campaigns() -> None:
    follower = new_core("3", ("1", "2", "3"), pre_vote=False)
    follower.step(
        msg(MT.APPEND, "1", "3", 1, entries=(Entry(1, 1, b"", EntryKind.NOOP), conf_entry(1, 2, OP.REMOVE, "3")))
    )
    process(follower)
    assert not follower.promotable and follower.voters == {"1", "2"}
    for _ in range(20 * follower.config.election_timeout_max):
        follower.tick()
        assert process(follower).messages == []
    assert follower.role is Role.FOLLOWER and follower.term == 1


def test_removed_leader_leads_until_its_removal_commits_then_steps_down() -> None:
    core = leader(("1", "2", "3"))
    index = core.propose_conf_change(cc(OP.REMOVE, "1"))
    assert core.role is Role.LEADER and core.voters == {"2", "3"}
    process(core)
    ack(core, "2")
    assert core.commit_index < index  # its own copy no longer counts: it needs 2 of {2, 3}
    core.propose(b"still leading")
    process(core)
    core.step(msg(MT.APPEND_RESP, "3", "1", core.term, index=index))
    assert core.commit_index == index
    rd = process(core)
    assert core.role is Role.FOLLOWER and rd.soft_state is not None and rd.soft_state.role is Role.FOLLOWER
    # The commit went out before it stepped down (3 and 2 learn of it).
    assert {m.dst for m in sent(rd, MT.APPEND) if m.commit == index} == {"2", "3"}
    # A removed node never campaigns again.
    for _ in range(20 * core.config.election_timeout_max):
        core.tick()
        assert not sent(process(core), MT.VOTE)
    assert core.role is Role.FOLLOWER


def test_removed_leader_hands_over_to_an_up_to_date_voter() -> None:
    core = leader(("1", "2", "3"))
    core.propose_conf_change(cc(OP.REMOVE, "1"))
    process(core)
    core.step(msg(MT.APPEND_RESP, "3", "1", core.term, index=core.last_index))
    core.step(msg(MT.APPEND_RESP, "2", "1", core.term, index=core.last_index))
    rd = process(core)
    assert [m.dst for m in sent(rd, MT.TIMEOUT_NOW)] == ["2"]


def test_removing_the_leader_elects_a_new_leader_among_the_rest() -> None:
    cores = {n: new_core(n, ("1", "2", "3"), pre_vote=False, seed=int(n)) for n in ("1", "2", "3")}
    cores["1"].campaign()
    run(cores, [])
    cores["1"].propose_conf_change(cc(OP.REMOVE, "1"))
    run(cores, [])
    assert cores["1"].role is Role.FOLLOWER
    lead = [n for n, c in cores.items() if c.role is Role.LEADER]
    assert lead in (["2"], ["3"]) and cores[lead[0]].term == 2
    cores[lead[0]].propose(b"after")
    run(cores, [])
    assert cores["2"].commit_index == cores["3"].commit_index == cores[lead[0]].last_index


# -- rollback, restart and snapshots ------------------------------------------------------------------


def test_truncated_conf_change_rolls_back() -> None:
    follower = new_core("2", ("1", "2", "3"), pre_vote=False)
    noop = Entry(1, 1, b"", EntryKind.NOOP)
    follower.step(msg(MT.APPEND, "1", "2", 1, entries=(noop, conf_entry(1, 2, OP.ADD_VOTER, "4"))))
    process(follower)
    assert follower.voters == {"1", "2", "3", "4"}
    # A leader of term 2 never had it: its entry 2 replaces the change.
    follower.step(msg(MT.APPEND, "3", "2", 2, log_term=1, index=1, entries=(Entry(2, 2, b"", EntryKind.NOOP),)))
    process(follower)
    assert follower.voters == {"1", "2", "3"} and follower.pending_conf_index == 0
    # A truncation that keeps the change keeps it.
    follower.step(
        msg(
            MT.APPEND,
            "3",
            "2",
            2,
            log_term=2,
            index=2,
            entries=(conf_entry(2, 3, OP.ADD_LEARNER, "5"), Entry(2, 4, b"y")),
        )
    )
    follower.step(msg(MT.APPEND, "3", "2", 2, log_term=2, index=3, entries=(Entry(2, 4, b"z"),)))
    process(follower)
    assert follower.membership == Membership.of({"1", "2", "3"}, {"5"})


def test_restart_recovers_configuration_from_snapshot_and_log() -> None:
    storage = MemoryStorage()
    snap = Snapshot(SnapshotMeta(5, 1, ("a", "b", "c"), ("d",)), b"")
    storage.save(HardState(term=1, commit=5), [], snap)
    storage.save(None, [conf_entry(1, 6, OP.PROMOTE, "d"), Entry(1, 7, b"x"), conf_entry(1, 8, OP.REMOVE, "a")])
    core = RaftCore("b", ("ignored",), storage)  # the bootstrap peers yield to the snapshot
    assert core.membership == Membership.of({"b", "c", "d"})
    assert core.membership_at(5) == Membership.of({"a", "b", "c"}, {"d"})
    assert core.membership_at(7) == Membership.of({"a", "b", "c", "d"})
    assert core.pending_conf_index == 8


def test_restart_without_snapshot_replays_changes_over_the_bootstrap_configuration() -> None:
    storage = MemoryStorage()
    storage.save(HardState(term=1), [Entry(1, 1, b""), conf_entry(1, 2, OP.ADD_LEARNER, "4")])
    core = RaftCore("4", ("1", "2", "3"), storage)
    assert core.membership == Membership.of({"1", "2", "3"}, {"4"}) and not core.promotable


def test_snapshot_records_the_configuration_at_its_index_not_the_latest() -> None:
    core = leader(("1", "2", "3"))
    core.propose(b"x")
    process(core)
    ack(core, "2")
    applied = core.commit_index
    core.propose_conf_change(cc(OP.ADD_LEARNER, "4"))  # uncommitted, after the snapshot's index
    process(core)
    snap = core.compact(applied, b"state")
    assert (snap.meta.voters, snap.meta.learners) == (("1", "2", "3"), ())
    assert core.membership == Membership.of({"1", "2", "3"}, {"4"})


def test_installed_snapshot_brings_its_configuration() -> None:
    follower = RaftCore("4", ("1", "2", "3"), MemoryStorage(), RaftConfig(), random.Random(1))
    assert not follower.promotable
    m = msg(MT.SNAP, "1", "4", 3, index=10, log_term=2, done=True, data=b"s", voters=("1", "2", "4"), learners=("5",))
    follower.step(m)
    rd = process(follower)
    assert rd.snapshot is not None and rd.snapshot.meta.learners == ("5",)
    assert follower.membership == Membership.of({"1", "2", "4"}, {"5"}) and follower.promotable


def test_new_node_outside_the_configuration_waits_for_the_log() -> None:
    # A node started empty, outside the bootstrap configuration, never
    # campaigns; the leader's log makes it a learner, then a voter.
    cores = {n: new_core(n, ("1", "2", "3"), pre_vote=False, seed=int(n)) for n in ("1", "2", "3", "4")}
    for _ in range(5 * cores["4"].config.election_timeout_max):
        cores["4"].tick()
    assert cores["4"].role is Role.FOLLOWER and process(cores["4"]).messages == []
    cores["1"].campaign()
    run(cores, [])
    cores["1"].propose_conf_change(cc(OP.ADD_LEARNER, "4"))
    run(cores, [])
    assert all(c.membership == Membership.of({"1", "2", "3"}, {"4"}) for c in cores.values())
    cores["1"].propose_conf_change(cc(OP.PROMOTE, "4"))
    run(cores, [])
    assert all(c.voters == {"1", "2", "3", "4"} for c in cores.values())
    assert cores["4"].log.slice(1, cores["4"].last_index + 1) == cores["1"].log.slice(1, cores["1"].last_index + 1)


def test_file_storage_restart_recovers_configuration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The same recovery from disk: the snapshot file keeps voters and
    # learners, the log keeps the change entries after it.
    from lmteams.consensus import FileStorage

    with FileStorage(tmp_path) as storage:
        storage.save(
            HardState(term=1, commit=3), [Entry(1, 1, b""), conf_entry(1, 2, OP.ADD_LEARNER, "4"), Entry(1, 3, b"x")]
        )
        storage.save_snapshot(Snapshot(SnapshotMeta(3, 1, ("1", "2", "3"), ("4",)), b"state"))
        storage.save(None, [conf_entry(1, 4, OP.PROMOTE, "4"), conf_entry(1, 5, OP.REMOVE, "1")])
    with FileStorage(tmp_path) as storage:
        core = RaftCore("4", ("1", "2", "3"), storage)
        assert core.membership == Membership.of({"2", "3", "4"}) and core.promotable
        assert core.membership_at(4) == Membership.of({"1", "2", "3", "4"})
