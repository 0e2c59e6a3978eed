"""TF-IDF weights."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from textkit.stem import stem
from textkit.stopwords import is_stop_word
from textkit.tokenize import tokenize


def terms(text: str) -> list[str]:
    """The stems of the non-stop-word tokens of ``text``, in order."""
    return [stem(token) for token in tokenize(text) if not is_stop_word(token)]


def tfidf(documents: Sequence[str]) -> list[dict[str, float]]:
    """One ``{term: tf * idf}`` vector per document (smoothed idf, see the task description)."""
    docs = [terms(document) for document in documents]
    n_docs = len(docs)
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    vectors: list[dict[str, float]] = []
    for doc in docs:
        counts = Counter(doc)
        total = len(doc)
        vectors.append({term: (count / total) * (math.log(n_docs / df[term]) + 1.0) for term, count in counts.items()})
    return vectors
