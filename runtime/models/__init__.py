"""Language models: the ``Model`` protocol, the offline ``SimulatedModel`` and ``LiteLLMModel``.

Importing this package never imports litellm; ``LiteLLMModel`` does that on
its first call.
"""

from __future__ import annotations

from lmteams.runtime.models.base import (
    Completion,
    Message,
    MessagesLike,
    Model,
    ToolCall,
    ToolSpec,
    Usage,
    as_messages,
)
from lmteams.runtime.models.litellm_model import LiteLLMModel
from lmteams.runtime.models.simulated import Latency, Reply, Responder, SimulatedCall, SimulatedModel, acknowledge
from lmteams.runtime.models.tokens import count_message_tokens, count_tokens, tokenize

__all__ = [
    "Completion",
    "Latency",
    "LiteLLMModel",
    "Message",
    "MessagesLike",
    "Model",
    "Reply",
    "Responder",
    "SimulatedCall",
    "SimulatedModel",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "acknowledge",
    "as_messages",
    "count_message_tokens",
    "count_tokens",
    "tokenize",
]
