"""Sparse vectors as ``{term: weight}`` mappings."""

from __future__ import annotations

import math
from collections.abc import Mapping


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """The sum of ``a[k] * b[k]`` over the keys present in both."""
    if len(b) < len(a):
        a, b = b, a
    return float(sum(value * b[key] for key, value in a.items() if key in b))


def norm(a: Mapping[str, float]) -> float:
    """The Euclidean length of ``a``."""
    return math.sqrt(sum(value * value for value in a.values()))


def cosine_similarity(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """``dot(a, b) / (norm(a) * norm(b))``, or 0.0 when either vector has zero length."""
    na, nb = norm(a), norm(b)
    if na == 0.0 or nb == 0.0:
        return 0.0
    return dot(a, b) / (na * nb)
