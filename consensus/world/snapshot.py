"""The snapshot format: the whole world state as canonical JSON bytes.

Two replicas in the same state produce the same bytes (maps are written
with sorted keys; sessions as a list in least-recently-used order, which
eviction depends on). The format::

    {"format": "lmteams.world", "version": 1,
     "clock": 12.5, "last_token": 7,
     "limits": {"max_sessions": 10000, "max_results": 64},
     "kv": {key: value},
     "tasks": {task: {"owner", "lease_until", "completed", "result"}},
     "locks": {resource: {"holder", "token", "lease_until"}},
     "sessions": [{"client_id", "floor", "results": [{"seq", "digest", "result"}]}]}

``load`` validates all of it, including the invariants the machine relies
on (no lock token above ``last_token``, no two locks with one token,
remembered seqs at or above their floor), and raises ``SnapshotError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lmteams.consensus.world.commands import Name, describe
from lmteams.consensus.world.errors import SnapshotError
from lmteams.consensus.world.kv import KeyValueTable
from lmteams.consensus.world.locks import LockRecord, LockTable
from lmteams.consensus.world.results import Result
from lmteams.consensus.world.sessions import Remembered, Session, SessionTable
from lmteams.consensus.world.tasks import TaskRecord, TaskTable
from lmteams.consensus.world.values import Value

FORMAT = "lmteams.world"
VERSION = 1

_Time = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


class _Limits(_Strict):
    max_sessions: Annotated[int, Field(ge=1)]
    max_results: Annotated[int, Field(ge=1)]


class _Task(_Strict):
    owner: Name | None
    lease_until: _Time | None
    completed: bool
    result: Value


class _Lock(_Strict):
    holder: Name
    token: Annotated[int, Field(ge=1)]
    lease_until: _Time


class _Remembered(_Strict):
    seq: Annotated[int, Field(ge=1)]
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    result: Result


class _Session(_Strict):
    client_id: Name
    floor: Annotated[int, Field(ge=1)]
    results: list[_Remembered]


class _Snapshot(_Strict):
    format: Literal["lmteams.world"]
    version: Literal[1]
    clock: _Time
    last_token: Annotated[int, Field(ge=0)]
    limits: _Limits
    kv: dict[str, Value]
    tasks: dict[Name, _Task]
    locks: dict[Name, _Lock]
    sessions: list[_Session]


@dataclass(slots=True)
class Parts:
    """Everything a ``WorldState`` holds."""

    clock: float
    kv: KeyValueTable
    tasks: TaskTable
    locks: LockTable
    sessions: SessionTable


def dump(parts: Parts) -> bytes:
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "clock": parts.clock,
        "last_token": parts.locks.last_token,
        "limits": {"max_sessions": parts.sessions.max_sessions, "max_results": parts.sessions.max_results},
        "kv": parts.kv.items,
        "tasks": {
            name: {"owner": r.owner, "lease_until": r.lease_until, "completed": r.completed, "result": r.result}
            for name, r in parts.tasks.records.items()
        },
        "locks": {
            name: {"holder": r.holder, "token": r.token, "lease_until": r.lease_until}
            for name, r in parts.locks.records.items()
        },
        "sessions": [
            {
                "client_id": cid,
                "floor": s.floor,
                "results": [
                    {
                        "seq": seq,
                        "digest": s.results[seq].digest,
                        "result": s.results[seq].result.model_dump(mode="json"),
                    }
                    for seq in sorted(s.results)
                ],
            }
            for cid, s in parts.sessions.sessions.items()
        ],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def load(data: bytes | bytearray | memoryview) -> Parts:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SnapshotError(f"a snapshot is bytes, not {type(data).__name__}")
    try:
        snap = _Snapshot.model_validate_json(bytes(data))
    except ValidationError as exc:
        raise SnapshotError(
            f"not a world-state snapshot ({len(data)} bytes; expected {FORMAT!r} version {VERSION}): {describe(exc)}"
        ) from None
    _check_invariants(snap)
    sessions: dict[str, Session] = {}
    for s in snap.sessions:
        sessions[s.client_id] = Session(
            floor=s.floor, results={r.seq: Remembered(r.digest, r.result) for r in s.results}
        )
    return Parts(
        clock=snap.clock,
        kv=KeyValueTable(dict(snap.kv)),
        tasks=TaskTable({n: TaskRecord(t.owner, t.lease_until, t.completed, t.result) for n, t in snap.tasks.items()}),
        locks=LockTable(
            {n: LockRecord(lk.holder, lk.token, lk.lease_until) for n, lk in snap.locks.items()}, snap.last_token
        ),
        sessions=SessionTable(snap.limits.max_sessions, snap.limits.max_results, sessions),
    )


def _check_invariants(snap: _Snapshot) -> None:
    problems = []
    tokens = [lk.token for lk in snap.locks.values()]
    if tokens and max(tokens) > snap.last_token:
        problems.append(f"a lock has token {max(tokens)}, above the last issued token {snap.last_token}")
    if len(set(tokens)) != len(tokens):
        problems.append("two locks share one fencing token")
    for name, t in snap.tasks.items():
        if t.completed and t.lease_until is not None:
            problems.append(f"completed task {name!r} still has a lease")
        if t.owner is None and t.lease_until is not None:
            problems.append(f"task {name!r} has a lease but no owner")
    ids = [s.client_id for s in snap.sessions]
    if len(set(ids)) != len(ids):
        problems.append("a client id appears in two sessions")
    if len(ids) > snap.limits.max_sessions:
        problems.append(f"{len(ids)} sessions exceed max_sessions={snap.limits.max_sessions}")
    for s in snap.sessions:
        seqs = [r.seq for r in s.results]
        if len(set(seqs)) != len(seqs):
            problems.append(f"session {s.client_id!r} remembers one seq twice")
        if seqs and min(seqs) < s.floor:
            problems.append(f"session {s.client_id!r} remembers seq {min(seqs)}, below its floor {s.floor}")
        if len(seqs) > snap.limits.max_results:
            problems.append(f"session {s.client_id!r} remembers {len(seqs)} results, over max_results")
    if problems:
        raise SnapshotError("inconsistent world-state snapshot: " + "; ".join(problems))
