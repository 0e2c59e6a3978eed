"""A fixed English stop-word list."""

from __future__ import annotations

from collections.abc import Iterable

STOP_WORDS: frozenset[str] = frozenset(
    """
    a an and are as at be but by for from has have he her his i in is it its
    of on or she so that the their them they this to was we were what when
    which who will with you your
    """.split()
)


def is_stop_word(word: str) -> bool:
    """True when ``word``, compared case-insensitively, is in ``STOP_WORDS``."""
    return word in STOP_WORDS


def remove_stop_words(tokens: Iterable[str]) -> list[str]:
    """The tokens that are not stop words, in their original order and case."""
    return [token for token in tokens if not is_stop_word(token)]
