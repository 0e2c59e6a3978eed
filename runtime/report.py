"""``RunReport``: what a team run did and what it cost, as one pydantic model (JSON)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class RunStatus(StrEnum):
    COMPLETED = "completed"
    """Every task was completed once."""
    FAILED = "failed"
    """Some task failed for good (its attempts ran out), so its dependents never ran."""
    BUDGET_EXCEEDED = "budget_exceeded"
    """The team's token or cost budget ran out; the run stopped there."""
    CANCELLED = "cancelled"


class GraphFigures(BaseModel):
    """The task graph's limits on any team, from its estimates."""

    model_config = ConfigDict(frozen=True)

    tasks: int
    work: float
    critical_path: list[str]
    critical_path_length: float
    parallel_fraction: float
    amdahl_bound: float
    """1 / ((1 - p) + p / n): the speedup Amdahl's law allows n agents."""
    schedule_bound: float
    """work / max(work / n, critical path): the speedup no schedule of n agents can beat."""


class RunReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    status: RunStatus
    detail: str = ""
    topology: str
    agents: int
    replicas: int
    transport: str
    model: str
    seed: int
    wall_s: float

    tasks_total: int
    tasks_done: int
    """Tasks whose completion is committed (read from the world at the end of the run)."""
    tasks_failed: int
    """Tasks that failed for good: their attempts ran out."""
    tasks_blocked: int = 0
    """Tasks never attempted because a dependency failed for good."""
    failed_tasks: dict[str, str] = Field(default_factory=dict)
    """Why each failed task failed (its last attempt's error)."""
    blocked_tasks: list[str] = Field(default_factory=list)
    results: dict[str, JsonValue] = Field(default_factory=dict)
    """The committed result of every completed task, by task id."""
    tests_passed: int
    tests_failed: int
    attempts: int
    backups: int = 0
    """Speculative backup attempts started for stragglers."""

    tokens_in: int
    tokens_out: int
    cost_usd: float
    model_calls: int

    messages: dict[str, int] = Field(default_factory=dict)
    """Agent-to-agent messages sent, by kind."""
    conflicts_rejected: dict[str, int] = Field(default_factory=dict)
    """Attempts the consensus gate refused, by reason (claim taken, lock held, stale token...)."""
    fenced_writes: int = 0
    """File writes the workspace refused because their fencing token was stale."""
    concurrent_writes: int = 0
    """Times two agents held write access to one file at once; the gate keeps this at 0."""
    retries: int = 0
    breaker_trips: int = 0
    parse_repairs: int = 0
    leader_changes: int = 0

    idle_agent_s: float
    """Summed over agents: run time spent not working on a task."""
    straggler_gap_s: float
    """Time between the first and the last agent finishing their final task."""

    graph: GraphFigures
    speedup: float | None = None
    """Wall time of a single-agent run of the same graph and seed, divided by this run's."""
    baseline_wall_s: float | None = None
    events_path: str | None = None

    def with_baseline(self, single: RunReport) -> RunReport:
        """This report with ``speedup`` against ``single``, a one-agent run of the same graph."""
        return self.model_copy(
            update={
                "speedup": single.wall_s / self.wall_s if self.wall_s > 0 else None,
                "baseline_wall_s": single.wall_s,
            }
        )

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out
