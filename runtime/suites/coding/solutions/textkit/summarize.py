"""Extractive summaries."""

from __future__ import annotations

from textkit.counts import word_counts
from textkit.tokenize import sentences, tokenize


def score_sentences(text: str) -> list[tuple[str, float]]:
    """Each sentence with the mean, over all its tokens, of the text's non-stop-word frequencies (0 for stop words)."""
    freq = word_counts(text, drop_stop_words=True)
    scored: list[tuple[str, float]] = []
    for sentence in sentences(text):
        tokens = tokenize(sentence)
        score = sum(freq.get(token, 0) for token in tokens) / len(tokens) if tokens else 0.0
        scored.append((sentence, score))
    return scored


def summarize(text: str, max_sentences: int = 2) -> str:
    """The ``max_sentences`` best-scoring sentences (ties: earlier first), in their original order."""
    scored = score_sentences(text)
    best = sorted(range(len(scored)), key=lambda i: (-scored[i][1], i))[:max_sentences]
    return " ".join(scored[i][0] for i in sorted(best))
