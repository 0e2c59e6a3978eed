"""Fallback chain: a ``Model`` that tries several models in order.

It moves on to the next model when one raises any ``ModelError``, including
``CircuitOpen`` from that model's breaker (when ``breakers`` are given, one
per model) and ``OutputParseError``. ``BadRequest`` moves on too, by choice:
"bad request" is judged by one provider (context too long for its window,
a parameter it does not support, a bad key for that provider), and another
provider may well accept the same request. If every model fails it raises
``AllFallbacksFailed`` with each model's error in order; that error is
retryable when any of them was.

Errors that are not ``ModelError`` (``BudgetExceeded``, programming errors,
cancellation) propagate at once: another model cannot fix them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from lmteams.runtime.errors import AllFallbacksFailed, ModelError
from lmteams.runtime.models.base import Completion, MessagesLike, Model
from lmteams.runtime.resilience.breaker import CircuitBreaker
from lmteams.runtime.resilience.events import EventSink, sink_or_null


class Fallback:
    """A ``Model`` over ``models``, tried in order. Counters: ``fallbacks`` (moves to the next model), ``exhausted``."""

    def __init__(
        self,
        models: Sequence[Model],
        *,
        breakers: Sequence[CircuitBreaker] | None = None,
        on_event: EventSink | None = None,
        name: str | None = None,
    ) -> None:
        if not models:
            raise ValueError("Fallback needs at least one model")
        if breakers is not None and len(breakers) != len(models):
            raise ValueError(
                f"Fallback needs one breaker per model: got {len(breakers)} breakers for {len(models)} models"
            )
        self.models = list(models)
        self.breakers = list(breakers) if breakers is not None else None
        self.name = name or "fallback(" + ", ".join(m.name for m in self.models) + ")"
        self._emit = sink_or_null(on_event)
        self.fallbacks = 0
        self.exhausted = 0

    async def complete(self, messages: MessagesLike, **params: Any) -> Completion:
        errors: list[BaseException] = []
        for i, model in enumerate(self.models):
            try:
                if self.breakers is not None:
                    return await self.breakers[i](functools.partial(model.complete, messages, **params))
                return await model.complete(messages, **params)
            except ModelError as exc:
                errors.append(exc)
                if i + 1 < len(self.models):
                    self.fallbacks += 1
                    self._emit(
                        "fallback",
                        {
                            "from_model": model.name,
                            "to_model": self.models[i + 1].name,
                            "error": str(exc) or type(exc).__name__,
                        },
                    )
        self.exhausted += 1
        detail = "; ".join(f"{m.name}: {type(e).__name__}: {e}" for m, e in zip(self.models, errors, strict=True))
        raise AllFallbacksFailed(f"all {len(self.models)} models in {self.name} failed: {detail}", errors)
