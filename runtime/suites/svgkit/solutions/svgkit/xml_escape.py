"""Escaping for XML text and attributes."""

from __future__ import annotations

_ENTITIES = [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")]


def escape_xml(text: str) -> str:
    """``text`` with & < > " and ' as entities (& first, so nothing is escaped twice)."""
    for char, entity in _ENTITIES:
        text = text.replace(char, entity)
    return text


def unescape_xml(text: str) -> str:
    """The inverse of ``escape_xml`` (&amp; last, so "&amp;lt;" gives "&lt;")."""
    for char, entity in reversed(_ENTITIES):
        text = text.replace(entity, char)
    return text
