"""Fuzzy matching on Levenshtein similarity."""

from __future__ import annotations

from collections.abc import Iterable

from textkit.levenshtein import similarity


def close_matches(query: str, choices: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` choices whose case-insensitive similarity to ``query`` is at least ``cutoff``, best first."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    wanted = query.lower()
    scored = [(similarity(wanted, choice.lower()), index, choice) for index, choice in enumerate(choices)]
    kept = [item for item in scored if item[0] >= cutoff]
    kept.sort(key=lambda item: (-item[0], item[1]))
    return [choice for _, _, choice in kept[:n]]


def best_match(query: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The single best close match, or None."""
    matches = close_matches(query, choices, n=1, cutoff=cutoff)
    return matches[0] if matches else None
