"""Resilience middleware for model and agent calls: retry, circuit breaker, timeout, fallback, budget, structured output.

Each part is a middleware (``async __call__(call)``) or a ``Model`` wrapper,
reports events to an optional ``EventSink`` and keeps plain counters for the
run report. ``ResilientModel`` stacks them around one model; ``compose``
nests any of them around any async call.
"""

from lmteams.runtime.resilience.breaker import BreakerState, CircuitBreaker
from lmteams.runtime.resilience.budget import Budget
from lmteams.runtime.resilience.events import EventSink, null_sink, structlog_sink
from lmteams.runtime.resilience.fallback import Fallback
from lmteams.runtime.resilience.retry import Retry, default_retryable
from lmteams.runtime.resilience.stack import Middleware, ResilientModel, compose
from lmteams.runtime.resilience.structured import JSONExtractError, complete_structured, extract_json
from lmteams.runtime.resilience.timeout import Timeout

__all__ = [
    "BreakerState",
    "Budget",
    "CircuitBreaker",
    "EventSink",
    "Fallback",
    "JSONExtractError",
    "Middleware",
    "ResilientModel",
    "Retry",
    "Timeout",
    "complete_structured",
    "compose",
    "default_retryable",
    "extract_json",
    "null_sink",
    "structlog_sink",
]
