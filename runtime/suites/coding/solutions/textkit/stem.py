"""A tiny suffix-stripping stemmer."""

from __future__ import annotations

# (suffix, replacement), tried in this order; the first suffix that matches decides.
_RULES: tuple[tuple[str, str], ...] = (
    ("sses", "ss"),
    ("ies", "y"),
    ("ss", "ss"),
    ("ing", ""),
    ("ed", ""),
    ("ly", ""),
    ("s", ""),
)


def stem(word: str) -> str:
    """Lower-case ``word`` and strip one suffix, keeping a stem of at least three characters."""
    word = word.lower()
    if len(word) <= 3:
        return word
    for suffix, replacement in _RULES:
        if word.endswith(suffix):
            stemmed = word[: -len(suffix)] + replacement
            return stemmed if len(stemmed) >= 3 else word
    return word
