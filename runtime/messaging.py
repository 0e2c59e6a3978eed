"""Agent-to-agent messages and the mailbox that carries them over a transport.

Messages only wake and direct agents ("task t is done", "please do task
t"); they never carry shared state, which lives in the committed world. So
a lost or duplicated message costs a little latency, never correctness:
every agent also re-reads committed state on a timer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import anyio
import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lmteams.transports import Transport, TransportError

log = structlog.get_logger(__name__)

MAILBOX_SIZE = 1024


class MessageKind(StrEnum):
    ASSIGN = "assign"
    """Orchestrator to worker: do this task."""
    BACKUP = "backup"
    """Orchestrator to worker: start a speculative backup of this straggling task."""
    DONE = "done"
    """A task was completed (committed); waiting agents re-check what is ready."""
    FAILED = "failed"
    """An attempt at a task failed; the task is open again (or failed for good)."""
    IDLE = "idle"
    """Worker to orchestrator: I have nothing to do."""


class AgentMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: MessageKind
    sender: str = Field(min_length=1)
    task: str | None = None
    body: dict[str, Any] = Field(default_factory=dict)


class Inbox:
    """Messages waiting for one consumer."""

    def __init__(self, size: int = MAILBOX_SIZE) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[AgentMessage](size)

    def put(self, message: AgentMessage) -> bool:
        try:
            self._send.send_nowait(message)
            return True
        except anyio.WouldBlock:
            return False

    async def wait(self, timeout: float) -> list[AgentMessage]:
        """Every message waiting, or the first to arrive within ``timeout`` (maybe none)."""
        messages: list[AgentMessage] = []
        with anyio.move_on_after(timeout):
            messages.append(await self._receive.receive())
        while True:
            try:
                messages.append(self._receive.receive_nowait())
            except anyio.WouldBlock:
                return messages


class Mailbox:
    """One agent's end of the agent network: send, broadcast, and an inbox to wait on."""

    def __init__(
        self,
        agent_id: str,
        transport: Transport,
        peers: Iterable[str],
        *,
        sent: Counter[str],
        on_event: Any = None,
    ) -> None:
        self.agent_id = agent_id
        self.transport = transport
        self.peers = [p for p in peers if p != agent_id]
        self.sent = sent
        self.rejected_frames = 0
        self._on_event = on_event
        self.inbox = Inbox()

    async def send(self, to: str, kind: MessageKind, task: str | None = None, **body: Any) -> None:
        message = AgentMessage(kind=kind, sender=self.agent_id, task=task, body=body)
        self.sent[kind.value] += 1
        if self._on_event is not None:
            self._on_event("message", {"kind": kind.value, "sender": self.agent_id, "to": to, "task": task})
        try:
            await self.transport.send(to, message.model_dump_json().encode())
        except TransportError as exc:
            log.info("mailbox.send_failed", agent=self.agent_id, to=to, error=str(exc))

    async def broadcast(self, kind: MessageKind, task: str | None = None, **body: Any) -> None:
        for peer in self.peers:
            await self.send(peer, kind, task, **body)

    async def receive_loop(self) -> None:
        """Decode frames into the inbox. A frame that does not parse is logged and dropped."""
        async for peer, data in self.transport:
            try:
                message = AgentMessage.model_validate_json(data)
            except ValidationError as exc:
                self.rejected_frames += 1
                log.warning("mailbox.bad_frame", agent=self.agent_id, peer=peer, error=str(exc).splitlines()[0])
                continue
            if not self.inbox.put(message):
                log.info("mailbox.full", agent=self.agent_id, dropped=message.kind.value)

    async def wait(self, timeout: float) -> list[AgentMessage]:
        return await self.inbox.wait(timeout)
