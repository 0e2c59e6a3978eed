"""What a work function is given: ``WorkContext``.

A work function is user code, ``async def work(task, ctx) -> result``. The
gate has already claimed the task and locked its resources when it runs,
and it commits the returned (JSON-able) result with the completion. Through
``ctx`` it reads its dependencies' results, its fencing tokens, the team's
model, the world state, the run's events and the other agents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from lmteams.consensus.world import Applied, Cas, CheckFence, Delete, Get, Put
from lmteams.runtime.errors import LmTeamsError
from lmteams.runtime.events import RunEvents
from lmteams.runtime.graph import Task, TaskGraph
from lmteams.runtime.messaging import Inbox, Messenger
from lmteams.runtime.models.base import Completion, Message, Model, ToolSpec
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.work.fence import StaleToken

if TYPE_CHECKING:
    from lmteams.runtime.models.base import MessagesLike

M = TypeVar("M", bound=BaseModel)

WorkFn = Callable[[Task, "WorkContext"], Awaitable[Any]]
"""``async def work(task, ctx) -> result``: the result must be JSON-able; it is committed with the completion."""


class WorkFailed(LmTeamsError):
    """Raise from a work function to fail this attempt with a reason (the task is retried within limits)."""


class NotLocked(LmTeamsError, KeyError):
    """``ctx.fence(resource)`` for a resource the task does not lock."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class WorkEvents:
    """The run's events, bound to one task and agent; ``count`` feeds the report's counters."""

    def __init__(self, events: RunEvents, counters: Counter[str], **bound: Any) -> None:
        self._events = events
        self._counters = counters
        self._bound = bound

    def emit(self, kind: str, **fields: Any) -> None:
        self._events.emit(kind, **self._bound, **fields)

    def count(self, name: str, n: int = 1) -> None:
        self._counters[name] += n

    def sink(self) -> Callable[[str, dict[str, Any]], None]:
        """An ``on_event(name, fields)`` callback, as the resilience helpers take."""
        return self._events.sink(**self._bound)


class MeteredModel:
    """The team's model (behind retry, breaker, timeout, budget) that counts calls and tokens per run."""

    def __init__(self, model: Model, events: WorkEvents, meter: Callable[[Completion], None]) -> None:
        self._model = model
        self._events = events
        self._meter = meter
        self.name = model.name

    async def complete(
        self,
        messages: MessagesLike,
        *,
        tools: Sequence[ToolSpec] | None = None,
        response_format: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        **params: Any,
    ) -> Completion:
        named = {"tools": tools, "response_format": response_format, "max_tokens": max_tokens}
        params.update({k: v for k, v in named.items() if v is not None})
        completion = await self._model.complete(messages, **params)
        self._meter(completion)
        self._events.emit(
            "model_call",
            model=completion.model or self.name,
            tokens_in=completion.usage.prompt_tokens,
            tokens_out=completion.usage.completion_tokens,
            latency_s=round(completion.latency_s, 4),
        )
        return completion


class World:
    """Linearizable reads and writes in the run's key space (keys are prefixed with the run id)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    async def get(self, key: str) -> Any:
        return _value(await self.client.query(Get(key=self.key(key))))

    async def put(self, key: str, value: Any) -> None:
        _value(await self.client.submit(Put(key=self.key(key), value=value)))

    async def delete(self, key: str) -> None:
        _value(await self.client.submit(Delete(key=self.key(key))))

    async def cas(self, key: str, expected: Any, new: Any) -> bool:
        """Set ``key`` to ``new`` if it holds ``expected`` (None: absent); whether it did."""
        return isinstance(await self.client.submit(Cas(key=self.key(key), expected=expected, new=new)), Applied)

    async def submit(self, command: Any) -> Any:
        """Any world command as is (an application's ``Custom`` command, say); the raw Applied or Rejected."""
        return await self.client.submit(command)


@dataclass(frozen=True, slots=True)
class Guard:
    """A resource owner's check against the committed lock table: is ``token`` the live holder's?"""

    client: Any
    resource: str
    key: str

    async def check(self, token: int) -> None:
        """Return if ``token`` is the current, unexpired token of the resource; else raise ``StaleToken``."""
        if not _value(await self.client.query(CheckFence(resource=self.key, token=token))):
            raise StaleToken(
                f"fencing token {token} for resource {self.resource!r} is not current: the lock was released,"
                " expired or taken over, so a write carrying it must be refused"
            )


@dataclass(slots=True)
class WorkContext:
    """What the gate hands a work function for one attempt."""

    task: Task
    agent_id: str
    inputs: dict[str, Any]
    """The committed results of the task's dependencies, by task id."""
    model: MeteredModel
    world: World
    events: WorkEvents
    settings: TeamSettings
    graph: TaskGraph
    workdir: Path
    """A directory for this run's files, shared by the team (the coding kind's workspace)."""
    run_id: str
    backup: bool = False
    """Whether this attempt is a speculative backup of a straggler."""
    tokens: Mapping[str, int] = field(default_factory=dict)
    messenger: Messenger | None = None
    lock_key: Callable[[str], str] = str

    def fence(self, resource: str) -> int:
        """The fencing token of ``resource``'s committed lock for this attempt (0 when the gate is off)."""
        if resource in self.tokens:
            return self.tokens[resource]
        if not self.settings.gate:
            return 0
        raise NotLocked(
            f"task {self.task.id!r} holds no lock on {resource!r}; it locks {sorted(self.tokens)}:"
            " list the resource in the task's 'resources'"
        )

    def guard(self, resource: str) -> Guard:
        """A check of tokens for ``resource`` against the committed lock table (see ``Guard.check``)."""
        return Guard(self.world.client, resource, self.lock_key(resource))

    # -- messages ------------------------------------------------------------------------

    async def send(self, agent: str, message: BaseModel) -> None:
        await self._messenger().send(agent, message)

    async def request(self, agent: str, message: BaseModel, timeout: float, reply: type[M] | None = None) -> Any:
        return await self._messenger().request(agent, message, timeout, reply)

    async def publish(self, topic: str, message: BaseModel) -> None:
        await self._messenger().publish(topic, message)

    def listen(self, *classes: type[BaseModel]) -> Inbox:
        return self._messenger().listen(*classes)

    @property
    def peers(self) -> list[str]:
        return list(self._messenger().peers)

    def _messenger(self) -> Messenger:
        if self.messenger is None:
            raise LmTeamsError("this work context has no messenger: it runs outside a team")
        return self.messenger


def _value(result: Any) -> Any:
    if not isinstance(result, Applied):
        raise LmTeamsError(f"the world refused the command: {result}")
    return result.value


__all__ = [
    "Guard",
    "MeteredModel",
    "Message",
    "NotLocked",
    "WorkContext",
    "WorkEvents",
    "WorkFailed",
    "WorkFn",
    "World",
]
