"""Linear gradients."""

from __future__ import annotations

from collections.abc import Sequence


def linear_gradient(
    gradient_id: str, stops: Sequence[tuple[float, str]], x1: str = "0", y1: str = "0", x2: str = "1", y2: str = "0"
) -> str:
    """A ``<linearGradient>`` with one ``<stop offset="P%" stop-color="C"/>`` per (offset 0..1, colour), the
    percentage with :g; ValueError for fewer than 2 stops or offsets outside 0..1 or decreasing."""
    offsets = [offset for offset, _ in stops]
    if len(stops) < 2 or any(not 0 <= o <= 1 for o in offsets) or offsets != sorted(offsets):
        raise ValueError("need at least 2 stops with offsets in 0..1, in increasing order")
    inner = "".join(f'<stop offset="{offset * 100:g}%" stop-color="{color}"/>' for offset, color in stops)
    head = f'<linearGradient id="{gradient_id}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}">'
    return f"{head}{inner}</linearGradient>"
