"""A node that rejoins with an empty disk (``joining``) neither votes nor campaigns until the cluster
has removed it and added it back; the leader side of the procedure in the core."""

from __future__ import annotations

import random

from lmteams.consensus import MessageType, RaftConfig, RaftCore
from lmteams.consensus.core.membership import ConfChange, ConfChangeOp
from lmteams.consensus.core.messages import Entry, EntryKind, Message
from lmteams.consensus.core.storage import MemoryStorage

from .test_raft_core import IDS3, elect, new_core, process, run

MT = MessageType


def joining_core(node_id: str, seed: int = 3) -> RaftCore:
    return RaftCore(node_id, IDS3, MemoryStorage(), RaftConfig(), random.Random(seed), joining=True)


def _vote_request(core_id: str, term: int) -> Message:
    return Message(MT.VOTE, "2", core_id, term, index=100, log_term=50)


def test_an_empty_voter_without_join_grants_a_vote_the_control() -> None:
    core = new_core("3", IDS3)
    core.step(_vote_request("3", 5))
    (resp,) = [m for m in process(core).messages if m.type is MT.VOTE_RESP]
    assert not resp.reject  # what a wiped node did before: a second vote in a term it may have voted in


def test_a_joining_voter_refuses_votes_and_never_campaigns() -> None:
    core = joining_core("3")
    assert "3" in core.voters and not core.promotable
    core.step(_vote_request("3", 5))
    (resp,) = [m for m in process(core).messages if m.type is MT.VOTE_RESP]
    assert resp.reject
    for _ in range(200):
        core.tick()
    assert not [m for m in process(core).messages if m.type in (MT.VOTE, MT.PRE_VOTE)]
    assert core.status()["awaiting_readd"] is True


def _conf(index: int, op: ConfChangeOp, node: str) -> Entry:
    return Entry(1, index, ConfChange(op, node).encode(), EntryKind.CONF_CHANGE)


def test_a_joining_node_is_released_by_its_removal_then_addition_in_the_log() -> None:
    core = joining_core("3")
    # The log it catches up on: its original membership is no release...
    core.step(Message(MT.APPEND, "1", "3", 1, index=0, log_term=0, entries=(Entry(1, 1, b"x"),), commit=1))
    process(core)
    assert core.awaiting_readd
    entries = (_conf(2, ConfChangeOp.REMOVE, "3"), _conf(3, ConfChangeOp.ADD_LEARNER, "3"))
    core.step(Message(MT.APPEND, "1", "3", 1, index=1, log_term=1, entries=entries[:1], commit=2))
    process(core)
    assert core.awaiting_readd  # removed, not yet added back
    core.step(Message(MT.APPEND, "1", "3", 1, index=2, log_term=1, entries=entries[1:], commit=3))
    process(core)
    assert not core.awaiting_readd
    assert "3" in core.learners
    core.step(Message(MT.APPEND, "1", "3", 1, index=3, log_term=1, entries=(_conf(4, ConfChangeOp.PROMOTE, "3"),)))
    process(core)
    assert core.promotable
    for _ in range(core.config.election_timeout_max + 1):  # past the leader's lease
        core.tick()
    process(core)
    core.step(_vote_request("3", 5))
    (resp,) = [m for m in process(core).messages if m.type is MT.VOTE_RESP]
    assert not resp.reject


def test_the_whole_procedure_between_cores() -> None:
    cores = {i: new_core(i, IDS3, seed=int(i)) for i in IDS3}
    run(cores, elect(cores["1"]).messages)
    leader = cores["1"]
    leader.propose(b"before")
    run(cores, [])
    # "3" loses its disk: the leader removes it, it rejoins empty with joining=True, is added back and promoted.
    del cores["3"]
    leader.propose_conf_change(ConfChange(ConfChangeOp.REMOVE, "3"))
    run(cores, [])
    cores["3"] = joining_core("3")
    leader.propose_conf_change(ConfChange(ConfChangeOp.ADD_LEARNER, "3"))
    run(cores, [])
    assert not cores["3"].awaiting_readd and "3" in leader.learners
    leader.propose_conf_change(ConfChange(ConfChangeOp.PROMOTE, "3"))
    run(cores, [])
    assert "3" in leader.voters and cores["3"].promotable
    assert cores["3"].log.last_index() == leader.log.last_index()
    assert leader.lost_disks() == {}  # a member added back is a new member: nothing was lost on it
