"""A stateful specification of the world state, checked against three replicas.

Rules are what happens in a team: clients propose, retry after a lost
reply, acknowledge results; leaders with skewed clocks stamp the entries;
time passes; garbage gets committed; one replica lags and catches up,
either from the log or from a snapshot. Every result is checked against
the rules stated here, from the state *before* the entry (an independent
oracle, not the implementation's own branches), and the replicas must
agree byte for byte.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from lmteams.consensus.world import (
    AcquireLock,
    Applied,
    CheckFence,
    ClaimTask,
    CompleteTask,
    Rejected,
    RejectReason,
    ReleaseLock,
    ReleaseTask,
    RenewClaim,
    RenewLock,
    WorldState,
    decode_proposal,
)

from .support import Client

MAX_SESSIONS, MAX_RESULTS = 3, 4
AGENTS = st.sampled_from(["A", "B", "C"])
TASKS = st.sampled_from(["t1", "t2"])
RESOURCES = st.sampled_from(["r1", "r2"])
LEASES = st.sampled_from([0.5, 1.0, 3.0])
TOKENS = st.integers(1, 8)

commands = st.one_of(
    st.builds(ClaimTask, task=TASKS, agent=AGENTS, lease_s=st.none() | LEASES),
    st.builds(RenewClaim, task=TASKS, agent=AGENTS, lease_s=LEASES),
    st.builds(ReleaseTask, task=TASKS, agent=AGENTS),
    st.builds(CompleteTask, task=TASKS, agent=AGENTS, result=st.integers(0, 3)),
    st.builds(AcquireLock, resource=RESOURCES, agent=AGENTS, lease_s=LEASES),
    st.builds(RenewLock, resource=RESOURCES, agent=AGENTS, token=TOKENS, lease_s=LEASES),
    st.builds(ReleaseLock, resource=RESOURCES, agent=AGENTS, token=TOKENS),
    st.builds(CheckFence, resource=RESOURCES, token=TOKENS),
)


class World(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.replicas = [WorldState(max_sessions=MAX_SESSIONS, max_results_per_session=MAX_RESULTS) for _ in range(3)]
        self.backlog: list[bytes] | None = None  # replica 2's unapplied entries while it lags
        self.expected: list[Applied | Rejected] = []  # their results, as the others returned them
        self.clients = [Client(f"c{i}") for i in range(5)]
        self.generation = [0] * 5
        self.first_results: dict[tuple[str, int], Applied | Rejected] = {}
        self.mistaken_for_new: set[str] = set()
        self.time = 100.0
        self.last_clock = 0.0
        self.last_token = 0

    # -- applying one committed entry ----------------------------------------

    def commit(self, data: bytes) -> Applied | Rejected:
        live = self.replicas if self.backlog is None else self.replicas[:2]
        results = [r.apply(data) for r in live]
        assert all(r == results[0] for r in results[1:])
        if self.backlog is not None:
            self.backlog.append(data)
            self.expected.append(results[0])
        return results[0]

    def stamp(self, skew: float) -> float:
        return max(0.0, self.time + skew)

    # -- rules ------------------------------------------------------------------

    @rule(dt=st.sampled_from([0.1, 0.5, 1.0, 4.0]))
    def time_passes(self, dt: float) -> None:
        self.time += dt

    @rule(who=st.integers(0, 4), command=commands, skew=st.sampled_from([0.0, 0.0, -2.0, 0.3]), ack=st.booleans())
    def propose(self, who: int, command: object, skew: float, ack: bool) -> None:
        client, w = self.clients[who], self.replicas[0]
        ack_below = client.seq + 1 if ack else 0  # this client has every earlier result
        before_tasks, before_locks, before_token = w.tasks, w.locks, w.last_token
        had_session = client.client_id in w.sessions
        data = client.propose(command, self.stamp(skew), ack_below=ack_below)
        now = max(w.clock, decode_proposal(data).stamp)
        result = self.commit(data)

        if not had_session and client.seq > 1:  # evicted: refused, and the client starts over
            assert isinstance(result, Rejected) and result.reason is RejectReason.SESSION_EXPIRED
            self.generation[who] += 1
            self.clients[who] = Client(f"c{who}.{self.generation[who]}")
            return
        self.first_results[(client.client_id, client.seq)] = result
        self.check_against_spec(command, result, now, before_tasks, before_locks, before_token)

    @rule(who=st.integers(0, 4), pick=st.integers(0, 100), skew=st.sampled_from([0.0, -1.0, 0.5]))
    def retry(self, who: int, pick: int, skew: float) -> None:
        client, w = self.clients[who], self.replicas[0]
        if not client.seq:
            return
        seq = 1 + pick % client.seq
        session = w.sessions.get(client.client_id)
        snapshot = w.snapshot()
        result = self.commit(client.retry(seq, self.stamp(skew)))
        if client.client_id in self.mistaken_for_new:  # see below: no exactly-once promise is left
            self.first_results[(client.client_id, seq)] = result
        elif session is not None and seq in session.remembered:
            assert result == self.first_results[(client.client_id, seq)]
            assert w.snapshot() == snapshot  # a retry changes nothing
        elif session is not None or seq > 1:
            assert isinstance(result, Rejected) and result.reason is RejectReason.SESSION_EXPIRED
            assert w.snapshot() == snapshot
        else:
            # The documented limit: seq 1 of an evicted session looks like a new client's and is
            # applied again; the recreated session cannot tell the old seqs' retries from new ones.
            self.mistaken_for_new.add(client.client_id)
            self.first_results[(client.client_id, seq)] = result

    @rule(data=st.binary(max_size=40))
    def garbage_is_committed(self, data: bytes) -> None:
        snapshot = self.replicas[0].snapshot()
        result = self.commit(data)
        assert isinstance(result, Rejected) and result.reason is RejectReason.INVALID_COMMAND
        assert self.replicas[0].snapshot() == snapshot

    @precondition(lambda self: self.backlog is None)
    @rule()
    def replica_2_falls_behind(self) -> None:
        self.backlog, self.expected = [], []

    @precondition(lambda self: self.backlog is not None)
    @rule()
    def replica_2_catches_up_from_the_log(self) -> None:
        assert self.backlog is not None
        assert [self.replicas[2].apply(e) for e in self.backlog] == self.expected
        self.backlog = None

    @precondition(lambda self: self.backlog is not None)
    @rule()
    def replica_2_installs_the_leaders_snapshot(self) -> None:
        self.replicas[2].restore(self.replicas[0].snapshot())
        self.backlog = None

    # -- the specification ------------------------------------------------------

    def check_against_spec(self, command, result, now, tasks, locks, last_token) -> None:  # type: ignore[no-untyped-def]
        match command:
            case AcquireLock(resource=res):
                free = res not in locks or locks[res].lease_until <= now
                assert result.ok == free, (command, result, locks.get(res), now)
                if free:
                    assert result.value["token"] == last_token + 1
                else:
                    assert result.reason is RejectReason.LOCK_HELD
            case (
                RenewLock(resource=res, agent=agent, token=token) | ReleaseLock(resource=res, agent=agent, token=token)
            ):
                lock = locks.get(res)
                valid = lock is not None and lock.token == token and lock.holder == agent and lock.lease_until > now
                assert result.ok == valid, (command, result, lock, now)
                if lock is None or lock.token != token:
                    assert result.reason is RejectReason.STALE_TOKEN
            case CheckFence(resource=res, token=token):
                lock = locks.get(res)
                assert result.value == (lock is not None and lock.token == token and lock.lease_until > now)
            case ClaimTask(task=task, agent=agent):
                view = tasks.get(task)
                free = view is None or (
                    view.status.value != "completed"
                    and (view.owner in (None, agent) or (view.lease_until is not None and view.lease_until <= now))
                )
                assert result.ok == free, (command, result, view, now)
            case (
                RenewClaim(task=task, agent=agent)
                | ReleaseTask(task=task, agent=agent)
                | CompleteTask(task=task, agent=agent)
            ):
                view = tasks.get(task)
                live_owner = (
                    view is not None
                    and view.status.value != "completed"
                    and view.owner == agent
                    and (view.lease_until is None or view.lease_until > now)
                )
                assert result.ok == live_owner, (command, result, view, now)
                if view is not None and view.status.value == "completed":
                    assert result.reason is RejectReason.ALREADY_COMPLETED

    # -- invariants ---------------------------------------------------------------

    @invariant()
    def replicas_agree(self) -> None:
        in_step = self.replicas if self.backlog is None else self.replicas[:2]
        snapshots = {r.snapshot() for r in in_step}
        assert len(snapshots) == 1

    @invariant()
    def clock_and_tokens_never_go_backwards(self) -> None:
        w = self.replicas[0]
        assert w.clock >= self.last_clock
        assert w.last_token >= self.last_token
        assert all(lock.token <= w.last_token for lock in w.locks.values())
        self.last_clock, self.last_token = w.clock, w.last_token

    @invariant()
    def session_memory_is_bounded(self) -> None:
        sessions = self.replicas[0].sessions
        assert len(sessions) <= MAX_SESSIONS
        for s in sessions.values():
            assert len(s.remembered) <= MAX_RESULTS
            assert all(seq >= s.floor for seq in s.remembered)


World.TestCase.settings = settings(max_examples=max(10, settings.default.max_examples // 2))
TestWorld = World.TestCase
