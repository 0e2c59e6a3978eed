"""Whitespace and accent normalisation."""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r" +")


def normalize_whitespace(text: str) -> str:
    """Collapse every run of whitespace into one space and strip both ends."""
    return _WHITESPACE.sub(" ", text).strip()


def strip_accents(text: str) -> str:
    """Decompose with NFKD and drop the combining marks: ``"Café"`` -> ``"Cafe"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
