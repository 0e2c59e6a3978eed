"""Shared set-up for team tests: the bundled coding graph and a fast simulated model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lmteams.runtime.events import read_events
from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.models import Latency, SimulatedModel
from lmteams.runtime.models.base import Message
from lmteams.runtime.report import RunReport
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.suites import coding_suite, make_responder

SUITE = coding_suite()
GRAPH = TaskGraph.from_file(SUITE.graph_path)
FAST = Latency(median_s=0.03, sigma=0.2)

# Short leases and polls, so crash recovery happens within a test's time.
SETTINGS = TeamSettings(lease_s=1.5, poll_s=0.1, breaker_reset_s=0.2, retry_base_s=0.01, retry_max_s=0.2)


def model(seed: int = 1, *, responder: Callable[[list[Message]], Any] | None = None, **faults: Any) -> SimulatedModel:
    return SimulatedModel(seed=seed, latency=FAST, responder=responder or make_responder(SUITE, seed=seed), **faults)


def completions_by_task(report: RunReport) -> Counter[str]:
    """How many committed completions each task got, from the run's own event log."""
    assert report.events_path is not None
    events = read_events(Path(report.events_path))
    return Counter(e["task"] for e in events if e["event"] == "complete")


def events_of(report: RunReport) -> list[dict[str, Any]]:
    assert report.events_path is not None
    return read_events(Path(report.events_path))


def assert_solution_written(workspace: Path) -> None:
    """Every file in the workspace is the reference solution (bugs were repaired, nothing clobbered)."""
    for task in GRAPH.tasks:
        for path, content in SUITE.solution(task.id).items():
            assert (workspace / path).read_text() == content, f"{path} of task {task.id} is not the reference solution"


def assert_exactly_once(report: RunReport) -> None:
    counts = completions_by_task(report)
    assert set(counts) == set(GRAPH.ids), f"tasks never completed: {set(GRAPH.ids) - set(counts)}"
    assert all(c == 1 for c in counts.values()), f"completed more than once: {+counts - Counter(GRAPH.ids)}"


Hook = Callable[[dict[str, Any]], Awaitable[None]]
