"""Test doubles shared by the resilience tests (no tests here).

They stand in for a model and for time: a fake clock whose ``sleep`` records
each delay and advances the clock without waiting, an event recorder, and
small models that return scripted replies, fail on a seeded schedule, or
hang. No real model is involved anywhere in these tests.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import anyio

from lmteams.runtime.models.base import Completion, Message, MessagesLike, Usage, as_messages


class FakeClock:
    """``clock()`` returns ``now``; ``await sleep(d)`` records ``d`` and advances ``now`` by it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


class Events:
    """An ``EventSink`` that keeps every event."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, fields: dict[str, Any]) -> None:
        self.items.append((name, dict(fields)))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [f for n, f in self.items if n == name]


def completion(text: str = "ok", tokens: int = 10, cost: float = 0.0, model: str = "") -> Completion:
    return Completion(
        text=text,
        usage=Usage(prompt_tokens=tokens // 2, completion_tokens=tokens - tokens // 2),
        cost_usd=cost,
        model=model,
    )


class ScriptedModel:
    """Plays ``script`` in order: a string is returned as the reply, an exception is raised. The last item repeats."""

    def __init__(
        self, name: str, script: Sequence[str | BaseException], *, tokens: int = 10, cost: float = 0.0
    ) -> None:
        self.name = name
        self.script = list(script)
        self.tokens = tokens
        self.cost = cost
        self.calls = 0
        self.seen: list[list[Message]] = []

    async def complete(self, messages: MessagesLike, **params: Any) -> Completion:
        self.seen.append(as_messages(messages))
        item = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        await anyio.lowlevel.checkpoint()
        if isinstance(item, BaseException):
            raise item
        return completion(item, self.tokens, self.cost, self.name)


class FlakyModel:
    """Fails with ``make_error()`` with probability ``p_fail`` (seeded), else answers."""

    def __init__(self, name: str, p_fail: float, make_error: Any, *, seed: int = 0, tokens: int = 10) -> None:
        self.name = name
        self.p_fail = p_fail
        self.make_error = make_error
        self.rng = random.Random(seed)
        self.tokens = tokens
        self.calls = 0
        self.failures = 0

    async def complete(self, messages: MessagesLike, **params: Any) -> Completion:
        self.calls += 1
        await anyio.lowlevel.checkpoint()
        if self.rng.random() < self.p_fail:
            self.failures += 1
            raise self.make_error()
        return completion(f"answer {self.calls}", self.tokens, model=self.name)


class SlowModel:
    """Sleeps ``delay`` seconds of real time before answering (``delays`` per call, last repeats)."""

    def __init__(self, name: str, delays: Sequence[float]) -> None:
        self.name = name
        self.delays = list(delays)
        self.calls = 0
        self.cancelled = 0
        self.finished = 0

    async def complete(self, messages: MessagesLike, **params: Any) -> Completion:
        delay = self.delays[min(self.calls, len(self.delays) - 1)]
        self.calls += 1
        try:
            await anyio.sleep(delay)
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        self.finished += 1
        return completion(f"slow answer {self.calls}", model=self.name)
