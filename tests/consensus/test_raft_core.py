"""RaftCore tests in the spirit of etcd's raft_paper_test.go.

Section by section of the Raft paper (and the thesis for pre-vote,
check-quorum, leases and leadership transfer). Cores are driven by hand:
messages are constructed here and stepped in, and the Ready of each core is
processed in the documented order (save, send, apply, advance) by
``process``. Expected values come from the paper, not from running the code.
"""

from __future__ import annotations

import math
import random
import weakref
from collections.abc import Callable, Iterable, Sequence

import pytest

from lmteams.consensus import (
    Entry,
    EntryKind,
    HardState,
    MemoryStorage,
    Message,
    MessageType,
    NotLeader,
    ProposalDropped,
    RaftConfig,
    RaftCore,
    Ready,
    Role,
)

MT = MessageType
IDS3 = ("1", "2", "3")
IDS5 = ("1", "2", "3", "4", "5")


# -- helpers ---------------------------------------------------------------------------


def new_core(
    node_id: str = "1",
    peers: Sequence[str] = IDS3,
    *,
    log_terms: Sequence[int] = (),
    hs: HardState | None = None,
    seed: int = 1,
    storage: MemoryStorage | None = None,
    **config: object,
) -> RaftCore:
    """A core over MemoryStorage (optionally pre-filled) with a fixed seed."""
    if storage is None:
        storage = MemoryStorage()
        ents = [Entry(t, i, f"e{i}t{t}".encode()) for i, t in enumerate(log_terms, start=1)]
        storage.save(hs, ents)
    return RaftCore(node_id, peers, storage, RaftConfig(**config), random.Random(seed))


APPLIED: weakref.WeakKeyDictionary[RaftCore, list[Entry]] = weakref.WeakKeyDictionary()


def process(core: RaftCore) -> Ready:
    """Handle one Ready in order: save, (collect) messages, apply, advance."""
    rd = core.ready()
    storage = core.log.storage
    assert isinstance(storage, MemoryStorage)
    storage.save(rd.hard_state, rd.entries, rd.snapshot)
    APPLIED.setdefault(core, []).extend(rd.committed_entries)
    core.advance()
    return rd


def applied(core: RaftCore) -> list[Entry]:
    return APPLIED.get(core, [])


def msg(t: MessageType, src: str, dst: str, term: int, **kw: object) -> Message:
    return Message(t, src, dst, term, **kw)  # type: ignore[arg-type]


def sent(rd_or_msgs: Ready | Iterable[Message], t: MessageType | None = None, to: str | None = None) -> list[Message]:
    msgs = rd_or_msgs.messages if isinstance(rd_or_msgs, Ready) else list(rd_or_msgs)
    return [m for m in msgs if (t is None or m.type is t) and (to is None or m.dst == to)]


def run(
    cores: dict[str, RaftCore],
    msgs: Iterable[Message],
    drop: Callable[[Message], bool] = lambda m: False,
    on_deliver: Callable[[Message], None] | None = None,
    limit: int = 10_000,
) -> list[Message]:
    """Deliver messages (FIFO) until quiet; returns every delivered message."""
    queue = list(msgs)
    for c in cores.values():
        queue.extend(process(c).messages)
    delivered: list[Message] = []
    while queue:
        assert len(delivered) < limit, "no quiescence"
        m = queue.pop(0)
        if drop(m) or m.dst not in cores:
            continue
        if on_deliver is not None:
            on_deliver(m)
        delivered.append(m)
        cores[m.dst].step(m)
        queue.extend(process(cores[m.dst]).messages)
    return delivered


def elect(core: RaftCore) -> Ready:
    """Make ``core`` leader by hand: campaign and grant just a majority of votes."""
    core.campaign()
    need = len(core.voters) // 2  # grants besides its own
    for _ in range(3):
        rd = process(core)
        reqs = [m for m in rd.messages if m.type in (MT.VOTE, MT.PRE_VOTE)]
        if not reqs:
            break
        for m in reqs[:need]:
            resp = MT.VOTE_RESP if m.type is MT.VOTE else MT.PRE_VOTE_RESP
            core.step(msg(resp, m.dst, core.id, m.term))
        if core.role is Role.LEADER:
            break
    assert core.role is Role.LEADER
    return process(core)


def ticks_until_campaign(core: RaftCore, limit: int = 1000) -> int:
    for n in range(1, limit + 1):
        core.tick()
        if core.role is not Role.FOLLOWER:
            return n
        assert not process(core).messages, "a follower sent something before its timeout"
    raise AssertionError("never campaigned")


def log_terms(core: RaftCore) -> list[int]:
    return [e.term for e in core.log.slice(1, core.last_index + 1)]


def make_role(role: Role, term: int = 1, **config: object) -> RaftCore:
    """Core "1" of three, in ``role``, starting from saved ``term`` (a candidate or leader is at term + 1)."""
    config.setdefault("check_quorum", False)
    config["pre_vote"] = role is Role.PRE_CANDIDATE
    core = new_core(log_terms=[1], hs=HardState(term=term), **config)
    if role is Role.LEADER:
        elect(core)
    elif role is not Role.FOLLOWER:
        core.campaign()
        process(core)
    assert core.role is role
    return core


# -- §5.1: terms ---------------------------------------------------------------------------

ALL_ROLES = [Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE, Role.LEADER]


@pytest.mark.parametrize("role", ALL_ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize(
    ("mtype", "learns_leader", "reject"),
    [
        (MT.APPEND, True, False),
        (MT.HEARTBEAT, True, False),
        (MT.VOTE, False, False),
        (MT.VOTE_RESP, False, True),
        (MT.PRE_VOTE_RESP, False, True),
        (MT.APPEND_RESP, False, False),
        (MT.HEARTBEAT_RESP, False, False),
    ],
    ids=lambda x: x.name if isinstance(x, MessageType) else str(x),
)
def test_higher_term_makes_any_role_follower(role: Role, mtype: MessageType, learns_leader: bool, reject: bool) -> None:
    core = make_role(role)
    term = core.term
    last, last_term = core.last_index, core.log.last_term()
    if mtype is MT.APPEND:
        m = msg(mtype, "2", "1", term + 5, index=last, log_term=last_term)
    elif mtype is MT.VOTE:
        m = msg(mtype, "2", "1", term + 5, index=last, log_term=last_term)
    else:
        m = msg(mtype, "2", "1", term + 5, reject=reject)
    core.step(m)
    assert core.term == term + 5
    assert core.role is Role.FOLLOWER
    assert core.leader_id == ("2" if learns_leader else None)
    rd = process(core)
    assert rd.hard_state is not None and rd.hard_state.term == term + 5
    # A new term forgets the old vote (unless this very message won it).
    assert core.vote == ("2" if mtype is MT.VOTE else None)


@pytest.mark.parametrize("mtype", [MT.APPEND, MT.HEARTBEAT, MT.VOTE, MT.APPEND_RESP, MT.VOTE_RESP, MT.TIMEOUT_NOW])
@pytest.mark.parametrize("role", [Role.FOLLOWER, Role.CANDIDATE, Role.LEADER], ids=lambda r: r.value)
def test_stale_term_message_is_ignored(role: Role, mtype: MessageType) -> None:
    # check_quorum and pre_vote off: no "your term is old" answer either.
    core = make_role(role, term=4, check_quorum=False)
    if role is Role.FOLLOWER:
        core.step(msg(MT.HEARTBEAT, "3", "1", 4))
    process(core)
    before = (core.role, core.term, core.vote, core.leader_id, core.commit_index, log_terms(core))
    stale = 3
    assert core.term > stale
    core.step(
        msg(
            mtype,
            "2",
            "1",
            stale,
            index=core.last_index,
            log_term=1,
            commit=1,
            entries=(Entry(stale, core.last_index + 1, b"x"),) if mtype is MT.APPEND else (),
        )
    )
    assert (core.role, core.term, core.vote, core.leader_id, core.commit_index, log_terms(core)) == before
    rd = process(core)
    assert rd.messages == []
    assert rd.hard_state is None
    assert rd.entries == []


@pytest.mark.parametrize(("check_quorum", "pre_vote"), [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("mtype", [MT.APPEND, MT.HEARTBEAT])
def test_stale_append_gets_higher_term_response(check_quorum: bool, pre_vote: bool, mtype: MessageType) -> None:
    core = new_core(log_terms=[1, 1], hs=HardState(term=5), check_quorum=check_quorum, pre_vote=pre_vote)
    process(core)
    core.step(msg(mtype, "2", "1", 3, index=2, log_term=1, commit=2))
    rd = process(core)
    assert len(rd.messages) == 1
    resp = rd.messages[0]
    assert (resp.type, resp.src, resp.dst, resp.term) == (MT.APPEND_RESP, "1", "2", 5)
    # nothing else changed
    assert core.term == 5 and core.leader_id is None and core.commit_index == 0
    # The stale leader that hears it steps down.
    old = new_core("2", log_terms=[1, 1], hs=HardState(term=2), check_quorum=check_quorum, pre_vote=pre_vote)
    elect(old)
    assert old.term == 3
    old.step(resp)
    assert old.role is Role.FOLLOWER and old.term == 5


def test_stale_pre_vote_is_rejected_with_our_term() -> None:
    core = new_core(log_terms=[1], hs=HardState(term=5))
    process(core)
    core.step(msg(MT.PRE_VOTE, "2", "1", 4, index=9, log_term=4))
    rd = process(core)
    assert [(m.type, m.dst, m.term, m.reject) for m in rd.messages] == [(MT.PRE_VOTE_RESP, "2", 5, True)]


def test_misrouted_messages_are_ignored() -> None:
    core = new_core()
    process(core)
    core.step(msg(MT.HEARTBEAT, "2", "7", 5))  # not for us
    core.step(msg(MT.HEARTBEAT, "1", "1", 5))  # from ourselves
    assert core.term == 0 and core.leader_id is None
    assert process(core).messages == []


def test_messages_from_outside_the_configuration_are_processed() -> None:
    # Thesis §4.2.1: servers process RPCs without consulting their
    # configuration. A leader this node's configuration does not list yet
    # (one added after the entries it holds) must be able to reach it.
    core = new_core()
    process(core)
    core.step(msg(MT.HEARTBEAT, "9", "1", 5))
    assert (core.term, core.leader_id) == (5, "9")
    assert [(m.type, m.dst) for m in process(core).messages] == [(MT.HEARTBEAT_RESP, "9")]


# -- §5.2: leader election ----------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_follower_campaigns_after_randomized_timeout(seed: int) -> None:
    core = new_core(
        log_terms=[1, 1],
        hs=HardState(term=1),
        seed=seed,
        pre_vote=False,
        election_timeout_min=10,
        election_timeout_max=20,
    )
    process(core)
    n = ticks_until_campaign(core)
    assert 10 <= n < 20
    assert core.role is Role.CANDIDATE
    assert core.term == 2
    assert core.vote == "1"
    rd = process(core)
    assert rd.hard_state == HardState(term=2, vote="1", commit=0)
    votes = sent(rd, MT.VOTE)
    assert sorted(m.dst for m in votes) == ["2", "3"]
    assert len(rd.messages) == 2
    for m in votes:
        assert (m.src, m.term, m.log_term, m.index) == ("1", 2, 1, 2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pre_vote_campaign_keeps_term_and_vote(seed: int) -> None:
    core = new_core(log_terms=[1, 2], hs=HardState(term=2, vote="3"), seed=seed, pre_vote=True)
    process(core)
    n = ticks_until_campaign(core)
    assert 10 <= n < 20
    assert core.role is Role.PRE_CANDIDATE
    assert core.term == 2 and core.vote == "3"
    rd = process(core)
    assert rd.hard_state is None
    pre = sent(rd, MT.PRE_VOTE)
    assert len(rd.messages) == 2
    assert sorted(m.dst for m in pre) == ["2", "3"]
    for m in pre:
        assert (m.term, m.log_term, m.index) == (3, 2, 2)


def test_randomized_timeouts_span_the_range_across_seeds() -> None:
    seen = set()
    for seed in range(200):
        core = new_core(seed=seed, election_timeout_min=10, election_timeout_max=20)
        seen.add(ticks_until_campaign(core))
    assert seen == set(range(10, 20))


def test_timeout_is_redrawn_for_each_election() -> None:
    core = new_core(seed=11, pre_vote=False, election_timeout_min=5, election_timeout_max=15, heartbeat_interval=1)
    gaps = []
    for election in range(1, 41):
        n = 0
        while True:
            n += 1
            core.tick()
            if core.term == election:
                break
            assert n < 15
        process(core)
        gaps.append(n)
    assert all(5 <= g < 15 for g in gaps)
    assert len(set(gaps)) >= 5


def test_follower_that_hears_heartbeats_never_campaigns() -> None:
    core = new_core(election_timeout_min=10, election_timeout_max=20)
    core.step(msg(MT.HEARTBEAT, "2", "1", 1))
    for i in range(200):
        core.tick()
        if i % 9 == 0:
            core.step(msg(MT.HEARTBEAT, "2", "1", 1))
        assert core.role is Role.FOLLOWER
    assert core.term == 1 and core.leader_id == "2"


def test_candidate_wins_with_majority() -> None:
    core = new_core(peers=IDS5, pre_vote=False)
    core.campaign()
    process(core)
    core.step(msg(MT.VOTE_RESP, "2", "1", 1))
    assert core.role is Role.CANDIDATE
    core.step(msg(MT.VOTE_RESP, "2", "1", 1))  # a duplicate counts once
    assert core.role is Role.CANDIDATE
    core.step(msg(MT.VOTE_RESP, "4", "1", 1, reject=True))
    assert core.role is Role.CANDIDATE
    core.step(msg(MT.VOTE_RESP, "3", "1", 1))
    assert core.role is Role.LEADER
    assert core.leader_id == "1"
    assert core.term == 1
    rd = process(core)
    assert rd.soft_state is not None and rd.soft_state.role is Role.LEADER
    assert sorted(m.dst for m in sent(rd, MT.APPEND)) == ["2", "3", "4", "5"]


def test_candidate_loses_with_majority_of_rejects() -> None:
    core = new_core(peers=IDS5, pre_vote=False)
    core.campaign()
    process(core)
    core.step(msg(MT.VOTE_RESP, "2", "1", 1, reject=True))
    core.step(msg(MT.VOTE_RESP, "3", "1", 1, reject=True))
    core.step(msg(MT.VOTE_RESP, "3", "1", 1, reject=True))
    assert core.role is Role.CANDIDATE
    core.step(msg(MT.VOTE_RESP, "5", "1", 1))
    assert core.role is Role.CANDIDATE
    core.step(msg(MT.VOTE_RESP, "4", "1", 1, reject=True))
    assert core.role is Role.FOLLOWER
    assert core.term == 1
    assert core.vote == "1"  # the vote of this term stays
    assert core.leader_id is None


def test_pre_candidate_wins_then_runs_a_real_election() -> None:
    core = new_core(log_terms=[1], hs=HardState(term=1), pre_vote=True)
    core.campaign()
    process(core)
    core.step(msg(MT.PRE_VOTE_RESP, "3", "1", 2))
    assert core.role is Role.CANDIDATE
    assert core.term == 2 and core.vote == "1"
    rd = process(core)
    assert rd.hard_state == HardState(2, "1", 0)
    assert sorted((m.dst, m.term, m.log_term, m.index) for m in sent(rd, MT.VOTE)) == [("2", 2, 1, 1), ("3", 2, 1, 1)]
    assert not sent(rd, MT.PRE_VOTE)
    core.step(msg(MT.VOTE_RESP, "2", "1", 2))
    assert core.role is Role.LEADER and core.term == 2


def test_pre_candidate_loses_and_keeps_its_term() -> None:
    core = new_core(log_terms=[1], hs=HardState(term=1), pre_vote=True)
    core.campaign()
    process(core)
    core.step(msg(MT.PRE_VOTE_RESP, "2", "1", 1, reject=True))
    core.step(msg(MT.PRE_VOTE_RESP, "3", "1", 1, reject=True))
    assert core.role is Role.FOLLOWER
    assert core.term == 1
    assert process(core).hard_state is None


def test_pre_candidate_ignores_vote_responses_and_candidate_ignores_pre_vote_responses() -> None:
    pre = new_core(pre_vote=True)
    pre.campaign()
    pre.step(msg(MT.VOTE_RESP, "2", "1", 0))
    pre.step(msg(MT.VOTE_RESP, "3", "1", 0))
    assert pre.role is Role.PRE_CANDIDATE
    cand = new_core(pre_vote=False)
    cand.campaign()
    cand.step(msg(MT.PRE_VOTE_RESP, "2", "1", 1))
    cand.step(msg(MT.PRE_VOTE_RESP, "3", "1", 1))
    assert cand.role is Role.CANDIDATE


@pytest.mark.parametrize("mtype", [MT.APPEND, MT.HEARTBEAT])
@pytest.mark.parametrize("pre_vote", [False, True])
def test_candidate_steps_down_for_a_leader_of_its_term(mtype: MessageType, pre_vote: bool) -> None:
    core = new_core(log_terms=[1], hs=HardState(term=1), pre_vote=pre_vote)
    core.campaign()
    process(core)
    term = core.term
    core.step(msg(mtype, "2", "1", term, index=1, log_term=1))
    assert core.role is Role.FOLLOWER
    assert core.leader_id == "2"
    assert core.term == term


@pytest.mark.parametrize("pre_vote", [False, True])
def test_single_node_cluster_elects_itself(pre_vote: bool) -> None:
    core = new_core(peers=["1"], pre_vote=pre_vote)
    ticks_until_campaign_or_lead = 0
    while core.role is not Role.LEADER:
        core.tick()
        ticks_until_campaign_or_lead += 1
        assert ticks_until_campaign_or_lead < 20
    assert core.term == 1 and core.leader_id == "1"
    rd = process(core)
    assert rd.messages == []
    assert rd.hard_state == HardState(1, "1", 1)
    assert [(e.term, e.index, e.kind) for e in rd.entries] == [(1, 1, EntryKind.NOOP)]
    assert rd.committed_entries == rd.entries
    idx = core.propose(b"solo")
    assert idx == 2 and core.commit_index == 2
    rd = process(core)
    assert [e.data for e in rd.committed_entries] == [b"solo"]


# -- voting ---------------------------------------------------------------------------------


def _vote_resps(rd: Ready) -> list[tuple[str, int, bool]]:
    return [(m.dst, m.term, m.reject) for m in rd.messages if m.type is MT.VOTE_RESP]


def test_at_most_one_vote_per_term() -> None:
    core = new_core(peers=IDS5)
    process(core)
    core.step(msg(MT.VOTE, "2", "1", 1))
    assert _vote_resps(process(core)) == [("2", 1, False)]
    core.step(msg(MT.VOTE, "3", "1", 1))
    assert _vote_resps(process(core)) == [("3", 1, True)]
    core.step(msg(MT.VOTE, "2", "1", 1))  # a retransmission: same answer
    assert _vote_resps(process(core)) == [("2", 1, False)]
    assert core.vote == "2"
    # The vote survives a restart from storage.
    storage = core.log.storage
    assert isinstance(storage, MemoryStorage)
    restarted = RaftCore("1", IDS5, storage, core.config, random.Random(5))
    restarted.step(msg(MT.VOTE, "4", "1", 1))
    assert _vote_resps(process(restarted)) == [("4", 1, True)]
    # A new term allows a new vote.
    restarted.step(msg(MT.VOTE, "4", "1", 2))
    assert _vote_resps(process(restarted)) == [("4", 2, False)]


def test_candidate_does_not_vote_for_another_in_its_term() -> None:
    core = new_core(pre_vote=False)
    core.campaign()
    process(core)
    core.step(msg(MT.VOTE, "2", "1", 1))
    assert _vote_resps(process(core)) == [("2", 1, True)]
    assert core.vote == "1" and core.role is Role.CANDIDATE


def test_follower_with_known_leader_rejects_vote_in_same_term() -> None:
    core = new_core(check_quorum=False)
    core.step(msg(MT.HEARTBEAT, "2", "1", 1))
    process(core)
    core.step(msg(MT.VOTE, "3", "1", 1))
    assert _vote_resps(process(core)) == [("3", 1, True)]


def test_vote_is_in_hard_state_of_the_ready_carrying_the_grant() -> None:
    core = new_core(peers=IDS5, log_terms=[1], hs=HardState(term=1), check_quorum=False)
    process(core)
    requests = [
        msg(MT.VOTE, "2", "1", 2, index=1, log_term=1),
        msg(MT.VOTE, "2", "1", 2, index=1, log_term=1),  # duplicate
        msg(MT.VOTE, "3", "1", 2, index=1, log_term=1),  # rejected: voted
        msg(MT.VOTE, "4", "1", 3, index=1, log_term=1),  # new term: granted
        msg(MT.VOTE, "5", "1", 4, index=0, log_term=0),  # stale log: rejected, term moves
        msg(MT.VOTE, "5", "1", 4, index=3, log_term=1),  # now granted
    ]
    grants = 0
    storage = core.log.storage
    assert isinstance(storage, MemoryStorage)
    for i, m in enumerate(requests):
        core.step(m)
        rd = process(core)  # saves rd.hard_state before we look at the messages
        for g in rd.messages:
            if g.type is MT.VOTE_RESP and not g.reject:
                grants += 1
                saved = storage.initial_state()
                assert (saved.term, saved.vote) == (g.term, g.dst), f"request {i}: grant sent before vote saved"
                if i != 1:  # the first grant of a term carries the vote in this very Ready
                    assert rd.hard_state is not None and rd.hard_state.vote == g.dst
    assert grants == 4


@pytest.mark.parametrize(
    ("cand_last_index", "cand_last_term", "granted"),
    [
        (1, 3, True),  # higher last term wins even with a much shorter log
        (10, 1, False),  # lower last term loses even with a longer log
        (3, 2, True),  # equal term, equal index
        (6, 2, True),  # equal term, longer log
        (2, 2, False),  # equal term, shorter log
        (0, 0, False),  # empty log
    ],
)
@pytest.mark.parametrize("vote_type", [MT.VOTE, MT.PRE_VOTE])
def test_vote_requires_up_to_date_log(
    vote_type: MessageType, cand_last_index: int, cand_last_term: int, granted: bool
) -> None:
    core = new_core(log_terms=[1, 1, 2], hs=HardState(term=2), check_quorum=False)
    process(core)
    core.step(msg(vote_type, "2", "1", 3, index=cand_last_index, log_term=cand_last_term))
    rd = process(core)
    resp_type = MT.VOTE_RESP if vote_type is MT.VOTE else MT.PRE_VOTE_RESP
    assert [(m.type, m.dst, m.reject) for m in rd.messages] == [(resp_type, "2", not granted)]
    if vote_type is MT.VOTE:
        assert core.term == 3
        assert core.vote == ("2" if granted else None)


# -- pre-vote ------------------------------------------------------------------------------


def test_granting_a_pre_vote_changes_neither_term_nor_vote() -> None:
    core = new_core(log_terms=[1], hs=HardState(term=1, vote="5"), peers=IDS5)
    process(core)
    core.step(msg(MT.PRE_VOTE, "2", "1", 2, index=1, log_term=1))
    rd = process(core)
    assert [(m.type, m.dst, m.term, m.reject) for m in rd.messages] == [(MT.PRE_VOTE_RESP, "2", 2, False)]
    assert core.term == 1 and core.vote == "5"
    assert rd.hard_state is None
    # and it does not bind: a real vote for someone else in term 2 is still possible
    core.step(msg(MT.VOTE, "3", "1", 2, index=1, log_term=1))
    assert _vote_resps(process(core)) == [("3", 2, False)]


def test_pre_vote_rejected_for_stale_log_without_term_change() -> None:
    core = new_core(log_terms=[1, 2], hs=HardState(term=2))
    process(core)
    core.step(msg(MT.PRE_VOTE, "2", "1", 3, index=5, log_term=1))
    rd = process(core)
    assert [(m.type, m.term, m.reject) for m in rd.messages] == [(MT.PRE_VOTE_RESP, 2, True)]
    assert core.term == 2 and rd.hard_state is None


def test_pre_vote_keeps_a_partitioned_node_from_inflating_terms() -> None:
    core = new_core(pre_vote=True)
    for _ in range(100):  # ~5+ election timeouts, nobody answers
        core.tick()
        process(core)
    assert core.term == 0
    cand = new_core(pre_vote=False)
    for _ in range(100):
        cand.tick()
        process(cand)
    assert cand.term >= 5


# -- check quorum and leader lease ------------------------------------------------------------


def test_check_quorum_leader_with_no_acks_steps_down() -> None:
    core = new_core(pre_vote=False, check_quorum=True, election_timeout_min=10, election_timeout_max=20)
    elect(core)
    term = core.term
    for _ in range(9):
        core.tick()
        process(core)
    assert core.role is Role.LEADER
    core.tick()
    assert core.role is Role.FOLLOWER
    assert core.term == term
    assert core.leader_id is None
    with pytest.raises(NotLeader):
        core.propose(b"x")


def test_check_quorum_leader_with_acks_stays() -> None:
    core = new_core(pre_vote=False, check_quorum=True, election_timeout_min=10, election_timeout_max=20)
    elect(core)
    for window in range(5):
        for _ in range(9):
            core.tick()
            process(core)
        core.step(msg(MT.HEARTBEAT_RESP if window % 2 else MT.APPEND_RESP, "2", "1", core.term, index=1))
        core.tick()
        process(core)
        assert core.role is Role.LEADER, f"stepped down in window {window}"
    # then silence: steps down at the end of the next window
    for _ in range(10):
        core.tick()
    assert core.role is Role.FOLLOWER


def test_check_quorum_needs_a_majority_not_one_ack() -> None:
    core = new_core(peers=IDS5, pre_vote=False, check_quorum=True, election_timeout_min=10, election_timeout_max=20)
    elect(core)
    for _ in range(9):
        core.tick()
    core.step(msg(MT.HEARTBEAT_RESP, "2", "1", core.term))
    core.tick()
    assert core.role is Role.FOLLOWER  # 2 of 5 active is not a quorum


def test_without_check_quorum_a_lonely_leader_stays() -> None:
    core = new_core(pre_vote=False, check_quorum=False)
    elect(core)
    for _ in range(200):
        core.tick()
        process(core)
    assert core.role is Role.LEADER


@pytest.mark.parametrize("vote_type", [MT.VOTE, MT.PRE_VOTE])
def test_leader_lease_follower_ignores_higher_term_vote(vote_type: MessageType) -> None:
    core = new_core(log_terms=[1], hs=HardState(term=1), check_quorum=True)
    core.step(msg(MT.HEARTBEAT, "2", "1", 1))
    process(core)
    for _ in range(5):
        core.tick()
    core.step(msg(vote_type, "3", "1", 2, index=5, log_term=1))
    rd = process(core)
    assert rd.messages == []
    assert core.term == 1 and core.vote is None and core.leader_id == "2"
    assert rd.hard_state is None


def test_leader_lease_off_without_check_quorum() -> None:
    core = new_core(log_terms=[1], hs=HardState(term=1), check_quorum=False)
    core.step(msg(MT.HEARTBEAT, "2", "1", 1))
    process(core)
    core.step(msg(MT.VOTE, "3", "1", 2, index=5, log_term=1))
    assert _vote_resps(process(core)) == [("3", 2, False)]
    assert core.term == 2


def test_leader_lease_expires_after_election_timeout() -> None:
    core = new_core(
        log_terms=[1], hs=HardState(term=1), check_quorum=True, election_timeout_min=10, election_timeout_max=20
    )
    core.step(msg(MT.HEARTBEAT, "2", "1", 1))
    process(core)
    for _ in range(10):
        core.tick()
        process(core)
    core.step(msg(MT.VOTE, "3", "1", 2, index=5, log_term=1))
    assert _vote_resps(process(core)) == [("3", 2, False)]
    assert core.term == 2 and core.vote == "3"


def test_leader_ignores_higher_term_vote_while_in_lease() -> None:
    core = new_core(pre_vote=False, check_quorum=True)
    elect(core)
    core.step(msg(MT.VOTE, "2", "1", core.term + 1, index=10, log_term=core.term))
    assert core.role is Role.LEADER
    assert process(core).messages == []


# -- §5.3: log replication -----------------------------------------------------------------


def test_new_leader_appends_noop_of_its_term() -> None:
    core = new_core(log_terms=[1, 1, 2], hs=HardState(term=2, commit=2), pre_vote=False)
    rd = elect(core)
    assert core.term == 3
    assert core.last_index == 4
    noop = core.log.slice(4, 5)[0]
    assert (noop.term, noop.index, noop.kind) == (3, 4, EntryKind.NOOP)
    assert rd.entries == [noop]
    apps = sent(rd, MT.APPEND)
    assert sorted(m.dst for m in apps) == ["2", "3"]
    for m in apps:
        # prev is the leader's last entry before the no-op, commit is its commit
        assert (m.index, m.log_term, m.commit, m.term) == (3, 2, 2, 3)
        assert m.entries == (noop,)


def test_propose_on_follower_raises_not_leader_with_hint() -> None:
    core = new_core()
    with pytest.raises(NotLeader) as info:
        core.propose(b"x")
    assert info.value.leader_hint is None
    core.step(msg(MT.HEARTBEAT, "2", "1", 1))
    with pytest.raises(NotLeader) as info:
        core.propose(b"x")
    assert info.value.leader_hint == "2"
    assert info.value.node_id == "1"
    assert "'2'" in str(info.value)
    assert core.last_index == 0


def test_propose_on_candidate_raises_not_leader() -> None:
    core = new_core(pre_vote=False)
    core.campaign()
    with pytest.raises(NotLeader):
        core.propose(b"x")


def test_leader_commits_once_a_majority_acks_an_entry_of_its_term() -> None:
    core = new_core(peers=IDS5, pre_vote=False)
    elect(core)
    assert core.commit_index == 0
    idx = core.propose(b"a")
    assert idx == 2
    rd = process(core)
    assert rd.entries[-1].data == b"a"
    core.step(msg(MT.APPEND_RESP, "2", "1", 1, index=2))
    assert core.commit_index == 0
    core.step(msg(MT.APPEND_RESP, "3", "1", 1, index=2))
    assert core.commit_index == 2
    rd = process(core)
    assert rd.hard_state is not None and rd.hard_state.commit == 2
    assert [(e.index, e.data) for e in rd.committed_entries] == [(1, b""), (2, b"a")]
    # the new commit index goes out to the followers that are replicating
    # ("4" and "5" still have the no-op probe outstanding, so they are paused)
    for peer in ("2", "3"):
        assert any(m.commit == 2 for m in sent(rd, MT.APPEND, to=peer)), peer
    assert not sent(rd, MT.APPEND, to="4") and not sent(rd, MT.APPEND, to="5")
    core.step(msg(MT.APPEND_RESP, "4", "1", 1, index=2))
    assert core.commit_index == 2
    assert process(core).committed_entries == []


def test_leader_appends_carry_prev_of_follower_next_and_commit() -> None:
    core = new_core(pre_vote=False)
    elect(core)
    core.step(msg(MT.APPEND_RESP, "2", "1", 1, index=1))
    core.step(msg(MT.APPEND_RESP, "3", "1", 1, index=1))
    process(core)
    core.propose(b"x")
    rd = process(core)
    apps = sent(rd, MT.APPEND)
    assert len(apps) == 2
    for m in apps:
        assert (m.index, m.log_term, m.commit) == (1, 1, 1)
        assert [(e.term, e.index, e.data) for e in m.entries] == [(1, 2, b"x")]


def test_follower_appends_and_acks() -> None:
    core = new_core(log_terms=[1], hs=HardState(term=1))
    process(core)
    core.step(
        msg(MT.APPEND, "2", "1", 2, index=1, log_term=1, commit=1, entries=(Entry(2, 2, b"a"), Entry(2, 3, b"b")))
    )
    assert core.leader_id == "2" and core.term == 2
    rd = process(core)
    assert [(e.index, e.data) for e in rd.entries] == [(2, b"a"), (3, b"b")]
    assert [(m.type, m.dst, m.term, m.index, m.reject) for m in rd.messages] == [(MT.APPEND_RESP, "2", 2, 3, False)]
    assert core.commit_index == 1
    assert [e.index for e in rd.committed_entries] == [1]


def test_follower_commit_never_passes_what_the_message_proves() -> None:
    # The follower holds stale entries 2..5 of term 1; the leader of term 2 has committed 5.
    core = new_core(log_terms=[1, 1, 1, 1, 1], hs=HardState(term=1))
    process(core)
    core.step(msg(MT.APPEND, "2", "1", 2, index=2, log_term=1, commit=5))
    assert core.commit_index == 2
    rd = process(core)
    assert [(m.index, m.reject) for m in sent(rd, MT.APPEND_RESP)] == [(2, False)]
    assert [e.index for e in rd.committed_entries] == [1, 2]
    core.step(msg(MT.APPEND, "2", "1", 2, index=2, log_term=1, commit=5, entries=(Entry(2, 3, b"new"),)))
    assert core.commit_index == 3
    assert log_terms(core) == [1, 1, 2]
    rd = process(core)
    assert [(e.index, e.data) for e in rd.committed_entries] == [(3, b"new")]
    storage = core.log.storage
    assert isinstance(storage, MemoryStorage)
    assert [e.term for e in storage.all_entries()] == [1, 1, 2]


def test_follower_heartbeat_commit_capped_at_last_index() -> None:
    core = new_core(log_terms=[1, 1], hs=HardState(term=1))
    core.step(msg(MT.HEARTBEAT, "2", "1", 1, commit=9))
    assert core.commit_index == 2
    rd = process(core)
    assert [(m.type, m.dst) for m in rd.messages] == [(MT.HEARTBEAT_RESP, "2")]


def test_follower_takes_heartbeat_commit_when_below_last_index() -> None:
    core = new_core(log_terms=[1, 1, 1, 1], hs=HardState(term=1))
    core.step(msg(MT.HEARTBEAT, "2", "1", 1, commit=2))
    assert core.commit_index == 2
    rd = process(core)
    assert [e.index for e in rd.committed_entries] == [1, 2]
    core.step(msg(MT.HEARTBEAT, "2", "1", 1, commit=1))  # commit never goes back
    assert core.commit_index == 2


def test_leader_heartbeat_commit_is_capped_at_follower_match() -> None:
    core = new_core(pre_vote=False)
    elect(core)
    core.propose(b"a")
    process(core)
    core.step(msg(MT.APPEND_RESP, "2", "1", 1, index=2))
    assert core.commit_index == 2
    process(core)
    hbs = []
    for _ in range(core.config.heartbeat_interval):
        core.tick()
        hbs += sent(process(core), MT.HEARTBEAT)
    assert sorted((m.dst, m.commit) for m in hbs) == [("2", 2), ("3", 0)]


def test_append_below_commit_is_answered_with_commit() -> None:
    core = new_core(log_terms=[1, 1, 1], hs=HardState(term=1, commit=3))
    process(core)
    core.step(msg(MT.APPEND, "2", "1", 1, index=1, log_term=1, commit=3, entries=(Entry(1, 2, b"e2t1"),)))
    rd = process(core)
    assert [(m.index, m.reject) for m in sent(rd, MT.APPEND_RESP)] == [(3, False)]
    assert log_terms(core) == [1, 1, 1]


def test_follower_rejects_with_hint_and_leader_probes_there() -> None:
    leader = new_core("1", log_terms=[1, 1, 1, 1, 1], hs=HardState(term=1), pre_vote=False)
    rd = elect(leader)
    follower = new_core("2", log_terms=[1, 1], hs=HardState(term=1))
    process(follower)
    (app,) = sent(rd, MT.APPEND, to="2")
    assert (app.index, app.log_term) == (5, 1)
    follower.step(app)
    frd = process(follower)
    (rej,) = frd.messages
    assert rej.type is MT.APPEND_RESP and rej.reject
    assert (rej.index, rej.reject_hint, rej.log_term) == (5, 2, 1)
    leader.step(rej)
    lrd = process(leader)
    (probe,) = sent(lrd, MT.APPEND, to="2")
    assert (probe.index, probe.log_term) == (2, 1)
    assert [e.index for e in probe.entries] == [3, 4, 5, 6]
    follower.step(probe)
    (ack,) = process(follower).messages
    assert (ack.reject, ack.index) == (False, 6)
    assert log_terms(follower) == [1, 1, 1, 1, 1, 2]


@pytest.mark.parametrize(
    ("leader_terms", "follower_terms", "leader_term"),
    [
        # the follower has a long suffix of an old leader's term 2 where the
        # new leader has entries of its own older term 3
        ([1] * 3 + [3] * 57, [1] * 3 + [2] * 57, 3),
        # the follower's divergent suffix has a term the leader never saw
        ([1] * 30, [1] + [2] * 29, 2),
        # the follower's divergent suffix is longer than the leader's log
        ([1] * 5 + [3] * 5, [1] * 5 + [2] * 50, 3),
        # the follower is simply far behind
        ([1] * 60, [1] * 2, 1),
    ],
    ids=["older-term-suffix", "unknown-term-suffix", "longer-divergent", "behind"],
)
def test_fast_backtracking_repairs_divergent_follower_in_few_round_trips(
    leader_terms: list[int], follower_terms: list[int], leader_term: int
) -> None:
    leader = new_core(
        "1", log_terms=leader_terms, hs=HardState(term=leader_term), pre_vote=False, max_entries_per_msg=100
    )
    follower = new_core("2", log_terms=follower_terms, hs=HardState(term=leader_term))
    elect(leader)
    common = next(
        (i for i, (a, b) in enumerate(zip(leader_terms, follower_terms)) if a != b),
        min(len(leader_terms), len(follower_terms)),
    )
    divergent = len(follower_terms) - common
    cores = {"1": leader, "2": follower}
    # The leader's first Ready went out in elect() (lost); a heartbeat
    # response from "2" makes it probe again. "3" never answers.
    delivered = run(cores, [msg(MT.HEARTBEAT_RESP, "2", "1", leader.term)])
    assert log_terms(follower) == log_terms(leader)
    assert [e.data for e in follower.log.slice(1, follower.last_index + 1)] == [
        e.data for e in leader.log.slice(1, leader.last_index + 1)
    ]
    appends = sent(delivered, MT.APPEND, to="2")
    rejects = [m for m in sent(delivered, MT.APPEND_RESP) if m.reject]
    assert len(appends) <= 4, [str(m) for m in appends]
    assert len(rejects) <= 1, [str(m) for m in rejects]
    if divergent:
        assert len(appends) < divergent
    assert leader.commit_index == leader.last_index  # the follower's ack commits the no-op


def test_replicate_batches_proposals_into_one_append() -> None:
    core = new_core(pre_vote=False, max_entries_per_msg=10)
    elect(core)
    core.step(msg(MT.APPEND_RESP, "2", "1", 1, index=1))
    core.step(msg(MT.APPEND_RESP, "3", "1", 1, index=1))
    process(core)
    for i in range(10):
        core.propose(f"p{i}".encode())
    rd = process(core)
    assert len(rd.entries) == 10
    for peer in ("2", "3"):
        apps = sent(rd, MT.APPEND, to=peer)
        assert len(apps) == 1
        assert [e.data for e in apps[0].entries] == [f"p{i}".encode() for i in range(10)]
        assert (apps[0].index, apps[0].log_term) == (1, 1)
    assert len(rd.messages) == 2


@pytest.mark.parametrize(("max_inflight", "expected_msgs"), [(256, math.ceil(10 / 3)), (2, 2)])
def test_batches_split_by_max_entries_per_msg(max_inflight: int, expected_msgs: int) -> None:
    core = new_core(pre_vote=False, max_entries_per_msg=3, max_inflight_msgs=max_inflight)
    elect(core)
    core.step(msg(MT.APPEND_RESP, "2", "1", 1, index=1))
    core.step(msg(MT.APPEND_RESP, "3", "1", 1, index=1))
    process(core)
    for i in range(10):
        core.propose(f"p{i}".encode())
    rd = process(core)
    for peer in ("2", "3"):
        apps = sent(rd, MT.APPEND, to=peer)
        assert len(apps) == expected_msgs
        expected_prev = 1
        for m in apps:
            assert 1 <= len(m.entries) <= 3
            assert m.index == expected_prev  # each batch continues the previous one
            assert [e.index for e in m.entries] == list(range(expected_prev + 1, expected_prev + 1 + len(m.entries)))
            expected_prev = m.entries[-1].index
        if expected_msgs == 2:
            assert expected_prev == 7  # paused with 2 in flight
    if max_inflight == 2:
        # An ack frees the pipeline for the rest.
        core.step(msg(MT.APPEND_RESP, "2", "1", 1, index=4))
        rd = process(core)
        rest = sent(rd, MT.APPEND, to="2")
        assert [e.index for m in rest for e in m.entries] == [8, 9, 10]
        assert len(rest) == 1


def test_probe_sends_one_append_at_a_time() -> None:
    core = new_core(pre_vote=False, max_entries_per_msg=3)
    elect(core)  # followers are in probe; the no-op probe is outstanding
    for _ in range(7):
        core.propose(b"x")
    rd = process(core)
    assert sent(rd, MT.APPEND) == []


def test_figure8_leader_does_not_commit_earlier_term_by_counting_replicas() -> None:
    # Leader for term 3 with [1/1, 2/2]: entry 2 was written in term 2 and not committed.
    core = new_core(peers=IDS5, log_terms=[1, 2], hs=HardState(term=2, commit=1), pre_vote=False)
    elect(core)
    assert core.term == 3
    assert log_terms(core) == [1, 2, 3]  # the no-op of term 3 at index 3
    assert core.commit_index == 1
    # A majority (1, 2, 3) stores index 2 ...
    core.step(msg(MT.APPEND_RESP, "2", "1", 3, index=2))
    core.step(msg(MT.APPEND_RESP, "3", "1", 3, index=2))
    assert core.commit_index == 1
    rd = process(core)
    assert rd.committed_entries == [] and rd.hard_state is None
    # ... and one follower has the term-3 entry: still no majority on it.
    core.step(msg(MT.APPEND_RESP, "2", "1", 3, index=3))
    assert core.commit_index == 1
    # A majority on the term-3 entry commits it and, with it, entry 2.
    core.step(msg(MT.APPEND_RESP, "3", "1", 3, index=3))
    assert core.commit_index == 3
    rd = process(core)
    assert [(e.term, e.index) for e in rd.committed_entries] == [(2, 2), (3, 3)]


# -- Ready / advance -------------------------------------------------------------------------


def test_fresh_core_has_no_ready() -> None:
    core = new_core()
    assert not core.has_ready()
    rd = core.ready()
    assert rd.is_empty()
    core.advance()


def test_hard_state_reported_only_when_changed() -> None:
    core = new_core(pre_vote=False)
    core.campaign()
    assert core.has_ready()
    rd = process(core)
    assert rd.hard_state == HardState(1, "1", 0)
    assert rd.soft_state is not None and rd.soft_state.role is Role.CANDIDATE
    assert not core.has_ready()
    rd = process(core)
    assert rd.hard_state is None and rd.soft_state is None and rd.is_empty()
    core.step(msg(MT.VOTE_RESP, "2", "1", 1))
    rd = process(core)
    assert rd.hard_state is None  # becoming leader changes none of term, vote, commit
    assert rd.soft_state is not None and rd.soft_state.role is Role.LEADER
    core.step(msg(MT.APPEND_RESP, "2", "1", 1, index=1))
    rd = process(core)
    assert rd.hard_state == HardState(1, "1", 1)
    core.step(msg(MT.APPEND_RESP, "3", "1", 1, index=1))
    rd = process(core)
    assert rd.hard_state is None


def test_entries_reported_once_then_stable() -> None:
    core = new_core(pre_vote=False)
    elect(core)
    core.propose(b"a")
    core.propose(b"b")
    rd = process(core)
    assert [e.data for e in rd.entries] == [b"a", b"b"]
    storage = core.log.storage
    assert isinstance(storage, MemoryStorage)
    assert [e.data for e in storage.all_entries()] == [b"", b"a", b"b"]
    assert core.log.unstable_entries() == []
    rd = process(core)
    assert rd.entries == []
    core.propose(b"c")
    rd = process(core)
    assert [e.data for e in rd.entries] == [b"c"]


def test_entries_stay_unstable_until_advance() -> None:
    core = new_core(pre_vote=False)
    elect(core)
    core.propose(b"a")
    rd = core.ready()
    assert [e.data for e in rd.entries] == [b"a"]
    assert [e.data for e in core.log.unstable_entries()] == [b"a"]
    storage = core.log.storage
    assert isinstance(storage, MemoryStorage)
    storage.save(rd.hard_state, rd.entries)
    core.advance()
    assert core.log.unstable_entries() == []


def test_committed_entries_reported_once() -> None:
    core = new_core(pre_vote=False)
    elect(core)
    core.propose(b"a")
    process(core)
    core.step(msg(MT.APPEND_RESP, "2", "1", 1, index=2))
    rd = process(core)
    assert [e.data for e in rd.committed_entries] == [b"", b"a"]
    assert core.applied_index == 2
    rd = process(core)
    assert rd.committed_entries == []
    core.step(msg(MT.APPEND_RESP, "3", "1", 1, index=2))  # no new commit
    assert process(core).committed_entries == []
    assert [e.data for e in applied(core)] == [b"", b"a"]


def test_advance_without_ready_raises() -> None:
    core = new_core()
    with pytest.raises(RuntimeError):
        core.advance()
    core.ready()
    core.advance()
    with pytest.raises(RuntimeError):
        core.advance()


def test_restart_restores_hard_state_and_replays_commits() -> None:
    core = new_core(pre_vote=False)
    elect(core)
    core.propose(b"a")
    process(core)
    core.step(msg(MT.APPEND_RESP, "2", "1", 1, index=2))
    process(core)
    storage = core.log.storage
    assert isinstance(storage, MemoryStorage)
    again = RaftCore("1", IDS3, storage, core.config, random.Random(3))
    assert (again.term, again.hard_state().vote, again.commit_index) == (1, "1", 2)
    assert again.role is Role.FOLLOWER
    rd = again.ready()
    assert rd.hard_state is None
    assert [e.data for e in rd.committed_entries] == [b"", b"a"]


# -- leadership transfer (thesis §3.10) --------------------------------------------------------


def _three_node_cluster(**config: object) -> dict[str, RaftCore]:
    cores = {i: new_core(i, IDS3, seed=int(i), **config) for i in IDS3}
    cores["1"].campaign()
    run(cores, [])
    assert cores["1"].role is Role.LEADER
    assert all(cores[i].leader_id == "1" for i in IDS3)
    return cores


def test_transfer_leadership_to_lagging_follower() -> None:
    cores = _three_node_cluster()  # pre_vote and check_quorum on (defaults)
    c1, c2, c3 = cores["1"], cores["2"], cores["3"]
    # "2" misses two entries.
    c1.propose(b"a")
    c1.propose(b"b")
    cut_off_2 = lambda m: "2" in (m.src, m.dst)  # noqa: E731
    run(cores, [], drop=cut_off_2)
    assert c2.last_index < c1.last_index == c3.last_index
    # "3" heard from the leader just now: it is inside its lease.
    assert c3.leader_id == "1" and c3.election_elapsed < c3.config.election_timeout_min
    term = c1.term

    c1.transfer_leadership("2")
    with pytest.raises(ProposalDropped):
        c1.propose(b"during transfer")
    rd = process(c1)
    assert not sent(rd, MT.TIMEOUT_NOW), "TIMEOUT_NOW sent before the target caught up"
    assert sent(rd, MT.APPEND, to="2")

    timeouts: list[tuple[int, int]] = []

    def watch(m: Message) -> None:
        if m.type is MT.TIMEOUT_NOW:
            timeouts.append((c2.last_index, c1.last_index))

    # The old leader's vote is lost: "2" can only win with the vote of "3",
    # which is inside its leader lease.
    no_vote_from_1 = lambda m: m.type is MT.VOTE and m.dst == "1"  # noqa: E731
    delivered = run(cores, rd.messages, drop=no_vote_from_1, on_deliver=watch)
    assert timeouts and all(target == leader for target, leader in timeouts)
    assert c2.role is Role.LEADER
    assert c2.term == term + 1
    assert c1.role is Role.FOLLOWER and c1.leader_id == "2"
    assert c3.leader_id == "2"
    after = delivered[[m.type for m in delivered].index(MT.TIMEOUT_NOW) :]
    assert not sent(after, MT.PRE_VOTE), "the transfer target must campaign without pre-vote"
    votes = sent(after, MT.VOTE)
    assert [m.dst for m in votes] == ["3"]  # (the one to "1" was dropped)
    assert all(m.term == term + 1 for m in votes)
    grants = [m for m in sent(after, MT.VOTE_RESP) if not m.reject]
    assert [(m.src, m.term) for m in grants] == [("3", term + 1)]
    with pytest.raises(NotLeader) as info:
        c1.propose(b"x")
    assert info.value.leader_hint == "2"
    assert c2.propose(b"after") > 0


def test_transfer_to_caught_up_follower_sends_timeout_now_at_once() -> None:
    cores = _three_node_cluster()
    c1 = cores["1"]
    c1.transfer_leadership("3")
    rd = process(c1)
    assert [(m.type, m.dst, m.term) for m in rd.messages] == [(MT.TIMEOUT_NOW, "3", c1.term)]
    run(cores, rd.messages)
    assert cores["3"].role is Role.LEADER
    assert cores["3"].term == 2


def test_without_transfer_a_vote_in_lease_is_ignored() -> None:
    # The contrast to the transfer: the same VOTE without the transfer context
    # is ignored by a follower in lease, and the old leader keeps leading.
    cores = _three_node_cluster()
    c3 = cores["3"]
    c3.step(msg(MT.VOTE, "2", "3", 2, index=cores["2"].last_index, log_term=cores["2"].log.last_term()))
    assert process(c3).messages == []
    assert c3.term == 1 and c3.leader_id == "1"


def test_transfer_argument_checks() -> None:
    cores = _three_node_cluster()
    with pytest.raises(NotLeader):
        cores["2"].transfer_leadership("3")
    with pytest.raises(ValueError):
        cores["1"].transfer_leadership("9")
    cores["1"].transfer_leadership("1")  # to itself: nothing to do
    assert cores["1"].propose(b"still leader") > 0


def test_transfer_is_abandoned_after_an_election_timeout() -> None:
    core = new_core(pre_vote=False, check_quorum=False, election_timeout_min=10, election_timeout_max=20)
    elect(core)
    core.propose(b"x")
    process(core)
    core.transfer_leadership("2")  # "2" never answers
    with pytest.raises(ProposalDropped):
        core.propose(b"y")
    for _ in range(10):
        core.tick()
        process(core)
    assert core.role is Role.LEADER
    assert core.propose(b"y") == 3
