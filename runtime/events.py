"""A run's event log: structlog JSON events, to a file and to live subscribers.

Every claim, lock, model call, retry, breaker change, message, completion
and leader change of a run is one event. ``RunEvents`` builds its own
structlog logger (no global configuration is touched, so an embedding
application keeps its own), renders each event as one JSON line in
``runs/<id>/events.jsonl`` and hands the same dict to every subscriber, so
a service can stream a run as it happens.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any, TextIO

import anyio
import structlog
from anyio.streams.memory import MemoryObjectSendStream

SUBSCRIBER_BUFFER = 10_000


class EventHub:
    """Live subscribers to events; a ``Team`` keeps one across its runs."""

    def __init__(self) -> None:
        self._subscribers: list[MemoryObjectSendStream[dict[str, Any]]] = []

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        """Every event published from now on, until the hub is closed."""
        send, receive = anyio.create_memory_object_stream[dict[str, Any]](SUBSCRIBER_BUFFER)
        self._subscribers.append(send)
        async with receive:
            async for event in receive:
                yield event

    def publish(self, event: dict[str, Any]) -> None:
        for send in list(self._subscribers):
            try:
                send.send_nowait(event)
            except anyio.WouldBlock:
                pass  # a subscriber that stopped reading loses events, not the run
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._subscribers.remove(send)

    def close(self) -> None:
        for send in self._subscribers:
            send.close()
        self._subscribers.clear()


class RunEvents:
    """The event log of one run. ``emit(name, **fields)`` records an event."""

    def __init__(self, run_id: str, path: Path | None = None, hub: EventHub | None = None) -> None:
        self.run_id = run_id
        self.path = path
        self.counts: Counter[str] = Counter()
        self.hub = hub if hub is not None else EventHub()
        self._owns_hub = hub is None
        self._started = time.monotonic()
        self._file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")
        self._log = structlog.wrap_logger(
            _LineWriter(self),
            wrapper_class=structlog.BoundLogger,
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", key="ts"),
                self._fan_out,
                structlog.processors.JSONRenderer(sort_keys=False, default=str),
            ],
        ).bind(run=run_id)

    # -- emitting ----------------------------------------------------------------

    def emit(self, event: str, **fields: Any) -> None:
        self.counts[event] += 1
        self._log.info(event, t=round(time.monotonic() - self._started, 6), **fields)

    def sink(self, **bound: Any) -> Any:
        """An ``on_event(name, fields)`` callback (as resilience components take) that adds ``bound``."""

        def on_event(name: str, fields: dict[str, Any]) -> None:
            self.emit(name, **bound, **fields)

        return on_event

    def close(self) -> None:
        if self._owns_hub:
            self.hub.close()
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- structlog plumbing ------------------------------------------------------

    def _fan_out(self, _logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        self.hub.publish(dict(event_dict))
        return event_dict

    def _write(self, line: str) -> None:
        if self._file is not None:
            self._file.write(line + "\n")
            self._file.flush()


class _LineWriter:
    """The 'logger' at the end of the structlog chain: one rendered line per event."""

    def __init__(self, events: RunEvents) -> None:
        self._events = events

    def msg(self, line: str) -> None:
        self._events._write(line)

    info = msg


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events of a finished run, from its ``events.jsonl``."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
