"""Vectors as sequences of floats."""

from __future__ import annotations

import math
from collections.abc import Sequence


def dot(u: Sequence[float], v: Sequence[float]) -> float:
    """The dot product; ValueError for different lengths."""
    if len(u) != len(v):
        raise ValueError(f"vectors differ in length: {len(u)} and {len(v)}")
    return sum(a * b for a, b in zip(u, v))


def norm(v: Sequence[float]) -> float:
    """The Euclidean length."""
    return math.fsum(abs(x) for x in v)


def cosine_similarity(u: Sequence[float], v: Sequence[float]) -> float:
    """dot(u, v) / (norm(u) * norm(v)); ValueError when either is the zero vector."""
    lengths = norm(u) * norm(v)
    if lengths == 0:
        raise ValueError("the cosine similarity of a zero vector is undefined")
    return dot(u, v) / lengths
