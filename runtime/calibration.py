"""The calibrated advisor: coordination costs fitted to a sweep, and speedup predictions with an interval.

``planning.plan`` predicts from the graph alone with one coordination
guess. Here the guess is measured. Each task of weight ``w`` takes

    w * (X + per_task + per_agent * (n - 1))

in units of one mean model call, where ``X`` is the call's latency drawn
from the sweep's lognormal profile (normalised to mean 1), ``per_task`` is
what the gate costs every task (claim, lock, complete, release: committed
commands) and ``per_agent`` is what each extra agent adds (messages to it,
claims raced against it). A Monte Carlo replays the topology's scheduling
policy on those durations, a single agent on the same draws as the team
(the sweep does the same: one prompt, one latency), and the median of
the ratio is the predicted speedup, its 10th and 90th percentiles the
interval of one run. The policies:

- ``decentralized`` (and ``centralized``): whoever is free takes the most
  urgent ready task (bottom level first), as it finishes;
- ``preassigned``: each agent works its lane of the best list schedule of
  the estimates, in order, waiting for dependencies;
- ``rounds``: the ready tasks are dealt one per agent and a round lasts as
  long as its slowest task.

``calibrate`` fits ``per_task`` and ``per_agent`` for each topology by least
squares on log speedup over the sweep's cells (median over seeds).
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.models.simulated import Latency

DRAWS = 300
INTERVAL = (0.1, 0.9)


class CalibrationError(Exception):
    """The results cannot be calibrated on: no completed runs with speedups, or an unknown topology."""


class Coordination(BaseModel):
    """The fitted costs of one topology, in units of one mean model call per unit of task weight."""

    model_config = ConfigDict(frozen=True)

    topology: str
    per_task: float
    per_agent: float
    cells: int
    """Calibration cells (suite, variant, n) the fit used."""
    rms_log_error: float
    """Root mean square of ln(predicted / measured) over those cells."""


class Calibration(BaseModel):
    model_config = ConfigDict(frozen=True)

    sigma: float
    """Standard deviation of ln(latency) of the profile the sweep replayed."""
    model: str
    seeds: list[int]
    """The seeds calibrated on (the rest of the sweep is held out)."""
    fits: dict[str, Coordination]


class Prediction(BaseModel):
    model_config = ConfigDict(frozen=True)

    topology: str
    agents: int
    speedup: float
    low: float
    high: float


# -- the Monte Carlo ------------------------------------------------------------------------------


class _Shape:
    """A graph as index arrays, with the plans that do not depend on the draws."""

    def __init__(self, graph: TaskGraph) -> None:
        self.ids = graph.ids
        index = {t: i for i, t in enumerate(self.ids)}
        self.weights = [graph.weight(t) for t in self.ids]
        self.deps = [[index[d] for d in graph.task(t).dependencies] for t in self.ids]
        self.dependents: list[list[int]] = [[] for _ in self.ids]
        for i, deps in enumerate(self.deps):
            for d in deps:
                self.dependents[d].append(i)
        bottom = [graph.bottom_level(t) for t in self.ids]
        self.rank = sorted(range(len(self.ids)), key=lambda i: (-bottom[i], i))  # urgency order
        self.graph = graph
        self._lanes: dict[int, list[list[int]]] = {}

    def lanes(self, n: int) -> list[list[int]]:
        if n not in self._lanes:
            index = {t: i for i, t in enumerate(self.ids)}
            self._lanes[n] = [[index[t] for t in lane] for lane in self.graph.best_schedule(n).agents]
        return self._lanes[n]


def _greedy(shape: _Shape, d: Sequence[float], n: int) -> float:
    position = {t: k for k, t in enumerate(shape.rank)}
    waiting = [len(deps) for deps in shape.deps]
    ready = [position[i] for i in range(len(d)) if waiting[i] == 0]
    heapq.heapify(ready)
    running: list[tuple[float, int]] = []
    free, now, end = n, 0.0, 0.0
    while ready or running:
        while free and ready:
            i = shape.rank[heapq.heappop(ready)]
            heapq.heappush(running, (now + d[i], i))
            free -= 1
        now, i = heapq.heappop(running)
        end = max(end, now)
        free += 1
        for j in shape.dependents[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, position[j])
    return end


def _lanes(shape: _Shape, d: Sequence[float], n: int) -> float:
    lanes = shape.lanes(n)
    finish = [math.nan] * len(d)
    heads = [0] * len(lanes)
    clock = [0.0] * len(lanes)
    remaining = len(d)
    while remaining:
        progressed = False
        for a, lane in enumerate(lanes):
            while heads[a] < len(lane):
                i = lane[heads[a]]
                if any(math.isnan(finish[j]) for j in shape.deps[i]):
                    break
                start = max([clock[a], *(finish[j] for j in shape.deps[i])])
                finish[i] = clock[a] = start + d[i]
                heads[a] += 1
                remaining -= 1
                progressed = True
        if not progressed:  # cannot happen for a plan of a valid graph
            raise CalibrationError("the preassigned plan deadlocks on its dependencies")
    return max(finish)


def _rounds(shape: _Shape, d: Sequence[float], n: int) -> float:
    waiting = [len(deps) for deps in shape.deps]
    done: set[int] = set()
    total = 0.0
    while len(done) < len(d):
        ready = [i for i in shape.rank if i not in done and waiting[i] == 0][:n]
        total += max(d[i] for i in ready)
        for i in ready:
            done.add(i)
            for j in shape.dependents[i]:
                waiting[j] -= 1
    return total


POLICIES = {"decentralized": _greedy, "centralized": _greedy, "preassigned": _lanes, "rounds": _rounds}


BACKUP_AFTER = 3.0
"""A straggler is backed up once it has run this many median calls (``TeamSettings.backup_after``)."""
BACKED_UP = {"decentralized", "centralized", "preassigned"}


def _draws(count: int, tasks: int, sigma: float, seed: int) -> list[list[float]]:
    """Per sample, each task's call and, after them, the call of its backup should it get one (mean 1)."""
    rng = random.Random(seed)
    mean = math.exp(sigma * sigma / 2)
    return [[math.exp(sigma * rng.gauss(0.0, 1.0)) / mean for _ in range(2 * tasks)] for _ in range(count)]


def _ratios(
    shape: _Shape,
    topology: str,
    n: int,
    per_task: float,
    per_agent: float,
    draws: list[list[float]],
    *,
    sigma: float | None = None,
) -> list[float]:
    """Single-agent over team makespan per sample; with ``sigma``, event-driven teams back up stragglers."""
    policy = POLICIES.get(topology)
    if policy is None:
        raise CalibrationError(f"no scheduling policy for topology {topology!r}; known: {', '.join(POLICIES)}")
    w = shape.weights
    tasks = len(w)
    # A backup starts BACKUP_AFTER median calls in and draws afresh; the first answer wins.
    backup_at = None if sigma is None or topology not in BACKED_UP else BACKUP_AFTER * math.exp(-sigma * sigma / 2)
    ratios = []
    for sample in draws:
        x = sample[:tasks]
        single = sum(wi * max(xi + per_task, 0.0) for wi, xi in zip(w, x))
        if backup_at is not None and n > 1 and len(sample) >= 2 * tasks:
            x = [min(xi, backup_at + yi) for xi, yi in zip(x, sample[tasks:])]
        team = [wi * max(xi + per_task + per_agent * (n - 1), 0.0) for wi, xi in zip(w, x)]
        makespan = single if n == 1 else policy(shape, team, n)
        ratios.append(single / makespan if makespan > 0 else 1.0)
    return ratios


def predict(
    graph: TaskGraph | _Shape,
    topology: str,
    agents: int,
    coordination: Coordination,
    *,
    sigma: float,
    draws: int = DRAWS,
    seed: int = 0,
) -> Prediction:
    """The predicted speedup of ``agents`` agents on ``graph`` (median of the Monte Carlo) and its interval."""
    shape = graph if isinstance(graph, _Shape) else _Shape(graph)
    sample = _draws(draws, len(shape.ids), sigma, seed)
    ratios = sorted(
        _ratios(shape, topology, agents, coordination.per_task, coordination.per_agent, sample, sigma=sigma)
    )
    q = statistics.quantiles(ratios, n=20, method="inclusive")
    return Prediction(
        topology=topology,
        agents=agents,
        speedup=statistics.median(ratios),
        low=q[int(INTERVAL[0] * 20) - 1],
        high=q[int(INTERVAL[1] * 20) - 1],
    )


# -- fitting --------------------------------------------------------------------------------------


def measured_cells(rows: Iterable[dict[str, Any]], seeds: Iterable[int] | None = None) -> dict[tuple, float]:
    """Median measured speedup per (topology, suite, variant, n) over ``seeds`` (all when None)."""
    keep = None if seeds is None else set(seeds)
    by_cell: dict[tuple, list[float]] = defaultdict(list)
    for r in rows:
        if r.get("speedup") is None or r["topology"] == "single" or (keep is not None and r["seed"] not in keep):
            continue
        by_cell[(r["topology"], r["suite"], float(r["variant"]), int(r["agents"]))].append(float(r["speedup"]))
    return {cell: statistics.median(values) for cell, values in by_cell.items()}


def _profile_sigma(rows: list[dict[str, Any]]) -> tuple[float, str]:
    models = {r["model"] for r in rows}
    if len(models) != 1:
        raise CalibrationError(f"calibrate one latency profile at a time; these results mix {sorted(models)}")
    model = models.pop()
    modes = {r.get("latency_mode") or "all" for r in rows}
    sigma = statistics.mean(Latency.profile(model, None if m == "all" else m).sigma for m in modes)
    return sigma, model


def calibrate(
    rows: list[dict[str, Any]], *, seeds: Iterable[int] | None = None, draws: int = 120, graphs: Any = None
) -> Calibration:
    """Fit ``per_task`` and ``per_agent`` for every topology in ``rows``, on the runs of ``seeds``."""
    from scipy.optimize import minimize

    from lmteams.runtime.sweep import cell_graph

    rows = [r for r in rows if r.get("status") == "completed"]
    if not rows:
        raise CalibrationError("no completed runs to calibrate on: run `lmteams sweep` first")
    sigma, model = _profile_sigma(rows)
    cells = measured_cells(rows, seeds)
    if not cells:
        raise CalibrationError(f"no team runs with a speedup for seeds {sorted(seeds or [])}")
    used_seeds = sorted({int(r["seed"]) for r in rows if seeds is None or r["seed"] in set(seeds)})
    shapes: dict[tuple[str, float], _Shape] = {}
    work = rows[0].get("work", "schedule")
    for _, suite, variant, _ in cells:
        if (suite, variant) not in shapes:
            graph = graphs[(suite, variant)] if graphs else cell_graph(suite, variant, work)
            shapes[(suite, variant)] = _Shape(graph)
    sample_by_size: dict[int, list[list[float]]] = {}
    fits = {}
    for topology in sorted({c[0] for c in cells}):
        mine = [(c, v) for c, v in cells.items() if c[0] == topology]

        def loss(params: Sequence[float], mine: list = mine, topology: str = topology) -> float:
            per_task, per_agent = params
            if not (0.0 <= per_task <= 3.0 and -0.3 <= per_agent <= 1.0):
                return 1e6
            total = 0.0
            for (_, suite, variant, n), measured in mine:
                shape = shapes[(suite, variant)]
                sample = sample_by_size.setdefault(len(shape.ids), _draws(draws, len(shape.ids), sigma, 7))
                predicted = statistics.median(_ratios(shape, topology, n, per_task, per_agent, sample, sigma=sigma))
                total += math.log(predicted / measured) ** 2
            return total / len(mine)

        # A coarse grid first (the loss is noisy and flat in per_task), then a short polish.
        grid = [(a, b) for a in (0.0, 0.05, 0.1, 0.2, 0.4) for b in (-0.05, -0.02, 0.0, 0.02, 0.05, 0.1, 0.2)]
        start = min(grid, key=loss)
        best = minimize(loss, start, method="Nelder-Mead", options={"xatol": 2e-3, "fatol": 1e-5, "maxiter": 60})
        fits[topology] = Coordination(
            topology=topology,
            per_task=float(best.x[0]),
            per_agent=float(best.x[1]),
            cells=len(mine),
            rms_log_error=math.sqrt(best.fun),
        )
    return Calibration(sigma=sigma, model=model, seeds=used_seeds, fits=fits)


# -- evaluation -----------------------------------------------------------------------------------


class ErrorRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    topology: str
    suite: str
    variant: float
    agents: int
    measured: float
    predicted: float
    low: float
    high: float

    @property
    def error(self) -> float:
        """(predicted - measured) / measured."""
        return (self.predicted - self.measured) / self.measured


class Recommendation(BaseModel):
    model_config = ConfigDict(frozen=True)

    topology: str
    suite: str
    variant: float
    recommended: int
    measured_best: int
    measured_at_recommended: float
    measured_best_speedup: float

    @property
    def shortfall(self) -> float:
        """How far the recommended size's measured speedup falls below the measured best (0 = it is the best)."""
        return 1.0 - self.measured_at_recommended / self.measured_best_speedup


def evaluate(
    rows: list[dict[str, Any]],
    calibration: Calibration,
    *,
    seeds: Iterable[int],
    tolerance: float = 0.95,
    graphs: Any = None,
) -> tuple[list[ErrorRow], list[Recommendation]]:
    """Predicted against measured speedup on the held-out ``seeds``, cell by cell, and the recommended sizes."""
    from lmteams.runtime.sweep import cell_graph

    cells = measured_cells([r for r in rows if r.get("status") == "completed"], seeds)
    work = rows[0].get("work", "schedule") if rows else "schedule"
    errors = []
    shapes: dict[tuple[str, float], _Shape] = {}
    for (topology, suite, variant, n), measured in sorted(cells.items()):
        fit = calibration.fits.get(topology)
        if fit is None:
            continue
        if (suite, variant) not in shapes:
            shapes[(suite, variant)] = _Shape(graphs[(suite, variant)] if graphs else cell_graph(suite, variant, work))
        p = predict(shapes[(suite, variant)], topology, n, fit, sigma=calibration.sigma)
        errors.append(
            ErrorRow(
                topology=topology,
                suite=suite,
                variant=variant,
                agents=n,
                measured=measured,
                predicted=p.speedup,
                low=p.low,
                high=p.high,
            )
        )
    recommendations = []
    groups: dict[tuple[str, str, float], list[ErrorRow]] = defaultdict(list)
    for e in errors:
        groups[(e.topology, e.suite, e.variant)].append(e)
    for (topology, suite, variant), group in sorted(groups.items()):
        with_one = [(1, 1.0, 1.0), *((e.agents, e.predicted, e.measured) for e in group)]
        best_predicted = max(p for _, p, _ in with_one)
        chosen = next(n for n, p, _ in sorted(with_one) if p >= tolerance * best_predicted)
        by_size = {n: m for n, _, m in with_one}
        best_n = max(by_size, key=lambda n: by_size[n])
        recommendations.append(
            Recommendation(
                topology=topology,
                suite=suite,
                variant=variant,
                recommended=chosen,
                measured_best=best_n,
                measured_at_recommended=by_size[chosen],
                measured_best_speedup=by_size[best_n],
            )
        )
    return errors, recommendations
