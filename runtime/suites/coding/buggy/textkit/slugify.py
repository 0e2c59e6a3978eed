"""URL slugs."""

from __future__ import annotations

import re

from textkit.normalize import strip_accents

_ALNUM = re.compile(r"[a-z0-9]+")


def slugify(text: str, *, sep: str = "-", max_length: int | None = None) -> str:
    """Lower-case ASCII words of ``text`` joined by ``sep``, cut at a word boundary to ``max_length``."""
    words = _ALNUM.findall(strip_accents(text).lower())
    if max_length is None:
        return sep.join(words)
    slug = ""
    for word in words:
        candidate = word if not slug else slug + sep + word
        if len(candidate) >= max_length:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:max_length]
    return slug
