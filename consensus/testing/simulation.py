"""A seeded, deterministic Raft cluster simulator with fault injection.

``Simulation`` drives N ``RaftCore`` replicas over a simulated network. One
``random.Random(seed)`` decides every election timeout, drop, duplicate,
delay and reorder, so a run replays exactly from its seed and its sequence
of calls. Each replica's Ready is handled as a real node must: save to its
``MemoryStorage``, then send, then apply. ``crash`` throws away everything
not saved; ``restart`` rebuilds the replica from its storage.

Use it on your own state machine::

    from lmteams.consensus.testing import Simulation, check_linearizable, KVModel

    class Counter:
        def __init__(self): self.n = 0
        def apply(self, cmd):            # cmd is what you proposed (JSON round-tripped)
            self.n += cmd["add"]
            return self.n

    sim = Simulation(size=5, seed=7, drop=0.05, state_machine=Counter)
    sim.run(50)                          # elect a leader
    sim.propose({"add": 2})              # to the current leader; recorded in sim.history
    sim.run(20)
    sim.check()                          # raises InvariantViolation on a broken property

Invariants are checked after every step by default (``check_invariants``).
To check linearizability, record operations with a model of your machine's
sequential behaviour and call ``check_linearizable(sim.history, model)``.

Snapshots and log compaction: if the state machine has ``snapshot()`` and
``restore(data)``, each replica snapshots it and compacts its log once
``config.snapshot_threshold`` entries were applied since its last snapshot
(use a small threshold to exercise compaction, InstallSnapshot and restart
from a snapshot). A restarted replica restores its machine from the stored
snapshot before the log after it is applied. Without those methods the
simulation never compacts, and a config that sets ``snapshot_threshold``
explicitly is refused.

Membership changes: ``voters`` names the bootstrap configuration (all nodes
by default); the other nodes run from the start but stay outside the
configuration (they never campaign) until a change adds them.
``propose_conf_change("add_learner", "n4")`` (also ``add_voter``,
``promote``, ``remove``) goes to the leader like a proposal, and
``add_node(id)`` starts one more empty node outside the configuration.
Configuration changes are not client operations and stay out of
``history``; the checker follows every node's configuration through its
log (``Membership Follows Log``) and checks the rules of single-server
changes (``Only Voters Campaign``, ``One Change At A Time``).
"""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lmteams.consensus.core.config import RaftConfig
from lmteams.consensus.core.membership import ConfChange, ConfChangeOp, Membership
from lmteams.consensus.core.messages import Entry, EntryKind, Message, NodeId, Snapshot
from lmteams.consensus.core.raft import RaftCore
from lmteams.consensus.core.ready import Role
from lmteams.consensus.core.storage import MemoryStorage
from lmteams.consensus.errors import NotLeader, ProposalDropped
from lmteams.consensus.testing.history import History
from lmteams.consensus.testing.invariants import InvariantChecker
from lmteams.consensus.testing.state_machines import KVStateMachine, StateMachine


@dataclass(slots=True)
class InFlight:
    """A message on the simulated wire."""

    deliver_at: int
    seq: int
    message: Message

    def __str__(self) -> str:
        return str(self.message)


@dataclass(slots=True)
class _Proposal:
    op_id: int


class Simulation:
    """N Raft replicas, a lossy network and a client history, from one seed.

    Faults are probabilities per message: ``drop``, ``duplicate`` and
    ``reorder`` (the message is held back past later ones), plus a uniform
    extra delay of 0..``max_delay_ticks``. A message sent in step t arrives
    in step t+1 at the earliest.
    """

    def __init__(
        self,
        size: int = 3,
        *,
        seed: int = 0,
        drop: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        max_delay_ticks: int = 0,
        config: RaftConfig | None = None,
        state_machine: Callable[[], StateMachine] = KVStateMachine,
        check_invariants: bool = True,
        node_ids: list[NodeId] | None = None,
        voters: Iterable[NodeId] | None = None,
    ) -> None:
        for name, p in (("drop", drop), ("duplicate", duplicate), ("reorder", reorder)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} is a probability in [0, 1], got {p}")
        if max_delay_ticks < 0:
            raise ValueError(f"max_delay_ticks must be >= 0, got {max_delay_ticks}")
        self.ids: list[NodeId] = list(node_ids) if node_ids else [f"n{i}" for i in range(1, size + 1)]
        if len(set(self.ids)) != len(self.ids) or not self.ids:
            raise ValueError(f"node ids must be distinct and non-empty, got {self.ids}")
        self.bootstrap: list[NodeId] = list(self.ids) if voters is None else list(voters)
        if not self.bootstrap or not set(self.bootstrap) <= set(self.ids):
            raise ValueError(f"voters must be a non-empty subset of the node ids {self.ids}, got {self.bootstrap}")
        self.seed = seed
        self.drop_p, self.duplicate_p, self.reorder_p = drop, duplicate, reorder
        self.max_delay_ticks = max_delay_ticks
        self.config = config or RaftConfig()
        self.rng = random.Random(seed)
        self._state_machine = state_machine
        can_snapshot = callable(getattr(state_machine, "snapshot", None)) and callable(
            getattr(state_machine, "restore", None)
        )
        if not can_snapshot and self.config.snapshot_threshold and "snapshot_threshold" in self.config.model_fields_set:
            raise ValueError(
                f"config.snapshot_threshold={self.config.snapshot_threshold} needs a state machine with snapshot() "
                f"and restore(data); {getattr(state_machine, '__name__', state_machine)!r} has not both: add them, "
                "or leave snapshot_threshold unset (or 0) to run without log compaction"
            )
        self.snapshot_threshold = (self.config.snapshot_threshold or 0) if can_snapshot else 0
        self.snapshots_taken = 0
        self.snapshots_installed = 0
        self.check_invariants = check_invariants
        self.storages: dict[NodeId, MemoryStorage] = {n: MemoryStorage() for n in self.ids}
        self.cores: dict[NodeId, RaftCore] = {}
        self.machines: dict[NodeId, StateMachine] = {}
        self.crashed: set[NodeId] = set()
        self.groups: list[set[NodeId]] | None = None
        self.in_flight: list[InFlight] = []
        self.history = History()
        self.faults: Counter[str] = Counter()
        self.now = 0
        self.steps = 0
        self.delivered = 0
        self._seq = 0
        # index -> term -> the client operation proposed as that entry
        self._proposals: dict[int, dict[int, _Proposal]] = {}
        self._clients = 0
        self.sent_log: list[Message] | None = None  # set to [] to record every send
        self.checker = InvariantChecker(self)
        for n in self.ids:
            self._boot(n)
        self._after_event()

    # -- inspection ------------------------------------------------------------

    def live_cores(self) -> Iterator[tuple[NodeId, RaftCore]]:
        for n in self.ids:
            if n not in self.crashed:
                yield n, self.cores[n]

    def leader(self) -> NodeId | None:
        """The live leader of the highest term, or None."""
        best: tuple[int, NodeId] | None = None
        for n, core in self.live_cores():
            if core.role is Role.LEADER and (best is None or core.term > best[0]):
                best = (core.term, n)
        return best[1] if best else None

    def membership(self, node: NodeId | None = None) -> Membership:
        """``node``'s configuration; without a node, the leader's (or else the
        one in the longest log among live nodes)."""
        if node is not None:
            return self.cores[node].membership
        lead = self.leader()
        if lead is not None:
            return self.cores[lead].membership
        live = sorted(self.live_cores(), key=lambda nc: (nc[1].log.last_term(), nc[1].last_index, nc[0]))
        return live[-1][1].membership if live else Membership(frozenset(self.bootstrap))

    def reproduce_hint(self) -> str:
        voters = "" if self.bootstrap == self.ids else f", voters={self.bootstrap}"
        return (
            f"Simulation(size={len(self.ids)}, seed={self.seed}, drop={self.drop_p}, duplicate={self.duplicate_p}, "
            f"reorder={self.reorder_p}, max_delay_ticks={self.max_delay_ticks}{voters}) and the same calls"
        )

    # -- time --------------------------------------------------------------------

    def step(self) -> None:
        """One unit of time: every live node ticks, then due messages arrive."""
        self.now += 1
        for n, core in list(self.live_cores()):
            core.tick()
            self._process(n)
        due = sorted((f for f in self.in_flight if f.deliver_at <= self.now), key=lambda f: (f.deliver_at, f.seq))
        if due:
            due_ids = {id(f) for f in due}
            self.in_flight = [f for f in self.in_flight if id(f) not in due_ids]
            for f in due:
                self._deliver(f.message)
        self.steps += 1
        self._after_event()

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.step()

    def run_until(self, predicate: Callable[[], bool], max_ticks: int) -> bool:
        """Step until ``predicate()`` holds; False if ``max_ticks`` passed first."""
        for _ in range(max_ticks):
            if predicate():
                return True
            self.step()
        return predicate()

    def _is_closed(self, op: int) -> bool:
        return not self.history.is_open(op)

    def commit_one(self, value: Any, max_ticks: int, attempts: int = 5) -> bool:
        """Liveness probe: like a client, propose ``value`` to the leader and
        retry on a new leader until it is applied, within ``max_ticks`` each."""
        for _ in range(attempts):
            if not self.run_until(lambda: self.leader() is not None, max_ticks):
                return False
            op = self.propose(value)
            if op is None:
                continue
            if self.run_until(functools.partial(self._is_closed, op), max_ticks) and any(
                o.id == op and o.completed for o in self.history.operations()
            ):
                return True
        return False

    def tick(self, node: NodeId | None = None, times: int = 1) -> None:
        """Tick one node (or all live ones) without delivering anything."""
        for _ in range(times):
            for n, core in list(self.live_cores()):
                if node is None or n == node:
                    core.tick()
                    self._process(n)
            self.steps += 1
            self._after_event()

    def campaign(self, node: NodeId) -> None:
        """Make ``node`` start an election now (its election timeout fired)."""
        self._live(node).campaign()
        self._process(node)
        self._after_event()

    # -- the network -----------------------------------------------------------------

    def deliver(self, index: int = 0) -> Message | None:
        """Deliver the in-flight message at ``index`` now, whatever its delay."""
        f = self.in_flight.pop(index)
        self._deliver(f.message)
        self.steps += 1
        self._after_event()
        return f.message

    def drop_message(self, index: int = 0) -> Message:
        self.faults["dropped"] += 1
        return self.in_flight.pop(index).message

    def duplicate_message(self, index: int = 0) -> None:
        self.faults["duplicated"] += 1
        f = self.in_flight[index]
        self.in_flight.append(InFlight(f.deliver_at, self._next_seq(), f.message))

    def stabilize(self, max_deliveries: int = 100_000) -> list[Message]:
        """Deliver every in-flight message, and those they cause, in send order."""
        out: list[Message] = []
        while self.in_flight:
            if len(out) >= max_deliveries:
                raise RuntimeError(f"no quiescence after {max_deliveries} deliveries")
            self.in_flight.sort(key=lambda f: f.seq)
            m = self.deliver(0)
            if m is not None:
                out.append(m)
        return out

    def partition(self, *groups: Iterable[NodeId]) -> None:
        """Cut the links between groups; a node named in no group is isolated."""
        named = [set(g) for g in groups]
        for n in self.ids:
            if not any(n in g for g in named):
                named.append({n})
        self.groups = named
        self.faults["partitions"] += 1

    def isolate(self, node: NodeId) -> None:
        self.partition([n for n in self.ids if n != node])

    def heal(self) -> None:
        self.groups = None

    def connected(self, a: NodeId, b: NodeId) -> bool:
        if self.groups is None:
            return True
        return any(a in g and b in g for g in self.groups)

    # -- crashes -----------------------------------------------------------------

    def crash(self, node: NodeId) -> None:
        """Stop ``node``; everything it had not saved is lost."""
        self._live(node)
        self.crashed.add(node)
        self.faults["crashes"] += 1

    def restart(self, node: NodeId) -> None:
        """Bring ``node`` back from its storage, with a fresh state machine."""
        if node not in self.crashed:
            raise ValueError(f"{node} is running; crash it before restarting it")
        self.crashed.discard(node)
        self._boot(node)
        self.checker.on_restart(node)
        self.faults["restarts"] += 1
        self._process(node)
        self._after_event()

    # -- snapshots -----------------------------------------------------------------

    def compact(self, node: NodeId) -> Snapshot:
        """Snapshot ``node``'s state machine now, at its applied index, and
        compact its log behind it (as the threshold would). Returns the snapshot."""
        self._live(node)
        if not callable(getattr(self.machines[node], "snapshot", None)):
            raise ValueError(f"the state machine of {node} has no snapshot(): it cannot be compacted")
        snap = self._compact(node)
        self._after_event()
        return snap

    # -- clients -------------------------------------------------------------------

    def propose(self, value: Any, node: NodeId | None = None, client: Hashable | None = None) -> int | None:
        """Propose ``value`` (JSON-serialisable) as a client operation.

        It goes to ``node``, or to the current leader. Returns the operation
        id in ``history``, or None if that node could not take it (not the
        leader): such a call certainly had no effect and is not recorded.
        The simulator sees every replica, so the operation completes as soon
        as any replica applies its entry (that is when a leader could have
        answered), and is dropped as certainly void once a different entry is
        applied at its index. Only an entry whose index never commits leaves
        its operation indeterminate.
        """
        target = node or self.leader()
        if target is None or target in self.crashed:
            return None
        if client is None:
            self._clients += 1
            client = f"c{self._clients}"
        data = json.dumps(value, separators=(",", ":")).encode()
        try:
            index = self.cores[target].propose(data)
        except (NotLeader, ProposalDropped):
            return None
        op_id = self.history.invoke(client, _freeze(value))
        self._proposals.setdefault(index, {})[self.cores[target].term] = _Proposal(op_id)
        self._process(target)
        self._after_event()
        return op_id

    # -- membership ---------------------------------------------------------------

    def propose_conf_change(self, op: str | ConfChangeOp, target: NodeId, node: NodeId | None = None) -> int | None:
        """Propose the single-server change ``op`` of ``target`` to ``node``
        (or the leader). Returns the entry's index, or None if that node is
        not the leader. A refused change raises ``ConfChangeRejected``
        (``ConfChangeTooEarly``, ``ConfChangeInProgress``, ``InvalidConfChange``)."""
        cc = ConfChange.parse(op, target)
        at = node or self.leader()
        if at is None or at in self.crashed:
            return None
        try:
            index = self.cores[at].propose_conf_change(cc)
        except (NotLeader, ProposalDropped):
            return None
        self._process(at)
        self._after_event()
        return index

    def add_node(self, node: NodeId) -> None:
        """Start one more node, with empty storage, outside the configuration
        (add it with ``propose_conf_change``). It is cut off while a partition
        that does not name it is in force."""
        if not isinstance(node, str) or not node or node in self.cores:
            raise ValueError(f"node ids must be new non-empty strings, got {node!r} (nodes are {self.ids})")
        self.ids.append(node)
        self.storages[node] = MemoryStorage()
        self._boot(node)
        self.checker.on_boot(node)
        self._after_event()

    # -- internals ---------------------------------------------------------------------

    def _boot(self, node: NodeId) -> None:
        storage = self.storages[node]
        self.cores[node] = RaftCore(
            node, self.bootstrap, storage, self.config, rng=random.Random(self.rng.getrandbits(64))
        )
        machine = self._state_machine()
        snap = storage.snapshot()
        if not snap.is_empty():
            machine.restore(snap.data)  # type: ignore[attr-defined]  # a stored snapshot means the machine has restore()
        self.machines[node] = machine

    def _live(self, node: NodeId) -> RaftCore:
        if node not in self.cores:
            raise ValueError(f"unknown node {node!r}; nodes are {self.ids}")
        if node in self.crashed:
            raise ValueError(f"{node} is crashed; restart it first")
        return self.cores[node]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _deliver(self, m: Message) -> None:
        self.delivered += 1
        if m.dst in self.crashed or not self.connected(m.src, m.dst):
            self.faults["lost to partition or crash"] += 1
            return
        self.cores[m.dst].step(m)
        self._process(m.dst)

    def _send(self, m: Message) -> None:
        if self.sent_log is not None:
            self.sent_log.append(m)
        r = self.rng
        if self.drop_p and r.random() < self.drop_p:
            self.faults["dropped"] += 1
            return
        copies = 1
        if self.duplicate_p and r.random() < self.duplicate_p:
            self.faults["duplicated"] += 1
            copies = 2
        for _ in range(copies):
            at = self.now + 1 + (r.randint(0, self.max_delay_ticks) if self.max_delay_ticks else 0)
            if self.reorder_p and r.random() < self.reorder_p:
                self.faults["reordered"] += 1
                at += r.randint(1, 3 + self.max_delay_ticks)
            self.in_flight.append(InFlight(at, self._next_seq(), m))

    def _process(self, node: NodeId) -> None:
        """Handle the node's Ready the way a real node must: save, send, apply."""
        core, storage = self.cores[node], self.storages[node]
        while core.has_ready():
            rd = core.ready()
            storage.save(rd.hard_state, rd.entries, rd.snapshot)
            if self.check_invariants:
                if rd.snapshot is not None:
                    self.checker.on_snapshot(node, rd.snapshot)
                self.checker.on_persist(node, rd.entries)
            for m in rd.messages:
                if self.check_invariants:
                    self.checker.on_send(node, m)
                self._send(m)
            if rd.snapshot is not None:
                self.machines[node].restore(rd.snapshot.data)  # type: ignore[attr-defined]  # snapshots are on: it has restore()
                self.snapshots_installed += 1
            for e in rd.committed_entries:
                self._apply(node, e)
            core.advance()
            self._maybe_compact(node)

    def _maybe_compact(self, node: NodeId) -> None:
        """Snapshot the node's machine and compact its log past the threshold."""
        applied = self.cores[node].applied_index
        if self.snapshot_threshold and applied - self.storages[node].snapshot().index >= self.snapshot_threshold:
            self._compact(node)

    def _compact(self, node: NodeId) -> Snapshot:
        core, storage = self.cores[node], self.storages[node]
        snap: Snapshot = core.compact(core.applied_index, self.machines[node].snapshot())  # type: ignore[attr-defined]  # callers checked it has snapshot()
        if self.check_invariants:
            self.checker.before_compact(node, snap)
        storage.save_snapshot(snap)
        self.snapshots_taken += 1
        return snap

    def _apply(self, node: NodeId, e: Entry) -> None:
        if self.check_invariants:
            self.checker.on_apply(node, e)
        result = None
        if e.kind is EntryKind.NORMAL:
            result = self.machines[node].apply(json.loads(e.data))
        for term, p in self._proposals.pop(e.index, {}).items():
            if term == e.term:
                self.history.complete(p.op_id, result)
            else:
                # Another entry was committed at this index: this one never will be.
                self.history.fail(p.op_id)

    def _after_event(self) -> None:
        if self.check_invariants:
            self.checker.check()

    def check(self) -> None:
        """Check every invariant now, including the quadratic full checks."""
        self.checker.check()
        self.checker.check_full()


def _freeze(value: Any) -> Any:
    """Lists become tuples so that history inputs are hashable."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value
