"""Document similarity on TF-IDF vectors."""

from __future__ import annotations

from collections.abc import Sequence

from textkit.tfidf import tfidf
from textkit.vectors import cosine_similarity


def document_similarity(a: str, b: str) -> float:
    """Cosine similarity of the TF-IDF vectors of ``a`` and ``b`` computed over the corpus ``[a, b]``."""
    va, vb = tfidf([a, b])
    return cosine_similarity(va, vb)


def most_similar(query: str, documents: Sequence[str], *, n: int = 3) -> list[tuple[int, float]]:
    """Up to ``n`` ``(index, score)`` pairs of the documents most similar to ``query`` (score > 0)."""
    *doc_vectors, query_vector = tfidf([*documents, query])
    scored = [(index, cosine_similarity(query_vector, vector)) for index, vector in enumerate(doc_vectors)]
    ranked = sorted((item for item in scored if item[1] >= 0.0), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
