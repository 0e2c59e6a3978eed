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
   minimal failing sub-history (see "Counterexamples" below).

>>> from lmteams.consensus.testing.history import Operation
>>> from lmteams.consensus.testing.models import RegisterModel
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
returns, so touching intervals count as concurrent. Histories with many
indeterminate operations (any subset of which may have taken effect) are
kept tractable by also pruning configurations *dominated* by another with
fewer indeterminate operations applied (see :func:`_is_linearizable`).

Counterexamples
---------------
A failing partition is shrunk by *weakening* operations before deleting
any: weakening a completed operation keeps its call time and input but
forgets its outcome (``ret=None``, ``output=None``), so it may take effect
at any time after its call, with any output, or not at all. Weakening only
ever adds possible linearizations, so a write that some read depends on
stays available as an explanation. The reported ``counterexample`` C is a
sub-history of the partition (same operations, input order) in which some
completed operations are weakened (``result.weakened`` lists their
positions in C) and some operations with unknown outcome are left out, and
C is *minimal* in this sense:

1. C is not linearizable.
2. Every operation of C with a known outcome is needed: weakening any one
   of them makes C linearizable. Moreover, the partition with every
   operation outside that set weakened (nothing deleted) is not
   linearizable either: the known outcomes in C are a failing core of the
   original history, checked with every other operation of it available as
   a possible explanation.
3. Every operation of C with unknown outcome (weakened, or indeterminate in
   the input) is needed to explain why some known outcome matters: deleting
   it leaves C failing (it always would) but makes some known-outcome
   operation no longer needed in the sense of (2). Operations whose removal
   changes nothing about which outcomes matter are left out.

Completed operations are never deleted while their outcome is needed, so a
stale read ``put(1); put(2); get() -> 1`` keeps both writes: weakening
``put(2)`` would let it be ordered away, weakening ``put(1)`` would let it
take effect after ``put(2)``. (Deleting ``put(1)`` would still fail, but as
a read of a value never written: a different explanation.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from lmteams.consensus.testing.history import History, Operation
from lmteams.consensus.testing.models import UNKNOWN, Model, describe_default

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
# States probed to tell an op that changes the state (a write) from one that
# only observes it, to weaken observations first when shrinking.
_PROBE_STATES = 8


@dataclass(frozen=True)
class LinearizabilityResult:
    """Outcome of :func:`check_linearizable`. ``bool(result)`` is ``result.ok``."""

    verdict: Verdict
    partitions: int
    operations: int
    failing_partition: Hashable | None = None
    counterexample: list[Operation] | None = None
    timed_out: bool = False
    # Counterexample proven minimal in the module docstring's sense (no
    # shrinking check or budget ran out).
    minimal: bool = False
    # Positions in ``counterexample`` of completed input ops shown weakened
    # (outcome treated as unknown: ``ret`` and ``output`` are None).
    weakened: tuple[int, ...] = ()
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
        kind = "minimal" if self.minimal else "reduced (not proven minimal)"
        lines = [
            head,
            f"partition {self.failing_partition!r}: {kind} non-linearizable sub-history,",
            "ordered by call time ([call..return], '?' = outcome unknown):",
            *(f"  {line}" for line in self._lines),
        ]
        if self.minimal:
            lines += [
                "(treating any one known outcome above as unknown makes it linearizable;",
                "an op shown with '?' may take effect or not, and is listed because it",
                "may explain an outcome that the failure depends on)",
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
    from the first failing partition, shrunk to a minimal sub-history when
    ``minimize``: see "Counterexamples" in the module docstring), or
    "unknown" if ``timeout_s`` elapsed first.
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
                cex, weakened, minimal = _minimize(part, model, deadline, budget.steps)
            else:
                cex, weakened, minimal = part, (), False
            return _failure(model, part, index, len(parts), len(ops), cex, weakened, minimal)
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
    weakened: tuple[int, ...],
    minimal: bool,
) -> LinearizabilityResult:
    """Build the "not linearizable" result with a rendered counterexample."""
    describe: Callable[[Any, Any], str] = getattr(model, "describe", describe_default)
    weak = set(weakened)
    order = sorted(range(len(cex)), key=lambda i: cex[i].call)
    lines = tuple(_render(cex[i], describe, i in weak) for i in order)
    return LinearizabilityResult(
        "not linearizable",
        partitions,
        operations,
        failing_partition=_label(model, part, index),
        counterexample=cex,
        minimal=minimal,
        weakened=weakened,
        _lines=lines,
    )


def _render(op: Operation, describe: Callable[[Any, Any], str], weakened: bool = False) -> str:
    end = "?" if op.ret is None else f"{op.ret:g}"
    output = UNKNOWN if op.ret is None else op.output
    line = f"[{op.call:g}..{end}] client={op.client}: {describe(op.input, output)}"
    return line + "  [outcome treated as unknown]" if weakened else line


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
    """Wing & Gong / Lowe just-in-time linearization search.

    Without indeterminate ops this is one search with Lowe's exact memo of
    (linearized set, state). Indeterminate ops can make that exponential
    (any subset of them may have taken effect; shrinking creates many by
    weakening), so configurations are also pruned by *dominance*: one with
    the same completed ops linearized, the same state and a subset of the
    indeterminate ops linearized can do everything this one can (an
    indeterminate op has no return to wait for and may be left out). Two
    exact searches then run interleaved, and the first to finish answers:

    - "failed" prunes only configurations dominated by one already explored
      to the end without success: it skips only failing subtrees, so it
      finds a linearization no later than the plain search does;
    - "visited" prunes configurations dominated by any visited one, which
      may defer finding a linearization but usually proves failure far
      faster (it is complete: whatever the dominated configuration could
      reach, the dominating one reaches too).
    """
    searches = [_search(ops, model, prune_visited=False)]
    if any(o.ret is None for o in ops):
        searches.append(_search(ops, model, prune_visited=True))
    while True:
        for search in searches:
            try:
                steps = next(search)
            except StopIteration as done:
                ok, steps = done.value
                budget.record(steps)
                return bool(ok)
            budget.charge(steps)


def _search(ops: list[Operation], model: Model[Any], *, prune_visited: bool) -> Generator[int, None, tuple[bool, int]]:
    """One search; yields its step count every ``_POLL_EVERY`` steps and
    returns ``(linearizable, remaining steps)``. Dominance checks count one
    step per set compared."""
    ev = _Events.build(ops)
    inputs = [o.input for o in ops]
    outputs = [UNKNOWN if o.ret is None else o.output for o in ops]
    pending = sum(1 << i for i, o in enumerate(ops) if o.ret is None)
    completed = ((1 << len(ops)) - 1) & ~pending
    step = model.step
    nxt, is_call, op_of = ev.nxt, ev.is_call, ev.op

    state: Any = model.init()
    linearized = 0  # bitset of linearized operation indices
    cache: set[tuple[int, Any]] = {(linearized, state)}
    # (completed ops linearized, state) -> antichain of indeterminate-op sets
    # linearized in configurations visited / explored without success.
    dominators: dict[tuple[int, Any], list[int]] = {}
    if prune_visited:
        dominators[(0, state)] = [0]
    stack: list[tuple[int, Any]] = []  # (call entry lifted, state before it)
    # Done when every completed op is linearized; pending ones may be left out.
    returns_left = sum(1 for o in ops if o.ret is not None)
    entry = nxt[0]
    steps = 0
    while returns_left:
        steps += 1
        if steps >= _POLL_EVERY:
            yield steps
            steps = 0
        if is_call[entry]:
            i = op_of[entry]
            legal, new_state = step(state, inputs[i], outputs[i])
            if legal:
                new = linearized | (1 << i)
                key = (new, new_state)
                fresh = key not in cache
                if fresh and pending:
                    masks = dominators.get((new & completed, new_state))
                    if masks is not None:
                        fresh, scanned = _undominated(masks, new & pending, prune_visited)
                        steps += scanned
                    elif prune_visited:
                        dominators[(new & completed, new_state)] = [new & pending]
                if fresh:
                    cache.add(key)
                    stack.append((entry, state))
                    state, linearized = new_state, new
                    ev.lift(entry)
                    returns_left -= ev.ret_of[entry] >= 0
                    entry = nxt[0]
                    continue
            entry = nxt[entry]
        else:
            # A return (or the tail) before its op was linearized: backtrack.
            if not stack:
                return False, steps
            if pending and not prune_visited:
                masks = dominators.setdefault((linearized & completed, state), [])
                steps += _undominated(masks, linearized & pending, True)[1]
            entry, state = stack.pop()
            linearized &= ~(1 << op_of[entry])
            ev.unlift(entry)
            returns_left += ev.ret_of[entry] >= 0
            entry = nxt[entry]
    return True, steps


def _undominated(masks: list[int], maybe: int, add: bool) -> tuple[bool, int]:
    """Whether no set in the antichain ``masks`` is a subset of ``maybe``;
    if so and ``add``, insert ``maybe`` (dropping its supersets). Also
    returns the number of sets compared, as a cost."""
    for m in masks:
        if m | maybe == maybe:
            return False, len(masks)
    if add:
        masks[:] = [m for m in masks if m | maybe != m]
        masks.append(maybe)
    return True, len(masks)


# --- counterexample minimization ----------------------------------------------


def _weaken(op: Operation) -> Operation:
    """The same call with its outcome forgotten: it may or may not take effect."""
    return Operation(op.client, op.input, None, op.call, None, op.id)


def _minimize(
    ops: list[Operation], model: Model[Any], deadline: float | None, cost: int
) -> tuple[list[Operation], tuple[int, ...], bool]:
    """Shrink a failing partition to a minimal counterexample (module docstring).

    Returns ``(counterexample, weakened positions, proven minimal)``.

    Phase 1 chooses the set K of completed ops whose outcomes stay known: it
    weakens every other completed op, keeping every op present, and shrinks K
    while the history still fails (ddmin chunks, then single ops), first
    among ops that only observe the state, then among those that change it.
    Weakening more only adds linearizations, so K ends up 1-minimal: an op
    that could not be weakened earlier cannot be weakened later either.
    Phase 2 deletes ops with unknown outcome (weakened or indeterminate in
    the input) while every op of K stays needed, i.e. weakening it still
    makes the history linearizable; deleting one of them never makes a
    failing history pass, and that test is monotone too.

    Each check is bounded in search steps, as is the whole shrink, so the
    result is deterministic. A check that runs out counts against the change
    (the op stays known in phase 1, stays present in phase 2), so the result
    always fails; ``minimal`` is False if that happened or if the overall
    budget or deadline stopped shrinking early.
    """
    per_check = max(_MIN_STEPS_PER_CHECK, _CHECK_FACTOR * cost)
    total = _Budget(deadline, max(_MIN_STEPS_TOTAL, _TOTAL_FACTOR * cost))
    undecided = False
    weak = {i: _weaken(o) for i, o in enumerate(ops) if o.ret is not None}

    def build(present: Iterable[int], known: set[int]) -> list[Operation]:
        return [ops[i] if i in known or i not in weak else weak[i] for i in present]

    def linearizable(candidate: list[Operation]) -> bool | None:
        """True/False, or None if the check ran out of steps."""
        one = _Budget(deadline, per_check)
        try:
            result: bool | None = _is_linearizable(candidate, model, one)
        except _Timeout:
            result = None
        total.charge(one.steps)
        return result

    everything = range(len(ops))
    # Progress so far, kept up to date so that running out of budget mid-way
    # still returns the smallest history verified to fail (None: phase 2 has
    # not started, so every op is still present).
    known = sorted(weak)
    unknown: list[int] | None = None

    def still_fails(candidate_known: list[int]) -> bool:
        nonlocal undecided, known
        verdict = linearizable(build(everything, set(candidate_known)))
        undecided |= verdict is None
        if verdict is False:
            known = sorted(candidate_known)
        return verdict is False

    mutators = _mutators(ops, model)

    def all_known_needed(candidate_unknown: list[int]) -> bool:
        nonlocal undecided, unknown
        keep = set(known)
        rest = sorted(keep.union(candidate_unknown))
        for y in known:
            verdict = linearizable(build(rest, keep - {y}))
            undecided |= verdict is None
            if verdict is not True:
                return False
        unknown = candidate_unknown
        return True

    try:
        # Observers (reads) are weakened before mutators (writes), and later
        # ops before earlier ones, so the outcomes kept tend to be the writes
        # a failure is blamed on and the fewest reads that expose it.
        writes = [i for i in known if i in mutators]
        _shrink([i for i in known[::-1] if i not in mutators], lambda c: still_fails(c + writes))
        reads = [i for i in known if i not in mutators]
        _shrink(writes[::-1], lambda c: still_fails(reads + c))
        unknown = [i for i in everything if i not in set(known)]
        _shrink(unknown, all_known_needed)
    except _Timeout:
        undecided = True
    keep = set(known)
    present = list(everything) if unknown is None else sorted(keep.union(unknown))
    cex = build(present, keep)
    weakened = tuple(pos for pos, i in enumerate(present) if i in weak and i not in keep)
    return cex, weakened, not undecided


def _mutators(ops: list[Operation], model: Model[Any]) -> set[int]:
    """Indices of completed ops that change the model state (applied with an
    unknown output) in one of a few probe states: the initial state and its
    first distinct successors. Only orders the shrinking; a wrong guess costs
    nothing but a less tidy counterexample."""
    init = model.init()
    probes = [init]
    for o in ops:
        if len(probes) >= _PROBE_STATES:
            break
        legal, after = model.step(init, o.input, UNKNOWN)
        if legal and after not in probes:
            probes.append(after)
    found = set()
    for i, o in enumerate(ops):
        if o.ret is None:
            continue
        for state in probes:
            legal, after = model.step(state, o.input, UNKNOWN)
            if legal and after != state:
                found.add(i)
                break
    return found


def _shrink(items: list[int], accept: Callable[[list[int]], bool]) -> list[int]:
    """Remove chunks, then single items, while ``accept`` holds of the rest.

    ``accept`` must be monotone (if it holds for a list it holds for every
    superset) for the single pass to leave a 1-minimal list: an item that
    could not go then cannot go later either.
    """
    items = _shrink_chunks(items, accept)
    i = 0
    while i < len(items):
        candidate = items[:i] + items[i + 1 :]
        if accept(candidate):
            items = candidate
        else:
            i += 1
    return items


def _shrink_chunks(items: list[int], accept: Callable[[list[int]], bool]) -> list[int]:
    """Remove ever-smaller chunks while the rest is accepted (ddmin complements)."""
    parts = 2
    while len(items) > parts:
        size = -(-len(items) // parts)
        for start in range(0, len(items), size):
            candidate = items[:start] + items[start + size :]
            if accept(candidate):
                items, parts = candidate, max(parts - 1, 2)
                break
        else:
            parts *= 2
    return items
