"""The key-value part of the world state: put, get, delete, compare-and-set.

An absent key reads as null, so ``cas(key, expected=None, new)`` creates a
key that does not exist yet (the way agents self-claim through the log).
"""

from __future__ import annotations

from pydantic import JsonValue

from lmteams.consensus.world.commands import Cas, Delete, Get, Put
from lmteams.consensus.world.results import Applied, Rejected, RejectReason
from lmteams.consensus.world.values import brief, detached, same_value

_APPLIED_NONE = Applied(value=None)
"""What every put returns; frozen and holding nothing mutable, so one instance serves them all."""


class KeyValueTable:
    def __init__(self, items: dict[str, JsonValue] | None = None) -> None:
        self.items: dict[str, JsonValue] = dict(items or {})

    def put(self, cmd: Put) -> Applied:
        self.items[cmd.key] = detached(cmd.value)
        return _APPLIED_NONE

    def get(self, cmd: Get) -> Applied:
        return Applied(value=detached(self.items.get(cmd.key)))

    def delete(self, cmd: Delete) -> Applied:
        existed = cmd.key in self.items
        self.items.pop(cmd.key, None)
        return Applied(value=existed)

    def cas(self, cmd: Cas) -> Applied | Rejected:
        current = self.items.get(cmd.key)
        if not same_value(current, cmd.expected):
            return Rejected(
                reason=RejectReason.CAS_MISMATCH,
                detail=f"key {cmd.key!r} holds {brief(current)}, not the expected {brief(cmd.expected)}",
            )
        self.items[cmd.key] = detached(cmd.new)
        return Applied(value=detached(cmd.new))
