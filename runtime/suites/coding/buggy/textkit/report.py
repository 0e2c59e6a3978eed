"""A Markdown report on a text."""

from __future__ import annotations

from textkit.keywords import keywords
from textkit.slugify import slugify
from textkit.summarize import summarize
from textkit.tokenize import tokenize


def make_report(title: str, text: str, *, n_keywords: int = 5, max_sentences: int = 2) -> str:
    """A short Markdown report: title, slug, word count, keywords and a summary."""
    found = keywords(text, n_keywords)
    summary = summarize(text, max_sentences)
    lines = [
        f"# {title}",
        "",
        f"- slug: {slugify(title)}",
        f"- words: {len(tokenize(text))}",
        f"- keywords: {', '.join(found)}",
        "",
        "## Summary",
        "",
        summary if summary else "(empty)",
    ]
    return "\n".join(lines) + "\n"
