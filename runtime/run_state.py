"""What the agents of one run share: the graph, the committed view, the metrics.

Nothing here is shared *state* in the distributed sense: every decision an
agent takes about tasks comes from a committed read (``CommittedView``),
and ``RunMetrics`` only counts what happened, for the report.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from lmteams.consensus.world import Applied, Get, ListTasks, TaskStatus, TaskView
from lmteams.runtime.events import RunEvents
from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.report import RunStatus
from lmteams.runtime.settings import TeamSettings


@dataclass(slots=True)
class RunMetrics:
    attempts: int = 0
    backups: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    leader_changes: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)
    busy_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    last_finish: dict[str, float] = field(default_factory=dict)
    completions: Counter[str] = field(default_factory=Counter)
    """Completions this run's agents saw committed, per task: exactly-once means every value is 1."""
    counters: Counter[str] = field(default_factory=Counter)
    """What work functions counted (``ctx.events.count``): tests passed, fenced writes..."""


@dataclass(slots=True)
class CommittedView:
    """The run's tasks as of one linearizable read of the world state."""

    graph: TaskGraph
    tasks: dict[str, TaskView]
    failed: dict[str, str]
    assignments: dict[str, Any]
    read_at: float

    def status(self, task: str) -> TaskStatus | None:
        view = self.tasks.get(task)
        return None if view is None else view.status

    @property
    def done(self) -> set[str]:
        return {t for t, v in self.tasks.items() if v.status is TaskStatus.COMPLETED}

    def results(self) -> dict[str, Any]:
        """The committed result of every completed task, by task id."""
        out: dict[str, Any] = {}
        for t, v in self.tasks.items():
            if v.status is TaskStatus.COMPLETED:
                out[t] = v.result.get("value") if isinstance(v.result, dict) else v.result
        return out

    def claimable(self, task: str) -> bool:
        """Nobody holds it, or the holder's lease has run out by the clock.

        Committed time only moves when an entry is committed, so a lease
        can lapse on the clock while the world still calls it claimed; the
        claim proposal itself carries the leader's newer stamp, and the
        world then decides (it refuses if the lease is in fact still live).
        """
        view = self.tasks.get(task)
        if task in self.failed:
            return False
        if view is None or view.claimable:
            return True
        return view.status is TaskStatus.CLAIMED and view.lease_until is not None and view.lease_until <= self.read_at

    def ready(self) -> list[str]:
        """Tasks whose dependencies are committed done and that nobody holds, by priority."""
        ready = [t for t in self.graph.ready(self.done) if self.claimable(t)]
        return sorted(ready, key=lambda t: -self.graph.bottom_level(t))

    def blocked(self) -> set[str]:
        """Tasks that failed for good, and every task depending on one."""
        blocked = set(self.failed)
        for t in self.graph.topological_order():
            if any(d in blocked for d in self.graph.task(t).dependencies):
                blocked.add(t)
        return blocked

    @property
    def finished(self) -> bool:
        return self.done | self.blocked() >= set(self.graph.ids)

    def claimed_since(self, task: str, lease_s: float) -> float | None:
        """Leader-clock time at which the live claim on ``task`` was made, if it is claimed."""
        view = self.tasks.get(task)
        if view is None or view.status is not TaskStatus.CLAIMED or view.lease_until is None:
            return None
        return view.lease_until - lease_s

    def median_duration(self, min_samples: int) -> float | None:
        durations = [
            float(v.result["duration_s"])  # type: ignore[arg-type]  # a JSON number: the completion wrote it
            for v in self.tasks.values()
            if v.status is TaskStatus.COMPLETED and isinstance(v.result, dict) and "duration_s" in v.result
        ]
        return statistics.median(durations) if len(durations) >= min_samples else None


class RunContext:
    """One run: its id, graph, work directory, events, settings and metrics, and how it ends."""

    def __init__(
        self,
        run_id: str,
        graph: TaskGraph,
        workdir: Path,
        events: RunEvents,
        settings: TeamSettings,
    ) -> None:
        self.run_id = run_id
        self.graph = graph
        self.workdir = workdir
        self.events = events
        self.settings = settings
        self.metrics = RunMetrics()
        self.status: RunStatus | None = None
        self.detail = ""
        self.ended = anyio.Event()
        self.started = time.monotonic()

    # -- names in the world state ------------------------------------------------

    def task_key(self, task: str) -> str:
        return f"{self.run_id}/task/{task}"

    def lock_key(self, resource: str) -> str:
        """The world's name of a task resource's lock (a file is a resource named by its path)."""
        return f"{self.run_id}/lock/{resource}"

    @property
    def user_prefix(self) -> str:
        """Where work functions' own keys live (``ctx.world``)."""
        return f"{self.run_id}/user/"

    @property
    def failed_key(self) -> str:
        return f"{self.run_id}/failed"

    @property
    def assignments_key(self) -> str:
        return f"{self.run_id}/assign"

    def backup_key(self, task: str) -> str:
        return f"{self.run_id}/backup/{task}"

    def attempts_key(self, task: str) -> str:
        return f"{self.run_id}/failures/{task}"

    # -- reading committed state --------------------------------------------------

    async def read_view(self, client: Any, *, assignments: bool = False) -> CommittedView:
        prefix = f"{self.run_id}/task/"
        listed = _value(await client.query(ListTasks()))
        tasks = {v["task"][len(prefix) :]: TaskView.model_validate(v) for v in listed if v["task"].startswith(prefix)}
        failed = _value(await client.query(Get(key=self.failed_key))) or {}
        assigned = (_value(await client.query(Get(key=self.assignments_key))) or {}) if assignments else {}
        return CommittedView(self.graph, tasks, dict(failed), dict(assigned), time.time())

    # -- ending -------------------------------------------------------------------

    def end(self, status: RunStatus, detail: str = "") -> None:
        if self.status is None:
            self.status = status
            self.detail = detail
            self.events.emit("run_end", status=status.value, detail=detail)
        self.ended.set()

    def agent_busy(self, agent: str, seconds: float) -> None:
        self.metrics.busy_s[agent] += seconds
        self.metrics.last_finish[agent] = time.monotonic() - self.started


def _value(result: Any) -> Any:
    if not isinstance(result, Applied):
        raise RuntimeError(f"a read of the world state was refused: {result}")
    return result.value
