"""Reading path data."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_path(d: str) -> list[tuple[str, list[float]]]:
    """Path data as (command letter, its numbers) pairs in order; ValueError for other characters or leading numbers."""
    leftover = _TOKEN.sub(" ", d).replace(",", " ").strip()
    if leftover:
        raise ValueError(f"unexpected characters in path data: {leftover!r}")
    commands: list[tuple[str, list[float]]] = []
    for token in _TOKEN.findall(d):
        if token.isalpha():
            commands.append((token, []))
        elif not commands:
            raise ValueError("path data must start with a command letter")
        else:
            commands[-1][1].append(float(token))
    return commands
