"""Approximate token counting, offline.

``count_tokens`` splits text with one regular expression into runs of
letters, runs of digits and runs of punctuation/symbols; each run is one
token. That is an approximation: real tokenizers (BPE, SentencePiece) split
long or rare words into several pieces and merge a leading space into the
next word, so for English prose they give roughly 1.2-1.4x this count, and
the ratio differs per model. It is good enough for budgets, reports and the
simulated model, and it needs no download and no model-specific vocabulary.
For exact counts of a real model, use the usage the provider returns
(``LiteLLMModel`` does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lmteams.runtime.models.base import Message

# letters (any script) | digits | punctuation and symbols (underscore included)
_TOKEN = re.compile(r"[^\W\d_]+|\d+|(?:[^\w\s]|_)+")


def tokenize(text: str) -> list[str]:
    """The pieces ``count_tokens`` counts, for inspection and tests."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    """Approximate number of tokens in ``text`` (see the module docstring)."""
    return sum(1 for _ in _TOKEN.finditer(text))


def count_message_tokens(messages: Iterable[Message]) -> int:
    """Approximate prompt tokens: the sum over the messages' contents (roles and framing not counted)."""
    return sum(count_tokens(m.content) for m in messages)
