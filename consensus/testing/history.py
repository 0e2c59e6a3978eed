"""Client-visible histories: what a linearizability checker reads.

An :class:`Operation` is one client call with its invocation and completion
times on one logical clock. ``ret is None`` means the outcome is unknown (the
client timed out or the node crashed): the operation may have taken effect at
any point after ``call``, or never.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Operation:
    """One completed, failed or indeterminate client operation."""

    client: Hashable
    input: Any
    output: Any
    call: float
    ret: float | None
    id: int = -1

    @property
    def completed(self) -> bool:
        return self.ret is not None

    def __str__(self) -> str:
        end = "?" if self.ret is None else f"{self.ret:g}"
        return f"[{self.call:g}..{end}] client={self.client} {self.input!r} -> {self.output!r}"


@dataclass(slots=True)
class History:
    """Records invocations and completions as they happen.

    >>> h = History()
    >>> op = h.invoke("c1", ("put", "x", 1))
    >>> h.complete(op, None)
    >>> len(h.operations())
    1

    Operations that were invoked but never completed are returned with
    ``ret=None`` (indeterminate). Operations that failed *without* taking
    effect (for example ``NotLeader`` before anything was proposed) should be
    dropped with :meth:`fail`, because they constrain nothing.
    """

    _clock: itertools.count = field(default_factory=lambda: itertools.count(1))
    _open: dict[int, tuple[Hashable, Any, int]] = field(default_factory=dict)
    _done: list[Operation] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=itertools.count)

    def invoke(self, client: Hashable, input: Any) -> int:
        op_id = next(self._ids)
        self._open[op_id] = (client, input, next(self._clock))
        return op_id

    def complete(self, op_id: int, output: Any) -> None:
        client, input, call = self._open.pop(op_id)
        self._done.append(Operation(client, input, output, call, next(self._clock), op_id))

    def fail(self, op_id: int) -> None:
        """The operation certainly did not take effect: forget it."""
        self._open.pop(op_id)

    def pending(self) -> int:
        return len(self._open)

    def is_open(self, op_id: int) -> bool:
        """True while the operation has neither completed nor failed."""
        return op_id in self._open

    def operations(self) -> list[Operation]:
        """Completed operations plus still-open ones as indeterminate."""
        ops = list(self._done)
        for op_id, (client, input, call) in self._open.items():
            ops.append(Operation(client, input, None, call, None, op_id))
        ops.sort(key=lambda o: (o.call, o.id))
        return ops

    def __len__(self) -> int:
        return len(self._done) + len(self._open)
