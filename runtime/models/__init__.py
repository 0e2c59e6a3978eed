"""Language models: the ``Model`` protocol, the offline ``SimulatedModel`` and ``LiteLLMModel``.

Importing this package never imports litellm; ``LiteLLMModel`` does that on
its first call.
"""

from __future__ import annotations

from lmteams.runtime.models.base import Completion, Message, MessagesLike, Model, Usage, as_messages
from lmteams.runtime.models.litellm_model import LiteLLMModel
from lmteams.runtime.models.simulated import Latency, Responder, SimulatedCall, SimulatedModel, acknowledge
from lmteams.runtime.models.tokens import count_message_tokens, count_tokens, tokenize

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
