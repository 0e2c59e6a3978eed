"""Timeout: bound one call's wall time and turn expiry into a retryable ``ModelTimeout``.

It uses its own anyio cancel scope (``move_on_after``) and converts only
that scope's expiry: a cancellation of an enclosing scope is not caught and
propagates unchanged, and a ``TimeoutError`` raised by the call itself is
passed through as it is (``default_retryable`` retries it anyway).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from lmteams.runtime.errors import ModelTimeout
from lmteams.runtime.resilience.events import EventSink, sink_or_null

T = TypeVar("T")


class Timeout:
    """Middleware: fail a call with ``ModelTimeout`` after ``seconds``. Counter: ``timeouts``."""

    def __init__(self, seconds: float, *, name: str | None = None, on_event: EventSink | None = None) -> None:
        if seconds <= 0:
            raise ValueError(f"Timeout seconds must be > 0, got {seconds}")
        self.seconds = seconds
        self.name = name
        self._emit = sink_or_null(on_event)
        self.timeouts = 0

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        with anyio.move_on_after(self.seconds):
            return await call()
        # Only reached when our own deadline cancelled the call (an outer
        # cancellation propagates out of the ``with`` instead).
        self.timeouts += 1
        self._emit("timeout", {"seconds": self.seconds})
        who = f"model {self.name!r}" if self.name else "the call"
        raise ModelTimeout(
            f"{who} did not answer within {self.seconds:g}s; raise the timeout or retry",
            model=self.name,
        )
