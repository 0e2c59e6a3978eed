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

from .commands import Proposal, Put
from .results import Applied, Rejected, RejectReason
from .values import canonical, canonical_str, immutable

Result = Applied | Rejected


def command_digest(proposal: Proposal) -> str:
    """A fingerprint of the proposal's command, to catch a seq reused for another command.

    The BLAKE2b-128 of the command's canonical JSON (sorted keys, no spaces), so it depends on
    what the command says, not on how a client spelled it; snapshots carry it.
    """
    command = proposal.command
    if type(command) is Put:
        # The same text as the general case, built without the dump: "key" < "op" < "value".
        value = command.value
        text = (
            '{"key":' + canonical_str(command.key) + ',"op":"put","value":'
            + (canonical_str(value) if type(value) is str else canonical(value)) + "}"
        )
    else:
        text = canonical(command.model_dump(mode="json"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def private_copy(result: Result) -> Result:
    """``result`` itself when nothing in it can be changed (a rejection, or a scalar value), else a deep copy."""
    if isinstance(result, Rejected) or immutable(result.value):
        return result
    return result.model_copy(deep=True)


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

    def check(self, proposal: Proposal, digest: str) -> Result | None:
        """The answer for a retry or a forgotten seq, or None if the proposal is new and may apply."""
        cid, seq = proposal.client_id, proposal.seq
        session = self.sessions.get(cid)
        if session is None:
            if seq == 1:
                return None
            return Rejected(
                reason=RejectReason.SESSION_EXPIRED,
                detail=f"client {cid!r} has no session (evicted, or it never sent seq 1), so seq {seq}"
                " cannot be checked for duplicates; start over with a new client_id at seq 1",
            )
        remembered = session.results.get(seq)
        if remembered is not None:
            if remembered.digest != digest:
                return Rejected(
                    reason=RejectReason.SEQ_REUSED,
                    detail=f"client {cid!r} already used seq {seq} for a different command;"
                    " a restarted client needs a new client_id",
                )
            return private_copy(remembered.result)
        if seq < session.floor:
            return Rejected(
                reason=RejectReason.SESSION_EXPIRED,
                detail=f"the result of seq {seq} for client {cid!r} was forgotten (its session floor is"
                f" {session.floor}); it may already have been applied, so it is not applied again",
            )
        return None

    def record(self, proposal: Proposal, digest: str, result: Result) -> None:
        """Remember ``result`` for a proposal that ``check`` let through and that was applied."""
        cid = proposal.client_id
        session = self.sessions.pop(cid, None)
        if session is None:
            session = Session()
            while len(self.sessions) >= self.max_sessions:
                del self.sessions[next(iter(self.sessions))]
        self.sessions[cid] = session  # most recently used goes last
        session.forget_below(proposal.ack_below)
        session.results[proposal.seq] = Remembered(digest, private_copy(result))
        while len(session.results) > self.max_results:
            session.forget_below(min(session.results) + 1)
