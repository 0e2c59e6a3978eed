"""A whole Markdown report."""

from __future__ import annotations

from collections.abc import Sequence

from tablekit.sections import report_sections
from tablekit.table import Table


def report_document(table: Table, title: str, keys: Sequence[str], name: str, n: int = 5, how: str = "sum") -> str:
    """ "# title", a contents list with one "- how of name by key" line per key, then the sections."""
    sections = report_sections(table, keys, name, n, how)
    contents = "\n".join(f"- {how} of {name} by {key}" for key in keys)
    return f"# {title}\n\n{contents}\n\n" + "\n\n".join(sections)
