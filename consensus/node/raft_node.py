"""RaftNode: the async shell around ``RaftCore`` (etcd's node.go to rawnode.go).

Three tasks in one task group: a ticker, a receiver that decodes messages
from the transport, and a driver that owns the core. Only the driver calls
into the core; everything else sends it events. The driver drains every
event that is waiting before it processes one Ready, so many concurrent
proposals become one save and one AppendEntries per follower. Each Ready is
handled in the core's order: persist, then send, then apply; except that a
leader whose save runs in a worker thread sends its AppendEntries and
heartbeats while that save runs (Raft thesis §10.2.1). That is safe
because the driver handles no event, so no follower's answer and no
commit, until the save has returned.

Snapshots: on start the state machine is restored from the storage's
snapshot (if any) before the log after it is applied. Once
``config.snapshot_threshold`` entries were applied since the last snapshot,
the driver takes ``state_machine.snapshot()``, has the core describe it
(``core.compact``) and stores it with ``storage.save_snapshot`` (off the
event loop for a blocking storage), which compacts the log. A snapshot
installed from the leader arrives in a Ready: it is saved with that Ready
and the state machine is restored from it before later entries apply.

Membership: ``add_learner``, ``promote``, ``remove`` and ``add_voter``
(learner, catch-up, promote) propose single-server configuration changes
on the leader and return the configuration once the change is committed
and applied here (``NotLeader`` elsewhere; ``ConfChangeRejected`` with the
reason when the leader refuses). The transport must be able to reach a
node before it is added: ``LocalCluster.add_node`` creates its memory
endpoint, or publishes its TCP address with ``set_peer``, first.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog

from lmteams.consensus.core.config import RaftConfig
from lmteams.consensus.core.membership import ConfChange, ConfChangeOp, Membership
from lmteams.consensus.core.messages import Entry, EntryKind, Message, MessageType, NodeId, Snapshot
from lmteams.consensus.core.raft import RaftCore
from lmteams.consensus.core.read_only import ReadState
from lmteams.consensus.core.ready import Ready, Role, SoftState
from lmteams.consensus.core.storage import Storage
from lmteams.consensus.errors import (
    ConfChangeRejected,
    ConsensusError,
    DecodeError,
    NotLeader,
    ProposalDropped,
    ProposalOutcomeUnknown,
)
from lmteams.consensus.node import entry_data
from lmteams.consensus.node.codec import decode, encode
from lmteams.consensus.node.state_machine import ReplicatedStateMachine
from lmteams.transports import AsyncLifetime, Transport, TransportError

log = structlog.get_logger(__name__)

# A batch entry holds at most this many bytes of commands (a single larger command goes alone).
_MAX_BATCH_BYTES = 1024 * 1024
# A leader's messages that may be sent while its own save of the same Ready runs.
_EARLY_TYPES = frozenset({MessageType.APPEND, MessageType.HEARTBEAT})


class NodeStopped(ConsensusError):
    """The node was shut down before the operation finished; its outcome is unknown."""


class TransferFailed(ConsensusError):
    """Leadership did not move to the requested node in time."""


class CatchUpTimeout(ConsensusError):
    """A learner did not catch up with the leader in time, so it was not promoted.

    It stays a learner: call ``add_voter`` again to retry, or ``remove`` it.
    """


@dataclass(slots=True)
class _Pending:
    """One caller waiting for the driver: a proposal, a read or a transfer."""

    event: anyio.Event = field(default_factory=anyio.Event)
    result: Any = None
    error: BaseException | None = None
    index: int = 0
    term: int = 0
    query: Any = None
    timeout: float = 0.0
    deadline: float = 0.0  # time.monotonic(); 0: none

    def resolve(self, result: Any) -> None:
        if not self.event.is_set():
            self.result = result
            self.event.set()

    def fail(self, error: BaseException) -> None:
        if not self.event.is_set():
            self.error = error
            self.event.set()

    async def wait(self) -> Any:
        await self.event.wait()
        if self.error is not None:
            raise self.error
        return self.result


@dataclass(slots=True)
class _Propose:
    data: bytes
    pending: _Pending


@dataclass(slots=True)
class _ConfChange:
    change: ConfChange
    pending: _Pending


@dataclass(slots=True)
class _Read:
    pending: _Pending


@dataclass(slots=True)
class _Transfer:
    to: NodeId


class _Signal:
    """A driver event that carries nothing: a tick, or a campaign request."""


_TICK = _Signal()
_CAMPAIGN = _Signal()


class RaftNode(AsyncLifetime):
    """One Raft replica running over a transport.

    ``async with RaftNode(...) as node:`` starts it; leaving the block stops
    it and fails whatever is still waiting with ``NodeStopped``.
    """

    def __init__(
        self,
        node_id: NodeId,
        peers: Iterable[NodeId],
        transport: Transport,
        storage: Storage,
        state_machine: ReplicatedStateMachine,
        config: RaftConfig | None = None,
        tick_interval: float = 0.01,
        *,
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
        inbox_size: int = 8192,
        learners: Iterable[NodeId] = (),
        joining: bool = False,
        on_readded: Callable[[], None] | None = None,
    ) -> None:
        if tick_interval <= 0:
            raise ValueError(f"tick_interval must be positive seconds, got {tick_interval}")
        self.id = node_id
        self.config = config or RaftConfig()
        self.tick_interval = tick_interval
        self.transport = transport
        self.storage = storage
        self.state_machine = state_machine
        self._clock = clock
        # ``peers`` (and ``learners``) are the bootstrap configuration; every
        # node of a cluster, including one added later, is given the same.
        self._core = RaftCore(
            node_id, peers, storage, self.config, random.Random(seed), learners=learners, joining=joining
        )
        self._on_readded = on_readded if joining else None
        snap = storage.snapshot()
        if not snap.is_empty():
            # Restart = snapshot + log suffix: the core hands out entries after it.
            state_machine.restore(snap.data)
        self._snapshot_index = snap.index
        self._events_tx, self._events_rx = anyio.create_memory_object_stream[object](inbox_size)
        # index -> the callers waiting on that entry, one per command it holds.
        self._proposals: dict[int, list[_Pending]] = {}
        self._waiting: list[_Propose] = []
        self._reads: dict[int, _Pending] = {}
        self._ready_reads: list[_Pending] = []
        self._contexts = itertools.count(1)
        self._applied = self._core.applied_index
        hs = storage.initial_state()
        self._durable_term_vote = (hs.term, hs.vote)
        self._lost_disk_seen: dict[NodeId, int] = {}
        self._leader_changed = anyio.Event()
        self._running = False
        self.log = log.bind(node=node_id)

    # -- lifecycle -----------------------------------------------------------

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as tg:
                self._running = True
                tg.start_soon(self._drive)
                tg.start_soon(self._receive)
                tg.start_soon(self._tick)
                try:
                    yield
                finally:
                    self._running = False
                    tg.cancel_scope.cancel()
        finally:
            self._fail_all(NodeStopped(f"node {self.id!r} stopped; the outcome of this operation is unknown"))

    # -- public API ------------------------------------------------------------

    @property
    def role(self) -> Role:
        return self._core.role

    @property
    def is_leader(self) -> bool:
        return self._core.role is Role.LEADER

    @property
    def leader_id(self) -> NodeId | None:
        return self._core.leader_id

    @property
    def term(self) -> int:
        return self._core.term

    @property
    def commit_index(self) -> int:
        return self._core.commit_index

    @property
    def applied_index(self) -> int:
        return self._applied

    @property
    def snapshot_index(self) -> int:
        """The last index covered by this node's stored snapshot (0 if none)."""
        return self._snapshot_index

    @property
    def membership(self) -> Membership:
        """This node's configuration: the latest in its log, committed or not."""
        return self._core.membership

    @property
    def conf_change_pending(self) -> bool:
        """Whether the latest configuration change in this node's log is not yet known committed."""
        return self._core.pending_conf_index > self._core.commit_index

    @property
    def awaiting_readd(self) -> bool:
        """Joined with an empty disk and not yet removed and added back: this node does not vote."""
        return self._core.awaiting_readd

    def lost_disks(self) -> dict[NodeId, int]:
        """On a leader: followers found holding less than they acknowledged (a lost disk), and how often."""
        return self._core.lost_disks()

    def status(self) -> dict[str, object]:
        proposals = sum(len(waiters) for waiters in self._proposals.values())
        return {**self._core.status(), "pending_proposals": proposals, "pending_reads": len(self._reads)}

    async def propose(self, data: bytes, timeout: float | None = None) -> Any:
        """Replicate ``data``; return the state machine's result once the
        entry is committed and applied here.

        Raises ``NotLeader(leader_hint)`` on a follower, ``ProposalDropped``
        if a new leader overwrote the entry (it never took effect), and
        ``NodeStopped`` if the node stops first. Cancelling the call stops
        the wait, not the entry: it may still commit. So does ``timeout``:
        after that many seconds (checked at each tick, so up to one tick
        later) the call raises ``TimeoutError``, more cheaply than a cancel scope.
        """
        self._check_running()
        if not self.is_leader:
            raise NotLeader(self.id, self.leader_id)
        pending = self._pending(timeout)
        await self._post(_Propose(bytes(data), pending))
        return await pending.wait()

    async def propose_conf_change(self, op: str | ConfChangeOp, node_id: NodeId) -> Membership:
        """Propose one single-server change (``add_voter``, ``add_learner``,
        ``promote``, ``remove``) of ``node_id``; return the configuration
        once the change is committed and applied here.

        Raises ``NotLeader`` on a follower, ``ConfChangeTooEarly`` while a new
        leader has not committed an entry of its term, ``ConfChangeInProgress``
        while another change is uncommitted, ``InvalidConfChange`` for a change
        that does not apply, ``ProposalDropped`` if the entry was overwritten
        (it never took effect) and ``NodeStopped`` if the node stops first.
        """
        self._check_running()
        change = ConfChange.parse(op, node_id)
        if not self.is_leader:
            raise NotLeader(self.id, self.leader_id)
        pending = _Pending()
        await self._events_tx.send(_ConfChange(change, pending))
        result: Membership = await pending.wait()
        return result

    async def add_learner(self, node_id: NodeId) -> Membership:
        """Add ``node_id`` as a learner: it receives the log but does not vote."""
        return await self.propose_conf_change(ConfChangeOp.ADD_LEARNER, node_id)

    async def promote(self, node_id: NodeId) -> Membership:
        """Make the learner ``node_id`` a voter."""
        return await self.propose_conf_change(ConfChangeOp.PROMOTE, node_id)

    async def remove(self, node_id: NodeId) -> Membership:
        """Remove the voter or learner ``node_id`` (this leader included: it
        steps down once the removal commits). The last voter cannot be removed."""
        return await self.propose_conf_change(ConfChangeOp.REMOVE, node_id)

    async def add_voter(self, node_id: NodeId, timeout: float | None = None) -> Membership:
        """Add ``node_id`` as a voter safely: as a learner first, then, once
        its log has caught up with this leader's, promote it (thesis §4.2.1:
        a new voter with an empty log would stall commits meanwhile).

        Raises ``CatchUpTimeout`` if it has not caught up within ``timeout``
        seconds (default: 100 election timeouts); it then stays a learner.
        """
        self._check_running()
        if not self.is_leader:
            raise NotLeader(self.id, self.leader_id)
        limit = timeout if timeout is not None else 100 * self.config.election_timeout_max * self.tick_interval
        conf = self.membership
        if node_id in conf.voters:
            return conf
        if node_id not in conf.members:
            await self.add_learner(node_id)
        target = self._core.last_index
        caught_up = False
        with anyio.move_on_after(limit):
            while not caught_up:
                if not self.is_leader:
                    raise NotLeader(self.id, self.leader_id)
                pr = self._core.progress(node_id)
                caught_up = pr is not None and pr.match >= target
                if not caught_up:
                    await anyio.sleep(self.tick_interval)
        if caught_up:
            return await self.promote(node_id)
        pr = self._core.progress(node_id)
        raise CatchUpTimeout(
            f"learner {node_id!r} did not catch up within {limit:.3f}s (it has entries up to "
            f"{pr.match if pr else '?'}, the leader up to {self._core.last_index}); it stays a learner: "
            "check that it is running and reachable, then call add_voter again, or remove it"
        )

    async def read(self, query: Any, timeout: float | None = None) -> Any:
        """A linearizable read (ReadIndex): the leader confirms with a
        heartbeat round that it still leads, waits until it has applied the
        commit index it noted, then answers ``state_machine.query(query)``.
        ``timeout`` as for ``propose``."""
        self._check_running()
        if not self.is_leader:
            raise NotLeader(self.id, self.leader_id)
        pending = self._pending(timeout)
        pending.query = query
        await self._post(_Read(pending))
        return await pending.wait()

    async def transfer_leadership(self, to: NodeId, timeout: float | None = None) -> None:
        """Hand leadership to ``to`` and wait until it leads."""
        self._check_running()
        if not self.is_leader:
            raise NotLeader(self.id, self.leader_id)
        limit = timeout if timeout is not None else 2 * self.config.election_timeout_max * self.tick_interval
        await self._events_tx.send(_Transfer(to))
        with anyio.move_on_after(limit):
            while self.leader_id != to:
                await self.wait_leader_change()
            return
        raise TransferFailed(f"leadership did not move from {self.id!r} to {to!r} within {limit:.3f}s")

    async def campaign(self) -> None:
        """Start an election on this node now."""
        self._check_running()
        await self._events_tx.send(_CAMPAIGN)

    async def wait_leader_change(self) -> None:
        await self._leader_changed.wait()

    # -- tasks -------------------------------------------------------------------

    @staticmethod
    def _pending(timeout: float | None) -> _Pending:
        """A new waiter; with a ``timeout``, the ticker fails it with ``TimeoutError`` once due.

        (A cancel scope with a deadline per call cost more than the rest of an in-process
        commit; the ticker's sweep costs one comparison per waiting call and tick.)"""
        pending = _Pending()
        if timeout is not None:
            if timeout <= 0:
                raise TimeoutError(f"no time left for this call (timeout {timeout})")
            pending.timeout = timeout
            pending.deadline = time.monotonic() + timeout
        return pending

    def _expire_due(self) -> None:
        now = time.monotonic()
        waiting = itertools.chain(
            itertools.chain.from_iterable(self._proposals.values()), self._reads.values(), self._ready_reads
        )
        for pending in waiting:
            if pending.deadline and pending.deadline <= now and not pending.event.is_set():
                pending.fail(
                    TimeoutError(
                        f"node {self.id!r} gave no answer within {pending.timeout:.3f}s (a proposal may "
                        "still take effect: retrying it with the same (client_id, seq) is safe)"
                    )
                )

    async def _tick(self) -> None:
        while True:
            await anyio.sleep(self.tick_interval)
            try:
                self._events_tx.send_nowait(_TICK)
            except anyio.WouldBlock:
                pass  # the driver is busy; a late tick only stretches timeouts
            self._expire_due()

    async def _receive(self) -> None:
        async for peer, data in self.transport:
            try:
                msg = decode(data)
            except DecodeError as exc:
                self.log.warning("raft.bad_message", peer=peer, error=str(exc))
                continue
            if msg.src != peer or msg.dst != self.id:
                self.log.warning("raft.misaddressed_message", peer=peer, src=msg.src, dst=msg.dst)
                continue
            await self._post(msg)

    async def _post(self, event: object) -> None:
        """Queue ``event`` for the driver; only a full queue costs a trip through the event loop."""
        try:
            self._events_tx.send_nowait(event)
        except anyio.WouldBlock:
            await self._events_tx.send(event)

    async def _drive(self) -> None:
        rx = self._events_rx
        while True:
            try:
                # ``receive()`` yields to the loop even when an event waits; the
                # other tasks run whenever the queue is empty.
                event = rx.receive_nowait()
            except anyio.WouldBlock:
                event = await rx.receive()
            self._handle(event)
            while True:
                try:
                    event = rx.receive_nowait()
                except anyio.WouldBlock:
                    break
                self._handle(event)
            self._propose_waiting()
            await self._process_ready()

    # -- the driver's work -----------------------------------------------------------

    def _handle(self, event: object) -> None:
        core = self._core
        if event is _TICK:
            core.tick()
        elif isinstance(event, Message):
            core.step(event)
        elif isinstance(event, _Propose):
            self._waiting.append(event)  # proposed together once the queue is drained
        elif isinstance(event, _ConfChange):
            self._propose_waiting()  # keep the order the calls arrived in
            try:
                index = core.propose_conf_change(event.change)
            except (NotLeader, ProposalDropped, ConfChangeRejected) as exc:
                event.pending.fail(exc)
                return
            event.pending.index, event.pending.term = index, core.term
            self._proposals[index] = [event.pending]
            self.log.info("raft.conf_change_proposed", change=str(event.change), index=index)
        elif isinstance(event, _Read):
            context = next(self._contexts)
            try:
                core.read_index(context)
            except NotLeader as exc:
                event.pending.fail(exc)
                return
            self._reads[context] = event.pending
        elif isinstance(event, _Transfer):
            try:
                core.transfer_leadership(event.to)
            except (NotLeader, ValueError) as exc:
                self.log.warning("raft.transfer_refused", to=event.to, error=str(exc))
        elif event is _CAMPAIGN:
            core.campaign()

    def _propose_waiting(self) -> None:
        """Append the proposals taken since the last call: each group of up to
        ``config.max_commands_per_entry`` commands (and 1 MiB) becomes one entry."""
        waiting = self._waiting
        if not waiting:
            return
        self._waiting = []
        limit = self.config.max_commands_per_entry
        stamp = self._clock()
        group: list[_Propose] = []
        size = 0
        for event in waiting:
            if group and (len(group) >= limit or size + len(event.data) > _MAX_BATCH_BYTES):
                self._propose_group(stamp, group)
                group, size = [], 0
            group.append(event)
            size += len(event.data)
        self._propose_group(stamp, group)

    def _propose_group(self, stamp: float, group: list[_Propose]) -> None:
        kind, data = entry_data.pack(stamp, [event.data for event in group])
        pendings = [event.pending for event in group]
        try:
            index = self._core.propose(data, kind)
        except (NotLeader, ProposalDropped) as exc:
            for pending in pendings:
                pending.fail(exc)
            return
        term = self._core.term
        for pending in pendings:
            pending.index, pending.term = index, term
        self._proposals[index] = pendings

    async def _process_ready(self) -> None:
        core = self._core
        while core.has_ready():
            rd = core.ready()
            to_send = rd.messages
            if rd.hard_state is not None or rd.entries or rd.snapshot is not None:
                if self._may_send_before_persist(rd):
                    # Raft thesis §10.2.1: the leader writes its own entries in
                    # parallel with replicating them. It counts itself toward a
                    # commit only when it handles a follower's answer, and the
                    # driver handles no event before this save has returned.
                    for m in rd.messages:
                        await self._send(m)
                    await self._persist(rd)
                    to_send = []
                else:
                    await self._persist(rd)
            for m in to_send:
                await self._send(m)
            if rd.snapshot is not None:
                self._install(rd.snapshot)
            for entry in rd.committed_entries:
                self._apply(entry)
            if rd.soft_state is not None:
                self._on_soft_state(rd.soft_state)
            for rs in rd.read_states:
                self._on_read_state(rs)
            if core.role is Role.LEADER:
                self._report_lost_disks()
            elif self._on_readded is not None and not core.awaiting_readd:
                self.log.warning("raft.readded", detail="removed and added back: this node may vote again")
                callback, self._on_readded = self._on_readded, None
                callback()
            core.advance()
            self._serve_reads()
            await self._maybe_snapshot()

    def _may_send_before_persist(self, rd: Ready) -> bool:
        """Whether this Ready's messages may go out while its save runs.

        Only a leader's AppendEntries and heartbeats, only when the save
        runs in a worker thread (otherwise nothing overlaps), only without
        a snapshot, and only when the term and vote the messages carry are
        already durable. Votes, vote answers and a follower's append answers
        always wait for the save."""
        if self._core.role is not Role.LEADER or rd.snapshot is not None or not rd.messages:
            return False
        if not self.storage.blocking_io:
            return False
        hs = rd.hard_state
        if hs is not None and (hs.term, hs.vote) != self._durable_term_vote:
            return False
        return all(m.type in _EARLY_TYPES and m.term == self._durable_term_vote[0] for m in rd.messages)

    def _report_lost_disks(self) -> None:
        """Log once per occurrence a follower found holding less than it acknowledged (see core/progress.py)."""
        lost = self._core.lost_disks()
        if lost == self._lost_disk_seen:
            return
        for node, times in lost.items():
            if times > self._lost_disk_seen.get(node, 0):
                pr = self._core.progress(node)
                self.log.warning(
                    "raft.follower_lost_entries",
                    follower=node,
                    times=times,
                    now_at=pr.match if pr else None,
                    detail="the follower's log ends before entries it acknowledged (a lost or wiped disk); "
                    "resending from there. Remove it and add it back: README, 'Operations: a damaged node'",
                )
        self._lost_disk_seen = lost

    async def _persist(self, rd: Ready) -> None:
        if self.storage.blocking_io:
            # Disk writes and fsync run off the event loop; events queue up
            # meanwhile and the next Ready batches them (group commit).
            await anyio.to_thread.run_sync(self.storage.save, rd.hard_state, rd.entries, rd.snapshot)
        else:
            self.storage.save(rd.hard_state, rd.entries, rd.snapshot)
        if rd.hard_state is not None:
            self._durable_term_vote = (rd.hard_state.term, rd.hard_state.vote)

    def _install(self, snap: Snapshot) -> None:
        """Restore the state machine from a leader's snapshot (already saved)."""
        self.state_machine.restore(snap.data)
        self._applied = self._snapshot_index = snap.index
        self.log.info("raft.snapshot_installed", index=snap.index, term=snap.term, bytes=len(snap.data))
        # Whose entries the snapshot holds at these indexes it does not say.
        covered = [i for i in self._proposals if i <= snap.index]
        for i in covered:
            error = ProposalOutcomeUnknown(
                f"entry {i} is covered by a snapshot from the leader; it may or may not have taken effect,"
                " retry with the same (client_id, seq)"
            )
            for pending in self._proposals.pop(i):
                pending.fail(error)

    async def _maybe_snapshot(self) -> None:
        """Snapshot the state machine and compact the log past the threshold."""
        threshold = self.config.snapshot_threshold
        applied = self._core.applied_index
        if not threshold or applied - self._snapshot_index < threshold:
            return
        snap = self._core.compact(applied, self.state_machine.snapshot())
        if self.storage.blocking_io:
            await anyio.to_thread.run_sync(self.storage.save_snapshot, snap)
        else:
            self.storage.save_snapshot(snap)
        self._snapshot_index = snap.index
        self.log.info("raft.snapshot_taken", index=snap.index, term=snap.term, bytes=len(snap.data))

    async def _send(self, m: Message) -> None:
        try:
            await self.transport.send(m.dst, encode(m))
        except TransportError as exc:
            # At-most-once delivery: Raft retries by itself.
            self.log.debug("raft.send_failed", to=m.dst, error=str(exc))

    def _apply(self, entry: Entry) -> None:
        # One (result, error) per command of the entry, in order.
        outcomes: list[tuple[Any, BaseException | None]] = []
        if entry.kind is EntryKind.NORMAL or entry.kind is EntryKind.BATCH:
            try:
                stamp, commands = entry_data.unpack(entry)
            except DecodeError as exc:
                self.log.error("raft.bad_entry", index=entry.index, error=str(exc))
                outcomes = [(None, exc)]
            else:
                apply = self.state_machine.apply
                for command in commands:
                    try:
                        outcomes.append((apply(command, stamp), None))
                    except Exception as exc:  # noqa: BLE001 - one bad command must not stop the node
                        self.log.error("raft.apply_failed", index=entry.index, error=repr(exc))
                        outcomes.append((None, exc))
        elif entry.kind is EntryKind.CONF_CHANGE:
            conf = self._core.membership_at(entry.index)
            self.log.info(
                "raft.membership_changed", index=entry.index, voters=sorted(conf.voters), learners=sorted(conf.learners)
            )
            outcomes = [(conf, None)]
        self._applied = entry.index
        pendings = self._proposals.pop(entry.index, None)
        if pendings is None:
            return
        if pendings[0].term != entry.term:
            dropped = ProposalDropped(
                f"entry {entry.index} was replaced by a newer leader's; it never took effect, retry"
            )
            for pending in pendings:
                pending.fail(dropped)
            return
        if len(outcomes) != len(pendings):  # our own entry, but unreadable: every caller learns why
            error = outcomes[0][1] if outcomes else DecodeError(f"entry {entry.index} holds no command")
            outcomes = [(None, error)] * len(pendings)
        for pending, (result, error) in zip(pendings, outcomes):
            if error is not None:
                pending.fail(error)
            else:
                pending.resolve(result)

    def _on_soft_state(self, soft: SoftState) -> None:
        self.log.info("raft.role_changed", role=soft.role.value, leader=soft.leader_id, term=self._core.term)
        if soft.role is not Role.LEADER and self._reads:
            err = NotLeader(self.id, soft.leader_id)
            for pending in self._reads.values():
                pending.fail(err)
            self._reads.clear()
        self._leader_changed.set()
        self._leader_changed = anyio.Event()

    def _on_read_state(self, rs: ReadState) -> None:
        pending = self._reads.pop(rs.context, None)
        if pending is not None:
            pending.index = rs.index
            self._ready_reads.append(pending)

    def _serve_reads(self) -> None:
        if not self._ready_reads:
            return
        waiting: list[_Pending] = []
        for pending in self._ready_reads:
            if pending.index > self._applied:
                waiting.append(pending)
                continue
            try:
                pending.resolve(self.state_machine.query(pending.query))
            except Exception as exc:  # noqa: BLE001 - a bad query fails only its caller
                pending.fail(exc)
        self._ready_reads = waiting

    def _fail_all(self, error: BaseException) -> None:
        # Calls whose event the driver never took (it stopped first) wait on it too: no ticker is left to time them out.
        queued: list[_Pending] = []
        while True:
            try:
                event = self._events_rx.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                break
            if isinstance(event, (_Propose, _ConfChange, _Read)):
                queued.append(event.pending)
        waiting = [*queued, *(event.pending for event in self._waiting)]
        proposed = [pending for pendings in self._proposals.values() for pending in pendings]
        for pending in [*waiting, *proposed, *self._reads.values(), *self._ready_reads]:
            pending.fail(error)
        self._waiting.clear()
        self._proposals.clear()
        self._reads.clear()
        self._ready_reads.clear()

    def _check_running(self) -> None:
        if not self._running:
            raise NodeStopped(f"node {self.id!r} is not running; use it inside 'async with'")
