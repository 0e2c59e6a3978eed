"""Events that the resilience middleware reports, and where they go.

Every component takes ``on_event: EventSink | None``. A sink is a plain
synchronous callable ``(name, fields) -> None``; the team routes it into its
structlog run log (see ``structlog_sink``). A sink must not raise and should
not block: it is called on the hot path, sometimes from inside an ``except``.

Event names and their fields:

=================== =====================================================
``retry``           attempt, delay_s, error, error_type
``retry_gave_up``   attempts, elapsed_s, error
``breaker``         name, from_state, to_state, failures
``breaker_rejected`` name
``timeout``         seconds
``fallback``        from_model, to_model, error
``budget_exceeded`` what, used, limit
``parse_retry``     attempt, error
=================== =====================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

EventSink = Callable[[str, dict[str, Any]], None]


def null_sink(event: str, fields: dict[str, Any]) -> None:
    """The default sink: drops every event (the components' counters still count)."""


def structlog_sink(logger: Any | None = None) -> EventSink:
    """A sink that logs each event at info level on ``logger`` (a structlog logger by default)."""
    log = logger if logger is not None else structlog.get_logger("lmteams.resilience")

    def sink(event: str, fields: dict[str, Any]) -> None:
        log.info(event, **fields)

    return sink


def sink_or_null(on_event: EventSink | None) -> EventSink:
    return on_event if on_event is not None else null_sink
