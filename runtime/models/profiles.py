"""The latency of one model call as the paper measured it, by model and mode (``Latency.profile``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PaperLatency:
    """One row of the paper's latency table: the sample median, and mean and sd of ln(seconds)."""

    median_s: float
    mu: float
    sigma: float


PAPER_LATENCY: dict[tuple[str, str], PaperLatency] = {
    ("claude", "decentralized"): PaperLatency(3.27, 1.484, 1.188),
    ("claude", "pre-assigned"): PaperLatency(11.94, 2.401, 0.917),
    ("gemini", "decentralized"): PaperLatency(4.06, 1.497, 0.608),
    ("gemini", "pre-assigned"): PaperLatency(4.10, 1.530, 0.687),
    ("gpt-5.2", "decentralized"): PaperLatency(1.66, 0.701, 0.832),
    ("gpt-5.2", "pre-assigned"): PaperLatency(2.99, 1.175, 0.947),
    ("all", "all"): PaperLatency(2.75, 1.166, 1.015),
}
"""Latency of one model call in "Language Model Teams as Distributed Systems", by (model, mode)."""

_MODES = {"preassigned": "pre-assigned", "pre_assigned": "pre-assigned"}


def paper_latency(model: str = "all", mode: str | None = None) -> PaperLatency:
    """The row for ``model`` (claude, gemini, gpt-5.2, all) in ``mode`` (decentralized, pre-assigned)."""
    wanted = (mode or "all").lower()
    key = (model.lower(), _MODES.get(wanted, wanted))
    row = PAPER_LATENCY.get(key)
    if row is None:
        known = ", ".join(f"({m!r}, {d!r})" for m, d in PAPER_LATENCY)
        raise ValueError(f"no paper latency profile for model={model!r}, mode={mode!r}; the known ones are {known}")
    return row
