"""A dashboard as an HTML page."""

from __future__ import annotations

from collections.abc import Sequence

from svgkit.attrs import escape
from svgkit.dashboard import dashboard


def dashboard_html(panels: Sequence[str], title: str, columns: int = 2) -> str:
    """A minimal HTML5 page titled ``title`` (escaped) whose body is ``dashboard(panels, title, columns)``."""
    head = f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
    return f"{head}<body>{dashboard(panels, title, columns)}</body></html>"
