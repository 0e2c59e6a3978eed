"""The ``Model`` protocol and what a call returns.

A model takes chat messages and returns a ``Completion``: the text, the
tool calls it asks for, the token usage, the cost in USD (0.0 when unknown or
free) and the latency. Failures are ``lmteams.runtime.errors.ModelError``
subclasses, never a provider's own exception types.

Tools: the caller passes ``tools`` (``ToolSpec``: a name, a description and the
JSON schema of the arguments); the model answers either with text or with
``tool_calls`` (``ToolCall``, whose ``arguments`` is the raw JSON text the model
wrote, which may not parse). The caller runs them and sends each result back
as a ``Message(role="tool", tool_call_id=..., content=...)``.
``response_format`` is the JSON schema a final text answer must satisfy; each
model passes it in the form its provider accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class ToolSpec(BaseModel):
    """A tool as the model sees it: its name, what it does, and the JSON schema of its arguments."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolCall(BaseModel):
    """One tool call a model asked for; ``arguments`` is the raw JSON text it wrote (it may not parse)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    arguments: str = "{}"


class Message(BaseModel):
    """One chat message: an assistant message may carry tool calls, a tool message answers one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


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
    tool_calls: tuple[ToolCall, ...] = ()
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

    async def complete(
        self,
        messages: MessagesLike,
        *,
        tools: Sequence[ToolSpec] | None = None,
        response_format: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        **params: Any,
    ) -> Completion:
        """Complete ``messages``; with ``tools`` the answer may be ``tool_calls`` instead of text;
        ``response_format`` is the JSON schema of the final answer; ``max_tokens`` caps the reply."""
        ...
