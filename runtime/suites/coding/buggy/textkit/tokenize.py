"""Words and sentences."""

from __future__ import annotations

import re

from textkit.normalize import normalize_whitespace, strip_accents

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def tokenize(text: str, *, lowercase: bool = True) -> list[str]:
    """The words of ``text`` after ``strip_accents``: runs of letters and digits, with internal apostrophes."""
    tokens = _WORD.findall(strip_accents(text))
    return [token.lower() for token in tokens] if lowercase else tokens


def sentences(text: str) -> list[str]:
    """Split the whitespace-normalised text after ``.``, ``!`` or ``?`` followed by whitespace."""
    return _SENTENCE_END.split(normalize_whitespace(text))
