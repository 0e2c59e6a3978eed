"""Composing the middleware: ``compose`` for any async call, ``ResilientModel`` for a model.

A middleware is any object with ``async __call__(call) -> result`` where
``call`` is a zero-argument function returning an awaitable. ``compose(a,
b, c)`` nests them outermost first: ``a(lambda: b(lambda: c(call)))``.

``ResilientModel`` wraps a model as, per ``complete()``::

    retry(  budget.check(); breaker( timeout( model.complete ))  )  ->  budget.charge(completion)

so a refused budget stops before the provider is called (and is not
retried), a timeout counts as a breaker failure, and the breaker's
``CircuitOpen`` (with its ``retry_after``) is what the retry waits out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, cast

from lmteams.runtime.models.base import Completion, MessagesLike, Model
from lmteams.runtime.resilience.breaker import CircuitBreaker
from lmteams.runtime.resilience.budget import Budget
from lmteams.runtime.resilience.events import EventSink
from lmteams.runtime.resilience.retry import Retry
from lmteams.runtime.resilience.timeout import Timeout

T = TypeVar("T")


class Middleware(Protocol):
    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T: ...


class _Composed:
    def __init__(self, middlewares: tuple[Middleware, ...]) -> None:
        self.middlewares = middlewares

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        wrapped: Callable[[], Awaitable[Any]] = call
        for mw in reversed(self.middlewares):
            wrapped = _bind(mw, wrapped)
        return cast(T, await wrapped())


def _bind(mw: Middleware, inner: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    def call() -> Awaitable[Any]:
        return mw(inner)

    return call


def compose(*middlewares: Middleware) -> Middleware:
    """One middleware that applies ``middlewares`` nested, the first outermost. ``compose()`` is the identity."""
    return _Composed(middlewares)


class ResilientModel:
    """A ``Model`` that adds budget, retry, circuit breaker and timeout around ``model``.

    Each part is optional. ``timeout`` may be a ``Timeout`` or a number of
    seconds; a ``Timeout`` built here reports to ``on_event`` (parts passed in
    keep the sinks they were built with). ``stats()`` gathers the parts'
    counters for a run report.
    """

    def __init__(
        self,
        model: Model,
        *,
        retry: Retry | None = None,
        breaker: CircuitBreaker | None = None,
        timeout: Timeout | float | None = None,
        budget: Budget | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        self.model = model
        self.name = model.name
        self.retry = retry
        self.breaker = breaker
        if timeout is not None and not isinstance(timeout, Timeout):
            timeout = Timeout(float(timeout), name=model.name, on_event=on_event)
        self.timeout = timeout
        self.budget = budget
        self.calls = 0
        self.completions = 0

    async def complete(self, messages: MessagesLike, **params: Any) -> Completion:
        self.calls += 1

        async def provider() -> Completion:
            return await self.model.complete(messages, **params)

        inner: list[Middleware] = [m for m in (self.breaker, self.timeout) if m is not None]
        guarded = compose(*inner)

        async def attempt() -> Completion:
            if self.budget is not None:
                self.budget.check()
            return await guarded(provider)

        completion = await (self.retry(attempt) if self.retry is not None else attempt())
        if self.budget is not None:
            self.budget.charge(completion)
        self.completions += 1
        return completion

    def stats(self) -> dict[str, int]:
        """Counters of every part, flat: ``retries``, ``breaker_trips``, ``timeouts``..."""
        out = {"calls": self.calls, "completions": self.completions}
        if self.retry is not None:
            out |= {"attempts": self.retry.attempts, "retries": self.retry.retries, "retry_gave_up": self.retry.gave_up}
        if self.breaker is not None:
            out |= {"breaker_trips": self.breaker.trips, "breaker_rejected": self.breaker.rejected}
        if self.timeout is not None:
            out |= {"timeouts": self.timeout.timeouts}
        if self.budget is not None:
            out |= {"budget_refusals": self.budget.refusals}
        return out
