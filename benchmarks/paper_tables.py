"""Markdown tables of a sweep for the README: ``python benchmarks/paper_tables.py RESULTS``.

Median speedup (n >= 2) by topology and p beside the paper's medians, the
n = 5 comparison of the event-driven topologies with the rounds baseline,
and cost figures (tokens, messages, conflicts, straggler gap) by n.
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from lmteams.runtime.sweep import read_table

PAPER = {"preassigned": (1.04, 1.32, 1.91), "decentralized": (0.83, 0.88, 0.98)}
VARIANTS = (0.2, 0.5, 0.9)
ORDER = ("preassigned", "decentralized", "centralized", "rounds")


def med(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


def main(path: str) -> None:
    rows = [r for r in read_table(Path(path)) if r.get("status") == "completed"]
    by: dict[tuple[str, float, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[(r["topology"], float(r["variant"]), int(r["agents"]))].append(r)
    topologies = [t for t in ORDER if any(k[0] == t for k in by)]
    seeds = sorted({r["seed"] for r in rows})
    print(
        f"runs: {len(rows)}, seeds {seeds[0]}-{seeds[-1]}, time scale {rows[0]['time_scale']}, work {rows[0]['work']}\n"
    )
    print("| topology | p = 0.2 | p = 0.5 | p = 0.9 | paper (same mode) |")
    print("| --- | --- | --- | --- | --- |")
    for t in topologies:
        cells = [
            med([r["speedup"] for (tt, v, n), rs in by.items() if tt == t and v == p and n >= 2 for r in rs])
            for p in VARIANTS
        ]
        paper = " / ".join(f"{x:.2f}" for x in PAPER[t]) if t in PAPER else "-"
        print(f"| {t} | {' | '.join(cells)} | {paper} |")
    print("\nAt n = 5, median speedup and the gain over rounds:\n")
    print(
        "| p | "
        + " | ".join(topologies)
        + " | "
        + " | ".join(f"{t} / rounds" for t in topologies if t != "rounds")
        + " |"
    )
    print("| --- " * (1 + len(topologies) * 2 - 1) + "|")
    for p in VARIANTS:
        meds = {t: statistics.median([r["speedup"] for r in by[(t, p, 5)]]) for t in topologies if by[(t, p, 5)]}
        gains = [f"{meds[t] / meds['rounds'] - 1:+.0%}" for t in topologies if t != "rounds" and "rounds" in meds]
        print(
            f"| {p:g} | "
            + " | ".join(f"{meds.get(t, float('nan')):.2f}" for t in topologies)
            + " | "
            + " | ".join(gains)
            + " |"
        )
    print("\nCost by team size (median over p and seeds):\n")
    print("| topology | n | tokens | messages | conflicts rejected | straggler gap (s) | backups |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for t in ["single", *topologies]:
        for n in sorted({k[2] for k in by if k[0] == t}):
            rs = [r for (tt, _, nn), group in by.items() if tt == t and nn == n for r in group]
            print(
                f"| {t} | {n} | {statistics.median([r['tokens'] for r in rs]):,.0f} | {med([r['messages_total'] for r in rs])} "
                f"| {med([r['conflicts_total'] for r in rs])} | {med([r['straggler_gap_s'] for r in rs])} | {med([r['backups'] for r in rs])} |"
            )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sweep-results")
