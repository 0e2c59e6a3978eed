from __future__ import annotations

import anyio
import pytest

from lmteams.runtime.errors import BadRequest, CircuitOpen, ModelTimeout, OutputParseError, ServerError
from lmteams.runtime.resilience import BreakerState, CircuitBreaker

from .test_resilience_doubles import Events, FakeClock

pytestmark = pytest.mark.timeout(30)


async def ok() -> str:
    await anyio.lowlevel.checkpoint()
    return "ok"


def raising(exc: BaseException):  # noqa: ANN201
    async def call() -> str:
        await anyio.lowlevel.checkpoint()
        raise exc

    return call


def transitions(events: Events) -> list[tuple[str, str]]:
    return [(e["from_state"], e["to_state"]) for e in events.named("breaker")]


async def trip(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(ServerError):
            await breaker(raising(ServerError("500")))


@pytest.mark.anyio
async def test_consecutive_failures_open_the_circuit_and_a_success_resets_the_count() -> None:
    clock = FakeClock()
    events = Events()
    b = CircuitBreaker(failure_threshold=3, reset_timeout=30.0, name="m1", clock=clock, on_event=events)
    await trip(b, 2)
    assert await b(ok) == "ok"
    assert b.failures == 0 and b.state is BreakerState.CLOSED
    await trip(b, 2)
    assert b.state is BreakerState.CLOSED and b.trips == 0
    await trip(b, 1)
    assert b.state is BreakerState.OPEN and b.trips == 1
    assert events.named("breaker") == [{"name": "m1", "from_state": "closed", "to_state": "open", "failures": 3}]


@pytest.mark.anyio
async def test_open_fails_fast_with_the_time_left() -> None:
    clock = FakeClock()
    events = Events()
    b = CircuitBreaker(failure_threshold=1, reset_timeout=30.0, name="m1", clock=clock, on_event=events)
    await trip(b, 1)
    clock.advance(10.0)
    called = False

    async def must_not_run() -> str:
        nonlocal called
        called = True
        return "ran"

    with pytest.raises(CircuitOpen) as info:
        await b(must_not_run)
    assert not called
    assert info.value.retry_after == pytest.approx(20.0)
    assert info.value.retryable is True
    assert "m1" in str(info.value) and "open" in str(info.value)
    assert b.rejected == 1 and events.named("breaker_rejected") == [{"name": "m1"}]


@pytest.mark.anyio
async def test_closed_open_half_open_closed() -> None:
    clock = FakeClock()
    events = Events()
    b = CircuitBreaker(failure_threshold=2, reset_timeout=5.0, clock=clock, on_event=events)
    await trip(b, 2)
    clock.advance(4.99)
    assert b.state is BreakerState.OPEN
    clock.advance(0.01)
    assert b.state is BreakerState.HALF_OPEN
    assert await b(ok) == "ok"
    assert b.state is BreakerState.CLOSED and b.failures == 0
    assert transitions(events) == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert b.trips == 1


@pytest.mark.anyio
async def test_half_open_failure_reopens_for_a_full_reset_timeout() -> None:
    clock = FakeClock()
    events = Events()
    b = CircuitBreaker(failure_threshold=2, reset_timeout=5.0, clock=clock, on_event=events)
    await trip(b, 2)
    clock.advance(5.0)
    with pytest.raises(ModelTimeout):
        await b(raising(ModelTimeout("slow")))
    assert b.state is BreakerState.OPEN and b.trips == 2
    with pytest.raises(CircuitOpen) as info:
        await b(ok)
    assert info.value.retry_after == pytest.approx(5.0)
    assert transitions(events) == [("closed", "open"), ("open", "half_open"), ("half_open", "open")]


@pytest.mark.anyio
async def test_caller_errors_do_not_count_as_failures() -> None:
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=2, clock=clock)
    for exc in [BadRequest("bad"), OutputParseError("garbage"), ValueError("bug")] * 3:
        with pytest.raises(type(exc)):
            await b(raising(exc))
    assert b.state is BreakerState.CLOSED and b.failures == 0 and b.trips == 0


@pytest.mark.anyio
async def test_a_bad_request_trial_leaves_the_circuit_half_open_and_frees_the_slot() -> None:
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=1, reset_timeout=1.0, clock=clock)
    await trip(b, 1)
    clock.advance(1.0)
    with pytest.raises(BadRequest):
        await b(raising(BadRequest("bad")))
    assert b.state is BreakerState.HALF_OPEN
    assert await b(ok) == "ok"
    assert b.state is BreakerState.CLOSED


@pytest.mark.anyio
async def test_a_late_success_from_before_the_trip_does_not_close_the_circuit() -> None:
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=1, reset_timeout=60.0, clock=clock)
    release = anyio.Event()

    async def slow_ok() -> str:
        await release.wait()
        return "late"

    results: list[str] = []

    async def run_slow() -> None:
        results.append(await b(slow_ok))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run_slow)
        await anyio.wait_all_tasks_blocked()
        await trip(b, 1)
        release.set()
    assert results == ["late"]
    assert b.state is BreakerState.OPEN


@pytest.mark.anyio
async def test_a_late_trial_success_after_another_trial_reopened_does_not_close() -> None:
    clock = FakeClock()
    events = Events()
    b = CircuitBreaker(failure_threshold=1, reset_timeout=5.0, half_open_max=2, clock=clock, on_event=events)
    await trip(b, 1)
    clock.advance(5.0)
    release = anyio.Event()

    async def slow_ok() -> str:
        await release.wait()
        return "late"

    async with anyio.create_task_group() as tg:
        tg.start_soon(b, slow_ok)
        await anyio.wait_all_tasks_blocked()
        await trip(b, 1)  # the other trial fails: open again
        release.set()
    assert b.state is BreakerState.OPEN and b.trips == 2
    assert transitions(events)[-1] == ("half_open", "open")


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError, match="half_open_max"):
        CircuitBreaker(half_open_max=0)


# -- real concurrency -------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("half_open_max", [1, 2])
async def test_half_open_admits_at_most_half_open_max_concurrent_trials(half_open_max: int) -> None:
    clock = FakeClock()
    events = Events()
    b = CircuitBreaker(
        failure_threshold=1, reset_timeout=1.0, half_open_max=half_open_max, clock=clock, on_event=events
    )
    await trip(b, 1)
    clock.advance(1.0)
    release = anyio.Event()
    started = 0

    async def trial() -> str:
        nonlocal started
        started += 1
        await release.wait()
        return "ok"

    outcomes: list[str] = []

    async def caller() -> None:
        try:
            outcomes.append(await b(trial))
        except CircuitOpen:
            outcomes.append("rejected")

    async with anyio.create_task_group() as tg:
        for _ in range(half_open_max + 2):
            tg.start_soon(caller)
        await anyio.wait_all_tasks_blocked()
        assert started == half_open_max
        assert outcomes == ["rejected", "rejected"]
        release.set()
    assert sorted(outcomes) == ["ok"] * half_open_max + ["rejected"] * 2
    assert b.state is BreakerState.CLOSED
    assert b.rejected == 2 and len(events.named("breaker_rejected")) == 2


@pytest.mark.anyio
async def test_cancelling_a_trial_frees_its_slot_and_counts_as_neither() -> None:
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=1, reset_timeout=1.0, half_open_max=1, clock=clock)
    await trip(b, 1)
    clock.advance(1.0)

    async def hangs() -> str:
        await anyio.sleep(30)
        return "never"

    with anyio.move_on_after(0.05) as scope:
        await b(hangs)
    assert scope.cancelled_caught
    assert b.state is BreakerState.HALF_OPEN and b.trips == 1
    assert await b(ok) == "ok"  # the slot is free again
    assert b.state is BreakerState.CLOSED
