"""Budget: a hard stop on the tokens and dollars a whole team may spend.

One ``Budget`` is shared by every agent of a team. Agents call ``check()``
before a model call and ``charge(completion)`` after it. The runtime runs a
team on one event loop and these methods never await, so reads and updates
cannot interleave: no lock is needed. (Do not share one instance across
threads or event loops.)

The check happens before a call and the charge after it, so concurrent
agents that all pass ``check()`` can together overshoot a limit by up to one
call each; after that every ``check()`` refuses.
"""

from __future__ import annotations

from lmteams.runtime.errors import BudgetExceeded
from lmteams.runtime.models.base import Completion
from lmteams.runtime.resilience.events import EventSink, sink_or_null


class Budget:
    """Token and cost limits (``None`` = unlimited). Counters: ``calls`` charged, ``refusals``."""

    def __init__(
        self,
        max_tokens: int | None = None,
        max_cost_usd: float | None = None,
        *,
        on_event: EventSink | None = None,
    ) -> None:
        if max_tokens is not None and max_tokens < 0:
            raise ValueError(f"max_tokens must be >= 0 or None, got {max_tokens}")
        if max_cost_usd is not None and max_cost_usd < 0:
            raise ValueError(f"max_cost_usd must be >= 0 or None, got {max_cost_usd}")
        self.max_tokens = max_tokens
        self.max_cost_usd = max_cost_usd
        self._emit = sink_or_null(on_event)
        self.used_tokens = 0
        self.used_cost_usd = 0.0
        self.calls = 0
        self.refusals = 0

    def _over(self) -> tuple[str, float, float] | None:
        if self.max_tokens is not None and self.used_tokens >= self.max_tokens:
            return ("tokens", self.used_tokens, self.max_tokens)
        if self.max_cost_usd is not None and self.used_cost_usd >= self.max_cost_usd:
            return ("cost_usd", self.used_cost_usd, self.max_cost_usd)
        return None

    @property
    def exceeded(self) -> bool:
        """True once a limit has been reached (used >= limit)."""
        return self._over() is not None

    def check(self) -> None:
        """Raise ``BudgetExceeded`` if a limit has been reached; otherwise return."""
        over = self._over()
        if over is None:
            return
        what, used, limit = over
        self.refusals += 1
        self._emit("budget_exceeded", {"what": what, "used": used, "limit": limit})
        if what == "tokens":
            msg = (
                f"token budget exceeded: used {used} of max_tokens={limit}; raise max_tokens or use fewer/shorter calls"
            )
        else:
            msg = f"cost budget exceeded: used ${used:.4f} of max_cost_usd=${limit:.4f}; raise max_cost_usd or use a cheaper model"
        raise BudgetExceeded(msg)

    def charge(self, completion: Completion) -> None:
        """Add a completion's tokens and cost."""
        self.used_tokens += completion.usage.total_tokens
        self.used_cost_usd += completion.cost_usd
        self.calls += 1
