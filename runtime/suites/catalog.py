"""The paper-style suites, each in three variants named by their parallel fraction p.

``mathkit`` (math utilities), ``tablekit`` (data analysis over in-memory
tables) and ``svgkit`` (SVG building) are the three domains of "Language
Model Teams as Distributed Systems", written fresh for lmteams. Each suite
directory holds ``graph-p90.yaml``, ``graph-p50.yaml`` and ``graph-p20.yaml``
(a chain of 2, 10 or 16 tasks plus 18, 10 or 4 independent ones, every
estimate 1.0, so ``TaskGraph.parallel_fraction()`` is exactly p) over one
shared set of ``solutions/``, ``buggy/`` and ``tests/``; the comment at the
top of each graph file explains the design.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lmteams.runtime.suites import Suite, SuiteError

__all__ = ["PAPER_SUITES", "VARIANTS", "load_suite", "paper_variants", "suite_graph"]

_SUITES_DIR = Path(__file__).resolve().parent

#: The paper-style suites, by name (also their package and directory name).
PAPER_SUITES: tuple[str, ...] = ("mathkit", "tablekit", "svgkit")
#: Parallel fraction p -> the variant's graph file in the suite's directory.
VARIANTS: dict[float, str] = {0.9: "graph-p90.yaml", 0.5: "graph-p50.yaml", 0.2: "graph-p20.yaml"}


def suite_graph(name: str, p: float) -> Path:
    """The graph file of suite ``name`` at parallel fraction ``p`` (0.9, 0.5 or 0.2)."""
    if name not in PAPER_SUITES:
        raise SuiteError(f"no paper-style suite {name!r}; choose one of {', '.join(PAPER_SUITES)}")
    for value, file_name in VARIANTS.items():
        if abs(p - value) < 1e-9:
            return _SUITES_DIR / name / file_name
    raise SuiteError(f"suite {name!r} has no variant p = {p}; choose p from {', '.join(map(str, VARIANTS))}")


def load_suite(name: str, p: float) -> Suite:
    """Suite ``name`` at parallel fraction ``p``, e.g. ``load_suite("mathkit", 0.5)``."""
    return Suite.load(suite_graph(name, p))


def paper_variants() -> Iterator[tuple[str, float, Path]]:
    """Every ``(suite name, p, graph path)``, suites in order, p descending."""
    for name in PAPER_SUITES:
        for p in VARIANTS:
            yield name, p, suite_graph(name, p)
