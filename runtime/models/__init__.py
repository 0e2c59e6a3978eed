"""Language models: the ``Model`` protocol, the offline ``SimulatedModel`` and ``LiteLLMModel``.

Importing this package never imports litellm; ``LiteLLMModel`` does that on
its first call.
"""

from __future__ import annotations

from .base import Completion, Message, MessagesLike, Model, Usage, as_messages
from .litellm_model import LiteLLMModel
from .simulated import Latency, Responder, SimulatedCall, SimulatedModel, acknowledge
from .tokens import count_message_tokens, count_tokens, tokenize

__all__ = [
    "Completion",
    "Latency",
    "LiteLLMModel",
    "Message",
    "MessagesLike",
    "Model",
    "Responder",
    "SimulatedCall",
    "SimulatedModel",
    "Usage",
    "acknowledge",
    "as_messages",
    "count_message_tokens",
    "count_tokens",
    "tokenize",
]
