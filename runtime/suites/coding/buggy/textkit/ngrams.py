"""Word n-grams."""

from __future__ import annotations

from collections.abc import Sequence

from textkit.tokenize import tokenize


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """Every run of ``n`` consecutive tokens, in order."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n)]


def word_ngrams(text: str, n: int) -> list[str]:
    """The n-grams of ``tokenize(text)``, each joined by one space."""
    return [" ".join(gram) for gram in ngrams(tokenize(text), n)]
