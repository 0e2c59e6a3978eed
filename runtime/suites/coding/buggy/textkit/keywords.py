"""Keywords and key phrases."""

from __future__ import annotations

from collections import Counter

from textkit.counts import top_words
from textkit.ngrams import word_ngrams
from textkit.stopwords import is_stop_word


def keywords(text: str, n: int = 5) -> list[str]:
    """The words of ``top_words(text, n, drop_stop_words=True)``."""
    return [word for word, _ in top_words(text, n, drop_stop_words=True)]


def key_phrases(text: str, n: int = 3) -> list[str]:
    """Up to ``n`` two-word phrases without stop words that occur at least twice: count descending, then phrase."""
    counts = Counter(
        phrase for phrase in word_ngrams(text, 2) if not any(is_stop_word(word) for word in phrase.split(" "))
    )
    frequent = [(phrase, count) for phrase, count in counts.items() if count > 2]
    frequent.sort(key=lambda item: (-item[1], item[0]))
    return [phrase for phrase, _ in frequent[:n]]
