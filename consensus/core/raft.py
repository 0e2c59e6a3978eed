"""RaftCore: the roles, the step functions and the tick. No I/O, no clock, no asyncio.

Inputs are ``tick()``, ``step(message)``, ``propose(data)``, ``campaign()``
and ``transfer_leadership(to)``. Outputs are collected in a ``Ready``
(see ``ready.py``) that the caller persists, sends and applies, in that
order, before calling ``advance()``. All randomness comes from the injected
``random.Random``, so a simulation replays exactly from its seed.

The protocol follows the Raft paper and thesis as etcd implements it:
pre-vote (§9.6), check-quorum with leader leases on votes (§6.2 / §4.2.3),
fast log backtracking, the current-term commit rule (figure 8) and a no-op
at the start of each term.

Snapshots (§7 of the paper, chapter 5 of the thesis): the caller snapshots
its state machine at an applied index, ``compact(index, data)`` describes
that snapshot and the caller stores it with ``storage.save_snapshot``,
which drops the log behind it. A leader whose follower needs compacted
entries sends its snapshot in chunks of ``snapshot_chunk_bytes``
(InstallSnapshot, one chunk in flight; a heartbeat response re-sends the
outstanding one) with the follower's progress in the SNAPSHOT state. The
follower assembles the chunks, restarting on an out-of-order chunk or a
different snapshot, then resets its log to the snapshot; the next Ready
carries it (``Ready.snapshot``) to save and to restore the state machine
from before any later entry is applied, and the follower acknowledges the
snapshot's index so that the leader replicates from there. A snapshot that
is not ahead of the follower's commit index is ignored and answered with
that commit index.

Membership changes (thesis chapter 4, single-server changes): a
configuration is a set of voters and a set of learners (``membership.py``).
``propose_conf_change(cc)`` appends a ``CONF_CHANGE`` entry on the leader.
Every node switches to the configuration in an entry as soon as it
*appends* it (thesis §4.1), committed or not, and falls back to the previous
one if the entry is truncated away; the snapshot records the configuration
at its index, so a restart recovers it from the snapshot plus the log. The
leader refuses a change while an earlier one is uncommitted, and any change
before it has committed an entry of its own term (its no-op): without that
rule, two changes that overlap across a leader change can form disjoint
majorities (Ongaro, raft-dev, 2015). Quorums count voters only; learners
are replicated to but never campaign, and their votes count only for a
candidate whose configuration lists them as voters. Like etcd (and the
thesis, §4.2.1) a node answers vote requests without consulting its own
configuration: a learner whose promotion committed without reaching it
must still be able to vote, or the cluster may have no electable majority.
Until a change commits the leader keeps replicating to the nodes it
removed, so that they learn they were removed and never campaign; a leader
that removed itself leads on without counting its own vote, and steps down
(handing leadership to the most up-to-date voter) once that entry commits.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from lmteams.consensus.core.config import RaftConfig
from lmteams.consensus.core.log import RaftLog
from lmteams.consensus.core.membership import (
    ConfChange,
    ConfChangeInProgress,
    ConfChangeOp,
    ConfChangeTooEarly,
    InvalidConfChange,
    Membership,
)
from lmteams.consensus.core.messages import (
    Entry,
    EntryKind,
    HardState,
    Message,
    MessageType,
    NodeId,
    Snapshot,
    SnapshotMeta,
)
from lmteams.consensus.core.progress import Progress, ProgressState
from lmteams.consensus.core.quorum import VoteResult, committed_index, majority, vote_result
from lmteams.consensus.core.read_only import ReadOnlyQueue, ReadState
from lmteams.consensus.core.ready import Ready, Role, SoftState
from lmteams.consensus.core.storage import Storage
from lmteams.consensus.errors import CompactedError, NotLeader, ProposalDropped

MT = MessageType

# Vote requests caused by a leadership transfer carry this context; they
# override the leader lease that otherwise makes voters ignore candidates.
CAMPAIGN_TRANSFER = 1


@dataclass(slots=True)
class _Assembly:
    """The chunks of one leader's snapshot received so far, in order."""

    key: tuple[int, int, int]  # leader term, snapshot index, snapshot term
    voters: tuple[NodeId, ...]
    learners: tuple[NodeId, ...] = ()
    data: bytearray = field(default_factory=bytearray)


class RaftCore:
    """One Raft replica's protocol state machine.

    ``peers`` (and ``learners``) are the bootstrap configuration: the
    configuration before the first entry, which every node of a cluster must
    be given alike. The configuration in force is the storage's snapshot's
    (if it names one) followed by the configuration-change entries in the
    log. A node outside it (a new node about to be added) never campaigns;
    it learns its place from the leader's log or snapshot.
    ``applied`` is the last index already applied by a state machine that
    survived a restart (0 if the state machine is rebuilt from the log and
    the storage's snapshot, which the caller restores it from first).
    """

    def __init__(
        self,
        node_id: NodeId,
        peers: Iterable[NodeId],
        storage: Storage,
        config: RaftConfig | None = None,
        rng: random.Random | None = None,
        applied: int = 0,
        *,
        learners: Iterable[NodeId] = (),
        joining: bool = False,
    ) -> None:
        self.id = node_id
        # A node that rejoins with an empty disk (``joining``) may have voted, under this id, in terms it no
        # longer remembers: it neither votes nor campaigns until its log shows it removed and added back.
        self.awaiting_readd = joining
        self._removed_seen = False
        self.config = config or RaftConfig()
        self.rng = rng or random.Random(0)
        self._role = Role.FOLLOWER
        self.log = RaftLog(storage)
        snap = storage.snapshot()
        if not snap.is_empty() and snap.meta.voters:
            self._conf_base = Membership.of(snap.meta.voters, snap.meta.learners)
        else:
            self._conf_base = Membership.of(peers, learners)
        # (index, configuration after it) for each CONF_CHANGE entry in the log.
        self._conf_log: list[tuple[int, Membership]] = []
        self.voters: frozenset[NodeId] = self._conf_base.voters
        self.learners: frozenset[NodeId] = self._conf_base.learners
        self._step_down_pending = False
        if storage.last_index() >= storage.first_index():
            self._on_log_append(storage.entries(storage.first_index(), storage.last_index() + 1))
        self.log.on_append = self._on_log_append
        self.log.on_restore = self._on_log_restore
        hs = storage.initial_state()
        self._term = hs.term
        self.vote: NodeId | None = hs.vote
        if self.log.last_term() > hs.term:
            # Storage saves entries (or a snapshot) before the hard state; a
            # crash in between leaves a saved term behind the log's. No vote
            # of a later term was ever sent (it would have been saved first),
            # so catching up the term with no vote is safe, and keeps the
            # terms of the entries this node appends as leader non-decreasing.
            self._term, self.vote = self.log.last_term(), None
        if hs.commit:
            self.log.commit_to(min(hs.commit, self.log.last_index()))
        if applied:
            self.log.applied_to(applied)
        self._prev_hard_state = HardState(hs.term, hs.vote, self.log.committed)
        self._lead: NodeId | None = None
        self._prev_soft = SoftState(None, Role.FOLLOWER)
        self.msgs: list[Message] = []
        self.votes: dict[NodeId, bool] = {}
        self.prs: dict[NodeId, Progress] = {}
        self.lead_transferee: NodeId | None = None
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.randomized_election_timeout = 0
        self._bcast_pending = False
        self._pending_ready: Ready | None = None
        self.read_only = ReadOnlyQueue()
        self._reads_waiting: list[int] = []
        self.read_states: list[ReadState] = []
        self._assembly: _Assembly | None = None
        self._become_follower(self._term, None)

    # -- read-only view ----------------------------------------------------

    @property
    def role(self) -> Role:
        return self._role

    @property
    def term(self) -> int:
        return self._term

    @property
    def leader_id(self) -> NodeId | None:
        return self._lead

    @property
    def commit_index(self) -> int:
        return self.log.committed

    @property
    def last_index(self) -> int:
        return self.log.last_index()

    @property
    def applied_index(self) -> int:
        return self.log.applied

    def hard_state(self) -> HardState:
        return HardState(self._term, self.vote, self.log.committed)

    @property
    def membership(self) -> Membership:
        """The configuration in force: the latest one in the log, committed or not."""
        return Membership(self.voters, self.learners)

    @property
    def promotable(self) -> bool:
        """Whether this node is a voter of its configuration (and so may campaign)."""
        return self.id in self.voters and not self.awaiting_readd

    @property
    def pending_conf_index(self) -> int:
        """Index of the latest configuration-change entry in the log (0 if none since the snapshot)."""
        return self._conf_log[-1][0] if self._conf_log else 0

    def membership_at(self, index: int) -> Membership:
        """The configuration in force after entry ``index`` (at or after the snapshot)."""
        conf = self._conf_base
        for i, m in self._conf_log:
            if i > index:
                break
            conf = m
        return conf

    def progress(self, node: NodeId) -> Progress | None:
        """The leader's view of ``node`` (None on a follower or for a node it does not replicate to)."""
        return self.prs.get(node) if self._role is Role.LEADER else None

    # -- inputs ------------------------------------------------------------

    def tick(self) -> None:
        """Advance logical time by one tick."""
        if self._role is Role.LEADER:
            self._tick_heartbeat()
        else:
            self._tick_election()

    def propose(self, data: bytes, kind: EntryKind = EntryKind.NORMAL) -> int:
        """Append ``data`` on the leader; returns the entry's index.

        ``kind`` is NORMAL or BATCH (both opaque here; configuration changes
        go through ``propose_conf_change``). Raises ``NotLeader`` on any
        other node and ``ProposalDropped`` while a leadership transfer is
        under way.
        """
        if kind is not EntryKind.NORMAL and kind is not EntryKind.BATCH:
            raise ValueError(f"propose takes NORMAL or BATCH entries, not {kind.name}")
        if self._role is not Role.LEADER:
            raise NotLeader(self.id, self._lead)
        if self.lead_transferee is not None:
            raise ProposalDropped(f"leadership is moving to {self.lead_transferee!r}; retry there shortly")
        return self._append_entry(Entry(self._term, self.log.last_index() + 1, bytes(data), kind))

    def propose_conf_change(self, cc: ConfChange) -> int:
        """Append the single-server change ``cc`` on the leader; returns its index.

        It takes effect here at once (and on each follower as it appends
        it). Raises ``NotLeader`` on any other node, ``ProposalDropped``
        during a leadership transfer, ``ConfChangeTooEarly`` before this
        leader has committed an entry of its term, ``ConfChangeInProgress``
        while an earlier change is uncommitted, and ``InvalidConfChange`` for
        a change that does not apply (such as removing the last voter).
        """
        if self._role is not Role.LEADER:
            raise NotLeader(self.id, self._lead)
        if self.lead_transferee is not None:
            raise ProposalDropped(f"leadership is moving to {self.lead_transferee!r}; retry there shortly")
        if self.log.term(self.log.committed) != self._term:
            raise ConfChangeTooEarly(
                f"leader {self.id!r} has not yet committed an entry of its term {self._term} (its no-op); "
                "a configuration change must wait for it, or an uncommitted change of an earlier leader "
                "could overlap with this one: retry shortly"
            )
        pending = self.pending_conf_index
        if pending > self.log.committed:
            raise ConfChangeInProgress(
                f"the configuration change at index {pending} is not committed yet (commit index "
                f"{self.log.committed}); changes go one server at a time: retry once it commits"
            )
        self.membership.apply(cc)  # raises InvalidConfChange
        entry = Entry(self._term, self.log.last_index() + 1, cc.encode(), EntryKind.CONF_CHANGE)
        return self._append_entry(entry)

    def campaign(self) -> None:
        """Start an election now, as if the election timeout had fired.

        A node that is not a voter of its configuration never campaigns."""
        if self._role is not Role.LEADER and self.promotable:
            self._campaign(transfer=False)

    def read_index(self, context: int) -> None:
        """Start a linearizable read tagged ``context`` (a fresh positive int).

        A ``ReadState(index, context)`` appears in a later Ready once a
        majority has confirmed this leader; the read may then be served when
        ``index`` is applied. Raises ``NotLeader`` on any other node.
        """
        if self._role is not Role.LEADER:
            raise NotLeader(self.id, self._lead)
        if context <= 0:
            raise ValueError(f"read context must be a positive integer, got {context}")
        if self.log.term(self.log.committed) != self._term:
            # Until its no-op commits, the leader does not know the true
            # commit index (thesis §6.4 step 1): hold the read until then.
            self._reads_waiting.append(context)
            return
        self._start_read(context)

    def compact(self, index: int, data: bytes) -> Snapshot:
        """Describe a snapshot of the state machine taken at applied ``index``.

        ``data`` is the state machine's state after applying ``index`` (its
        ``snapshot()``). Returns the ``Snapshot`` (index, its term, the
        voters, data) for the caller to store with
        ``storage.save_snapshot(...)``, which compacts the log behind it;
        from then on a follower that needs those entries gets the snapshot.
        Call it between Readies (after ``advance()``). Raises ``ValueError``
        for an index not applied (or not saved) yet and ``CompactedError``
        for one at or below the current snapshot.
        """
        if self._pending_ready is not None:
            raise RuntimeError("compact() between ready() and advance(): handle the Ready first")
        if self.log.pending_snapshot() is not None:
            raise RuntimeError("compact() while a received snapshot is not saved: handle the Ready first")
        if index > self.log.applied:
            raise ValueError(f"cannot snapshot at index {index}: only entries up to {self.log.applied} are applied")
        if index < self.log.first_index():
            raise CompactedError(
                f"cannot snapshot at index {index}: the log is already compacted up to {self.log.first_index() - 1}"
            )
        u = self.log.unstable
        if u.entries and u.offset <= index:
            raise ValueError(f"cannot snapshot at index {index}: the entry is not saved yet")
        conf = self.membership_at(index)
        meta = SnapshotMeta(index, self.log.term(index), tuple(sorted(conf.voters)), tuple(sorted(conf.learners)))
        # The changes up to the snapshot fold into its configuration.
        self._conf_base = conf
        self._conf_log = [(i, m) for i, m in self._conf_log if i > index]
        return Snapshot(meta, bytes(data))

    def transfer_leadership(self, to: NodeId) -> None:
        """Hand leadership to ``to`` once its log is up to date (thesis §3.10)."""
        if self._role is not Role.LEADER:
            raise NotLeader(self.id, self._lead)
        if to not in self.voters:
            raise ValueError(f"cannot transfer leadership to {to!r}: not a voter of {sorted(self.voters)}")
        if to == self.id:
            return
        self.lead_transferee = to
        self.election_elapsed = 0  # the transfer must finish within one election timeout
        if self.prs[to].match == self.log.last_index():
            self._send(Message(MT.TIMEOUT_NOW, self.id, to, self._term))
        else:
            self._send_append(to, send_if_empty=True)

    def step(self, m: Message) -> None:
        """Handle one message received from a peer."""
        if m.dst != self.id or m.src == self.id:
            return  # misrouted
        # Messages from nodes outside our configuration are processed too
        # (thesis §4.2.1): a new node learns of its leader this way, and a
        # learner whose promotion has not reached it yet can still vote.
        if m.term > self._term:
            if m.type in (MT.VOTE, MT.PRE_VOTE):
                force = m.context == CAMPAIGN_TRANSFER
                in_lease = (
                    self.config.check_quorum
                    and self._lead is not None
                    and self.election_elapsed < self.config.election_timeout_min
                )
                if in_lease and not force:
                    return  # we heard from a live leader recently: do not be disrupted
            if m.type is MT.PRE_VOTE or (m.type is MT.PRE_VOTE_RESP and not m.reject):
                pass  # pre-vote never changes our term; a granted one carries the future term
            else:
                lead = m.src if m.type in (MT.APPEND, MT.HEARTBEAT, MT.SNAP) else None
                self._become_follower(m.term, lead)
        elif m.term < self._term:
            if (self.config.check_quorum or self.config.pre_vote) and m.type in (MT.APPEND, MT.HEARTBEAT, MT.SNAP):
                # A leader of an old term: tell it our term so it steps down.
                self._send(Message(MT.APPEND_RESP, self.id, m.src, self._term))
            elif m.type is MT.PRE_VOTE:
                self._send(Message(MT.PRE_VOTE_RESP, self.id, m.src, self._term, reject=True))
            return

        if m.type in (MT.VOTE, MT.PRE_VOTE):
            self._handle_vote_request(m)
        elif self._role is Role.LEADER:
            self._step_leader(m)
        elif self._role in (Role.CANDIDATE, Role.PRE_CANDIDATE):
            self._step_candidate(m)
        else:
            self._step_follower(m)

    # -- Ready / advance -----------------------------------------------------

    def has_ready(self) -> bool:
        self._flush_appends()
        return bool(
            self.msgs
            or self.read_states
            or self.log.pending_snapshot() is not None
            or self.log.unstable.entries
            or self.log.has_next_committed()
            or self.hard_state() != self._prev_hard_state
            or self._soft_state() != self._prev_soft
        )

    def ready(self) -> Ready:
        """Collect the work to do. Call ``advance()`` once it is done."""
        self._flush_appends()
        hs = self.hard_state()
        soft = self._soft_state()
        rd = Ready(
            hard_state=hs if hs != self._prev_hard_state else None,
            entries=self.log.unstable_entries(),
            messages=self.msgs,
            committed_entries=self.log.next_committed(),
            soft_state=soft if soft != self._prev_soft else None,
            read_states=self.read_states,
            snapshot=self.log.pending_snapshot(),
        )
        self.msgs = []
        self.read_states = []
        self._pending_ready = rd
        return rd

    def advance(self) -> None:
        """The last Ready was saved, sent and applied."""
        rd = self._pending_ready
        if rd is None:
            raise RuntimeError("advance() called without a preceding ready()")
        self._pending_ready = None
        if rd.hard_state is not None:
            self._prev_hard_state = rd.hard_state
        if rd.soft_state is not None:
            self._prev_soft = rd.soft_state
        if rd.snapshot is not None:
            self.log.stable_snap_to(rd.snapshot.index)
            self.log.applied_to(rd.snapshot.index)  # the caller restored the state machine from it
        if rd.entries:
            last = rd.entries[-1]
            self.log.stable_to(last.index, last.term)
        if rd.committed_entries:
            self.log.applied_to(rd.committed_entries[-1].index)

    # -- role transitions ------------------------------------------------------

    def _reset(self, term: int) -> None:
        if term != self._term:
            self._term = term
            self.vote = None
            self._assembly = None  # chunks of an earlier term's leader
        self._lead = None
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self._reset_randomized_timeout()
        self.votes = {}
        self.lead_transferee = None
        self._bcast_pending = False
        self.read_only = ReadOnlyQueue()  # reads of a past leadership are void
        self._reads_waiting = []
        self._step_down_pending = False
        last = self.log.last_index()
        self.prs = {
            v: Progress(next=last + 1, max_inflight=self.config.max_inflight_msgs) for v in self._replication_targets()
        }
        self.prs[self.id].match = last

    def _reset_randomized_timeout(self) -> None:
        c = self.config
        self.randomized_election_timeout = self.rng.randrange(c.election_timeout_min, c.election_timeout_max)

    def _become_follower(self, term: int, lead: NodeId | None) -> None:
        self._reset(term)
        self._role = Role.FOLLOWER
        self._lead = lead

    def _become_pre_candidate(self) -> None:
        # Changes neither the term nor the vote: that is the point of pre-vote.
        self._role = Role.PRE_CANDIDATE
        self.votes = {}
        self._lead = None
        self._reset_randomized_timeout()

    def _become_candidate(self) -> None:
        self._reset(self._term + 1)
        self.vote = self.id
        self._role = Role.CANDIDATE

    def _become_leader(self) -> None:
        self._reset(self._term)
        self._role = Role.LEADER
        self._lead = self.id
        # A no-op of the new term lets the leader commit entries of earlier
        # terms (figure 8) and learn the commit index promptly.
        self._append_entry(Entry(self._term, self.log.last_index() + 1, b"", EntryKind.NOOP))

    def _campaign(self, transfer: bool) -> None:
        if self.config.pre_vote and not transfer:
            self._become_pre_candidate()
            self._request_votes(MT.PRE_VOTE, self._term + 1, context=0)
        else:
            self._become_candidate()
            self._request_votes(MT.VOTE, self._term, context=CAMPAIGN_TRANSFER if transfer else 0)

    def _request_votes(self, vote_type: MessageType, term: int, context: int) -> None:
        if self._poll(self.id, True) is not VoteResult.PENDING:
            return  # a single-node cluster decided on our own vote
        last_index, last_term = self.log.last_index(), self.log.last_term()
        for peer in sorted(self.voters - {self.id}):
            self._send(Message(vote_type, self.id, peer, term, log_term=last_term, index=last_index, context=context))

    def _poll(self, voter: NodeId, granted: bool) -> VoteResult:
        self.votes.setdefault(voter, granted)  # a duplicated response counts once
        result = vote_result(self.voters, self.votes)
        if result is VoteResult.WON:
            if self._role is Role.PRE_CANDIDATE:
                self._become_candidate()
                self._request_votes(MT.VOTE, self._term, context=0)
            else:
                self._become_leader()
        elif result is VoteResult.LOST:
            self._become_follower(self._term, None)
        return result

    # -- ticks ---------------------------------------------------------------

    def _tick_election(self) -> None:
        self.election_elapsed += 1
        if not self.promotable:
            return  # a learner, or a node outside (or removed from) the configuration
        if self.election_elapsed >= self.randomized_election_timeout:
            self.election_elapsed = 0
            self._campaign(transfer=False)

    def _tick_heartbeat(self) -> None:
        self.heartbeat_elapsed += 1
        self.election_elapsed += 1
        if self.election_elapsed >= self.config.election_timeout_min:
            self.election_elapsed = 0
            if self.config.check_quorum:
                active = sum(1 for v in self.voters if v == self.id or self.prs[v].recent_active)
                if active < majority(len(self.voters)):
                    self._become_follower(self._term, None)
                    return
                for v, pr in self.prs.items():
                    pr.recent_active = v == self.id
            self.lead_transferee = None  # a transfer that did not finish in time is abandoned
        if self.heartbeat_elapsed >= self.config.heartbeat_interval:
            self.heartbeat_elapsed = 0
            self._bcast_heartbeat()

    # -- message handling --------------------------------------------------------

    def _handle_vote_request(self, m: Message) -> None:
        resp_type = MT.VOTE_RESP if m.type is MT.VOTE else MT.PRE_VOTE_RESP
        can_vote = not self.awaiting_readd and (
            self.vote == m.src
            or (self.vote is None and self._lead is None)
            or (m.type is MT.PRE_VOTE and m.term > self._term)
        )
        if can_vote and self.log.is_up_to_date(m.index, m.log_term):
            self._send(Message(resp_type, self.id, m.src, m.term))
            if m.type is MT.VOTE:
                self.election_elapsed = 0
                self.vote = m.src
        else:
            self._send(Message(resp_type, self.id, m.src, self._term, reject=True))

    def _step_follower(self, m: Message) -> None:
        if m.type is MT.APPEND:
            self.election_elapsed = 0
            self._lead = m.src
            self._handle_append(m)
        elif m.type is MT.HEARTBEAT:
            self.election_elapsed = 0
            self._lead = m.src
            self._handle_heartbeat(m)
        elif m.type is MT.SNAP:
            self.election_elapsed = 0
            self._lead = m.src
            self._handle_snapshot(m)
        elif m.type is MT.TIMEOUT_NOW and self.promotable:
            self._campaign(transfer=True)

    def _step_candidate(self, m: Message) -> None:
        my_resp = MT.PRE_VOTE_RESP if self._role is Role.PRE_CANDIDATE else MT.VOTE_RESP
        if m.type is MT.APPEND:
            self._become_follower(m.term, m.src)
            self._handle_append(m)
        elif m.type is MT.HEARTBEAT:
            self._become_follower(m.term, m.src)
            self._handle_heartbeat(m)
        elif m.type is MT.SNAP:
            self._become_follower(m.term, m.src)
            self._handle_snapshot(m)
        elif m.type is my_resp:
            self._poll(m.src, not m.reject)

    def _step_leader(self, m: Message) -> None:
        pr = self.prs.get(m.src)
        if pr is None:
            return
        if m.type is MT.APPEND_RESP:
            pr.recent_active = True
            if m.reject:
                hint = m.reject_hint
                if m.log_term > 0:
                    hint = self.log.find_conflict_by_term(m.reject_hint, m.log_term)
                if pr.maybe_decr_to(m.index, hint):
                    self._send_append(m.src, send_if_empty=True)
                return
            was_paused = pr.is_paused()
            updated = pr.maybe_update(m.index)
            if pr.state is ProgressState.SNAPSHOT and pr.match + 1 >= self.log.first_index():
                # It installed the snapshot (or caught up another way): the
                # log continues from its match, so replicate from there.
                pr.become_probe()
                pr.become_replicate()
                updated = True
            if updated or (pr.match == m.index and pr.state is ProgressState.PROBE):
                if pr.state is ProgressState.PROBE:
                    pr.become_replicate()
                if self._maybe_commit():
                    self._bcast_pending = True
                    if m.src not in self.prs:
                        return  # a change that removed it just committed
                elif was_paused:
                    # It missed the last commit broadcast while paused.
                    self._send_append(m.src, send_if_empty=True)
            while self._send_append(m.src, send_if_empty=False):
                pass
            if m.src == self.lead_transferee and pr.match == self.log.last_index():
                self._send(Message(MT.TIMEOUT_NOW, self.id, m.src, self._term))
        elif m.type is MT.HEARTBEAT_RESP:
            pr.recent_active = True
            pr.probe_sent = False
            if m.context:
                self._ack_read(m.context, m.src)
            if pr.state is ProgressState.REPLICATE and pr.is_paused():
                pr.free_one_inflight()
            if m.index < pr.match and pr.state is ProgressState.REPLICATE and not pr.inflights:
                # Its log ends before what it acknowledged (or the answer is stale): probe at match to find
                # out. Only when no appends are in flight: those would find it out (and a heartbeat answer
                # overtaken by an append's acknowledgement must not stall a busy pipeline).
                pr.become_probe()
            if pr.state is ProgressState.SNAPSHOT:
                # The follower is alive: re-send the chunk it has not
                # acknowledged, in case it or its acknowledgement was lost.
                self._send_snapshot_chunk(m.src, pr)
            elif pr.match < self.log.last_index() or (m.index < pr.match and pr.state is ProgressState.PROBE):
                self._send_append(m.src, send_if_empty=True)
        elif m.type is MT.SNAP_RESP:
            pr.recent_active = True
            if pr.state is not ProgressState.SNAPSHOT or m.index != pr.pending_snapshot:
                return  # about a snapshot we are no longer sending
            size = len(self.log.snapshot().data)
            if m.reject or m.offset > size:
                pr.snap_offset = 0  # it dropped what it had: start over
            elif m.offset > pr.snap_offset:
                pr.snap_offset = m.offset
            else:
                return  # a duplicate or stale acknowledgement
            self._send_snapshot_chunk(m.src, pr)

    def _handle_append(self, m: Message) -> None:
        if m.index < self.log.committed:
            self._send(Message(MT.APPEND_RESP, self.id, m.src, self._term, index=self.log.committed))
            return
        last_new = self.log.maybe_append(m.index, m.log_term, m.commit, m.entries)
        if last_new is not None:
            self._send(Message(MT.APPEND_RESP, self.id, m.src, self._term, index=last_new))
            return
        # Fast backtracking: point the leader at the last entry that could match.
        hint = self.log.find_conflict_by_term(min(m.index, self.log.last_index()), m.log_term)
        self._send(
            Message(
                MT.APPEND_RESP,
                self.id,
                m.src,
                self._term,
                index=m.index,
                reject=True,
                reject_hint=hint,
                log_term=self.log.term(hint),
            )
        )

    def _handle_snapshot(self, m: Message) -> None:
        """One chunk of InstallSnapshot (figure 13 of the paper)."""
        committed = self.log.committed
        if m.index <= committed or self.log.match_term(m.index, m.log_term):
            # Not ahead of our commit index, or our log already holds its last
            # entry (which is committed, being in a snapshot): nothing to install.
            self._assembly = None
            if m.index > committed:
                self.log.commit_to(m.index)
            self._send(Message(MT.APPEND_RESP, self.id, m.src, self._term, index=self.log.committed))
            return
        key = (m.term, m.index, m.log_term)
        asm = self._assembly
        have = len(asm.data) if asm is not None and asm.key == key else -1
        if m.offset < have and m.offset + len(m.data) <= have and not m.done:
            # A chunk we hold already (re-sent, or duplicated): acknowledge again.
            self._send(Message(MT.SNAP_RESP, self.id, m.src, self._term, index=m.index, offset=have))
            return
        if m.offset == 0:
            asm = _Assembly(key, m.voters, m.learners)  # the first chunk (re)starts the assembly
        elif m.offset != have:
            # Out of order (a gap, or a chunk of another snapshot or leader):
            # drop what we have and ask for the snapshot from the start.
            self._assembly = None
            self._send(Message(MT.SNAP_RESP, self.id, m.src, self._term, index=m.index, reject=True))
            return
        assert asm is not None
        asm.data += m.data
        if not m.done:
            self._assembly = asm
            self._send(Message(MT.SNAP_RESP, self.id, m.src, self._term, index=m.index, offset=len(asm.data)))
            return
        self._assembly = None
        self.log.restore(Snapshot(SnapshotMeta(m.index, m.log_term, asm.voters, asm.learners), bytes(asm.data)))
        self._send(Message(MT.APPEND_RESP, self.id, m.src, self._term, index=self.log.last_index()))

    def _handle_heartbeat(self, m: Message) -> None:
        self.log.commit_to(min(m.commit, self.log.last_index()))
        # ``index``: our last index, so a leader notices a follower that lost entries it had acknowledged.
        self._send(
            Message(MT.HEARTBEAT_RESP, self.id, m.src, self._term, index=self.log.last_index(), context=m.context)
        )

    # -- leader replication -------------------------------------------------------

    def _append_entry(self, entry: Entry) -> int:
        last = self.log.append([entry])
        self.prs[self.id].maybe_update(last)
        self._maybe_commit()  # a single-node cluster commits at once
        self._bcast_pending = True
        return entry.index

    def _maybe_commit(self) -> bool:
        match = {v: pr.match for v, pr in self.prs.items()}
        index = committed_index(self.voters, match)
        # Figure 8: only an entry of the current term is committed by counting
        # replicas; earlier entries are committed indirectly with it.
        if index > self.log.committed and self.log.term(index) == self._term:
            old = self.log.committed
            self.log.commit_to(index)
            conf = self.pending_conf_index
            if old < conf <= index:
                # The latest change committed: stop replicating to the nodes it
                # removed, and if it removed this leader, step down once the
                # commit index has gone out (``_flush_appends``).
                self._sync_progress()
                if not self.promotable:
                    self._step_down_pending = True
                    self._bcast_pending = True
            if self._reads_waiting:
                waiting, self._reads_waiting = self._reads_waiting, []
                for context in waiting:
                    self._start_read(context)
            return True
        return False

    def _start_read(self, context: int) -> None:
        self.read_only.add(context, self.log.committed)
        self._ack_read(context, self.id)
        if self.voters != {self.id}:
            self._bcast_heartbeat()

    def _ack_read(self, context: int, voter: NodeId) -> None:
        acks = self.read_only.ack(context, voter)
        if acks is not None and len(acks & self.voters) >= majority(len(self.voters)):
            self.read_states.extend(self.read_only.release_through(context))

    def _flush_appends(self) -> None:
        """Send what proposals and commits left pending, batched per follower."""
        if self._bcast_pending and self._role is Role.LEADER:
            for peer in sorted(self.prs.keys() - {self.id}):
                sent = self._send_append(peer, send_if_empty=True)
                while sent and self._send_append(peer, send_if_empty=False):
                    pass
        self._bcast_pending = False
        if self._step_down_pending:
            self._step_down_pending = False
            if self._role is Role.LEADER and not self.promotable:
                self._step_down_removed()

    def _step_down_removed(self) -> None:
        """This leader's own removal committed: hand over and stop leading (thesis §4.2.2)."""
        last = self.log.last_index()
        ready = [v for v in sorted(self.voters) if v in self.prs and self.prs[v].match == last]
        if ready:
            self._send(Message(MT.TIMEOUT_NOW, self.id, ready[0], self._term))
        self._become_follower(self._term, None)

    def _send_append(self, to: NodeId, send_if_empty: bool) -> bool:
        pr = self.prs[to]
        if pr.is_paused():
            return False
        if pr.next < self.log.first_index():
            # The entries it needs are compacted: send the snapshot instead,
            # but only to a follower we heard from lately (as etcd does).
            if not pr.recent_active:
                return False
            pr.become_snapshot(self.log.snapshot().index)
            self._send_snapshot_chunk(to, pr)
            return True
        prev = pr.next - 1
        entries = self.log.slice(pr.next, self.log.last_index() + 1, self.config.max_entries_per_msg)
        if not entries and not send_if_empty:
            return False
        self._send(
            Message(
                MT.APPEND,
                self.id,
                to,
                self._term,
                log_term=self.log.term(prev),
                index=prev,
                commit=self.log.committed,
                entries=tuple(entries),
            )
        )
        pr.sent_entries(entries[-1].index if entries else None)
        return True

    def _send_snapshot_chunk(self, to: NodeId, pr: Progress) -> None:
        """Send the chunk of our snapshot that starts at ``pr.snap_offset``."""
        snap = self.log.snapshot()
        if snap.index != pr.pending_snapshot:
            pr.become_snapshot(snap.index)  # compacted again meanwhile: send the newer one
        lo = pr.snap_offset
        chunk = snap.data[lo : lo + self.config.snapshot_chunk_bytes]
        self._send(
            Message(
                MT.SNAP,
                self.id,
                to,
                self._term,
                log_term=snap.term,
                index=snap.index,
                commit=self.log.committed,
                offset=lo,
                done=lo + len(chunk) >= len(snap.data),
                data=bytes(chunk),
                voters=snap.meta.voters,
                learners=snap.meta.learners,
            )
        )

    def _bcast_heartbeat(self) -> None:
        context = self.read_only.last_context()
        for peer in sorted(self.prs.keys() - {self.id}):
            commit = min(self.prs[peer].match, self.log.committed)
            self._send(Message(MT.HEARTBEAT, self.id, peer, self._term, commit=commit, context=context))

    # -- membership --------------------------------------------------------------------

    def _on_log_append(self, entries: Iterable[Entry]) -> None:
        """Entries were appended (replacing any from the first one's index on):
        follow the configuration changes among them, and roll back those
        that were truncated away."""
        entries = list(entries)
        if not entries:
            return
        first = entries[0].index
        changed = False
        if self._conf_log and self._conf_log[-1][0] >= first:
            self._conf_log = [(i, m) for i, m in self._conf_log if i < first]
            changed = True
        for e in entries:
            if e.kind is EntryKind.CONF_CHANGE:
                current = self._conf_log[-1][1] if self._conf_log else self._conf_base
                try:
                    cc = ConfChange.decode(e.data)
                    new = current.apply(cc)
                except InvalidConfChange:
                    new = current  # cannot happen for a leader's entry; every node skips it alike
                else:
                    self._note_readd(cc)
                self._conf_log.append((e.index, new))
                changed = True
        if changed:
            self._set_membership(self._conf_log[-1][1] if self._conf_log else self._conf_base)

    def _note_readd(self, cc: ConfChange) -> None:
        """A joining node is released by its removal followed by its addition, in its log."""
        if cc.node != self.id or not self.awaiting_readd:
            return
        if cc.op is ConfChangeOp.REMOVE:
            self._removed_seen = True
        elif cc.op in (ConfChangeOp.ADD_LEARNER, ConfChangeOp.ADD_VOTER) and self._removed_seen:
            self.awaiting_readd = False

    def _on_log_restore(self, snap: Snapshot) -> None:
        """The log was reset to a leader's snapshot: its configuration is ours now."""
        if self.awaiting_readd and self.id in snap.meta.learners:
            self.awaiting_readd = False  # added back as a learner: the leader's snapshot says so
        if snap.meta.voters:
            self._conf_base = Membership.of(snap.meta.voters, snap.meta.learners)
        else:
            self._conf_base = self.membership_at(snap.index)
        self._conf_log = []
        self._set_membership(self._conf_base)

    def _set_membership(self, conf: Membership) -> None:
        self.voters, self.learners = conf.voters, conf.learners
        if self._role is Role.LEADER:
            self._sync_progress()
            if self.lead_transferee is not None and self.lead_transferee not in self.voters:
                self.lead_transferee = None
        elif self._role in (Role.CANDIDATE, Role.PRE_CANDIDATE) and not self.promotable:
            self._become_follower(self._term, None)

    def _replication_targets(self) -> set[NodeId]:
        """Who the leader replicates to: the members, and while the latest
        change is uncommitted the members of the configuration before it too."""
        targets = set(self.voters | self.learners)
        if self._conf_log and self._conf_log[-1][0] > self.log.committed:
            prev = self._conf_log[-2][1] if len(self._conf_log) > 1 else self._conf_base
            targets |= prev.members
        targets.add(self.id)
        return targets

    def _sync_progress(self) -> None:
        """Create progress for nodes that joined, drop it for nodes that left."""
        targets = self._replication_targets()
        for n in [n for n in self.prs if n not in targets]:
            del self.prs[n]
        for n in sorted(targets - self.prs.keys()):
            # Probe from the last entry; recently active, so that a snapshot
            # can go out at once if the log it needs is compacted.
            self.prs[n] = Progress(
                next=max(self.log.last_index(), 1), max_inflight=self.config.max_inflight_msgs, recent_active=True
            )

    # -- helpers ---------------------------------------------------------------------

    def _send(self, m: Message) -> None:
        self.msgs.append(m)

    def _soft_state(self) -> SoftState:
        return SoftState(self._lead, self._role)

    def status(self) -> dict[str, object]:
        """A snapshot of the core for logs, CLIs and tests."""
        return {
            "id": self.id,
            "role": self._role.value,
            "term": self._term,
            "vote": self.vote,
            "leader": self._lead,
            "commit": self.log.committed,
            "applied": self.log.applied,
            "first_index": self.log.first_index(),
            "last_index": self.log.last_index(),
            "voters": sorted(self.voters),
            "learners": sorted(self.learners),
            "lost_disk": self.lost_disks(),
            "awaiting_readd": self.awaiting_readd,
        }

    def lost_disks(self) -> dict[NodeId, int]:
        """Followers this leader found holding less than they acknowledged, and how often (see progress.py)."""
        if self._role is not Role.LEADER:
            return {}
        return {node: pr.lost_disk for node, pr in self.prs.items() if pr.lost_disk}
