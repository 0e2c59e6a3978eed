from __future__ import annotations

import pytest

from lmteams.runtime.errors import (
    AllFallbacksFailed,
    BadRequest,
    BudgetExceeded,
    CircuitOpen,
    ModelTimeout,
    OutputParseError,
    ServerError,
)
from lmteams.runtime.models.base import Model
from lmteams.runtime.resilience import CircuitBreaker, Fallback, ResilientModel

from .test_resilience_doubles import Events, FakeClock, ScriptedModel, SlowModel

pytestmark = pytest.mark.timeout(30)


MSGS = [{"role": "user", "content": "hi"}]


@pytest.mark.anyio
async def test_the_first_model_that_answers_wins_and_later_ones_are_not_called() -> None:
    a, b = ScriptedModel("a", ["from a"]), ScriptedModel("b", ["from b"])
    fb = Fallback([a, b])
    assert isinstance(fb, Model) and fb.name == "fallback(a, b)"
    assert (await fb.complete(MSGS)).text == "from a"
    assert (a.calls, b.calls, fb.fallbacks) == (1, 0, 0)


@pytest.mark.anyio
async def test_moves_on_in_order_on_model_errors_including_bad_request() -> None:
    events = Events()
    a = ScriptedModel("a", [ServerError("a is down")])
    b = ScriptedModel("b", [BadRequest("context too long for b")])
    c = ScriptedModel("c", ["from c"])
    fb = Fallback([a, b, c], on_event=events, name="chain")
    completion = await fb.complete(MSGS, temperature=0.0)
    assert completion.text == "from c" and fb.name == "chain"
    assert (a.calls, b.calls, c.calls) == (1, 1, 1)
    assert events.named("fallback") == [
        {"from_model": "a", "to_model": "b", "error": "a is down"},
        {"from_model": "b", "to_model": "c", "error": "context too long for b"},
    ]
    assert fb.fallbacks == 2


@pytest.mark.anyio
async def test_all_failing_raises_all_fallbacks_failed_with_every_error_in_order() -> None:
    errors = [ServerError("a 500"), OutputParseError("b garbage"), ModelTimeout("c slow")]
    fb = Fallback([ScriptedModel(n, [e]) for n, e in zip("abc", errors, strict=True)])
    with pytest.raises(AllFallbacksFailed) as info:
        await fb.complete(MSGS)
    assert info.value.errors == errors
    assert info.value.retryable is True
    for text in ["a 500", "b garbage", "c slow", "3 models"]:
        assert text in str(info.value)
    assert fb.exhausted == 1


@pytest.mark.anyio
async def test_all_failing_with_caller_errors_is_not_retryable() -> None:
    fb = Fallback([ScriptedModel("a", [BadRequest("x")]), ScriptedModel("b", [BadRequest("y")])])
    with pytest.raises(AllFallbacksFailed) as info:
        await fb.complete(MSGS)
    assert info.value.retryable is False


@pytest.mark.anyio
async def test_an_open_breaker_skips_its_model_without_calling_it() -> None:
    clock = FakeClock()
    a, b = ScriptedModel("a", [ServerError("down")]), ScriptedModel("b", ["from b"])
    breakers = [CircuitBreaker(failure_threshold=1, reset_timeout=60, name=n, clock=clock) for n in "ab"]
    events = Events()
    fb = Fallback([a, b], breakers=breakers, on_event=events)
    assert (await fb.complete(MSGS)).text == "from b"  # a fails and trips its breaker
    assert (await fb.complete(MSGS)).text == "from b"  # a's breaker is open: a is not called
    assert a.calls == 1 and b.calls == 2
    assert breakers[0].rejected == 1
    assert "open" in events.named("fallback")[1]["error"]


@pytest.mark.anyio
async def test_all_breakers_open_gives_circuit_open_errors() -> None:
    clock = FakeClock()
    models = [ScriptedModel(n, [ServerError("down")]) for n in "ab"]
    breakers = [CircuitBreaker(failure_threshold=1, reset_timeout=60, clock=clock) for _ in "ab"]
    fb = Fallback(models, breakers=breakers)
    with pytest.raises(AllFallbacksFailed):
        await fb.complete(MSGS)
    with pytest.raises(AllFallbacksFailed) as info:
        await fb.complete(MSGS)
    assert all(isinstance(e, CircuitOpen) for e in info.value.errors)


@pytest.mark.anyio
@pytest.mark.parametrize("exc", [BudgetExceeded("spent"), ValueError("bug")])
async def test_non_model_errors_propagate_without_trying_the_next_model(exc: Exception) -> None:
    a, b = ScriptedModel("a", [exc]), ScriptedModel("b", ["from b"])
    with pytest.raises(type(exc)):
        await Fallback([a, b]).complete(MSGS)
    assert b.calls == 0


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Fallback([])
    with pytest.raises(ValueError, match="one breaker per model"):
        Fallback([ScriptedModel("a", ["x"])], breakers=[])


@pytest.mark.anyio
async def test_a_hanging_model_times_out_in_real_time_and_the_next_answers() -> None:
    hanging = SlowModel("hanging", [30.0])
    fb = Fallback([ResilientModel(hanging, timeout=0.05), ScriptedModel("b", ["from b"])])
    assert (await fb.complete(MSGS)).text == "from b"
    assert hanging.cancelled == 1
