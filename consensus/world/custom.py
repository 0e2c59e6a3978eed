"""An application's own world-state commands.

A handler is a deterministic function ``handler(world, args)`` registered
under a name on every replica: ``WorldState(custom={"append": append})``.
It sees the key-value data and committed time through ``CustomContext``
and returns a JSON value (the command's ``Applied`` result) or a
``Rejected`` (``reject(detail)`` makes one). Its writes are staged and
applied only when it returns a result, so a rejection or an exception
changes nothing; an exception becomes ``Rejected(custom_rejected)``.

Determinism is the handler's duty: no clock (use ``world.now``), no
randomness, no I/O, and the same handler code on every replica.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import JsonValue, TypeAdapter, ValidationError

from lmteams.consensus.world.commands import Custom
from lmteams.consensus.world.kv import KeyValueTable
from lmteams.consensus.world.results import Applied, Rejected, RejectReason
from lmteams.consensus.world.values import Value, detached

_VALUE: TypeAdapter[Any] = TypeAdapter(Value)
_DELETED = object()


class CustomContext:
    """What a custom handler may read and change: the key-value data, at committed time ``now``."""

    def __init__(self, kv: KeyValueTable, now: float) -> None:
        self._kv = kv
        self._staged: dict[str, Any] = {}
        self.now = now

    def get(self, key: str) -> JsonValue:
        if key in self._staged:
            value = self._staged[key]
            return None if value is _DELETED else detached(value)
        return detached(self._kv.items.get(key))

    def put(self, key: str, value: JsonValue) -> None:
        self._staged[key] = _VALUE.validate_python(value)

    def delete(self, key: str) -> None:
        self._staged[key] = _DELETED

    def _commit(self) -> None:
        for key, value in self._staged.items():
            if value is _DELETED:
                self._kv.items.pop(key, None)
            else:
                self._kv.items[key] = detached(value)


CustomHandler = Callable[[CustomContext, JsonValue], "JsonValue | Rejected"]


def reject(detail: str) -> Rejected:
    """What a handler returns to refuse, changing nothing."""
    return Rejected(reason=RejectReason.CUSTOM_REJECTED, detail=detail)


def run_custom(
    handlers: Mapping[str, CustomHandler], command: Custom, kv: KeyValueTable, now: float
) -> Applied | Rejected:
    handler = handlers.get(command.name)
    if handler is None:
        known = ", ".join(sorted(handlers)) or "none"
        return Rejected(
            reason=RejectReason.INVALID_COMMAND,
            detail=f"no custom command {command.name!r} is registered on this replica (registered: {known});"
            " every replica must be built with the same WorldState(custom=...)",
        )
    context = CustomContext(kv, now)
    try:
        result = handler(context, detached(command.args))
        if isinstance(result, Rejected):
            return result
        value = _VALUE.validate_python(result)
    except ValidationError as exc:
        return reject(f"custom command {command.name!r} produced a value that is not JSON: {exc.errors()[0]['msg']}")
    except Exception as exc:  # deterministic code fails the same way everywhere: refuse, change nothing
        return reject(f"custom command {command.name!r} failed: {type(exc).__name__}: {exc}")
    context._commit()
    return Applied(value=value)
