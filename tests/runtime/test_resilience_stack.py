from __future__ import annotations

import anyio
import pytest

from lmteams.runtime.errors import BadRequest, ServerError
from lmteams.runtime.models.base import Model
from lmteams.runtime.resilience import BreakerState, Budget, CircuitBreaker, ResilientModel, Retry, Timeout, compose

from .test_resilience_doubles import Events, FakeClock, FlakyModel, ScriptedModel, SlowModel

pytestmark = pytest.mark.timeout(30)


MSGS = [{"role": "user", "content": "hi"}]


class Tracer:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def __call__(self, call):  # noqa: ANN001, ANN204
        self.log.append(f"enter {self.name}")
        try:
            return await call()
        finally:
            self.log.append(f"exit {self.name}")


@pytest.mark.anyio
async def test_compose_nests_outermost_first() -> None:
    log: list[str] = []

    async def call() -> str:
        log.append("call")
        return "result"

    mw = compose(Tracer("a", log), Tracer("b", log), Tracer("c", log))
    assert await mw(call) == "result"
    assert log == ["enter a", "enter b", "enter c", "call", "exit c", "exit b", "exit a"]


@pytest.mark.anyio
async def test_compose_of_nothing_is_the_identity_and_retry_outside_breaker_retries_circuit_open() -> None:
    async def call() -> int:
        return 42

    assert await compose()(call) == 42

    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=2.0, clock=clock)
    retry = Retry(max_attempts=5, base_delay=0.01, sleep=clock.sleep, clock=clock)
    outcomes = iter([ServerError("down"), None])

    async def flaky() -> str:
        exc = next(outcomes)
        if exc is not None:
            raise exc
        return "up"

    assert await compose(retry, breaker)(flaky) == "up"
    # failed, tripped; the retry waited out CircuitOpen's retry_after, then the half-open trial succeeded
    assert breaker.trips == 1 and breaker.state is BreakerState.CLOSED
    assert sum(clock.sleeps) == pytest.approx(2.0)


@pytest.mark.anyio
async def test_resilient_model_end_to_end_with_a_seeded_flaky_model() -> None:
    clock = FakeClock()
    events = Events()
    model = FlakyModel("flaky", p_fail=0.3, make_error=lambda: ServerError("503 overloaded"), seed=11)
    retry = Retry(
        max_attempts=8, base_delay=0.05, max_delay=1.0, seed=1, sleep=clock.sleep, clock=clock, on_event=events
    )
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=1.0, name="flaky", clock=clock, on_event=events)
    budget = Budget(max_tokens=10_000)
    rm = ResilientModel(model, retry=retry, breaker=breaker, timeout=30.0, budget=budget, on_event=events)
    assert isinstance(rm, Model) and rm.name == "flaky"

    texts = [(await rm.complete(MSGS)).text for _ in range(40)]

    assert len(texts) == 40 and all(t.startswith("answer") for t in texts)
    assert model.failures > 0 and retry.retries >= model.failures  # every failure was retried
    assert breaker.trips >= 1 and breaker.rejected >= 1  # some failure pair tripped it and a retry hit it open
    assert model.calls == 40 + model.failures  # CircuitOpen rejections never reached the model
    assert budget.used_tokens == 40 * model.tokens
    stats = rm.stats()
    assert stats["completions"] == 40 and stats["retries"] == retry.retries and stats["breaker_trips"] == breaker.trips
    assert stats["timeouts"] == 0 and stats["retry_gave_up"] == 0
    kinds = {name for name, _ in events.items}
    assert {"retry", "breaker", "breaker_rejected"} <= kinds
    assert breaker.state is BreakerState.CLOSED


@pytest.mark.anyio
async def test_bad_request_is_neither_retried_nor_counted_by_the_breaker() -> None:
    clock = FakeClock()
    model = ScriptedModel("m", [BadRequest("context too long")])
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)
    rm = ResilientModel(model, retry=Retry(sleep=clock.sleep, clock=clock), breaker=breaker)
    with pytest.raises(BadRequest):
        await rm.complete(MSGS)
    assert model.calls == 1 and breaker.state is BreakerState.CLOSED and clock.sleeps == []


@pytest.mark.anyio
async def test_without_parts_it_just_calls_the_model() -> None:
    model = ScriptedModel("plain", ["hello"])
    rm = ResilientModel(model)
    assert (await rm.complete(MSGS, temperature=0.2)).text == "hello"
    assert rm.stats() == {"calls": 1, "completions": 1}


@pytest.mark.anyio
async def test_real_time_a_timed_out_attempt_is_retried_and_counted_by_the_breaker() -> None:
    events = Events()
    model = SlowModel("slow", [30.0, 0.0])
    breaker = CircuitBreaker(failure_threshold=5)
    rm = ResilientModel(model, retry=Retry(base_delay=0.01), breaker=breaker, timeout=Timeout(0.05, on_event=events))
    with anyio.fail_after(10):
        completion = await rm.complete(MSGS)
    assert completion.text == "slow answer 2"
    assert model.cancelled == 1 and rm.stats()["timeouts"] == 1 and rm.stats()["retries"] == 1
    assert breaker.total_failures == 1 and breaker.failures == 0
    assert events.named("timeout") == [{"seconds": 0.05}]


@pytest.mark.anyio
async def test_real_time_outer_cancellation_goes_through_the_whole_stack() -> None:
    model = SlowModel("slow", [30.0])
    breaker = CircuitBreaker(failure_threshold=1)
    retry = Retry(base_delay=0.0, retry_on=lambda e: True)
    rm = ResilientModel(model, retry=retry, breaker=breaker, timeout=10.0)
    with anyio.move_on_after(0.05) as scope:
        await rm.complete(MSGS)
    assert scope.cancelled_caught
    assert model.calls == 1 and retry.retries == 0 and breaker.failures == 0 and rm.stats()["timeouts"] == 0
