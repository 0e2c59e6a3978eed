"""Linearizability checking of client histories against a sequential model.

To check your own state machine:

1. Write a model (see :mod:`consensus.testing.models`): ``init()`` returns a
   hashable initial state and ``step(state, input, output)`` returns
   ``(legal, next_state)``. Optionally ``partition(ops)`` splits the history
   into independently checkable parts (for example per key), and
   ``describe(input, output)`` renders an operation for reports. For an
   operation whose outcome is unknown the checker passes ``output=UNKNOWN``;
   the model should accept it and apply the operation.
2. Record a :class:`~consensus.testing.history.History` while the system runs:
   ``op = h.invoke(client, input)`` before the call, ``h.complete(op, output)``
   after it, ``h.fail(op)`` if it certainly had no effect; anything left open
   is indeterminate (it may or may not have taken effect).
3. ``result = check_linearizable(h, MyModel(), timeout_s=10)``; ``bool(result)``
   is true iff linearizable, ``result.verdict`` distinguishes "not
   linearizable" from "unknown" (timeout), and ``print(result)`` shows a
   1-minimal failing sub-history.

>>> from consensus.testing.history import Operation
>>> from consensus.testing.models import RegisterModel
>>> ops = [Operation("a", ("put", 1), None, 0, 1), Operation("b", ("get",), None, 2, 3)]
>>> check_linearizable(ops, RegisterModel()).verdict
'not linearizable'

The search is Wing & Gong's with Lowe's memoization, as in porcupine: call
and return events sit in a doubly-linked list ordered by time; the search
repeatedly linearizes an operation whose call precedes every remaining return
(so real-time order is respected), caches each (linearized set, model state)
it has reached so no configuration is explored twice, and backtracks when a
return is reached before its operation was linearized. Indeterminate
operations have no return event (their return is at +infinity) and may be
left out of the linearization. Events at equal times order calls before
returns, so touching intervals count as concurrent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from consensus.testing.history import History, Operation
from consensus.testing.models import UNKNOWN, Model, describe_default

__all__ = ["LinearizabilityResult", "Verdict", "check_linearizable"]

Verdict = Literal["linearizable", "not linearizable", "unknown"]

# Deadline is polled every this many search steps: time.monotonic is not free.
_POLL_EVERY = 1024
# Minimization budgets in search steps, floors and multiples of what the
# original failing check cost: shrinking stays fast and deterministic.
_MIN_STEPS_PER_CHECK = 200_000
_MIN_STEPS_TOTAL = 5_000_000
_CHECK_FACTOR = 2
_TOTAL_FACTOR = 50


@dataclass(frozen=True)
class LinearizabilityResult:
    """Outcome of :func:`check_linearizable`. ``bool(result)`` is ``result.ok``."""

    verdict: Verdict
    partitions: int
    operations: int
    failing_partition: Hashable | None = None
    counterexample: list[Operation] | None = None
    timed_out: bool = False
    minimal: bool = False  # counterexample proven 1-minimal (budgets not hit)
    _lines: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.verdict == "linearizable"

    def __bool__(self) -> bool:
        return self.ok

    def explain(self) -> str:
        head = f"{self.verdict} ({self.operations} operations in {self.partitions} partitions)"
        if self.verdict == "unknown":
            return head + ": the search timed out before reaching a verdict"
        if self.counterexample is None:
            return head
        kind = "1-minimal" if self.minimal else "reduced (not proven minimal)"
        lines = [
            head,
            f"partition {self.failing_partition!r}: {kind} non-linearizable sub-history,",
            "ordered by call time ([call..return], '?' = outcome unknown):",
            *(f"  {line}" for line in self._lines),
            "(dropping any one listed op makes it linearizable; ops left out may",
            "include writes the original history needed, so a read can look unexplained)",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()


class _Timeout(Exception):
    """The deadline or step budget ran out."""


@dataclass
class _Budget:
    """Bounds one search: wall-clock deadline and/or number of steps."""

    deadline: float | None = None
    max_steps: int | None = None
    steps: int = 0

    def record(self, n: int) -> None:
        """Count steps of a search that already finished: never raises."""
        self.steps += n

    def charge(self, n: int) -> None:
        self.steps += n
        if self.max_steps is not None and self.steps > self.max_steps:
            raise _Timeout
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise _Timeout


def check_linearizable(
    history: History | Iterable[Operation],
    model: Model[Any],
    *,
    timeout_s: float | None = None,
    minimize: bool = True,
) -> LinearizabilityResult:
    """Check ``history`` against ``model``, one partition at a time.

    Returns verdict "linearizable", "not linearizable" (with a counterexample
    from the first failing partition, shrunk to a 1-minimal sub-history when
    ``minimize``), or "unknown" if ``timeout_s`` elapsed first.
    """
    ops = history.operations() if isinstance(history, History) else list(history)
    _validate(ops)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    parts = _partition(model, ops)
    for index, part in enumerate(parts):
        try:
            if deadline is not None and time.monotonic() >= deadline:
                raise _Timeout
            budget = _Budget(deadline)
            ok = _is_linearizable(part, model, budget)
        except _Timeout:
            return LinearizabilityResult("unknown", len(parts), len(ops), timed_out=True)
        if not ok:
            if minimize:
                cex, minimal = _minimize(part, model, deadline, budget.steps)
            else:
                cex, minimal = part, False
            return _failure(model, part, index, len(parts), len(ops), cex, minimal)
    return LinearizabilityResult("linearizable", len(parts), len(ops))


def _validate(ops: list[Operation]) -> None:
    for op in ops:
        if not isinstance(op, Operation):
            raise TypeError(f"expected Operation, got {type(op).__name__}")
        if op.ret is not None and op.ret < op.call:
            raise ValueError(f"operation returns before it is called: {op}")


def _partition(model: Model[Any], ops: list[Operation]) -> list[list[Operation]]:
    split = getattr(model, "partition", None)
    parts = split(ops) if callable(split) else [ops]
    if sum(len(p) for p in parts) != len(ops):
        raise ValueError("model.partition must place every operation in exactly one partition")
    return [list(p) for p in parts]


def _label(model: Model[Any], part: list[Operation], index: int) -> Hashable:
    name = getattr(model, "partition_label", None)
    label = name(part) if callable(name) else None
    return index if label is None else label


def _failure(
    model: Model[Any],
    part: list[Operation],
    index: int,
    partitions: int,
    operations: int,
    cex: list[Operation],
    minimal: bool,
) -> LinearizabilityResult:
    """Build the "not linearizable" result with a rendered counterexample."""
    describe: Callable[[Any, Any], str] = getattr(model, "describe", describe_default)
    lines = tuple(_render(op, describe) for op in sorted(cex, key=lambda o: o.call))
    return LinearizabilityResult(
        "not linearizable",
        partitions,
        operations,
        failing_partition=_label(model, part, index),
        counterexample=cex,
        minimal=minimal,
        _lines=lines,
    )


def _render(op: Operation, describe: Callable[[Any, Any], str]) -> str:
    end = "?" if op.ret is None else f"{op.ret:g}"
    output = UNKNOWN if op.ret is None else op.output
    return f"[{op.call:g}..{end}] client={op.client}: {describe(op.input, output)}"


# --- the search ---------------------------------------------------------------


@dataclass
class _Events:
    """Call/return events as a doubly-linked list over arrays.

    Entry 0 is the head sentinel and entry ``n + 1`` the tail; entries in
    between are events sorted by time. Arrays beat node objects in CPython.
    """

    nxt: list[int]
    prv: list[int]
    op: list[int]  # operation index of each entry
    ret_of: list[int]  # for a call entry: its return entry, or -1 (none/pending)
    is_call: list[bool]

    @classmethod
    def build(cls, ops: list[Operation]) -> _Events:
        events: list[tuple[float, int, int]] = []  # (time, 0=call/1=return, op)
        for i, o in enumerate(ops):
            events.append((o.call, 0, i))
            if o.ret is not None:
                events.append((o.ret, 1, i))
        # Calls before returns at equal times: touching intervals are concurrent.
        events.sort()
        n = len(events)
        op = [-1] * (n + 2)
        is_call = [False] * (n + 2)
        ret_of = [-1] * (n + 2)
        call_entry = [0] * len(ops)
        for pos, (_, kind, i) in enumerate(events, start=1):
            op[pos] = i
            if kind == 0:
                is_call[pos] = True
                call_entry[i] = pos
            else:
                ret_of[call_entry[i]] = pos
        nxt = list(range(1, n + 2)) + [n + 1]
        prv = [0] + list(range(0, n + 1))
        return cls(nxt, prv, op, ret_of, is_call)

    def _unlink(self, e: int) -> None:
        self.nxt[self.prv[e]] = self.nxt[e]
        self.prv[self.nxt[e]] = self.prv[e]

    def _relink(self, e: int) -> None:
        self.nxt[self.prv[e]] = e
        self.prv[self.nxt[e]] = e

    def lift(self, call: int) -> None:
        self._unlink(call)
        if self.ret_of[call] >= 0:
            self._unlink(self.ret_of[call])

    def unlift(self, call: int) -> None:
        # Dancing links: relink in reverse order of unlinking.
        if self.ret_of[call] >= 0:
            self._relink(self.ret_of[call])
        self._relink(call)


def _is_linearizable(ops: list[Operation], model: Model[Any], budget: _Budget) -> bool:
    """Wing & Gong / Lowe just-in-time linearization search, iterative."""
    ev = _Events.build(ops)
    inputs = [o.input for o in ops]
    outputs = [UNKNOWN if o.ret is None else o.output for o in ops]
    step = model.step
    nxt, is_call, op_of = ev.nxt, ev.is_call, ev.op

    state: Any = model.init()
    linearized = 0  # bitset of linearized operation indices
    cache: set[tuple[int, Any]] = {(linearized, state)}
    stack: list[tuple[int, Any]] = []  # (call entry lifted, state before it)
    # Done when every completed op is linearized; pending ones may be left out.
    returns_left = sum(1 for o in ops if o.ret is not None)
    entry = nxt[0]
    steps = 0
    while returns_left:
        steps += 1
        if steps == _POLL_EVERY:
            budget.charge(steps)
            steps = 0
        if is_call[entry]:
            i = op_of[entry]
            legal, new_state = step(state, inputs[i], outputs[i])
            if legal:
                key = (linearized | (1 << i), new_state)
                if key not in cache:
                    cache.add(key)
                    stack.append((entry, state))
                    state, linearized = new_state, key[0]
                    ev.lift(entry)
                    returns_left -= ev.ret_of[entry] >= 0
                    entry = nxt[0]
                    continue
            entry = nxt[entry]
        else:
            # A return (or the tail) before its op was linearized: backtrack.
            if not stack:
                budget.record(steps)
                return False
            entry, state = stack.pop()
            linearized &= ~(1 << op_of[entry])
            ev.unlift(entry)
            returns_left += ev.ret_of[entry] >= 0
            entry = nxt[entry]
    budget.record(steps)
    return True


# --- counterexample minimization ----------------------------------------------


def _minimize(
    ops: list[Operation], model: Model[Any], deadline: float | None, cost: int
) -> tuple[list[Operation], bool]:
    """Shrink a failing partition to a 1-minimal failing sub-history.

    Pending operations go first: they can always be left out of a
    linearization, so dropping them never turns a failure into a success.
    Then ddmin-style chunk removal, then single-op removal to a fixpoint.
    Checks that exhaust their step budget count as "linearizable" (keep the
    op), so the result always fails; ``minimal`` is False if that happened,
    or if the overall budget or deadline stopped shrinking early.
    """
    per_check = max(_MIN_STEPS_PER_CHECK, _CHECK_FACTOR * cost)
    total = _Budget(deadline, max(_MIN_STEPS_TOTAL, _TOTAL_FACTOR * cost))
    undecided = False

    def fails(candidate: list[Operation]) -> bool:
        nonlocal undecided
        one = _Budget(deadline, per_check)
        try:
            result = not _is_linearizable(candidate, model, one)
        except _Timeout:
            undecided = True
            result = False
        total.charge(one.steps)
        return result

    current = [o for o in ops if o.ret is not None] or list(ops)
    try:
        current = _shrink_chunks(current, fails)
        current = _shrink_single(current, fails)
    except _Timeout:
        return current, False
    return current, not undecided


def _shrink_chunks(
    ops: list[Operation], fails: Callable[[list[Operation]], bool]
) -> list[Operation]:
    """Remove ever-smaller chunks while the rest still fails (ddmin complements)."""
    parts = 2
    while len(ops) > parts:
        size = -(-len(ops) // parts)
        for start in range(0, len(ops), size):
            candidate = ops[:start] + ops[start + size :]
            if fails(candidate):
                ops, parts = candidate, max(parts - 1, 2)
                break
        else:
            parts *= 2
    return ops


def _shrink_single(
    ops: list[Operation], fails: Callable[[list[Operation]], bool]
) -> list[Operation]:
    """Drop single ops until none can go: the result is 1-minimal."""
    changed = True
    while changed:
        changed = False
        i = 0
        while i < len(ops):
            candidate = ops[:i] + ops[i + 1 :]
            if fails(candidate):
                ops, changed = candidate, True
            else:
                i += 1
    return ops
