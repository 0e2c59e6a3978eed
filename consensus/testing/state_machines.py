"""State machines for the simulator, and the protocol a user's own must follow.

A state machine is deterministic: the same commands in the same order give
the same results on every replica. That is all Raft needs from it.
"""

from __future__ import annotations

import json
from typing import Any, Protocol


class StateMachine(Protocol):
    """What the ``Simulation`` needs: ``apply``, and for log compaction
    ``snapshot``/``restore``.

    ``snapshot() -> bytes`` captures the whole state and ``restore(data)``
    replaces it in place. They are optional: without them the simulation
    never compacts (and refuses a config that explicitly asks it to).
    """

    def apply(self, command: Any) -> Any:
        """Apply one committed command and return its result."""
        ...


class KVStateMachine:
    """A key-value store whose commands match ``KVModel`` in ``models.py``.

    Commands: ``("put", key, value) -> None``, ``("get", key) -> value``,
    ``("cas", key, old, new) -> bool``, ``("delete", key) -> None``. Lists
    are accepted for tuples, since commands may travel as JSON.
    """

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}

    def snapshot(self) -> bytes:
        """Canonical JSON of the data (keys sorted), so equal states give equal bytes."""
        return json.dumps(sorted(self.data.items(), key=lambda kv: json.dumps(kv[0])), separators=(",", ":")).encode()

    def restore(self, data: bytes) -> None:
        items = json.loads(data)
        self.data = {_hashable(k): v for k, v in items}

    def apply(self, command: Any) -> Any:
        op, key, *args = command
        if op == "put":
            self.data[key] = args[0]
            return None
        if op == "get":
            return self.data.get(key)
        if op == "cas":
            old, new = args
            if self.data.get(key) == old:
                self.data[key] = new
                return True
            return False
        if op == "delete":
            self.data.pop(key, None)
            return None
        raise ValueError(f"unknown KV command {op!r}: expected put, get, cas or delete")


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value
