"""Retry with exponential backoff and full jitter.

Why not ``tenacity``: its ``AsyncRetrying`` accepts an injected ``sleep`` (so
``anyio.sleep`` works), but three things we need do not fit cleanly.
``wait_random_exponential`` draws from the global ``random`` module, not a
seeded ``random.Random``, so runs would not replay from a seed; honouring an
error's ``retry_after`` and "give up when the next wait would pass
``max_total_s``" both need the wait and stop strategies to see each other's
result, which means custom strategy classes; and its elapsed time comes from
its own clock, not an injected one. What remains after writing those is the
loop below, so a ~40-line loop beats a new dependency.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from lmteams.runtime.errors import ModelError
from lmteams.runtime.resilience.events import EventSink, sink_or_null

T = TypeVar("T")


def default_retryable(exc: BaseException) -> bool:
    """True when trying again may help.

    Yes for a ``ModelError`` whose ``retryable`` is true (``RateLimited``,
    ``ModelTimeout``, ``ModelConnectionError``, ``ServerError``,
    ``CircuitOpen``, an ``AllFallbacksFailed`` with a retryable cause) and
    for the builtin ``TimeoutError``. No for ``BadRequest``,
    ``OutputParseError``, anything else, and never for cancellation (which
    is a ``BaseException``, not an ``Exception``, on every anyio backend).
    """
    if not isinstance(exc, Exception):
        return False
    if isinstance(exc, ModelError):
        return bool(exc.retryable)
    return isinstance(exc, TimeoutError)


class Retry:
    """Middleware: call again after a retryable failure, with exponential backoff and full jitter.

    Before attempt ``n + 1`` it waits ``uniform(0, min(max_delay, base_delay * 2**(n-1)))``,
    drawn from ``random.Random(seed)``. If the error has a ``retry_after``
    (seconds) it waits at least that long, but never past ``max_total_s``
    from the first attempt. It gives up, re-raising the last error, after
    ``max_attempts`` attempts or when the jittered wait would end past
    ``max_total_s``. A non-retryable error (see ``retry_on``) is re-raised at
    once; cancellation is never caught.

    Counters: ``attempts`` (calls made), ``retries`` (waits before another
    attempt), ``gave_up`` (retryable failures re-raised at a limit).
    """

    def __init__(
        self,
        max_attempts: int = 4,
        base_delay: float = 0.1,
        max_delay: float = 5.0,
        max_total_s: float = 30.0,
        retry_on: Callable[[BaseException], bool] = default_retryable,
        seed: int = 0,
        sleep: Callable[[float], Awaitable[Any]] = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_event: EventSink | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if base_delay < 0 or max_delay < 0:
            raise ValueError(f"base_delay and max_delay must be >= 0, got {base_delay} and {max_delay}")
        if max_total_s <= 0:
            raise ValueError(f"max_total_s must be > 0, got {max_total_s}")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_total_s = max_total_s
        self.retry_on = retry_on
        self._rng = random.Random(seed)
        self._sleep = sleep
        self._clock = clock
        self._emit = sink_or_null(on_event)
        self.attempts = 0
        self.retries = 0
        self.gave_up = 0

    def backoff_cap(self, attempt: int) -> float:
        """The upper bound of the jittered wait after failed attempt ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))

    def _give_up(self, attempt: int, elapsed: float, exc: BaseException) -> None:
        self.gave_up += 1
        self._emit(
            "retry_gave_up",
            {"attempts": attempt, "elapsed_s": elapsed, "error": str(exc) or type(exc).__name__},
        )

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        start = self._clock()
        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            try:
                return await call()
            except Exception as exc:  # cancellation is a BaseException and passes through
                if not self.retry_on(exc):
                    raise
                elapsed = self._clock() - start
                if attempt >= self.max_attempts:
                    self._give_up(attempt, elapsed, exc)
                    raise
                remaining = self.max_total_s - elapsed
                delay = self._rng.uniform(0.0, self.backoff_cap(attempt))
                if remaining <= 0 or delay > remaining:
                    self._give_up(attempt, elapsed, exc)
                    raise
                retry_after = getattr(exc, "retry_after", None)
                if isinstance(retry_after, int | float) and retry_after > delay:
                    delay = min(float(retry_after), remaining)
                self.retries += 1
                self._emit(
                    "retry",
                    {
                        "attempt": attempt,
                        "delay_s": delay,
                        "error": str(exc) or type(exc).__name__,
                        "error_type": type(exc).__name__,
                    },
                )
            # Outside the except block, so the failed attempt's traceback is not kept alive while we wait.
            await self._sleep(delay)
