"""Grid lines."""

from __future__ import annotations


def grid_lines(width: float, height: float, step: float, color: str = "#ddd") -> list[str]:
    """``<line>`` elements: vertical ones at x = 0, step, ... <= width, then horizontal ones at y = 0, step, ...
    <= height, numbers with :g; ValueError for step <= 0."""
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    lines = []
    count = int(width // step)
    for i in range(count + 1):
        x = i * step
        lines.append(f'<line x1="{x:g}" y1="0" x2="{x:g}" y2="{height:g}" stroke="{color}"/>')
    count = int(height // step)
    for i in range(count + 1):
        y = i * step
        lines.append(f'<line x1="0" y1="{y:g}" x2="{width:g}" y2="{y:g}" stroke="{color}"/>')
    return lines
