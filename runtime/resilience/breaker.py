"""Circuit breaker: stop calling a failing model for a while, then probe it.

``closed``: calls pass; ``failure_threshold`` consecutive counted failures
open the circuit. ``open``: calls raise ``CircuitOpen`` at once, with
``retry_after`` = the time left, until ``reset_timeout`` has passed since it
opened. ``half_open``: up to ``half_open_max`` concurrent trial calls pass
(more get ``CircuitOpen``); a trial's success closes the circuit and a
trial's counted failure opens it again.

Which errors count is the ``counts`` predicate (``default_retryable`` by
default): provider trouble (timeouts, 5xx, rate limits, connection errors)
counts; the caller's own fault (``BadRequest``, ``OutputParseError``) and
anything else is neutral: it neither counts as a failure nor resets the
count, and a neutral trial leaves the circuit half-open with its slot freed.
Cancellation of a call is neutral too.

An outcome only moves the state if the state has not changed since the call
started (a late success cannot close a circuit that tripped meanwhile).
The breaker is meant for one event loop and uses no lock: its state changes
happen between awaits, never across one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

from lmteams.runtime.errors import CircuitOpen
from lmteams.runtime.resilience.events import EventSink, sink_or_null
from lmteams.runtime.resilience.retry import default_retryable

T = TypeVar("T")

# Timers may fire a hair early (asyncio runs callbacks due within the clock's
# resolution), and float sums of waits land a hair short: a caller that slept
# exactly ``retry_after`` must find the circuit half-open, not open.
_SLACK_S = 1e-6


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Middleware implementing the closed / open / half-open circuit breaker.

    Counters: ``trips`` (transitions into ``open``, including re-opening from
    ``half_open``), ``rejected`` (calls refused with ``CircuitOpen``),
    ``failures`` (current consecutive counted failures), ``total_failures``
    and ``successes``.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        half_open_max: int = 1,
        name: str = "",
        clock: Callable[[], float] = time.monotonic,
        counts: Callable[[BaseException], bool] = default_retryable,
        on_event: EventSink | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold}")
        if reset_timeout < 0:
            raise ValueError(f"reset_timeout must be >= 0, got {reset_timeout}")
        if half_open_max < 1:
            raise ValueError(f"half_open_max must be at least 1, got {half_open_max}")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_max = half_open_max
        self.name = name
        self.counts = counts
        self._clock = clock
        self._emit = sink_or_null(on_event)
        self._state = BreakerState.CLOSED
        self._generation = 0  # bumped on every state change
        self._opened_at = 0.0
        self._trials = 0  # trial calls in flight in the current half-open period
        self.failures = 0
        self.total_failures = 0
        self.successes = 0
        self.trips = 0
        self.rejected = 0

    # -- state ------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The current state; reading it moves ``open`` to ``half_open`` once ``reset_timeout`` has passed."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_timeout - _SLACK_S:
            self._transition(BreakerState.HALF_OPEN)
        return self._state

    def _transition(self, to: BreakerState) -> None:
        frm = self._state
        self._state = to
        self._generation += 1
        self._trials = 0
        if to is BreakerState.OPEN:
            self._opened_at = self._clock()
            self.trips += 1
        self._emit(
            "breaker",
            {"name": self.name, "from_state": str(frm), "to_state": str(to), "failures": self.failures},
        )
        if to is BreakerState.CLOSED:
            self.failures = 0

    def reset(self) -> None:
        """Close the circuit by hand (e.g. after an operator fixed the provider)."""
        if self._state is not BreakerState.CLOSED:
            self._transition(BreakerState.CLOSED)
        self.failures = 0

    def _reject(self, retry_after: float | None, why: str) -> CircuitOpen:
        self.rejected += 1
        self._emit("breaker_rejected", {"name": self.name})
        return CircuitOpen(
            f"circuit breaker {self.name or '(unnamed)'} {why}", model=self.name or None, retry_after=retry_after
        )

    # -- the middleware -----------------------------------------------------------

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        state = self.state
        trial = False
        if state is BreakerState.OPEN:
            left = max(0.0, self.reset_timeout - (self._clock() - self._opened_at))
            raise self._reject(
                left,
                f"is open after {self.failures} consecutive failures; calls fail fast for another {left:.2f}s",
            )
        if state is BreakerState.HALF_OPEN:
            if self._trials >= self.half_open_max:
                raise self._reject(
                    None,
                    f"is half-open and already has {self._trials} trial call(s) in flight (half_open_max={self.half_open_max})",
                )
            self._trials += 1
            trial = True
        generation = self._generation
        try:
            result = await call()
        except BaseException as exc:
            counted = isinstance(exc, Exception) and self.counts(exc)
            if counted:
                self.total_failures += 1
            if generation == self._generation:
                if trial:
                    self._trials -= 1
                if counted:
                    self._on_failure(trial)
            raise
        self.successes += 1
        if generation == self._generation:
            if trial:
                self._trials -= 1
            self._on_success(trial)
        return result

    def _on_failure(self, trial: bool) -> None:
        self.failures += 1
        if trial or self.failures >= self.failure_threshold:
            self._transition(BreakerState.OPEN)

    def _on_success(self, trial: bool) -> None:
        if trial:
            self._transition(BreakerState.CLOSED)
        else:
            self.failures = 0
