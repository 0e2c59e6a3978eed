"""Tests for consensus.testing.linearizability and consensus.testing.models.

Expected verdicts come from reasoning about the histories (noted per test),
and the property tests generate histories from a reference implementation
that is independent of the models under test.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import lmteams.consensus.testing.linearizability as lin
from lmteams.consensus.testing.history import History, Operation
from lmteams.consensus.testing.linearizability import LinearizabilityResult, check_linearizable
from lmteams.consensus.testing.models import UNKNOWN, KVModel, Model, RegisterModel

NEVER_WRITTEN = 999


def op(client: Hashable, input: tuple[Any, ...], output: Any, call: float, ret: float | None) -> Operation:
    return Operation(client, input, output, call, ret)


def put(c: Hashable, v: Any, call: float, ret: float | None) -> Operation:
    return op(c, ("put", v), None, call, ret)


def get(c: Hashable, out: Any, call: float, ret: float | None) -> Operation:
    return op(c, ("get",), out, call, ret)


def cas(c: Hashable, old: Any, new: Any, out: Any, call: float, ret: float | None) -> Operation:
    return op(c, ("cas", old, new), out, call, ret)


def kput(c: Hashable, k: str, v: Any, call: float, ret: float | None) -> Operation:
    return op(c, ("put", k, v), None, call, ret)


def kget(c: Hashable, k: str, out: Any, call: float, ret: float | None) -> Operation:
    return op(c, ("get", k), out, call, ret)


def assert_rejected(ops: list[Operation], model: Model[Any] | None = None) -> LinearizabilityResult:
    result = check_linearizable(ops, model or RegisterModel())
    assert result.verdict == "not linearizable", result
    assert not result.ok and not bool(result) and not result.timed_out
    assert_valid_counterexample(ops, result, model or RegisterModel())
    return result


def weaken(o: Operation) -> Operation:
    """The same call with its outcome forgotten, as the minimizer shows it."""
    return Operation(o.client, o.input, None, o.call, None, o.id)


def counterexample_sources(ops: Sequence[Operation], result: LinearizabilityResult) -> list[int]:
    """Positions in ``ops`` of the counterexample's ops, which must form an
    order-preserving sub-history: each op is an input op itself, or (at the
    positions ``result.weakened``) a weakened copy of a completed input op."""
    cex = result.counterexample
    assert cex is not None
    weak = set(result.weakened)
    assert weak <= set(range(len(cex)))
    sources: list[int] = []
    start = 0
    for pos, c in enumerate(cex):
        if pos in weak:
            assert c.ret is None and c.output is None, f"weakened op keeps its outcome: {c}"
            found = [i for i in range(start, len(ops)) if ops[i].completed and weaken(ops[i]) == c]
        else:
            found = [i for i in range(start, len(ops)) if ops[i] is c]
        assert found, f"{c} is not a later op of the input: not an order-preserving sub-history"
        sources.append(found[0])
        start = found[0] + 1
    return sources


def assert_valid_counterexample(ops: Sequence[Operation], result: LinearizabilityResult, model: Model[Any]) -> None:
    """The counterexample fails, is an order-preserving sub-history modulo
    weakening, and (when ``result.minimal``) is minimal as documented:

    - weakening any op with a known outcome makes it linearizable;
    - the failing partition with every other op weakened still fails;
    - deleting any op with unknown outcome makes some known op unneeded.
    """
    cex = result.counterexample
    assert cex is not None and len(cex) >= 1
    sources = counterexample_sources(ops, result)
    assert not check_linearizable(cex, model, minimize=False)
    if not result.minimal:
        return
    known = [i for i, o in enumerate(cex) if o.completed]
    assert known, "a history with no known outcome is always linearizable"

    def weakened_at(history: list[Operation], i: int) -> list[Operation]:
        return history[:i] + [weaken(history[i])] + history[i + 1 :]

    for i in known:
        assert check_linearizable(weakened_at(cex, i), model, minimize=False), (
            f"weakening {cex[i]} keeps it failing: not minimal"
        )
    # The known outcomes fail with the whole partition as possible explanations.
    source_ops = [ops[j] for j in sources]
    part = next(p for p in model.partition(list(ops)) if any(o is source_ops[0] for o in p))
    kept = {id(ops[sources[i]]) for i in known}
    assert not check_linearizable(
        [o if id(o) in kept else weaken(o) if o.completed else o for o in part],
        model,
        minimize=False,
    ), "the known outcomes alone do not fail within the original partition"
    for x in range(len(cex)):
        if cex[x].completed:
            continue
        smaller = cex[:x] + cex[x + 1 :]
        assert not check_linearizable(smaller, model, minimize=False)  # always true
        still_needed = [
            bool(check_linearizable(weakened_at(smaller, i), model, minimize=False))
            for i, o in enumerate(smaller)
            if o.completed
        ]
        assert not all(still_needed), f"{cex[x]} explains nothing: not minimal"


# --- model unit tests --------------------------------------------------------


def test_register_model_step_semantics() -> None:
    m = RegisterModel(initial=0)
    s = m.init()
    assert s == 0
    assert m.step(s, ("put", 5), None) == (True, 5)
    assert m.step(5, ("get",), 5) == (True, 5)
    assert m.step(5, ("get",), 4)[0] is False
    assert m.step(5, ("cas", 5, 6), True) == (True, 6)
    assert m.step(5, ("cas", 4, 6), False) == (True, 5)
    assert m.step(5, ("cas", 4, 6), True)[0] is False
    assert m.step(5, ("cas", 5, 6), False)[0] is False
    # Unknown outputs are accepted and the op is applied.
    assert m.step(5, ("get",), UNKNOWN) == (True, 5)
    assert m.step(5, ("cas", 5, 6), UNKNOWN) == (True, 6)
    assert m.step(5, ("cas", 4, 6), UNKNOWN) == (True, 5)
    with pytest.raises(ValueError):
        m.step(5, ("incr",), None)


def test_kv_model_step_semantics() -> None:
    m = KVModel()
    s = m.init()
    ok, s = m.step(s, ("put", "x", 1), None)
    assert ok
    assert m.step(s, ("get", "x"), 1)[0]
    assert m.step(s, ("get", "y"), None)[0]
    assert not m.step(s, ("get", "x"), None)[0]
    ok, s2 = m.step(s, ("cas", "x", 1, 2), True)
    assert ok and m.step(s2, ("get", "x"), 2)[0]
    ok, s3 = m.step(s2, ("delete", "x"), None)
    assert ok and m.step(s3, ("get", "x"), None)[0]
    assert m.step(s3, ("cas", "x", None, 7), True)[0]
    hash(s3)  # states must be hashable for the memo


def test_kv_partition_splits_by_key_and_labels() -> None:
    ops = [kput("a", "x", 1, 0, 1), kput("a", "y", 2, 2, 3), kget("b", "x", 1, 4, 5)]
    m = KVModel()
    parts = m.partition(ops)
    assert sorted(len(p) for p in parts) == [1, 2]
    assert {m.partition_label(p) for p in parts} == {"x", "y"}
    for p in parts:
        assert len({o.input[1] for o in p}) == 1


def test_describe_renders_ops() -> None:
    assert RegisterModel().describe(("cas", 1, 2), True) == "cas(1, 2) -> True"
    assert RegisterModel().describe(("get",), UNKNOWN) == "get() -> ?"
    assert KVModel().describe(("get", "x"), 3) == "get('x') -> 3"


# --- accepted hand-written histories -----------------------------------------


def test_empty_history_is_linearizable() -> None:
    result = check_linearizable([], RegisterModel())
    assert result.ok and result.operations == 0


def test_reads_overlapping_a_write_may_see_old_then_new() -> None:
    # The write spans [0, 10]; it can take effect between the two reads.
    ops = [put("w", 1, 0, 10), get("r", None, 1, 3), get("r", 1, 4, 6), get("s", 1, 7, 9)]
    result = check_linearizable(ops, RegisterModel())
    assert result.ok and bool(result) and result.verdict == "linearizable"
    assert result.counterexample is None and result.operations == 4


def test_concurrent_writes_either_order() -> None:
    # Two overlapping writes; later readers agree on 1, so 2 went first.
    ops = [
        put("a", 1, 0, 5),
        put("b", 2, 1, 6),
        get("c", 1, 7, 8),
        get("d", 1, 9, 10),
    ]
    assert check_linearizable(ops, RegisterModel())
    ops[2] = get("c", 2, 7, 8)
    ops[3] = get("d", 2, 9, 10)
    assert check_linearizable(ops, RegisterModel())


def test_overlapping_cas_chain() -> None:
    # Three concurrent cas ops; only the order 0->1->2 then the failed 0->5 works.
    ops = [
        put("a", 0, 0, 1),
        cas("b", 1, 2, True, 2, 10),
        cas("c", 0, 1, True, 3, 9),
        cas("d", 0, 5, False, 4, 11),
        get("e", 2, 12, 13),
    ]
    assert check_linearizable(ops, RegisterModel())


def test_history_object_is_accepted() -> None:
    h = History()
    a = h.invoke("a", ("put", 1))
    b = h.invoke("b", ("get",))
    h.complete(b, 1)  # overlapping the put: fine
    h.complete(a, None)
    c = h.invoke("c", ("get",))
    h.complete(c, 1)
    assert check_linearizable(h, RegisterModel())


def test_touching_intervals_count_as_concurrent() -> None:
    # ret == call: the checker treats them as overlapping, so either order is fine.
    ops = [put("a", 1, 0, 5), get("b", None, 5, 6)]
    assert check_linearizable(ops, RegisterModel())


# --- rejected hand-written histories -----------------------------------------


def test_stale_read_after_completed_write() -> None:
    ops = [put("a", 1, 0, 1), put("a", 2, 2, 3), get("b", 1, 4, 5)]
    result = assert_rejected(ops)
    # Every outcome is needed: with put(2) unknown it may never have happened,
    # with put(1) unknown it may have happened after put(2), and an unknown
    # read accepts anything. Deleting put(1) would still fail, but as a read
    # of a value never written: so both writes stay.
    assert result.counterexample == ops and result.weakened == () and result.minimal
    assert result.explain() == "\n".join(
        [
            "not linearizable (3 operations in 1 partitions)",
            "partition 0: minimal non-linearizable sub-history,",
            "ordered by call time ([call..return], '?' = outcome unknown):",
            "  [0..1] client=a: put(1)",
            "  [2..3] client=a: put(2)",
            "  [4..5] client=b: get() -> 1",
            "(treating any one known outcome above as unknown makes it linearizable;",
            "an op shown with '?' may take effect or not, and is listed because it",
            "may explain an outcome that the failure depends on)",
        ]
    )


def test_stale_read_irrelevant_ops_are_dropped() -> None:
    ops = [
        put("a", 1, 0, 1),
        get("c", 1, 1.5, 1.8),  # consistent read: irrelevant
        put("a", 2, 2, 3),
        get("c", 2, 3.2, 3.5),  # consistent read: irrelevant
        get("b", 1, 4, 5),  # stale
        put("d", 3, 6, None),  # pending after everything: irrelevant
        get("e", 3, 7, 8),  # reads the pending write: irrelevant
    ]
    result = assert_rejected(ops)
    assert result.counterexample == [ops[0], ops[2], ops[4]] and result.minimal


def test_sequential_reads_go_back_in_time() -> None:
    # Each read alone is fine (the put of 2 overlaps both); together they are not.
    ops = [put("a", 1, 0, 1), put("b", 2, 2, 10), get("c", 2, 3, 4), get("d", 1, 5, 6)]
    result = assert_rejected(ops)
    assert check_linearizable(ops[:3], RegisterModel())
    assert check_linearizable(ops[:2] + ops[3:], RegisterModel())
    # put(2)'s completion is not needed (it fails even if put(2) may take
    # effect any time after its call), but put(2) itself is: it explains the
    # first read. put(1) explains the second read and must have happened
    # before put(2) was called.
    assert result.minimal
    assert result.counterexample == [ops[0], weaken(ops[1]), ops[2], ops[3]]
    assert result.weakened == (1,)
    text = result.explain()
    assert "[2..?] client=b: put(2) -> ?  [outcome treated as unknown]" in text
    assert "[0..1] client=a: put(1)\n" in text


def test_cas_succeeding_on_value_never_written() -> None:
    ops = [put("a", 1, 0, 1), cas("b", 5, 6, True, 2, 3)]
    result = assert_rejected(ops)
    # The cas alone (initial None != 5) is already illegal.
    assert result.counterexample == [ops[1]]


def test_two_concurrent_cas_cannot_both_win() -> None:
    ops = [put("a", 0, 0, 1), cas("b", 0, 1, True, 2, 5), cas("c", 0, 2, True, 3, 6)]
    assert_rejected(ops)


def test_lost_write() -> None:
    # A completed write whose effect every later read misses.
    ops = [put("a", 1, 0, 1), get("b", None, 2, 3), get("c", None, 4, 5)]
    assert_rejected(ops)


def test_read_of_value_never_written() -> None:
    ops = [put("a", 1, 0, 10), get("b", 7, 2, 3)]
    result = assert_rejected(ops)
    assert result.counterexample == [ops[1]]
    assert result.minimal


def test_real_time_order_violation_that_is_sequentially_consistent() -> None:
    # Sequentially consistent (order get before put: per-client order holds),
    # but not linearizable: the put finished before the get started.
    ops = [put("a", 1, 0, 1), get("b", None, 2, 3)]
    assert_rejected(ops)
    # The very same ops with overlapping intervals are fine.
    assert check_linearizable([put("a", 1, 0, 3), get("b", None, 2, 4)], RegisterModel())


def test_real_time_order_across_clients_classic() -> None:
    # Herlihy & Wing style: A writes 1, B reads 1, then C (after B) reads 0.
    ops = [put("a", 0, 0, 1), put("a", 1, 2, 10), get("b", 1, 3, 4), get("c", 0, 5, 6)]
    assert_rejected(ops)


# --- indeterminate operations ------------------------------------------------


def test_pending_put_may_explain_a_later_read() -> None:
    ops = [put("a", 1, 0, None), get("b", 1, 5, 6)]
    assert check_linearizable(ops, RegisterModel())


def test_pending_put_may_never_happen() -> None:
    ops = [put("a", 1, 0, None), get("b", None, 5, 6), get("b", None, 7, 8)]
    assert check_linearizable(ops, RegisterModel())


def test_pending_put_may_happen_between_reads_but_not_undo() -> None:
    assert check_linearizable([put("a", 1, 0, None), get("b", None, 1, 2), get("b", 1, 3, 4)], RegisterModel())
    # Once a read saw it, it cannot un-happen.
    ops = [put("a", 1, 0, None), get("b", 1, 1, 2), get("b", None, 3, 4)]
    result = assert_rejected(ops)
    # The pending put is kept: it explains the first read.
    assert result.counterexample == ops and result.weakened == ()
    assert "[0..?] client=a: put(1) -> ?\n" in result.explain()


def test_pending_put_cannot_take_effect_before_its_call() -> None:
    assert_rejected([get("b", 1, 0, 1), put("a", 1, 2, None)])


def test_pending_cas_both_branches() -> None:
    base = [put("a", 0, 0, 1), cas("b", 0, 1, None, 2, None)]
    assert check_linearizable(base + [get("c", 1, 5, 6)], RegisterModel())  # took effect
    assert check_linearizable(base + [get("c", 0, 5, 6)], RegisterModel())  # did not


def test_pending_cas_cannot_succeed_on_wrong_value() -> None:
    ops = [put("a", 2, 0, 1), cas("b", 5, 1, None, 2, None), get("c", 1, 5, 6)]
    assert_rejected(ops)


def test_pending_get_accepts_anything() -> None:
    ops = [put("a", 1, 0, 1), get("b", None, 2, None), get("c", 1, 3, 4)]
    assert check_linearizable(ops, RegisterModel())


def test_history_open_ops_are_indeterminate() -> None:
    h = History()
    h.invoke("a", ("put", "x", 1))  # never completes
    g = h.invoke("b", ("get", "x"))
    h.complete(g, 1)
    assert check_linearizable(h, KVModel())


# --- partitioning ------------------------------------------------------------


def test_keys_do_not_constrain_each_other() -> None:
    # As one register this would be a stale read (get 1 after put 2
    # completed); as two keys it is fine.
    ops = [
        kput("a", "x", 1, 0, 1),
        kput("b", "y", 2, 2, 3),
        kget("c", "x", 1, 4, 5),
        kget("d", "y", 2, 6, 7),
    ]
    result = check_linearizable(ops, KVModel())
    assert result.ok and result.partitions == 2 and result.operations == 4
    as_register = [op(o.client, (o.input[0], *o.input[2:]), o.output, o.call, o.ret) for o in ops]
    assert not check_linearizable(as_register, RegisterModel())


def test_violation_reported_with_its_key() -> None:
    ops = [
        kput("a", "x", 1, 0, 1),
        kput("a", "y", 1, 0, 1),
        kget("b", "x", 1, 2, 3),
        kget("b", "y", None, 4, 5),  # lost write on y
        kput("c", "z", 3, 0, 10),
    ]
    result = assert_rejected(ops, KVModel())
    assert result.failing_partition == "y"
    assert result.partitions == 3
    assert {o.input[1] for o in result.counterexample or []} == {"y"}
    assert "'y'" in str(result)


def test_kv_delete_and_cas() -> None:
    ok = [
        kput("a", "x", 1, 0, 1),
        op("b", ("delete", "x"), None, 2, 3),
        op("c", ("cas", "x", None, 5), True, 4, 5),
        kget("d", "x", 5, 6, 7),
    ]
    assert check_linearizable(ok, KVModel())
    bad = ok[:2] + [kget("d", "x", 1, 4, 5)]  # read after a completed delete
    assert_rejected(bad, KVModel())


def test_model_without_optional_methods() -> None:
    class Counter:
        def init(self) -> int:
            return 0

        def step(self, state: int, input: Any, output: Any) -> tuple[bool, int]:
            return output is UNKNOWN or output == state + 1, state + 1

    good = [op("a", ("incr",), 1, 0, 1), op("b", ("incr",), 2, 2, 3)]
    assert check_linearizable(good, Counter())  # type: ignore[arg-type]
    bad = [op("a", ("incr",), 2, 0, 1), op("b", ("incr",), 1, 2, 3)]
    result = check_linearizable(bad, Counter())  # type: ignore[arg-type]
    assert not result and result.failing_partition == 0
    assert "('incr',) -> 2" in result.explain()


# --- result object -----------------------------------------------------------


def test_explain_lists_counterexample_in_call_order() -> None:
    # Lost write: both put and later get are needed; the early get is not.
    ops = [get("b", None, 2, 3), get("c", None, -3, -2), put("a", 1, 0, 1)]
    text = check_linearizable(ops, RegisterModel()).explain()
    assert "not linearizable" in text
    assert text.index("put(1)") < text.index("get() -> None")
    assert "[-3..-2]" not in text  # minimized away


def test_minimize_false_returns_whole_partition() -> None:
    ops = [put("a", 1, 0, 1), put("a", 2, 2, 3), get("b", 1, 4, 5)]
    result = check_linearizable(ops, RegisterModel(), minimize=False)
    assert result.counterexample == ops and not result.minimal


def test_exhausted_minimization_budget_still_returns_a_failing_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every shrinking check runs out of steps at once, so nothing can be
    # removed safely: the result must keep a failing history and say so.
    for name in ("_MIN_STEPS_PER_CHECK", "_CHECK_FACTOR", "_MIN_STEPS_TOTAL", "_TOTAL_FACTOR"):
        monkeypatch.setattr(lin, name, 0)
    monkeypatch.setattr(lin, "_POLL_EVERY", 1)
    ops = [put("a", 1, 0, 1), put("a", 2, 2, 3), get("b", 1, 4, 5), put("c", 3, 6, None)]
    result = check_linearizable(ops, RegisterModel())
    assert result.verdict == "not linearizable" and not result.minimal
    assert result.counterexample == ops and result.weakened == ()
    assert not check_linearizable(result.counterexample, RegisterModel(), minimize=False)
    assert "not proven minimal" in result.explain()


def test_shrinking_interrupted_anywhere_still_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # Step budgets make shrinking deterministic, so every interruption point
    # can be tried: the result must always fail and be a sub-history modulo
    # weakening, and be minimal once the budget suffices.
    monkeypatch.setattr(lin, "_POLL_EVERY", 1)
    monkeypatch.setattr(lin, "_TOTAL_FACTOR", 0)
    ops = [
        put("a", 1, 0, 1),
        get("c", 1, 1.5, 1.8),
        put("a", 2, 2, 3),
        get("c", 2, 3.2, 3.5),
        get("b", 1, 4, 5),
        put("d", 3, 4.5, None),
    ]
    sizes = set()
    for total in range(0, 400, 3):
        monkeypatch.setattr(lin, "_MIN_STEPS_TOTAL", total)
        result = check_linearizable(ops, RegisterModel())
        assert result.verdict == "not linearizable"
        assert_valid_counterexample(ops, result, RegisterModel())
        sizes.add((len(result.counterexample or []), result.weakened, result.minimal))
    assert (3, (), True) in sizes and len(sizes) > 2  # interrupted at several points


def test_timeout_gives_unknown_not_a_violation() -> None:
    ops = [put("a", 1, 0, 1), get("b", 1, 2, 3)]
    result = check_linearizable(ops, RegisterModel(), timeout_s=0)
    assert result.verdict == "unknown" and result.timed_out
    assert not result.ok and result.counterexample is None
    assert "unknown" in str(result)


def test_invalid_operation_interval() -> None:
    with pytest.raises(ValueError):
        check_linearizable([put("a", 1, 5, 1)], RegisterModel())


def test_memoization_makes_concurrent_writes_tractable() -> None:
    # 12 fully concurrent puts then an impossible read: the search must rule
    # out every order. Without memoization that is 12! orders; with it,
    # about 12 * 2**11 (set, last value) configurations.
    n = 12
    ops = [put(i, i, 0, 100) for i in range(n)] + [get("r", NEVER_WRITTEN, 200, 201)]
    result = check_linearizable(ops, RegisterModel(), timeout_s=20)
    assert result.verdict == "not linearizable"
    assert result.counterexample == [ops[-1]]


# --- generated histories -----------------------------------------------------

KINDS = ("put", "get", "cas")
KV_KINDS = ("put", "get", "cas", "delete")


@st.composite
def simulated_histories(draw: st.DrawFn, kv: bool, need_get: bool = False, max_ops: int = 14) -> list[Operation]:
    """Run a reference register/KV where each op takes effect atomically at a
    random instant inside its interval (pending ops: any time after the call,
    or never) and record what clients would have seen."""
    n = draw(st.integers(1, max_ops))
    keys = ("x", "y", "z") if kv else (None,)
    specs = []
    for i in range(n):
        kind = "get" if need_get and i == 0 else draw(st.sampled_from(KV_KINDS if kv else KINDS))
        key = draw(st.sampled_from(keys))
        args: tuple[int, ...] = (draw(st.integers(0, 3)),) if kind == "put" else ()
        if kind == "cas":
            args = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
        start, length = draw(st.integers(0, 30)), draw(st.integers(1, 12))
        call = 4 * start
        pending = not (need_get and i == 0) and draw(st.integers(0, 5)) == 0
        if pending:
            happens = draw(st.booleans())
            effect = call + 1 + draw(st.integers(0, 200)) if happens else None
            ret = None
        else:
            ret = 4 * (start + length)
            effect = call + 1 + draw(st.integers(0, 4 * length - 2))
        inp = (kind, *args) if not kv else (kind, key, *args)
        specs.append((i, kind, key, args, inp, call, ret, effect))

    store: dict[Any, Any] = {}
    outputs: dict[int, Any] = {}
    applied = sorted((s for s in specs if s[7] is not None), key=lambda s: (s[7], s[0]))
    for i, kind, key, args, _inp, _call, _ret, _effect in applied:
        if kind == "put":
            store[key] = args[0]
        elif kind == "delete":
            store.pop(key, None)
        elif kind == "get":
            outputs[i] = store.get(key)
        else:
            hit = store.get(key) == args[0]
            if hit:
                store[key] = args[1]
            outputs[i] = hit
    return [
        Operation(f"c{i % 5}", inp, outputs.get(i) if ret is not None else None, call, ret, i)
        for i, kind, key, args, inp, call, ret, effect in specs
    ]


class UnpartitionedKV(KVModel):
    def partition(self, ops: list[Operation]) -> list[list[Operation]]:
        return [list(ops)]


@given(simulated_histories(kv=False))
def test_property_simulated_register_histories_accepted(ops: list[Operation]) -> None:
    result = check_linearizable(ops, RegisterModel())
    assert result.ok, result


@given(simulated_histories(kv=True))
def test_property_simulated_kv_histories_accepted(ops: list[Operation]) -> None:
    assert check_linearizable(ops, KVModel()).ok
    assert check_linearizable(ops, UnpartitionedKV()).ok


def _corrupt_first_get(ops: list[Operation]) -> list[Operation]:
    target = next(o for o in ops if o.input[0] == "get" and o.ret is not None)
    bad = Operation(target.client, target.input, NEVER_WRITTEN, target.call, target.ret, target.id)
    return [bad if o is target else o for o in ops]


@given(simulated_histories(kv=False, need_get=True))
def test_property_read_of_unwritten_value_rejected(ops: list[Operation]) -> None:
    bad = _corrupt_first_get(ops)
    result = check_linearizable(bad, RegisterModel())
    assert result.verdict == "not linearizable"
    assert_valid_counterexample(bad, result, RegisterModel())
    assert result.minimal


@given(simulated_histories(kv=True, need_get=True))
def test_property_kv_corruption_rejected_on_its_key(ops: list[Operation]) -> None:
    bad = _corrupt_first_get(ops)
    key = next(o.input[1] for o in bad if o.output == NEVER_WRITTEN)
    result = check_linearizable(bad, KVModel())
    assert result.verdict == "not linearizable"
    assert result.failing_partition == key
    assert_valid_counterexample(bad, result, KVModel())


@st.composite
def perturbed_histories(draw: st.DrawFn) -> list[Operation]:
    """Simulated KV histories with one output replaced by a plausible value:
    often still linearizable, sometimes not. Exercises minimization broadly."""
    ops = draw(simulated_histories(kv=True, max_ops=10))
    idx = draw(st.integers(0, len(ops) - 1))
    o = ops[idx]
    if o.ret is None or o.input[0] not in ("get", "cas"):
        return ops
    new = draw(st.booleans()) if o.input[0] == "cas" else draw(st.sampled_from([None, 0, 1, 2, 3]))
    ops[idx] = Operation(o.client, o.input, new, o.call, o.ret, o.id)
    return ops


@given(perturbed_histories())
def test_property_partitioning_agrees_with_global_check(ops: list[Operation]) -> None:
    # Linearizability is local (Herlihy & Wing), so per-key and whole-history
    # checks must agree; any counterexample must be valid and minimal.
    split = check_linearizable(ops, KVModel())
    whole = check_linearizable(ops, UnpartitionedKV(), minimize=False)
    assert split.ok == whole.ok
    if not split.ok:
        assert_valid_counterexample(ops, split, KVModel())
        assert split.minimal


def brute_force_linearizable(ops: Sequence[Operation], model: Model[Any]) -> bool:
    """Reference oracle: try every order (and every subset of indeterminate
    ops) that respects real time, with no memoization or pruning."""

    def search(state: Any, remaining: frozenset[int]) -> bool:
        completed = [j for j in remaining if ops[j].ret is not None]
        if not completed:
            return True  # indeterminate ops left over never took effect
        for i in sorted(remaining):
            o = ops[i]
            # i may go next unless a remaining completed op returned before i's call.
            if any(ops[j].ret < o.call for j in completed if j != i):  # type: ignore[operator]
                continue
            legal, after = model.step(state, o.input, UNKNOWN if o.ret is None else o.output)
            if legal and search(after, remaining - {i}):
                return True
        return False

    return search(model.init(), frozenset(range(len(ops))))


@st.composite
def perturbed_register_histories(draw: st.DrawFn, max_ops: int) -> list[Operation]:
    """Small simulated register histories with up to two outputs replaced and
    some completed ops turned indeterminate: a mix of verdicts."""
    ops = draw(simulated_histories(kv=False, max_ops=max_ops))
    for _ in range(draw(st.integers(0, 2))):
        idx = draw(st.integers(0, len(ops) - 1))
        o = ops[idx]
        if o.ret is not None and o.input[0] in ("get", "cas"):
            new = draw(st.booleans()) if o.input[0] == "cas" else draw(st.sampled_from([None, 0, 1]))
            ops[idx] = Operation(o.client, o.input, new, o.call, o.ret, o.id)
    for idx in draw(st.lists(st.integers(0, len(ops) - 1), max_size=3)):
        ops[idx] = weaken(ops[idx])
    return ops


def run_search(ops: list[Operation], prune_visited: bool) -> bool:
    """One of the checker's two interleaved searches, run alone to the end."""
    search = lin._search(ops, RegisterModel(), prune_visited=prune_visited)
    try:
        while True:
            next(search)
    except StopIteration as done:
        return bool(done.value[0])


@given(perturbed_register_histories(max_ops=6))
def test_property_search_agrees_with_brute_force(ops: list[Operation]) -> None:
    # The memoized search and each of its two pruning strategies for
    # indeterminate ops (run alone: on small histories the first one always
    # answers first) must agree with exhaustive enumeration.
    expected = brute_force_linearizable(ops, RegisterModel())
    assert check_linearizable(ops, RegisterModel(), minimize=False).ok == expected
    assert run_search(ops, prune_visited=False) == expected
    assert run_search(ops, prune_visited=True) == expected


@given(perturbed_register_histories(max_ops=10))
def test_property_counterexamples_fail_and_are_minimal(ops: list[Operation]) -> None:
    # Every counterexample fails, is a sub-history modulo weakening, and is
    # minimal as documented (see assert_valid_counterexample).
    result = check_linearizable(ops, RegisterModel())
    if not result.ok:
        assert result.minimal
        assert_valid_counterexample(ops, result, RegisterModel())


# --- scale -------------------------------------------------------------------


def _random_kv_history(n_ops: int, clients: int, keys: Sequence[str], seed: int) -> list[Operation]:
    """Clients issue ops back to back; each takes effect inside its interval."""
    rng = random.Random(seed)
    per_client = n_ops // clients
    raw: list[tuple[float, float, float, str, tuple[Any, ...]]] = []
    for c in range(clients):
        t = rng.random()
        for _ in range(per_client):
            call = t
            ret = call + rng.uniform(0.5, 3.0)
            effect = rng.uniform(call, ret)
            key = rng.choice(keys)
            kind = rng.choice(KV_KINDS)
            args: tuple[Any, ...] = ()
            if kind == "put":
                args = (rng.randrange(5),)
            elif kind == "cas":
                args = (rng.randrange(5), rng.randrange(5))
            raw.append((effect, call, ret, f"c{c}", (kind, key, *args)))
            t = ret + rng.uniform(0.01, 0.5)
    store: dict[str, Any] = {}
    ops: list[Operation] = []
    for i, (_effect, call, ret, client, inp) in enumerate(sorted(raw)):
        kind, key = inp[0], inp[1]
        out: Any = None
        if kind == "put":
            store[key] = inp[2]
        elif kind == "delete":
            store.pop(key, None)
        elif kind == "get":
            out = store.get(key)
        else:
            out = store.get(key) == inp[2]
            if out:
                store[key] = inp[3]
        ops.append(Operation(client, inp, out, call, ret, i))
    ops.sort(key=lambda o: o.call)
    return ops


def test_large_kv_history_is_linearizable() -> None:
    ops = _random_kv_history(2000, clients=8, keys=("a", "b", "c"), seed=1)
    assert len(ops) == 2000
    result = check_linearizable(ops, KVModel())
    assert result.ok, result
    assert result.partitions == 3 and result.operations == 2000


def test_large_single_partition_no_recursion_limit() -> None:
    ops = _random_kv_history(2000, clients=8, keys=("only",), seed=2)
    result = check_linearizable(ops, KVModel())
    assert result.ok and result.partitions == 1


def test_large_history_with_one_violation_is_minimized() -> None:
    ops = _random_kv_history(400, clients=8, keys=("only",), seed=3)
    bad = _corrupt_first_get(ops)
    result = check_linearizable(bad, KVModel())
    assert result.verdict == "not linearizable" and result.minimal
    assert_valid_counterexample(bad, result, KVModel())
