"""``WorldState``: the replicated state machine a team shares through Raft.

Every replica applies the same committed entries in the same order and so
reaches the same state and returns the same results: the machine reads no
clock, no randomness and nothing else local. Time is *committed time*:
each proposal carries the leader's clock as ``stamp`` and the machine's
clock becomes ``max(clock, stamp)``, so it never goes backwards (a new
leader's clock may be behind the old one's) and leases expire at the same
entry on every replica.

``apply(entry)`` for each committed entry, in order:

1. decode the proposal; bad bytes give ``Rejected(invalid_command)`` and
   change nothing (not even the clock);
2. the session check: a retried ``(client_id, seq)`` returns its first
   result, a forgotten one ``session_expired``; either changes nothing;
3. advance the clock, run the command, remember its result.

``query(command)`` answers a read (``get``, ``check_fence``,
``task_status``, ``list_tasks``) from the applied state at the current
committed time, touching neither state nor sessions; a Raft node calls it
after ReadIndex for a linearizable read.

``snapshot()`` / ``restore(data)`` capture and replace everything: data,
tasks, locks, sessions, clock, the token counter and the session limits
(which must match across replicas, so they travel in the snapshot).
``restore`` is an instance method that replaces this machine's state in
place, because a Raft node installs a snapshot into the machine it already
applies to; ``WorldState.from_snapshot(data)`` builds a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import JsonValue

from lmteams.consensus.world import snapshot as _snapshot
from lmteams.consensus.world.commands import (
    AcquireLock,
    BaseCommand,
    Cas,
    CheckFence,
    ClaimTask,
    CompleteTask,
    Custom,
    Delete,
    Get,
    ListTasks,
    Put,
    ReleaseLock,
    ReleaseTask,
    RenewClaim,
    RenewLock,
    TaskStatusQuery,
    decode_plain_put,
    decode_proposal,
    parse_command,
)
from lmteams.consensus.world.custom import CustomHandler, run_custom
from lmteams.consensus.world.errors import InvalidCommand, NotReadOnly
from lmteams.consensus.world.kv import KeyValueTable
from lmteams.consensus.world.locks import LockTable
from lmteams.consensus.world.results import Applied, Rejected, RejectReason
from lmteams.consensus.world.sessions import SessionTable, command_digest, put_digest
from lmteams.consensus.world.tasks import TaskTable
from lmteams.consensus.world.values import detached
from lmteams.consensus.world.views import LockView, SessionView, TaskView

Result = Applied | Rejected

_INF = float("inf")
DEFAULT_MAX_SESSIONS = 10_000
DEFAULT_MAX_RESULTS_PER_SESSION = 64


class WorldState:
    """The team's shared world: key-values, task claims and fenced locks, with client sessions.

    ``max_sessions`` and ``max_results_per_session`` bound session memory;
    every replica must use the same values (a restored snapshot brings its own).
    ``custom`` registers an application's own commands (``consensus.world.custom``);
    every replica must register the same handlers.
    """

    def __init__(
        self,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        max_results_per_session: int = DEFAULT_MAX_RESULTS_PER_SESSION,
        custom: Mapping[str, CustomHandler] | None = None,
    ) -> None:
        self._custom: dict[str, CustomHandler] = dict(custom or {})
        self._parts = _snapshot.Parts(
            clock=0.0,
            kv=KeyValueTable(),
            tasks=TaskTable(),
            locks=LockTable(),
            sessions=SessionTable(max_sessions, max_results_per_session),
        )

    # -- the state machine ------------------------------------------------------

    def apply(self, data: bytes, stamp: float | None = None) -> Result:
        """Apply one committed entry's bytes. Never raises: bad input is ``Rejected(invalid_command)``.

        ``stamp`` is the proposing leader's clock as a ``RaftNode`` passes it;
        when given it replaces the proposal's own, so that committed time
        comes from the leader and never from a client.
        """
        plain = decode_plain_put(data)  # the common entry, without pydantic; None for the rest
        if plain is None:
            try:
                proposal = decode_proposal(data)
            except InvalidCommand as exc:
                return Rejected(reason=RejectReason.INVALID_COMMAND, detail=str(exc))
            client_id, seq, ack_below, command = proposal.client_id, proposal.seq, proposal.ack_below, proposal.command
            own_stamp, digest = proposal.stamp, command_digest(proposal)
        else:
            client_id, seq, ack_below, command, key_json, value_json = plain
            own_stamp, digest = 0.0, put_digest(key_json, value_json)
        if stamp is None:
            stamp = own_stamp
        elif not (stamp >= 0 and stamp != _INF):
            return Rejected(reason=RejectReason.INVALID_COMMAND, detail=f"leader stamp {stamp!r} is not a finite time")
        return self._apply(client_id, seq, ack_below, command, digest, float(stamp))

    def _apply(
        self, client_id: str, seq: int, ack_below: int, command: BaseCommand, digest: str, stamp: float
    ) -> Result:
        """Run a decoded proposal at committed time ``max(clock, stamp)`` (``stamp`` replaces the proposal's own)."""
        p = self._parts
        sessions = p.sessions
        answered = sessions.check(client_id, seq, digest)
        if answered is not None:
            return answered
        if stamp > p.clock:
            p.clock = stamp
        result = self._execute(command, p.clock)
        sessions.record(client_id, seq, ack_below, digest, result)
        return result

    def query(self, command: Any) -> Result:
        """Answer a read-only command at the current committed time, changing nothing.

        ``command`` is a command model, or JSON bytes/text or a mapping of one.
        Raises ``NotReadOnly`` (a ``ValueError``) for a command that would
        change state, and ``InvalidCommand`` for one that does not parse.
        """
        if not isinstance(command, BaseCommand):
            command = parse_command(command)
        if not command.read_only:
            raise NotReadOnly(
                f"{command.op!r} changes the world state, so it cannot be a query: propose it through"
                " the log; queries are get, check_fence, task_status and list_tasks"
            )
        return self._execute(command, self._parts.clock)

    def _execute(self, command: BaseCommand, now: float) -> Result:
        p = self._parts
        match command:
            case Put():
                return p.kv.put(command)
            case Get():
                return p.kv.get(command)
            case Delete():
                return p.kv.delete(command)
            case Cas():
                return p.kv.cas(command)
            case ClaimTask():
                return p.tasks.claim(command, now)
            case RenewClaim():
                return p.tasks.renew(command, now)
            case ReleaseTask():
                return p.tasks.release(command, now)
            case CompleteTask():
                return p.tasks.complete(command, now)
            case TaskStatusQuery():
                return p.tasks.status(command, now)
            case ListTasks():
                return p.tasks.list(command, now)
            case AcquireLock():
                return p.locks.acquire(command, now)
            case RenewLock():
                return p.locks.renew(command, now)
            case ReleaseLock():
                return p.locks.release(command, now)
            case CheckFence():
                return p.locks.check_fence(command, now)
            case Custom():
                return run_custom(self._custom, command, p.kv, now)
        raise AssertionError(f"no handler for command {command!r}")  # pragma: no cover

    # -- snapshots --------------------------------------------------------------

    def snapshot(self) -> bytes:
        """Everything, as canonical JSON bytes: equal states give equal bytes."""
        return _snapshot.dump(self._parts)

    def restore(self, data: bytes) -> None:
        """Replace this machine's whole state with a snapshot's; raises ``SnapshotError``, changing nothing."""
        self._parts = _snapshot.load(data)

    @classmethod
    def from_snapshot(cls, data: bytes) -> WorldState:
        machine = cls()
        machine.restore(data)
        return machine

    # -- views --------------------------------------------------------------------

    @property
    def clock(self) -> float:
        """Committed time: the largest stamp applied so far (0.0 at first)."""
        return self._parts.clock

    @property
    def last_token(self) -> int:
        """The highest fencing token issued so far (0 before any)."""
        return self._parts.locks.last_token

    @property
    def kv(self) -> Mapping[str, JsonValue]:
        """A copy of the key-value data."""
        return MappingProxyType({k: detached(v) for k, v in self._parts.kv.items.items()})

    @property
    def tasks(self) -> Mapping[str, TaskView]:
        """Every task, as of the committed clock."""
        t, now = self._parts.tasks, self._parts.clock
        return MappingProxyType({name: t.view(name, now) for name in sorted(t.records)})

    @property
    def locks(self) -> Mapping[str, LockView]:
        """Every lock record (``held`` is False once its lease ran out), as of the committed clock."""
        lk, now = self._parts.locks, self._parts.clock
        return MappingProxyType({name: lk.view(name, now) for name in sorted(lk.records)})

    @property
    def sessions(self) -> Mapping[str, SessionView]:
        """Client sessions, least recently used first."""
        return MappingProxyType(
            {
                cid: SessionView(client_id=cid, floor=s.floor, remembered=tuple(sorted(s.results)))
                for cid, s in self._parts.sessions.sessions.items()
            }
        )

    @property
    def max_sessions(self) -> int:
        return self._parts.sessions.max_sessions

    def __repr__(self) -> str:
        p = self._parts
        return (
            f"WorldState(clock={p.clock}, keys={len(p.kv.items)}, tasks={len(p.tasks.records)},"
            f" locks={len(p.locks.records)}, sessions={len(p.sessions.sessions)}, last_token={p.locks.last_token})"
        )
