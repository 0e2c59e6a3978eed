"""Locks with leases and fencing tokens.

One counter serves every resource: each successful acquire takes the next
token, so a token is greater than every token issued before it, anywhere.
Whatever the lock guards should remember the highest token it has seen
and refuse lower ones (or ask ``check_fence``); then a holder that paused
past its lease cannot overwrite the work of the agent that took over.

A lock is held while committed time is before ``lease_until``. Renew and
release need the current token from its holder: an old token gets
``stale_token``, the holder's own lapsed lease ``lease_expired``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lmteams.consensus.world.commands import AcquireLock, CheckFence, ReleaseLock, RenewLock
from lmteams.consensus.world.results import Applied, Rejected, RejectReason
from lmteams.consensus.world.views import LockView


@dataclass(slots=True)
class LockRecord:
    holder: str
    token: int
    lease_until: float

    def held(self, now: float) -> bool:
        return now < self.lease_until


class LockTable:
    def __init__(self, records: dict[str, LockRecord] | None = None, last_token: int = 0) -> None:
        self.records: dict[str, LockRecord] = dict(records or {})
        self.last_token = last_token
        """The highest fencing token ever issued (0 before the first)."""

    def acquire(self, cmd: AcquireLock, now: float) -> Applied | Rejected:
        rec = self.records.get(cmd.resource)
        if rec is not None and rec.held(now) and not cmd.preempt:
            who = "already by this same agent" if rec.holder == cmd.agent else f"by {rec.holder!r}"
            return Rejected(
                reason=RejectReason.LOCK_HELD,
                detail=f"resource {cmd.resource!r} is held {who} with token {rec.token} until {rec.lease_until}"
                + ("; renew it with renew_lock" if rec.holder == cmd.agent else ""),
            )
        self.last_token += 1
        self.records[cmd.resource] = LockRecord(cmd.agent, self.last_token, now + cmd.lease_s)
        return Applied(value=self.view(cmd.resource, now).model_dump(mode="json"))

    def renew(self, cmd: RenewLock, now: float) -> Applied | Rejected:
        refused = self._not_held(cmd.resource, cmd.agent, cmd.token, now)
        if refused:
            return refused
        self.records[cmd.resource].lease_until = now + cmd.lease_s
        return Applied(value=self.view(cmd.resource, now).model_dump(mode="json"))

    def release(self, cmd: ReleaseLock, now: float) -> Applied | Rejected:
        refused = self._not_held(cmd.resource, cmd.agent, cmd.token, now)
        if refused:
            return refused
        released = self.view(cmd.resource, now)
        del self.records[cmd.resource]
        return Applied(value=released.model_dump(mode="json"))

    def check_fence(self, cmd: CheckFence, now: float) -> Applied:
        return Applied(value=self.fence_holds(cmd.resource, cmd.token, now))

    def fence_holds(self, resource: str, token: int, now: float) -> bool:
        rec = self.records.get(resource)
        return rec is not None and rec.token == token and rec.held(now)

    def view(self, resource: str, now: float) -> LockView:
        rec = self.records[resource]
        return LockView(
            resource=resource, holder=rec.holder, token=rec.token, lease_until=rec.lease_until, held=rec.held(now)
        )

    def _not_held(self, resource: str, agent: str, token: int, now: float) -> Rejected | None:
        rec = self.records.get(resource)
        if rec is None or rec.token != token:
            current = "it is not locked" if rec is None else f"its current token is {rec.token}"
            return Rejected(
                reason=RejectReason.STALE_TOKEN,
                detail=f"token {token} is not current for resource {resource!r}: {current}",
            )
        if rec.holder != agent:
            return Rejected(
                reason=RejectReason.NOT_OWNER,
                detail=f"token {token} for resource {resource!r} belongs to {rec.holder!r}, not {agent!r}",
            )
        if not rec.held(now):
            return Rejected(
                reason=RejectReason.LEASE_EXPIRED,
                detail=f"{agent!r}'s lock on {resource!r} (token {token}) expired at {rec.lease_until}"
                f" (committed time is now {now}); acquire it again for a new token",
            )
        return None
