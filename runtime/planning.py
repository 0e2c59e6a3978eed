"""Does a job need a team, and how many agents? Amdahl over the task graph, with coordination counted.

For each team size n the plan reports the Amdahl bound, the schedule bound
(work / max(work/n, critical path)) and a predicted speedup: the makespan
of the best list schedule when every task also pays a coordination cost
that grows with the team, ``weight * coordination * (n - 1)`` (messages
to n - 1 peers, claims raced against them). The recommendation is the
smallest team within ``tolerance`` of the best predicted speedup; a team
is not worth it when even that gains less than ``min_gain``.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from lmteams.runtime.graph import TaskGraph

MAX_PLAN_AGENTS = 256
"""The largest team ``plan`` considers (each size costs a search over schedules)."""
MAX_COORDINATION = 10.0
"""The largest coordination cost accepted: 10 = each extra agent adds ten times the task's own work."""


class PlanRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    agents: int
    amdahl_bound: float
    schedule_bound: float
    predicted_speedup: float
    efficiency: float
    """Predicted speedup per agent."""


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    graph: str
    tasks: int
    work: float
    critical_path: list[str]
    critical_path_length: float
    parallel_fraction: float
    coordination: float
    rows: list[PlanRow]
    recommended_agents: int
    needs_team: bool
    reason: str


def plan(
    graph: TaskGraph,
    *,
    max_agents: int = 8,
    coordination: float = 0.02,
    tolerance: float = 0.9,
    min_gain: float = 1.2,
    seed: int = 0,
) -> Plan:
    if not 1 <= max_agents <= MAX_PLAN_AGENTS:
        raise ValueError(f"--max-agents must be between 1 and {MAX_PLAN_AGENTS}, got {max_agents}")
    if not (math.isfinite(coordination) and 0 <= coordination <= MAX_COORDINATION):
        raise ValueError(
            f"--coordination is a cost per task and extra agent, a share between 0 and {MAX_COORDINATION:g} "
            f"(0.02 = 2%); got {coordination}"
        )
    rows = []
    for n in range(1, max_agents + 1):
        costly = TaskGraph(
            name=graph.name,
            tasks=[t.model_copy(update={"estimate": t.weight * (1 + coordination * (n - 1))}) for t in graph.tasks],
        )
        makespan = costly.best_schedule(n, seed=seed).makespan
        predicted = graph.work() / makespan
        rows.append(
            PlanRow(
                agents=n,
                amdahl_bound=graph.amdahl(n),
                schedule_bound=graph.bound(n).speedup,
                predicted_speedup=predicted,
                efficiency=predicted / n,
            )
        )
    best = max(r.predicted_speedup for r in rows)
    chosen = next(r for r in rows if r.predicted_speedup >= tolerance * best)
    needs_team = chosen.agents > 1 and chosen.predicted_speedup >= min_gain
    if not needs_team:
        chosen = rows[0]
        reason = (
            f"a team gains at most {best:.2f}x here (critical path {graph.critical_path_length():g} of"
            f" {graph.work():g} units of work): one agent is enough"
        )
    else:
        reason = (
            f"{chosen.agents} agents reach {chosen.predicted_speedup:.2f}x, within {tolerance:.0%} of the best"
            f" predicted {best:.2f}x; more agents add coordination faster than they remove work"
        )
    return Plan(
        graph=graph.name,
        tasks=len(graph.tasks),
        work=graph.work(),
        critical_path=graph.critical_path(),
        critical_path_length=graph.critical_path_length(),
        parallel_fraction=graph.parallel_fraction(),
        coordination=coordination,
        rows=rows,
        recommended_agents=chosen.agents,
        needs_team=needs_team,
        reason=reason,
    )
