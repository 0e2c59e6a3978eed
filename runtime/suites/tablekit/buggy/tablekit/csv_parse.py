"""Tables from CSV text."""

from __future__ import annotations

import csv
import io
from typing import Any


def from_csv(text: str) -> list[dict[str, Any]]:
    """One row per data line keyed by the header; values stay strings, except empty cells which become None."""
    reader = csv.DictReader(io.StringIO(text))
    return [dict(row) for row in reader]
