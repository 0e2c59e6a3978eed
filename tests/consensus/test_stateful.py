"""Hypothesis drives a simulated cluster through any interleaving of ticks,
deliveries, drops, duplicates, partitions, crashes, restarts and proposals.

Every Raft safety invariant is checked after every step (by the
simulation's checker) and again from scratch by ``@invariant``. Logs are
compacted at random points (and by a threshold in some runs), so
snapshots are installed, chunk by chunk, under the same faults. One node
starts outside the configuration, and configuration changes (add a voter
or a learner, promote, remove; to the leader or to any node) are among the
rules, so membership changes under the same faults too (with five nodes,
removed nodes come back as learners, with their old logs). At the end of each
run the client history must be linearizable, and once the network heals a
leader must be elected and commit.
"""

from __future__ import annotations

import random

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from lmteams.consensus import ConfChangeRejected, RaftConfig
from lmteams.consensus.testing import Simulation
from lmteams.consensus.testing.linearizability import check_linearizable
from lmteams.consensus.testing.models import KVModel
from lmteams.consensus.testing.nemesis import random_membership_change

KEYS = ("x", "y")
ops = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(KEYS), st.integers(0, 3)),
    st.tuples(st.just("get"), st.sampled_from(KEYS)),
    st.tuples(st.just("cas"), st.sampled_from(KEYS), st.integers(0, 3), st.integers(0, 3)),
)


class RaftCluster(RuleBasedStateMachine):
    size = 3  # voters at the start
    spares = 1  # nodes outside the configuration at the start

    @initialize(
        seed=st.integers(0, 2**32 - 1),
        pre_vote=st.booleans(),
        check_quorum=st.booleans(),
        max_entries=st.sampled_from([1, 2, 64]),
        snapshot_threshold=st.sampled_from([0, 0, 3, 8]),
        chunk=st.sampled_from([4, 16, 65536]),
    )
    def boot(
        self, seed: int, pre_vote: bool, check_quorum: bool, max_entries: int, snapshot_threshold: int, chunk: int
    ) -> None:
        # Short timeouts so that elections happen within a run's budget.
        cfg = RaftConfig(
            election_timeout_min=4,
            election_timeout_max=8,
            heartbeat_interval=1,
            pre_vote=pre_vote,
            check_quorum=check_quorum,
            max_entries_per_msg=max_entries,
            snapshot_threshold=snapshot_threshold,
            snapshot_chunk_bytes=chunk,
        )
        ids = [f"n{i}" for i in range(1, self.size + self.spares + 1)]
        self.sim = Simulation(seed=seed, config=cfg, node_ids=ids, voters=ids[: self.size])
        self.n = len(ids)
        # Start from an elected leader, so that runs spend their steps on
        # faults and client operations rather than on the first election.
        self.sim.run_until(self._leader_committed_in_its_term, 50 * cfg.election_timeout_max)

    def _leader_committed_in_its_term(self) -> bool:
        lead = self.sim.leader()
        core = self.sim.cores[lead] if lead is not None else None
        return core is not None and core.log.term(core.commit_index) == core.term

    # -- time ----------------------------------------------------------------

    @rule(times=st.integers(1, 8))
    def tick(self, times: int) -> None:
        self.sim.tick(times=times)

    @rule(node=st.integers(0, 5), times=st.integers(1, 10))
    def tick_one(self, node: int, times: int) -> None:
        n = self.sim.ids[node % self.n]
        if n not in self.sim.crashed:
            self.sim.tick(n, times)

    @rule(steps=st.integers(1, 6))
    def step(self, steps: int) -> None:
        self.sim.run(steps)

    # -- the network -------------------------------------------------------------

    @precondition(lambda self: self.sim.in_flight)
    @rule(i=st.integers(0, 10_000))
    def deliver(self, i: int) -> None:
        self.sim.deliver(i % len(self.sim.in_flight))

    @precondition(lambda self: self.sim.in_flight)
    @rule(i=st.integers(0, 10_000))
    def drop(self, i: int) -> None:
        self.sim.drop_message(i % len(self.sim.in_flight))

    @precondition(lambda self: self.sim.in_flight)
    @rule(i=st.integers(0, 10_000))
    def duplicate(self, i: int) -> None:
        self.sim.duplicate_message(i % len(self.sim.in_flight))

    @rule(sides=st.lists(st.booleans(), min_size=6, max_size=6))
    def partition(self, sides: list[bool]) -> None:
        left = [n for n, s in zip(self.sim.ids, sides) if s]
        right = [n for n, s in zip(self.sim.ids, sides) if not s]
        self.sim.partition(left, right)

    @rule()
    def heal(self) -> None:
        self.sim.heal()

    # -- crashes -----------------------------------------------------------------

    @rule(node=st.integers(0, 5))
    def crash(self, node: int) -> None:
        n = self.sim.ids[node % self.n]
        if n not in self.sim.crashed:
            self.sim.crash(n)

    @precondition(lambda self: self.sim.crashed)
    @rule(node=st.integers(0, 5))
    def restart(self, node: int) -> None:
        crashed = sorted(self.sim.crashed)
        self.sim.restart(crashed[node % len(crashed)])

    # -- snapshots -----------------------------------------------------------------

    @rule(node=st.integers(0, 5))
    def compact(self, node: int) -> None:
        """Snapshot a node's state machine now and compact its log (whatever the threshold)."""
        n = self.sim.ids[node % self.n]
        if n not in self.sim.crashed and self.sim.cores[n].applied_index > self.sim.storages[n].snapshot().index:
            self.sim.compact(n)

    # -- clients ------------------------------------------------------------------

    @rule(batch=st.lists(ops, min_size=1, max_size=4), node=st.none() | st.integers(0, 5))
    def propose(self, batch: list[tuple], node: int | None) -> None:
        target = None if node is None else self.sim.ids[node % self.n]
        if target in self.sim.crashed:
            return
        for op in batch:
            self.sim.propose(list(op), node=target)

    # -- membership -----------------------------------------------------------------

    @rule(
        op=st.sampled_from(["add_learner", "promote", "remove", "add_voter"]),
        who=st.integers(0, 5),
        node=st.none() | st.integers(0, 5),
    )
    def change_membership(self, op: str, who: int, node: int | None) -> None:
        """A single-server change, to the leader or to any node (refusals are fine)."""
        at = None if node is None else self.sim.ids[node % self.n]
        if at in self.sim.crashed:
            return
        try:
            self.sim.propose_conf_change(op, self.sim.ids[who % self.n], node=at)
        except ConfChangeRejected:
            pass

    @rule(seed=st.integers(0, 2**16))
    def valid_membership_change(self, seed: int) -> None:
        """A change the leader's configuration allows (as the nemesis makes them)."""
        random_membership_change(self.sim, random.Random(seed))

    # -- properties -----------------------------------------------------------------

    @invariant()
    def safety(self) -> None:
        self.sim.check()

    def teardown(self) -> None:
        sim = getattr(self, "sim", None)
        if sim is None:
            return
        # Liveness: heal everything and a leader must emerge and commit.
        sim.heal()
        for n in sorted(sim.crashed):
            sim.restart(n)
        bound = 30 * sim.config.election_timeout_max
        assert sim.commit_one(["put", "x", 99], bound), (
            f"no commit within {bound} ticks after healing: {[c.status() for _, c in sim.live_cores()]}"
        )
        sim.run(4 * sim.config.election_timeout_max)
        sim.check()
        result = check_linearizable(sim.history.operations(), KVModel())
        assert result.ok, str(result)


class ThreeNodes(RaftCluster):
    size = 3


class FiveNodes(RaftCluster):
    size = 5
    spares = 0  # nodes join by being removed and added back


TestThreeNodes = ThreeNodes.TestCase
TestFiveNodes = FiveNodes.TestCase
