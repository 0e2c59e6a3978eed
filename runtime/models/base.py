"""The ``Model`` protocol and what a call returns.

A model takes chat messages and returns a ``Completion``: the text, the
token usage, the cost in USD (0.0 when unknown or free) and the latency.
Failures are ``runtime.errors.ModelError`` subclasses, never a provider's
own exception types.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Completion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    usage: Usage = Usage()
    cost_usd: float = Field(default=0.0, ge=0)
    latency_s: float = Field(default=0.0, ge=0)
    model: str = ""


MessagesLike = list[Message] | list[dict[str, Any]]


def as_messages(messages: MessagesLike) -> list[Message]:
    """Accept ``Message`` objects or ``{"role", "content"}`` dicts."""
    return [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]


@runtime_checkable
class Model(Protocol):
    """Anything that completes chat messages. ``name`` identifies it in logs and reports."""

    name: str

    async def complete(self, messages: MessagesLike, **params: Any) -> Completion: ...
