"""Tables to CSV text."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any


def to_csv(table: list[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV with a header row, lines ending in "\\n"; columns in first-appearance order unless given; None as ""."""
    if columns is None:
        names: dict[str, None] = {}
        for row in table:
            names.update(dict.fromkeys(row))
        columns = list(names)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in table:
        writer.writerow([str(row.get(name)) for name in columns])
    return out.getvalue()
