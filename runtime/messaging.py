"""Typed messages between agents: send, request/reply and publish of any pydantic model.

Every agent has a ``Messenger`` on the team's transport (memory or TCP).
A message is a pydantic model; it travels as an ``Envelope`` naming its
type, and the receiver decodes it with the type it registered (``handle``
or ``listen``). Delivery is at most once: nothing is resent, and a
duplicated frame is dropped by its envelope id. A request waits for its
reply within a timeout and raises ``MessageTimeout`` otherwise.

Messages only wake and direct agents; shared state lives in the committed
world. So a lost message costs latency, never correctness: the topologies
also re-read committed state on a timer.
"""

from __future__ import annotations

import secrets
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import anyio
import structlog
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from lmteams.runtime.errors import LmTeamsError
from lmteams.transports import Transport, TransportError

log = structlog.get_logger(__name__)

MAILBOX_SIZE = 1024
_SEEN_IDS = 4096  # envelope ids remembered to drop duplicated frames

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Any, str], Awaitable[BaseModel | None]]
"""``async def handler(message, sender) -> reply or None``."""


class MessageError(LmTeamsError):
    """A request could not be answered: no handler for its type at the receiver, or the handler raised."""


class MessageTimeout(MessageError, TimeoutError):
    """No reply arrived within the request's timeout (the request or its reply may have been lost)."""


def type_name(cls: type[BaseModel]) -> str:
    """The wire name of a message type: its module and qualified name."""
    return f"{cls.__module__}.{cls.__qualname__}"


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    mode: Literal["send", "request", "reply", "publish"]
    sender: str = Field(min_length=1)
    type: str = Field(min_length=1)
    payload: JsonValue = None
    topic: str | None = None
    reply_to: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Received:
    """One message taken from an inbox."""

    sender: str
    message: BaseModel
    topic: str | None = None


class Inbox:
    """Messages of some types waiting for one consumer; a bounded buffer (a full inbox drops)."""

    def __init__(self, size: int = MAILBOX_SIZE) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[Received](size)

    def put(self, item: Received) -> bool:
        try:
            self._send.send_nowait(item)
            return True
        except anyio.WouldBlock:
            return False

    async def wait(self, timeout: float) -> list[Received]:
        """Every message waiting, or the first to arrive within ``timeout`` (maybe none)."""
        items: list[Received] = []
        with anyio.move_on_after(timeout):
            items.append(await self._receive.receive())
        while True:
            try:
                items.append(self._receive.receive_nowait())
            except anyio.WouldBlock:
                return items


class Messenger:
    """One agent's end of the agent network. Run ``serve()`` in a task group to receive."""

    def __init__(
        self,
        agent_id: str,
        transport: Transport,
        peers: Iterable[str],
        *,
        sent: Counter[str] | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.agent_id = agent_id
        self.transport = transport
        self.peers = [p for p in peers if p != agent_id]
        self.sent = sent if sent is not None else Counter()
        self.rejected_frames = 0
        self._on_event = on_event
        self._types: dict[str, type[BaseModel]] = {}
        self._handlers: dict[str, Handler] = {}
        self._inboxes: dict[str, Inbox] = {}
        self._waiting: dict[str, tuple[anyio.Event, list[Envelope]]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    # -- receiving: who takes which type ----------------------------------------------

    def handle(self, cls: type[M], handler: Callable[[M, str], Awaitable[BaseModel | None]]) -> None:
        """Answer messages of type ``cls``: a request gets the handler's return value as its reply."""
        self._types[type_name(cls)] = cls
        self._handlers[type_name(cls)] = handler

    def listen(self, *classes: type[BaseModel], inbox: Inbox | None = None) -> Inbox:
        """An inbox (a new one, or ``inbox``) for messages of these types, sent or published."""
        inbox = inbox if inbox is not None else Inbox()
        for cls in classes:
            self._types[type_name(cls)] = cls
            self._inboxes[type_name(cls)] = inbox
        return inbox

    # -- sending ------------------------------------------------------------------------

    async def send(self, to: str, message: BaseModel) -> None:
        """Send ``message`` to agent ``to``, at most once (a lost message is not resent)."""
        await self._post(to, self._envelope("send", message))

    async def publish(self, topic: str, message: BaseModel) -> None:
        """Send ``message`` under ``topic`` to every other agent of the team."""
        envelope = self._envelope("publish", message, topic=topic)
        for peer in self.peers:
            await self._post(peer, envelope)

    async def request(self, to: str, message: BaseModel, timeout: float, reply: type[M] | None = None) -> Any:
        """Send ``message`` to ``to`` and return its handler's reply, decoded as ``reply`` when given.

        Raises ``MessageTimeout`` when no reply arrives within ``timeout`` and
        ``MessageError`` when ``to`` has no handler for the type or it raised.
        """
        envelope = self._envelope("request", message)
        event, box = self._waiting[envelope.id] = (anyio.Event(), [])
        try:
            await self._post(to, envelope)
            with anyio.move_on_after(timeout):
                await event.wait()
        finally:
            self._waiting.pop(envelope.id, None)
        if not box:
            raise MessageTimeout(
                f"{self.agent_id}: no reply from {to!r} to {type(message).__name__} within {timeout}s;"
                " the request or its reply was lost, or the receiver is slow: retry or raise the timeout"
            )
        answer = box[0]
        if answer.error is not None:
            raise MessageError(f"{to!r} could not answer {type(message).__name__}: {answer.error}")
        if reply is not None:
            return reply.model_validate(answer.payload)
        cls = self._types.get(answer.type)
        return cls.model_validate(answer.payload) if cls is not None else answer.payload

    # -- the receive loop ---------------------------------------------------------------

    async def serve(self) -> None:
        """Decode frames until cancelled; a frame that does not parse is logged and dropped."""
        async with anyio.create_task_group() as tg:
            async for peer, data in self.transport:
                try:
                    envelope = Envelope.model_validate_json(data)
                except ValidationError as exc:
                    self.rejected_frames += 1
                    log.warning("messenger.bad_frame", agent=self.agent_id, peer=peer, error=str(exc).splitlines()[0])
                    continue
                if self._duplicate(envelope.id):
                    continue
                if envelope.mode == "reply":
                    waiting = self._waiting.get(envelope.reply_to or "")
                    if waiting is not None:
                        waiting[1].append(envelope)
                        waiting[0].set()
                    continue
                tg.start_soon(self._deliver, envelope)

    async def _deliver(self, envelope: Envelope) -> None:
        cls = self._types.get(envelope.type)
        handler = self._handlers.get(envelope.type)
        if cls is None or (handler is None and envelope.type not in self._inboxes):
            if envelope.mode == "request":
                await self._answer(envelope, None, f"{self.agent_id} has no handler for {envelope.type}")
            else:
                log.info("messenger.unhandled", agent=self.agent_id, type=envelope.type, sender=envelope.sender)
            return
        try:
            message = cls.model_validate(envelope.payload)
        except ValidationError as exc:
            self.rejected_frames += 1
            if envelope.mode == "request":
                await self._answer(envelope, None, f"the message does not validate as {cls.__name__}: {exc}")
            return
        if handler is not None:
            try:
                reply = await handler(message, envelope.sender)
            except Exception as exc:  # a handler's bug answers the requester; it never ends the agent
                log.warning("messenger.handler_failed", agent=self.agent_id, type=envelope.type, error=str(exc))
                if envelope.mode == "request":
                    await self._answer(envelope, None, f"the handler raised {type(exc).__name__}: {exc}")
                return
            if envelope.mode == "request":
                await self._answer(envelope, reply, None)
            return
        if not self._inboxes[envelope.type].put(Received(envelope.sender, message, envelope.topic)):
            log.info("messenger.inbox_full", agent=self.agent_id, dropped=envelope.type)

    async def _answer(self, request: Envelope, reply: BaseModel | None, error: str | None) -> None:
        envelope = Envelope(
            id=secrets.token_hex(8),
            mode="reply",
            sender=self.agent_id,
            type=type_name(type(reply)) if reply is not None else "none",
            payload=reply.model_dump(mode="json") if reply is not None else None,
            reply_to=request.id,
            error=error,
        )
        await self._post(request.sender, envelope, kind="reply")

    # -- plumbing -----------------------------------------------------------------------

    def _envelope(self, mode: Literal["send", "request", "publish"], message: BaseModel, **extra: Any) -> Envelope:
        return Envelope(
            id=secrets.token_hex(8),
            mode=mode,
            sender=self.agent_id,
            type=type_name(type(message)),
            payload=message.model_dump(mode="json"),
            **extra,
        )

    async def _post(self, to: str, envelope: Envelope, kind: str | None = None) -> None:
        kind = kind or envelope.type.rsplit(".", 1)[-1].lower()
        self.sent[kind] += 1
        if self._on_event is not None:
            self._on_event("message", {"kind": kind, "mode": envelope.mode, "sender": self.agent_id, "to": to})
        try:
            await self.transport.send(to, envelope.model_dump_json().encode())
        except TransportError as exc:
            log.info("messenger.send_failed", agent=self.agent_id, to=to, error=str(exc))

    def _duplicate(self, envelope_id: str) -> bool:
        if envelope_id in self._seen:
            return True
        self._seen[envelope_id] = None
        if len(self._seen) > _SEEN_IDS:
            self._seen.popitem(last=False)
        return False
