"""Sequential specifications for :func:`consensus.testing.check_linearizable`.

A model describes what one object does when operations are applied one at a
time, in the style of porcupine's ``Model``:

- ``init()`` returns the initial state. States must be hashable (the checker
  memoizes on them), so use tuples, frozensets, ints, strings...
- ``step(state, input, output)`` returns ``(legal, next_state)``: whether
  ``output`` is a legal result of applying ``input`` in ``state``, and the
  state afterwards. ``step`` must be a pure function.
- ``partition(ops)`` splits a history into independent sub-histories that can
  be checked separately (P-compositionality). The default is one partition.
- ``partition_label(ops)`` (optional) names a partition in reports.
- ``describe(input, output)`` (optional) renders one operation readably.

Indeterminate operations (``Operation.ret is None``: the client never learned
the outcome) are handled in two halves:

- *never took effect*: the checker itself may leave an indeterminate
  operation out of the linearization entirely, so models need not do anything.
- *took effect*: the checker calls ``step(state, input, UNKNOWN)``, where
  :data:`UNKNOWN` is a sentinel (not ``None``, which is an ordinary register
  value). A model must then accept any output and return the state as if the
  operation had been applied. For a compare-and-set this is deterministic:
  applied in ``state`` it succeeds iff the value equals ``old``; the
  "did not take effect" branch is the one the checker covers by leaving the
  operation out, so both outcomes are explored.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final, Protocol, TypeVar, runtime_checkable

from lmteams.consensus.testing.history import Operation

__all__ = ["UNKNOWN", "KVModel", "Model", "RegisterModel", "describe_default"]

S = TypeVar("S")


class _Unknown:
    """Type of :data:`UNKNOWN`; a singleton so ``is`` comparisons work."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
"""Output passed to ``Model.step`` for an operation whose outcome is unknown."""


def describe_default(input: Any, output: Any) -> str:
    """Fallback rendering used when a model has no ``describe``."""
    if output is UNKNOWN:
        return f"{input!r} -> ?"
    return f"{input!r} -> {output!r}"


@runtime_checkable
class Model(Protocol[S]):
    """A sequential specification. Subclass it to inherit the defaults."""

    def init(self) -> S: ...

    def step(self, state: S, input: Any, output: Any) -> tuple[bool, S]: ...

    def partition(self, ops: list[Operation]) -> list[list[Operation]]:
        return [list(ops)]

    def partition_label(self, ops: list[Operation]) -> Hashable | None:
        return None

    def describe(self, input: Any, output: Any) -> str:
        return describe_default(input, output)


def _call(name: str, *args: Any) -> str:
    return f"{name}({', '.join(repr(a) for a in args)})"


def _with_output(call: str, output: Any, show: bool) -> str:
    if output is UNKNOWN:
        return f"{call} -> ?"
    return f"{call} -> {output!r}" if show else call


class RegisterModel(Model[Any]):
    """One read/write register with compare-and-set.

    Inputs: ``("put", v)`` (output ignored), ``("get",)`` (output: the value),
    ``("cas", old, new)`` (output: ``True`` iff the value equalled ``old``, in
    which case it becomes ``new``). Values must be hashable.
    """

    def __init__(self, initial: Hashable = None) -> None:
        self.initial = initial

    def init(self) -> Any:
        return self.initial

    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        kind = input[0]
        if kind == "put":
            return True, input[1]
        if kind == "get":
            return output is UNKNOWN or output == state, state
        if kind == "cas":
            _, old, new = input
            return _cas(state == old, output, state, new)
        raise ValueError(f"RegisterModel: unknown operation {input!r}")

    def describe(self, input: Any, output: Any) -> str:
        kind = input[0]
        return _with_output(_call(kind, *input[1:]), output, show=kind != "put")


def _cas(hit: bool, output: Any, state: Any, new: Any) -> tuple[bool, Any]:
    """A cas applied in a state; an unknown output accepts the applied result."""
    after = new if hit else state
    if output is UNKNOWN:
        return True, after
    # A wrong report (True on a miss, False on a hit) is illegal.
    return output == hit, after


# KV states are frozensets of (key, value) pairs: hashable, order-free, and a
# key mapped to ``initial`` is stored as absent so equal stores hash equally.
KVState = frozenset[tuple[Hashable, Hashable]]


class KVModel(Model[KVState]):
    """A key-value store, checked one key at a time.

    Inputs: ``("put", key, value)``, ``("get", key)``, ``("cas", key, old,
    new)`` and ``("delete", key)``. A missing or deleted key reads as
    ``initial``. Outputs of put and delete are ignored. Keys and values must
    be hashable. ``partition`` splits by key, so each partition is a register.
    """

    def __init__(self, initial: Hashable = None) -> None:
        self.initial = initial

    def init(self) -> KVState:
        return frozenset()

    def step(self, state: KVState, input: Any, output: Any) -> tuple[bool, KVState]:
        kind, key = input[0], input[1]
        current = self._get(state, key)
        if kind == "put":
            return True, self._set(state, key, input[2])
        if kind == "delete":
            return True, self._set(state, key, self.initial)
        if kind == "get":
            return output is UNKNOWN or output == current, state
        if kind == "cas":
            _, _, old, new = input
            legal, value = _cas(current == old, output, current, new)
            return legal, self._set(state, key, value)
        raise ValueError(f"KVModel: unknown operation {input!r}")

    def partition(self, ops: list[Operation]) -> list[list[Operation]]:
        by_key: dict[Hashable, list[Operation]] = {}
        for op in ops:
            by_key.setdefault(op.input[1], []).append(op)
        return list(by_key.values())

    def partition_label(self, ops: list[Operation]) -> Hashable | None:
        return ops[0].input[1] if ops else None

    def describe(self, input: Any, output: Any) -> str:
        kind = input[0]
        return _with_output(_call(kind, *input[1:]), output, show=kind in ("get", "cas"))

    def _get(self, state: KVState, key: Hashable) -> Any:
        for k, v in state:
            if k == key:
                return v
        return self.initial

    def _set(self, state: KVState, key: Hashable, value: Hashable) -> KVState:
        rest = frozenset(item for item in state if item[0] != key)
        if value == self.initial:
            return rest
        return rest | {(key, value)}
