"""Client sessions: a retried ``(client_id, seq)`` is applied once (Raft thesis §6.3).

Each client's session remembers the result of each seq it applied, so a
retry, which comes with the same seq, gets the first result back and
changes nothing. Memory stays bounded three ways, all decided by the log
alone, so every replica forgets the same things:

- ``ack_below``: the client has every result below it; those are dropped;
- at most ``max_results`` remembered per client: beyond it, the lowest go;
- at most ``max_sessions`` clients: a new one evicts the one least
  recently used (in apply order, which is committed-time order).

Everything forgotten sits below a session's ``floor``, and a seq below the
floor that is not remembered gets ``session_expired``, never a second
application. A session starts with seq 1; an unknown client sending a
higher seq was evicted (or skipped seq 1), and is refused the same way,
since the machine can no longer tell its retries from new commands. Such
a client must start over under a new ``client_id``.

The limit of this scheme: an evicted client that retries its *seq 1* is
taken for a new client, so that command (and then retries of its later
seqs) may apply twice. It takes ``max_sessions`` other clients becoming
active between the first application of seq 1 and its retry; keep
``max_sessions`` well above the number of live clients. Closing the gap
needs sessions registered through the log itself (the thesis's
RegisterClient).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from lmteams.consensus.world.commands import Proposal, Put
from lmteams.consensus.world.results import Applied, Rejected, RejectReason
from lmteams.consensus.world.values import canonical, canonical_str, immutable

Result = Applied | Rejected


_BLAKE2B_128 = hashlib.blake2b(digest_size=16)
"""Copied for each digest: cheaper than setting up a new hash."""


def _digest(text: str) -> str:
    h = _BLAKE2B_128.copy()
    h.update(text.encode())
    return h.hexdigest()


def command_digest(proposal: Proposal) -> str:
    """A fingerprint of the proposal's command, to catch a seq reused for another command.

    The BLAKE2b-128 of the command's canonical JSON (sorted keys, no spaces), so it depends on
    what the command says, not on how a client spelled it; snapshots carry it.
    """
    command = proposal.command
    if type(command) is Put:
        value = command.value
        return put_digest(canonical_str(command.key), canonical_str(value) if type(value) is str else canonical(value))
    return _digest(canonical(command.model_dump(mode="json")))


def put_digest(key_json: str, value_json: str) -> str:
    """`command_digest` of a ``Put`` whose key and value have these canonical JSON texts."""
    # The same text as the general case, built without the dump: "key" < "op" < "value".
    return _digest('{"key":' + key_json + ',"op":"put","value":' + value_json + "}")


def private_copy(result: Result) -> Result:
    """``result`` itself when nothing in it can be changed (a rejection, or a scalar value), else a deep copy."""
    # isinstance with the result's own class is the cheap check (no ABC machinery).
    if isinstance(result, Applied) and not immutable(result.value):
        return result.model_copy(deep=True)
    return result


@dataclass(slots=True)
class Remembered:
    digest: str
    result: Result


@dataclass(slots=True)
class Session:
    floor: int = 1
    results: dict[int, Remembered] = field(default_factory=dict)

    def forget_below(self, seq: int) -> None:
        if seq > self.floor:
            self.floor = seq
            for old in [s for s in self.results if s < seq]:
                del self.results[old]


class SessionTable:
    def __init__(self, max_sessions: int, max_results: int, sessions: dict[str, Session] | None = None) -> None:
        if max_sessions < 1 or max_results < 1:
            raise ValueError(f"max_sessions and max_results must be >= 1, got {max_sessions} and {max_results}")
        self.max_sessions = max_sessions
        self.max_results = max_results
        self.sessions: dict[str, Session] = dict(sessions or {})
        """Client id -> session, least recently used first."""

    def check(self, client_id: str, seq: int, digest: str) -> Result | None:
        """The answer for a retry or a forgotten seq, or None if the proposal is new and may apply."""
        session = self.sessions.get(client_id)
        if session is None:
            if seq == 1:
                return None
            return Rejected(
                reason=RejectReason.SESSION_EXPIRED,
                detail=f"client {client_id!r} has no session (evicted, or it never sent seq 1), so seq {seq}"
                " cannot be checked for duplicates; start over with a new client_id at seq 1",
            )
        remembered = session.results.get(seq)
        if remembered is not None:
            if remembered.digest != digest:
                return Rejected(
                    reason=RejectReason.SEQ_REUSED,
                    detail=f"client {client_id!r} already used seq {seq} for a different command;"
                    " a restarted client needs a new client_id",
                )
            return private_copy(remembered.result)
        if seq < session.floor:
            return Rejected(
                reason=RejectReason.SESSION_EXPIRED,
                detail=f"the result of seq {seq} for client {client_id!r} was forgotten (its session floor is"
                f" {session.floor}); it may already have been applied, so it is not applied again",
            )
        return None

    def record(self, client_id: str, seq: int, ack_below: int, digest: str, result: Result) -> None:
        """Remember ``result`` for a proposal that ``check`` let through and that was applied."""
        sessions = self.sessions
        session = sessions.pop(client_id, None)
        if session is None:
            session = Session()
            while len(sessions) >= self.max_sessions:
                del sessions[next(iter(sessions))]
        sessions[client_id] = session  # most recently used goes last
        if ack_below > session.floor:
            session.forget_below(ack_below)
        results = session.results
        results[seq] = Remembered(digest, private_copy(result))
        while len(results) > self.max_results:
            session.forget_below(min(results) + 1)
