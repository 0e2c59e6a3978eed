from __future__ import annotations

import random
import time

import anyio
import pytest

from lmteams.runtime.errors import (
    AllFallbacksFailed,
    BadRequest,
    BudgetExceeded,
    CircuitOpen,
    ModelConnectionError,
    ModelTimeout,
    OutputParseError,
    RateLimited,
    ServerError,
)
from lmteams.runtime.resilience import Retry, default_retryable

from .test_resilience_doubles import Events, FakeClock

pytestmark = pytest.mark.timeout(30)


class Failing:
    """A call that raises ``errors`` in order (the last repeats forever if ``forever``), then returns "done"."""

    def __init__(
        self, *errors: BaseException, forever: bool = False, clock: FakeClock | None = None, takes: float = 0.0
    ) -> None:
        self.errors = list(errors)
        self.forever = forever
        self.calls = 0
        self.clock = clock
        self.takes = takes

    async def __call__(self) -> str:
        self.calls += 1
        if self.clock is not None:
            self.clock.advance(self.takes)
        await anyio.lowlevel.checkpoint()
        if self.calls <= len(self.errors):
            raise self.errors[self.calls - 1]
        if self.forever and self.errors:
            raise self.errors[-1]
        return "done"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RateLimited("slow down"), True),
        (ModelTimeout("t"), True),
        (ModelConnectionError("c"), True),
        (ServerError("500"), True),
        (CircuitOpen("open"), True),
        (TimeoutError(), True),
        (AllFallbacksFailed("all", [ServerError("x"), BadRequest("y")]), True),
        (AllFallbacksFailed("all", [BadRequest("y")]), False),
        (BadRequest("bad"), False),
        (OutputParseError("garbage"), False),
        (BudgetExceeded("spent"), False),
        (ValueError("bug"), False),
        (KeyboardInterrupt(), False),
    ],
)
def test_default_retryable(exc: BaseException, expected: bool) -> None:
    assert default_retryable(exc) is expected


def test_default_retryable_never_for_cancellation() -> None:
    import asyncio

    assert default_retryable(asyncio.CancelledError()) is False


@pytest.mark.anyio
async def test_full_jitter_delays_replay_the_seeded_rng_within_growing_caps() -> None:
    clock = FakeClock()
    events = Events()
    retry = Retry(
        max_attempts=8,
        base_delay=0.1,
        max_delay=1.0,
        max_total_s=1e6,
        seed=7,
        sleep=clock.sleep,
        clock=clock,
        on_event=events,
    )
    call = Failing(ServerError("500"), forever=True)
    with pytest.raises(ServerError):
        await retry(call)
    caps = [min(1.0, 0.1 * 2 ** (n - 1)) for n in range(1, 8)]
    assert caps == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    rng = random.Random(7)
    assert clock.sleeps == pytest.approx([rng.uniform(0, cap) for cap in caps])
    assert all(0 <= d <= cap for d, cap in zip(clock.sleeps, caps, strict=True))
    assert call.calls == 8 and retry.retries == 7 and retry.attempts == 8
    assert [e["attempt"] for e in events.named("retry")] == [1, 2, 3, 4, 5, 6, 7]
    first = events.named("retry")[0]
    assert first["error_type"] == "ServerError" and first["error"] == "500"
    assert first["delay_s"] == pytest.approx(clock.sleeps[0])


@pytest.mark.anyio
async def test_jitter_is_full_and_grows_with_the_attempt() -> None:
    by_attempt: dict[int, list[float]] = {1: [], 4: []}
    for seed in range(300):
        clock = FakeClock()
        retry = Retry(
            max_attempts=5, base_delay=0.1, max_delay=10.0, max_total_s=1e6, seed=seed, sleep=clock.sleep, clock=clock
        )
        with pytest.raises(ServerError):
            await retry(Failing(ServerError("x"), forever=True))
        by_attempt[1].append(clock.sleeps[0])
        by_attempt[4].append(clock.sleeps[3])
    assert max(by_attempt[1]) <= 0.1 and max(by_attempt[4]) <= 0.8
    # Full jitter: draws reach down near zero and up near the cap.
    assert min(by_attempt[4]) < 0.05 * 0.8 and max(by_attempt[4]) > 0.95 * 0.8
    mean1 = sum(by_attempt[1]) / 300
    mean4 = sum(by_attempt[4]) / 300
    assert 0.04 < mean1 < 0.06
    assert mean4 > 6 * mean1


@pytest.mark.anyio
async def test_retry_after_is_honoured() -> None:
    clock = FakeClock()
    retry = Retry(base_delay=0.1, sleep=clock.sleep, clock=clock)
    call = Failing(RateLimited("429", retry_after=2.5))
    assert await retry(call) == "done"
    assert clock.sleeps == [2.5]
    assert call.calls == 2


@pytest.mark.anyio
async def test_retry_after_smaller_than_the_jitter_keeps_the_jitter() -> None:
    clock = FakeClock()
    retry = Retry(base_delay=1.0, seed=3, sleep=clock.sleep, clock=clock)
    assert await retry(Failing(RateLimited("429", retry_after=0.0))) == "done"
    assert clock.sleeps == [pytest.approx(random.Random(3).uniform(0, 1.0))]


@pytest.mark.anyio
async def test_retry_after_is_capped_by_the_remaining_total_time() -> None:
    clock = FakeClock()
    events = Events()
    retry = Retry(max_attempts=10, base_delay=0.01, max_total_s=1.0, sleep=clock.sleep, clock=clock, on_event=events)
    call = Failing(RateLimited("429", retry_after=5.0), forever=True)
    with pytest.raises(RateLimited):
        await retry(call)
    assert clock.sleeps == [pytest.approx(1.0)]
    assert call.calls == 2  # one retry at the deadline, then no time is left
    (gave_up,) = events.named("retry_gave_up")
    assert gave_up["attempts"] == 2 and gave_up["elapsed_s"] == pytest.approx(1.0)


@pytest.mark.anyio
async def test_stops_at_max_attempts_reraising_the_last_error() -> None:
    clock = FakeClock()
    events = Events()
    errors = [ServerError(f"boom {i}") for i in range(3)]
    retry = Retry(max_attempts=3, sleep=clock.sleep, clock=clock, on_event=events)
    call = Failing(*errors, forever=True)
    with pytest.raises(ServerError) as info:
        await retry(call)
    assert info.value is errors[-1]
    assert call.calls == 3 and len(clock.sleeps) == 2
    assert retry.gave_up == 1
    assert events.named("retry_gave_up") == [
        {"attempts": 3, "elapsed_s": pytest.approx(sum(clock.sleeps)), "error": "boom 2"}
    ]


@pytest.mark.anyio
async def test_stops_when_the_next_wait_would_pass_max_total_s() -> None:
    clock = FakeClock()
    # Each failing call takes 1s of (fake) time; waits are ~0; the total allowed is 2.5s.
    retry = Retry(max_attempts=100, base_delay=0.001, max_total_s=2.5, sleep=clock.sleep, clock=clock)
    call = Failing(ServerError("x"), forever=True, clock=clock, takes=1.0)
    with pytest.raises(ServerError):
        await retry(call)
    assert call.calls == 3  # failed at t=1, 2, 3; at t=3 the budget is gone
    assert retry.gave_up == 1


@pytest.mark.anyio
async def test_jittered_wait_past_the_total_budget_gives_up_without_sleeping() -> None:
    clock = FakeClock()
    retry = Retry(
        max_attempts=100, base_delay=100.0, max_delay=100.0, max_total_s=1.0, seed=1, sleep=clock.sleep, clock=clock
    )
    assert random.Random(1).uniform(0, 100.0) > 1.0  # so the first wait would pass the budget
    call = Failing(ServerError("x"), forever=True)
    with pytest.raises(ServerError):
        await retry(call)
    assert call.calls == 1 and clock.sleeps == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "exc", [BadRequest("bad"), OutputParseError("garbage"), ValueError("bug"), BudgetExceeded("spent")]
)
async def test_non_retryable_errors_are_not_retried(exc: Exception) -> None:
    clock = FakeClock()
    retry = Retry(sleep=clock.sleep, clock=clock)
    call = Failing(exc)
    with pytest.raises(type(exc)):
        await retry(call)
    assert call.calls == 1 and clock.sleeps == [] and retry.retries == 0


@pytest.mark.anyio
async def test_custom_retry_on() -> None:
    clock = FakeClock()
    retry = Retry(retry_on=lambda e: isinstance(e, KeyError), sleep=clock.sleep, clock=clock)
    assert await retry(Failing(KeyError("k"), KeyError("k"))) == "done"
    call = Failing(ServerError("not for this retry"))
    with pytest.raises(ServerError):
        await retry(call)
    assert call.calls == 1


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        Retry(max_attempts=0)
    with pytest.raises(ValueError, match="max_total_s"):
        Retry(max_total_s=0)


# -- real time: cancellation ------------------------------------------------------------


@pytest.mark.anyio
async def test_cancellation_during_the_call_is_not_retried_even_if_retry_on_says_yes() -> None:
    calls = 0

    async def hangs() -> str:
        nonlocal calls
        calls += 1
        await anyio.sleep(30)
        return "never"

    retry = Retry(base_delay=0.0, retry_on=lambda e: True)
    start = time.monotonic()
    with anyio.move_on_after(0.05) as scope:
        await retry(hangs)
    assert scope.cancelled_caught
    assert calls == 1 and retry.retries == 0
    assert time.monotonic() - start < 5


@pytest.mark.anyio
async def test_cancellation_during_the_backoff_sleep_stops_retrying() -> None:
    retry = Retry(base_delay=20.0, max_delay=20.0, seed=0)  # real anyio.sleep, a wait of several seconds
    call = Failing(ServerError("x"), forever=True)
    start = time.monotonic()
    with anyio.move_on_after(0.1) as scope:
        await retry(call)
    assert scope.cancelled_caught
    assert call.calls == 1 and retry.retries == 1
    assert time.monotonic() - start < 5
