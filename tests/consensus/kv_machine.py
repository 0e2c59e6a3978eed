"""A minimal replicated KV machine for node and cluster tests."""

from __future__ import annotations

import json
from typing import Any


class KVMachine:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.applied: list[Any] = []

    def apply(self, data: bytes, stamp: float) -> Any:
        op = json.loads(data)
        self.applied.append(op)
        if op[0] == "put":
            self.data[op[1]] = op[2]
            return None
        if op[0] == "cas":
            if self.data.get(op[1]) == op[2]:
                self.data[op[1]] = op[3]
                return True
            return False
        if op[0] == "boom":
            raise RuntimeError("this command always fails")
        return self.data.get(op[1])

    def query(self, key: str) -> Any:
        return self.data.get(key)

    def snapshot(self) -> bytes:
        return json.dumps({"data": self.data, "applied": self.applied}, sort_keys=True).encode()

    def restore(self, data: bytes) -> None:
        state = json.loads(data)
        self.data, self.applied = state["data"], state["applied"]


def cmd(*op: Any) -> bytes:
    return json.dumps(list(op)).encode()
