"""The paper's experiment as a grid of runs: suites x variants x team sizes x topologies x seeds (x models).

A ``Cell`` names one run. ``run_cell`` builds and runs it (one function, so
the construction of a run lives in one place) and returns its ``RunReport``;
``report_row`` flattens a report into one row of the tidy table. Every
cell's baseline is a single-agent run of the same graph, seed and latency:
``speedup`` is the baseline's wall time over the run's.

Two kinds of work:

- ``schedule``: each task is model calls only (files written, no tests run).
  This is faithful to the schedule, since a task's time is its model calls,
  and costs no CPU beyond the runtime, so the sweep measures coordination
  and not pytest start-up on a loaded machine;
- ``coding``: a suite's real tasks, whose tests run in a subprocess after
  each reply (only for suites on disk).

Graphs come from a suite directory under ``runtime/suites/<name>/`` (each
graph file there is a variant, known by its parallel fraction) or, for the
suite ``shapes``, from ``runtime.shapes.paper_graph``: the paper's chains of
2 / 10 / 16 plus 18 / 10 / 4 independent tasks, all estimates 1.0.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.models.base import Message
from lmteams.runtime.models.simulated import Latency, SimulatedModel
from lmteams.runtime.report import RunReport
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.shapes import PAPER_CHAINS, paper_graph
from lmteams.runtime.suites import FileEdit, FileReply, Suite, find_task_id, make_responder
from lmteams.runtime.topologies import Topology

Work = Literal["schedule", "coding"]

SHAPES = "shapes"
"""The suite built in code: the paper's graph shapes, no files on disk."""

VARIANTS: tuple[float, ...] = tuple(sorted(PAPER_CHAINS))
TEAM_TOPOLOGIES: tuple[str, ...] = ("preassigned", "decentralized", "rounds")
SUITES_DIR = Path(__file__).resolve().parent / "suites"

RESULTS_JSONL = "runs.jsonl"
"""One JSON line per finished run, appended as runs finish: what makes a sweep resumable."""
EVENTS_DIR = "events"


class SweepError(Exception):
    """A sweep was asked for something it cannot run (unknown suite, variant or work)."""


class Cell(BaseModel):
    """One run of the grid."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: str
    variant: float
    """The variant's parallel fraction: 0.2, 0.5 or 0.9."""
    topology: str
    agents: int = Field(ge=1)
    seed: int
    model: str = "all"
    """The paper's latency profile to replay: claude, gemini, gpt-5.2 or all (every reply pooled)."""
    work: Work = "schedule"
    time_scale: float = Field(default=0.02, gt=0)
    repeat: int = Field(default=0, ge=0)
    """Repeats of a baseline replay the same draws; the fastest is the one least disturbed by a busy machine."""

    @property
    def key(self) -> str:
        key = (
            f"{self.suite}|p{self.variant:g}|{self.topology}|n{self.agents}|s{self.seed}|{self.model}|{self.work}"
            f"|x{self.time_scale:g}"
        )
        return key if self.repeat == 0 else f"{key}|r{self.repeat}"

    @property
    def latency_mode(self) -> str | None:
        """The paper's mode whose latency a per-model profile replays; pooled for ``all``."""
        if self.model == "all":
            return None
        return "pre-assigned" if self.topology == "preassigned" else "decentralized"

    def latency(self) -> Latency:
        return Latency.profile(self.model, self.latency_mode, time_scale=self.time_scale)

    def baseline(self) -> Cell:
        """The single-agent run this cell's speedup is measured against (same graph, seed and latency)."""
        mode = self.latency_mode
        # A per-model profile differs by mode; the baseline replays this cell's own.
        topology = Topology.SINGLE.value if mode != "pre-assigned" else "preassigned"
        return self.model_copy(update={"topology": topology, "agents": 1, "repeat": 0})


def grid(
    *,
    suites: Sequence[str],
    variants: Sequence[float] = VARIANTS,
    agents: Sequence[int] = (2, 3, 4, 5),
    topologies: Sequence[str] = TEAM_TOPOLOGIES,
    seeds: Sequence[int] = (1, 2, 3),
    models: Sequence[str] = ("all",),
    work: Work = "schedule",
    time_scale: float = 0.02,
    baseline_repeats: int = 1,
) -> list[Cell]:
    """Every cell, baselines first (one per suite, variant, seed and latency, ``baseline_repeats`` times),
    without duplicates."""
    cells: dict[str, Cell] = {}
    for suite in suites:
        for variant in variants:
            for model in models:
                for seed in seeds:
                    for topology in topologies:
                        for n in agents:
                            cell = Cell(
                                suite=suite,
                                variant=variant,
                                topology=topology,
                                agents=n,
                                seed=seed,
                                model=model,
                                work=work,
                                time_scale=time_scale,
                            )
                            for repeat in range(baseline_repeats):
                                base = cell.baseline().model_copy(update={"repeat": repeat})
                                cells.setdefault(base.key, base)
                            cells.setdefault(cell.key, cell)
    return sorted(cells.values(), key=lambda c: (c.agents > 1, c.repeat, c.suite, c.variant, c.model, c.seed, c.agents))


# -- graphs and the simulated model's replies ---------------------------------------------------


def suite_variants(name: str) -> dict[float, Path]:
    """The graph files of suite ``name`` on disk, by parallel fraction rounded to 0.1."""
    root = SUITES_DIR / name
    if not root.is_dir():
        raise SweepError(f"no suite {name!r}: expected a directory {root} (or use the built-in suite {SHAPES!r})")
    found: dict[float, Path] = {}
    for path in sorted([*root.glob("*.yaml"), *root.glob("*.yml"), *root.glob("*.json")]):
        try:
            found.setdefault(round(TaskGraph.from_file(path).parallel_fraction(), 1), path)
        except Exception:  # not a task graph (a suite may hold other data files)
            continue
    return found


def available_suites() -> list[str]:
    """``shapes`` and every suite on disk that has a graph for each of the paper's variants."""
    names = [SHAPES]
    for root in sorted(p for p in SUITES_DIR.iterdir() if p.is_dir() and not p.name.startswith("_")):
        if set(VARIANTS) <= set(suite_variants(root.name)):
            names.append(root.name)
    return names


@cache
def cell_graph(suite: str, variant: float, work: Work) -> TaskGraph:
    """The graph a cell runs; for ``schedule`` work its tests are dropped (the work is the model calls)."""
    if suite == SHAPES:
        if work == "coding":
            raise SweepError(f"the {SHAPES!r} suite has no tests to run: use work='schedule' or a suite on disk")
        return paper_graph(variant, name=SHAPES)
    path = suite_variants(suite).get(round(variant, 1))
    if path is None:
        raise SweepError(f"suite {suite!r} has no graph with parallel fraction {variant} under {SUITES_DIR / suite}")
    graph = TaskGraph.from_file(path)
    if work == "schedule":
        stripped = [t.model_copy(update={"tests": []}) for t in graph.tasks]
        graph = TaskGraph(name=graph.name, description=graph.description, tasks=stripped)
    return graph


def _shape_responder(graph: TaskGraph) -> Callable[[list[Message]], str]:
    """Replies with a small module for each file of the task named in the prompt."""

    def respond(messages: list[Message]) -> str:
        task_id = find_task_id(messages)
        if task_id is None or task_id not in graph.ids:
            return "I cannot tell which task this is."
        task = graph.task(task_id)
        files = [FileEdit(path=p, content=f'"""{task.title}."""\n\nVALUE = {task_id!r}\n') for p in task.files]
        return FileReply(files=files, notes=f"wrote {', '.join(task.files)}").to_text()

    return respond


def cell_model(cell: Cell) -> SimulatedModel:
    """The simulated model of a cell: the paper's latency profile, seeded by the cell's seed."""
    if cell.suite == SHAPES:
        responder = _shape_responder(cell_graph(cell.suite, cell.variant, cell.work))
    else:
        suite = Suite.load(suite_variants(cell.suite)[round(cell.variant, 1)])
        responder = make_responder(suite, bug_rate=0.0, seed=cell.seed)
    return SimulatedModel(seed=cell.seed, latency=cell.latency(), responder=responder, name=f"simulated-{cell.model}")


def cell_settings(cell: Cell) -> TeamSettings:
    """Leases and timeouts long enough for the profile's heavy tail (ln-seconds up to mu + 5 sigma).

    A ready task its planned (preassigned) agent has not claimed within 3 median calls is adopted by an
    idle agent, on the scale of the speculative backups (``backup_after`` 3): else a chain task whose
    straggler was backed up waits on its lane until the straggler's own call returns.
    """
    longest = cell.latency().base_s(5.0)
    return TeamSettings(
        lease_s=max(10.0, 4 * longest),
        adopt_after_s=3 * cell.latency().base_s(0.0),
        call_timeout_s=max(30.0, 2 * longest),
        poll_s=0.5,
        test_timeout_s=60.0,
    )


async def run_cell(cell: Cell, *, runs_dir: Path | None) -> RunReport:
    """Build and run one cell; its events go to ``runs_dir/<run id>/events.jsonl``."""
    from lmteams.runtime.team import Team

    graph = cell_graph(cell.suite, cell.variant, cell.work)
    # A single agent with the mean latency finishes in about work * mean; allow plenty beyond that.
    mean_call = cell.latency().base_s(0.0) * 2.0
    timeout = max(120.0, 40 * graph.work() * mean_call)
    async with Team(
        size=cell.agents,
        model=cell_model(cell),
        topology=cell.topology,
        seed=cell.seed,
        settings=cell_settings(cell),
        runs_dir=runs_dir,
    ) as team:
        return await team.run(graph, timeout=timeout)


# -- the table ------------------------------------------------------------------------------------


def report_row(cell: Cell, report: RunReport) -> dict[str, Any]:
    """One tidy row: the cell, then every ``RunReport`` figure (dicts spread into columns and totals)."""
    data = report.model_dump(mode="json")
    graph = data.pop("graph")
    messages = data.pop("messages")
    conflicts = data.pop("conflicts_rejected")
    row: dict[str, Any] = {"key": cell.key, **cell.model_dump(mode="json"), "latency_mode": cell.latency_mode or "all"}
    row["model_name"] = data.pop("model")  # the cell's ``model`` is the latency profile replayed
    # Per-task detail (results, failures, blocked tasks) goes in as JSON text: Parquet has no type for
    # an empty struct, and one column per task id would not be tidy.
    for name in ("results", "failed_tasks", "blocked_tasks"):
        if name in data:
            data[name] = json.dumps(data[name], sort_keys=True)
    row.update(data)
    row["tokens"] = report.tokens
    row["messages_total"] = sum(messages.values())
    for kind, count in messages.items():
        row[f"messages_{kind}"] = count
    row["conflicts_total"] = sum(conflicts.values())
    for reason, count in conflicts.items():
        row[f"conflicts_{reason}"] = count
    graph["critical_path"] = ">".join(graph["critical_path"])
    for name, value in graph.items():
        row[f"graph_{name}"] = value
    return row


def done_keys(out: Path) -> set[str]:
    """The cells already run into ``out`` (a half-written last line, from an interruption, is ignored)."""
    return {row["key"] for row in read_rows(out)}


def read_rows(out: Path) -> list[dict[str, Any]]:
    path = out / RESULTS_JSONL
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def append_row(out: Path, row: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / RESULTS_JSONL).open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())


def with_speedups(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with ``speedup`` (and ``baseline_wall_s``) against its cell's single-agent baseline."""
    rows = list(rows)
    walls: dict[str, float] = {}
    for row in rows:
        if row.get("status") == "completed":
            key = _cell(row).model_copy(update={"repeat": 0}).key  # repeats of one baseline: keep the fastest
            walls[key] = min(walls.get(key, math.inf), row["wall_s"])
    out = []
    for row in rows:
        cell = _cell(row)
        base = walls.get(cell.baseline().key)
        ok = base is not None and row.get("status") == "completed" and row["wall_s"] > 0
        out.append({**row, "baseline_wall_s": base, "speedup": base / row["wall_s"] if ok else None})
    return out


def _cell(row: dict[str, Any]) -> Cell:
    return Cell.model_validate({k: row[k] for k in Cell.model_fields if k in row})


def table_path(out: Path) -> Path:
    """``results.parquet`` when pyarrow is installed, else ``results.csv``."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return out / "results.csv"
    return out / "results.parquet"


def write_table(out: Path) -> Path:
    """Write the tidy table (one row per run, speedups joined) from ``runs.jsonl``; returns its path."""
    rows = with_speedups(read_rows(out))
    columns = list(dict.fromkeys(k for row in rows for k in row))
    path = table_path(out)
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows]), path)
    else:
        import csv

        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return path


def read_table(path: Path) -> list[dict[str, Any]]:
    """The rows of a results directory (its ``runs.jsonl``) or of a table file (Parquet, CSV, JSONL)."""
    path = Path(path)
    if path.is_dir():
        return with_speedups(read_rows(path))
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_table(path).to_pylist())
    if path.suffix == ".jsonl":
        return with_speedups(read_rows(path.parent))
    import csv

    with path.open(encoding="utf-8") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _number(value: str) -> Any:
    if value == "":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def pending(cells: Iterable[Cell], done: set[str]) -> Iterator[Cell]:
    return (c for c in cells if c.key not in done)
