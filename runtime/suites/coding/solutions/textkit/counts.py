"""Word frequencies."""

from __future__ import annotations

from textkit.stopwords import is_stop_word
from textkit.tokenize import tokenize


def word_counts(text: str, *, drop_stop_words: bool = False) -> dict[str, int]:
    """How often each token of ``tokenize(text)`` occurs, keyed in order of first occurrence."""
    counts: dict[str, int] = {}
    for token in tokenize(text):
        if drop_stop_words and is_stop_word(token):
            continue
        counts[token] = counts.get(token, 0) + 1
    return counts


def top_words(text: str, n: int = 10, *, drop_stop_words: bool = True) -> list[tuple[str, int]]:
    """The ``n`` most frequent ``(word, count)`` pairs: count descending, then word ascending."""
    ranked = sorted(word_counts(text, drop_stop_words=drop_stop_words).items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:n]
