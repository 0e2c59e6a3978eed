"""Raft's safety properties (figure 3 of the paper), checked on a live simulation.

Checks are incremental so they can run after every simulated step:

- **Election Safety**: at most one leader per term.
- **Leader Append-Only**: a leader never overwrites or deletes its entries.
- **Log Matching**: an entry with the same index and term has the same data
  and the same predecessor everywhere, hence identical prefixes.
- **Leader Completeness**: a leader holds every entry committed in earlier terms.
- **State Machine Safety**: no two nodes commit or apply different entries
  at one index.
- **Monotonic Term / Monotonic Commit**: never decrease on a node, also
  across a crash and restart.
- **Durable Acknowledgement**: a vote or an append acknowledgement leaves a
  node only after what it promises is in the node's storage.
- **Membership Follows Log**: a node's configuration is the one its own
  log says (the bootstrap or snapshot configuration, then every change
  entry in the log, uncommitted ones too): checked after every save, on
  restart, and against the configuration a snapshot records.
- **Only Voters Campaign**: a node that is not a voter of its configuration
  (a learner, a new or a removed node) is never a (pre-)candidate, and a
  newly elected leader is a voter.
- **One Change At A Time**: a leader's uncommitted configuration change of
  its own term is the only uncommitted change in its log, and it was
  appended after the leader committed an entry of its term (the rules of
  single-server changes, with Ongaro's fix).

``check_full`` re-derives Log Matching and Leader Completeness from scratch.

With log compaction a node's log starts after its snapshot. The checks
compare what is left by index, and treat a snapshot as its metadata: the
entry at the snapshot's index must be the committed entry there (checked
when a node compacts and when it installs a leader's snapshot), so every
entry at or below it is committed and, by Log Matching, the same as
everywhere else. Committed entries are recorded before a node compacts,
so none escapes the State Machine Safety check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lmteams.consensus.core.membership import ConfChange, Membership
from lmteams.consensus.core.messages import Entry, EntryKind, Message, MessageType, NodeId, Snapshot
from lmteams.consensus.core.ready import Role

if TYPE_CHECKING:
    from lmteams.consensus.testing.simulation import Simulation

PROPERTIES = (
    "Election Safety",
    "Leader Append-Only",
    "Log Matching",
    "Leader Completeness",
    "State Machine Safety",
    "Monotonic Term",
    "Monotonic Commit",
    "Durable Acknowledgement",
    "Membership Follows Log",
    "Only Voters Campaign",
    "One Change At A Time",
)


class InvariantViolation(AssertionError):
    """A Raft safety property broke. The message names the property, the
    nodes and how to reproduce the run."""

    def __init__(self, prop: str, nodes: Iterable[NodeId], detail: str, reproduce: str) -> None:
        self.property = prop
        self.nodes = tuple(sorted(set(nodes)))
        self.detail = detail
        self.reproduce = reproduce
        super().__init__(f"{prop} violated on {', '.join(self.nodes)}: {detail}. Reproduce with {reproduce}")


@dataclass(slots=True)
class _ConfModel:
    """A node's configuration as the checker derives it from what the node saved."""

    base: Membership
    changes: dict[int, tuple[int, ConfChange]]  # index -> (term, change), after the base

    def at(self, index: int | None = None) -> Membership:
        conf = self.base
        for i in sorted(self.changes):
            if index is not None and i > index:
                break
            try:
                conf = conf.apply(self.changes[i][1])
            except ValueError:
                pass  # the core skips a change that does not apply, and so do we
        return conf


@dataclass(slots=True)
class _LeaderMark:
    term: int
    last_index: int
    last_term: int


class InvariantChecker:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.counts: Counter[str] = Counter()
        self.leaders: dict[int, NodeId] = {}
        self._marks: dict[NodeId, _LeaderMark] = {}
        self._seen: dict[tuple[int, int], tuple[bytes, int, int]] = {}
        self.committed: dict[int, Entry] = {}
        self.applied: dict[int, Entry] = {}
        self._max_term: dict[NodeId, int] = {}
        self._max_commit: dict[NodeId, int] = {}
        self._checked_commit: dict[NodeId, int] = {}
        self._conf: dict[NodeId, _ConfModel] = {}

    def _fail(self, prop: str, nodes: Iterable[NodeId], detail: str) -> None:
        raise InvariantViolation(prop, nodes, f"{detail} (step {self.sim.steps})", self.sim.reproduce_hint())

    # -- hooks the simulation calls ------------------------------------------------

    def on_persist(self, node: NodeId, entries: list[Entry]) -> None:
        """After a node saved ``entries``: Log Matching on what changed, and
        Leader Append-Only for a leader's own writes."""
        if not entries:
            return
        storage = self.sim.storages[node]
        core = self.sim.cores[node]
        model = self._conf_model(node)
        first = entries[0].index
        for i in [i for i in model.changes if i >= first]:
            del model.changes[i]
        for e in entries:
            if e.kind is EntryKind.CONF_CHANGE:
                model.changes[e.index] = (e.term, ConfChange.decode(e.data))
        self._check_membership(node, "after saving entries")
        mark = self._marks.get(node)
        self.counts["Leader Append-Only"] += 1
        if (
            core.role is Role.LEADER
            and mark is not None
            and mark.term == core.term
            and entries[0].index <= mark.last_index
        ):
            self._fail(
                "Leader Append-Only",
                [node],
                f"leader of term {core.term} rewrote its log from index {entries[0].index}, it had {mark.last_index}",
            )
        self.counts["Log Matching"] += 1
        first = entries[0].index
        for e in storage.entries(first, storage.last_index() + 1):
            prev_term = storage.term(e.index - 1)
            key, value = (e.index, e.term), (e.data, int(e.kind), prev_term)
            known = self._seen.setdefault(key, value)
            if known != value:
                self._fail(
                    "Log Matching",
                    [node],
                    f"entry {e.term}/{e.index} on {node} differs from the same index and term seen elsewhere "
                    f"(data or previous term {prev_term} vs {known[2]})",
                )

    def on_send(self, node: NodeId, m: Message) -> None:
        if m.type is MessageType.APPEND_RESP and not m.reject:
            self.counts["Durable Acknowledgement"] += 1
            storage, core = self.sim.storages[node], self.sim.cores[node]
            if m.index < storage.snapshot().index:
                return  # inside the saved snapshot
            if storage.last_index() < m.index or storage.term(m.index) != core.log.term(m.index):
                self._fail(
                    "Durable Acknowledgement",
                    [node],
                    f"{node} acknowledged index {m.index} before saving it (storage last index {storage.last_index()})",
                )
        elif m.type is MessageType.VOTE_RESP and not m.reject:
            self.counts["Durable Acknowledgement"] += 1
            hs = self.sim.storages[node].initial_state()
            if hs.term != m.term or hs.vote != m.dst:
                self._fail(
                    "Durable Acknowledgement",
                    [node, m.dst],
                    f"{node} granted its term-{m.term} vote to {m.dst} before saving it (saved: {hs})",
                )

    def on_apply(self, node: NodeId, entry: Entry) -> None:
        self.counts["State Machine Safety"] += 1
        known = self.applied.setdefault(entry.index, entry)
        if known != entry:
            self._fail(
                "State Machine Safety",
                [node],
                f"{node} applied {entry} at index {entry.index}, another node applied {known}",
            )

    def on_snapshot(self, node: NodeId, snap: Snapshot) -> None:
        """After a node saved a leader's snapshot: it must stand for committed entries."""
        self._conf[node] = _ConfModel(Membership.of(snap.meta.voters, snap.meta.learners), {})
        self.counts["State Machine Safety"] += 1
        known = self.committed.get(snap.index)
        if known is None:
            self._fail(
                "State Machine Safety", [node], f"{node} installed snapshot {snap.meta} of an index no node committed"
            )
        elif known.term != snap.term:
            self._fail(
                "State Machine Safety",
                [node],
                f"{node} installed snapshot {snap.meta}, but the entry committed at {snap.index} is {known}",
            )

    def before_compact(self, node: NodeId, snap: Snapshot) -> None:
        """Before a node drops its log up to ``snap``: record what it committed,
        and check that the snapshot sits on a committed entry."""
        core = self.sim.cores[node]
        self._check_committed(node, core)
        self.counts["Membership Follows Log"] += 1
        want = self._conf_model(node).at(snap.index)
        got = Membership.of(snap.meta.voters, snap.meta.learners)
        if got != want:
            self._fail(
                "Membership Follows Log",
                [node],
                f"{node} snapshots at {snap.meta} with configuration {got}, but its log says {want} there",
            )
        self.counts["State Machine Safety"] += 1
        known = self.committed.get(snap.index)
        if snap.index > core.commit_index or known is None or known.term != snap.term:
            self._fail(
                "State Machine Safety",
                [node],
                f"{node} snapshots at {snap.meta} with commit index {core.commit_index}; "
                f"the committed entry there is {known}",
            )

    def on_restart(self, node: NodeId) -> None:
        self._marks.pop(node, None)
        self._checked_commit[node] = 0  # re-verify its committed prefix from storage
        self._conf.pop(node, None)  # re-derive its configuration from storage
        self._check_membership(node, "after a restart")

    def on_boot(self, node: NodeId) -> None:
        """A node was added to the simulation (its storage is empty)."""
        self._conf.pop(node, None)
        self._check_membership(node, "at boot")

    # -- membership ------------------------------------------------------------------

    def _conf_model(self, node: NodeId) -> _ConfModel:
        """The checker's own view of ``node``'s configuration, built from its
        storage the first time (bootstrap or snapshot, then the log)."""
        model = self._conf.get(node)
        if model is None:
            storage = self.sim.storages[node]
            snap = storage.snapshot()
            if snap.index and snap.meta.voters:
                base = Membership.of(snap.meta.voters, snap.meta.learners)
            else:
                base = Membership.of(self.sim.bootstrap)
            changes = {
                e.index: (e.term, ConfChange.decode(e.data))
                for e in storage.all_entries()
                if e.kind is EntryKind.CONF_CHANGE
            }
            model = self._conf[node] = _ConfModel(base, changes)
        return model

    def _check_membership(self, node: NodeId, when: str) -> None:
        self.counts["Membership Follows Log"] += 1
        want = self._conf_model(node).at()
        got = self.sim.cores[node].membership
        if got != want:
            self._fail(
                "Membership Follows Log", [node], f"{node} uses configuration {got} {when}, but its log says {want}"
            )

    def _check_change_rules(self, node: NodeId, core) -> None:
        self.counts["One Change At A Time"] += 1
        model = self._conf_model(node)
        pending = sorted(i for i in model.changes if i > core.commit_index)
        own = [i for i in pending if model.changes[i][0] == core.term]
        if not own:
            return
        if len(pending) > 1:
            self._fail(
                "One Change At A Time",
                [node],
                f"leader {node} of term {core.term} holds uncommitted configuration changes at {pending}",
            )
        first_of_term = next(
            (i for i in range(core.log.first_index() - 1, own[0]) if core.log.term(i) == core.term), own[0]
        )
        if core.commit_index < first_of_term:
            self._fail(
                "One Change At A Time",
                [node],
                f"leader {node} of term {core.term} appended configuration change {own[0]} before committing "
                f"an entry of its term (commit index {core.commit_index}, its first entry {first_of_term})",
            )

    # -- the per-step check ----------------------------------------------------------

    def check(self) -> None:
        for node, core in self.sim.live_cores():
            self._check_monotonic(node, core)
            self._check_committed(node, core)
            if core.role in (Role.CANDIDATE, Role.PRE_CANDIDATE):
                self.counts["Only Voters Campaign"] += 1
                if not core.promotable:
                    self._fail(
                        "Only Voters Campaign",
                        [node],
                        f"{node} campaigns in term {core.term} but is not a voter of its configuration {core.membership}",
                    )
            if core.role is Role.LEADER:
                self._check_leader(node, core)
                self._check_change_rules(node, core)

    def _check_monotonic(self, node: NodeId, core) -> None:
        self.counts["Monotonic Term"] += 1
        if core.term < self._max_term.get(node, 0):
            self._fail("Monotonic Term", [node], f"term went back from {self._max_term[node]} to {core.term}")
        self._max_term[node] = core.term
        self.counts["Monotonic Commit"] += 1
        if core.commit_index < self._max_commit.get(node, 0):
            self._fail(
                "Monotonic Commit",
                [node],
                f"commit index went back from {self._max_commit[node]} to {core.commit_index}",
            )
        self._max_commit[node] = core.commit_index

    def _check_committed(self, node: NodeId, core) -> None:
        start = self._checked_commit.get(node, 0)
        if core.commit_index <= start:
            return
        self.counts["State Machine Safety"] += 1
        fresh: list[Entry] = []
        for e in core.log.slice(max(start + 1, core.log.first_index()), core.commit_index + 1):
            known = self.committed.get(e.index)
            if known is None:
                self.committed[e.index] = e
                fresh.append(e)
            elif known != e:
                self._fail(
                    "State Machine Safety",
                    [node],
                    f"{node} committed {e} at index {e.index}, another node committed {known}",
                )
        self._checked_commit[node] = core.commit_index
        # A newly committed entry must already be in every live leader of a later term.
        for other, oc in self.sim.live_cores():
            if oc.role is Role.LEADER:
                self._leader_has(other, oc, (e for e in fresh if e.term < oc.term))

    def _check_leader(self, node: NodeId, core) -> None:
        self.counts["Election Safety"] += 1
        holder = self.leaders.setdefault(core.term, node)
        if holder != node:
            self._fail("Election Safety", [holder, node], f"{holder} and {node} were both leader of term {core.term}")
        mark = self._marks.get(node)
        if mark is None or mark.term != core.term:
            # Newly elected: it must hold everything committed so far.
            self._leader_has(node, core, (e for e in self.committed.values() if e.term < core.term))
            self.counts["Only Voters Campaign"] += 1
            if not core.promotable:
                self._fail(
                    "Only Voters Campaign",
                    [node],
                    f"{node} leads term {core.term} but is not a voter of its configuration {core.membership}",
                )
        else:
            self.counts["Leader Append-Only"] += 1
            compacted = mark.last_index < core.log.first_index() - 1  # committed, so unchanged
            if core.last_index < mark.last_index or (
                not compacted and core.log.term(mark.last_index) != mark.last_term
            ):
                self._fail(
                    "Leader Append-Only",
                    [node],
                    f"leader of term {core.term} lost or changed entry {mark.last_term}/{mark.last_index}",
                )
        self._marks[node] = _LeaderMark(core.term, core.last_index, core.log.term(core.last_index))

    def _leader_has(self, node: NodeId, core, entries: Iterable[Entry]) -> None:
        self.counts["Leader Completeness"] += 1
        snap_index = core.log.first_index() - 1
        for e in entries:
            if e.index < snap_index:
                continue  # below its snapshot, whose own entry was checked to be the committed one
            if core.log.term(e.index) != e.term:
                self._fail("Leader Completeness", [node], f"leader of term {core.term} lacks committed entry {e}")

    # -- from scratch -------------------------------------------------------------------

    def check_full(self) -> None:
        """Pairwise Log Matching over whole logs, and Leader Completeness for
        current leaders. Quadratic: for the end of a run, not every step."""
        logs: dict[NodeId, dict[int, Entry]] = {}
        for n, c in self.sim.live_cores():
            logs[n] = {e.index: e for e in c.log.slice(c.log.first_index(), c.last_index + 1)}
        names = sorted(logs)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                self.counts["Log Matching"] += 1
                la, lb = logs[a], logs[b]
                common = sorted(la.keys() & lb.keys())  # compacted prefixes differ: compare by index
                last_match = max((k for k in common if la[k].term == lb[k].term), default=None)
                if last_match is None:
                    continue
                for k in common:
                    if k > last_match:
                        break
                    if la[k] != lb[k]:
                        self._fail(
                            "Log Matching",
                            [a, b],
                            f"logs agree on entry {la[last_match]} but differ at index {k}: {la[k]} vs {lb[k]}",
                        )
        for node, core in self.sim.live_cores():
            if core.role is Role.LEADER:
                self._leader_has(node, core, (e for e in self.committed.values() if e.term < core.term))
