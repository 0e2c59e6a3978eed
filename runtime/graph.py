"""Task graphs: tasks with dependencies, loaded from JSON or YAML and validated.

A ``TaskGraph`` is a DAG of ``Task``s. Construction validates it (duplicate
ids, unknown dependencies, cycles, two unordered tasks writing the same
file) and every failure is a ``TaskGraphError`` whose message names the
task and says what to fix. The graph then answers the scheduling questions
the runtime and the reports need: topological order, bottom levels, the
critical path, the parallel fraction, Amdahl's curve, the best possible
makespan on n agents, and an HLFET list schedule.

Weights are the tasks' ``estimate`` (1.0 when a task has none).
"""

from __future__ import annotations

import difflib
import heapq
import json
import math
import os
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from lmteams.runtime.errors import TaskGraphError

__all__ = ["Schedule", "ScheduleBound", "Task", "TaskGraph"]

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_DRIVE = re.compile(r"^[A-Za-z]:")
_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}

# Limits on what a graph file may hold, so that a hostile or careless file fails fast with a message
# instead of exhausting memory, recursion or time (a YAML alias bomb is a few hundred bytes).
MAX_GRAPH_BYTES = 8 * 1024 * 1024
"""The largest graph file or text accepted."""
MAX_GRAPH_DEPTH = 64
"""The deepest nesting of mappings and lists accepted (the graph itself needs 4)."""
MAX_GRAPH_NODES = 200_000
"""The most values (mappings, lists, scalars, every alias expanded) a graph document may hold."""
MAX_YAML_ALIASES = 1_000
"""The most YAML alias references (``*name``) in one document."""


def check_relative_path(path: str) -> str:
    """Return ``path`` if it is a clean relative POSIX path, else raise ``ValueError`` saying why.

    The one check for every path the runtime is given: task files and tests,
    workspace writes, and the files in a model's reply.
    """
    if not isinstance(path, str) or not path:
        raise ValueError("a path is empty: give a relative path such as 'pkg/x.py'")
    if "\\" in path or "\x00" in path:
        raise ValueError(f"path {path!r} contains a backslash or a NUL: use '/' as the separator")
    if path.startswith("/") or _DRIVE.match(path):
        raise ValueError(f"path {path!r} is absolute: give it relative to the project root, e.g. 'pkg/x.py'")
    parts = path.split("/")
    if "" in parts:
        raise ValueError(f"path {path!r} has an empty part (a doubled or trailing '/'): remove the extra '/'")
    if ".." in parts:
        raise ValueError(f"path {path!r} has a '..' part: paths must stay inside the project, so write it without '..'")
    # '.' parts are rejected too: 'a/./x.py' and 'a/x.py' would otherwise hide a write conflict.
    if "." in parts:
        raise ValueError(f"path {path!r} has a '.' part: write it without './'")
    return path


class Task(BaseModel):
    """One unit of work: what it needs first, what it locks, its input, and how long it should take.

    ``resources`` are string keys the gate locks (each lock gives a fencing
    token); a file the task writes is a resource too, named by its path.
    ``input`` is the task's JSON payload and ``kind`` picks the team's work
    function for it. ``files`` and ``tests`` belong to the coding work kind.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=128, pattern=_ID_PATTERN)
    title: str = Field(min_length=1)
    description: str = ""
    dependencies: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    input: JsonValue = None
    kind: str | None = Field(default=None, min_length=1, max_length=128)
    files: list[str] = Field(default_factory=list)
    estimate: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    tests: list[str] = Field(default_factory=list)

    @field_validator("resources")
    @classmethod
    def _resource_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name or len(name) > 512:
                raise ValueError(f"a resource name must be 1 to 512 characters, got {name!r}")
        return names

    @property
    def locks(self) -> list[str]:
        """Every resource the gate locks for this task, in the one global order: its resources and files."""
        return sorted(set(self.resources) | set(self.files))

    @field_validator("estimate", mode="before")
    @classmethod
    def _estimate_not_bool(cls, value: Any) -> Any:
        # pydantic's lax mode reads True as 1.0; in a YAML file that is a typo, not an estimate.
        if isinstance(value, bool):
            raise ValueError(f"estimate must be a positive number, got {value!r}")
        return value

    @field_validator("files", "tests")
    @classmethod
    def _relative_paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            check_relative_path(path)
        return paths

    @property
    def weight(self) -> float:
        """The task's duration for scheduling: its estimate, or 1.0 without one."""
        return 1.0 if self.estimate is None else self.estimate


class ScheduleBound(BaseModel):
    """The best any schedule on ``agents`` agents could do: ``makespan`` = max(work/n, critical path)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agents: int
    work_over_n: float
    critical_path: float
    makespan: float
    speedup: float


class Schedule(BaseModel):
    """A simulated schedule: each agent's task ids in start order, and every task's start and finish."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agents: list[list[str]]
    start: dict[str, float]
    finish: dict[str, float]
    makespan: float


@dataclass(slots=True, frozen=True)
class _Analysis:
    """Everything derived from a valid graph, computed once at validation."""

    index: dict[str, int]
    dependents: dict[str, tuple[str, ...]]
    topo: tuple[str, ...]
    bottom: dict[str, float]
    critical: tuple[str, ...]
    critical_length: float
    work: float


class _GraphProblems(TaskGraphError):
    """Several graph-level problems found together; the loaders list each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _InvalidGraph(TaskGraphError):
    """Raised by ``TaskGraph.__init__``. pydantic also calls that ``__init__`` from
    ``model_validate`` and wraps what it raises, so the loaders unwrap this to
    describe the original errors once, with the file name."""

    def __init__(self, validation: ValidationError, data: Any) -> None:
        super().__init__(_describe_validation(validation, data, None))
        self.validation = validation
        self.data = data


class TaskGraph(BaseModel):
    """A validated DAG of tasks. Construction raises ``TaskGraphError`` when the graph is invalid."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    tasks: list[Task] = Field(min_length=1)

    _base_dir: Path | None = PrivateAttr(default=None)
    _analysis: _Analysis | None = PrivateAttr(default=None)

    # -- construction ---------------------------------------------------------------

    def __init__(self, /, **data: Any) -> None:
        # Turn pydantic's ValidationError into a TaskGraphError here, since a validator
        # cannot: pydantic wraps any ValueError a validator raises.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _InvalidGraph(exc, data) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise TaskGraphError(_describe_validation(exc, obj, None)) from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None, base_dir: Path | None = None) -> Self:
        """Build a graph from plain data; ``source`` names it in errors, ``base_dir`` locates its test files."""
        _check_limits(data, source)
        if not isinstance(data, Mapping):
            raise TaskGraphError(
                f"invalid task graph{_named(source)}: expected a mapping with 'name' and 'tasks' at the top level, "
                f"got {type(data).__name__}"
            )
        try:
            graph = super().model_validate(dict(data))
        except ValidationError as exc:
            raise TaskGraphError(_describe_validation(exc, data, source)) from None
        graph._base_dir = base_dir
        return graph

    @classmethod
    def from_json(cls, text: str, *, source: str | None = None, base_dir: Path | None = None) -> Self:
        """Parse JSON text (duplicate keys are an error) and build the graph."""
        _check_size(text, source)
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except RecursionError:
            raise _too_deep(source) from None
        except json.JSONDecodeError as exc:
            raise TaskGraphError(
                f"cannot parse task graph{_named(source)}: JSON syntax error at line {exc.lineno}, "
                f"column {exc.colno}: {exc.msg}; fix the JSON there"
            ) from None
        except _DuplicateKey as exc:
            raise TaskGraphError(f"cannot parse task graph{_named(source)}: {exc}") from None
        return cls.from_dict(data, source=source, base_dir=base_dir)

    @classmethod
    def from_yaml(cls, text: str, *, source: str | None = None, base_dir: Path | None = None) -> Self:
        """Parse YAML text (safe loader; duplicate keys are an error) and build the graph."""
        _check_size(text, source)
        try:
            data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
        except _TooManyAliases:
            raise TaskGraphError(
                f"task graph{_named(source)} uses more than {MAX_YAML_ALIASES} YAML aliases (*name): "
                "write the values out, or split the graph"
            ) from None
        except RecursionError:
            raise _too_deep(source) from None
        except yaml.YAMLError as exc:
            raise TaskGraphError(f"cannot parse task graph{_named(source)}: {_describe_yaml_error(exc)}") from None
        if data is None:
            raise TaskGraphError(f"task graph{_named(source)} is empty: give it a 'name' and a list of 'tasks'")
        return cls.from_dict(data, source=source, base_dir=base_dir)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Self:
        """Load a ``.json``, ``.yaml`` or ``.yml`` file; ``base_dir`` becomes the file's directory."""
        path = Path(path)
        kind = _SUFFIXES.get(path.suffix.lower())
        if kind is None:
            shown = f"extension {path.suffix!r}" if path.suffix else "no extension"
            raise TaskGraphError(f"task graph file '{path}' has {shown}: use .json, .yaml or .yml")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TaskGraphError(f"task graph file '{path}' not found: check the path") from None
        except UnicodeDecodeError as exc:
            raise TaskGraphError(
                f"task graph file '{path}' is not UTF-8 text (byte {exc.start}): save it as UTF-8"
            ) from None
        except OSError as exc:
            raise TaskGraphError(f"cannot read task graph file '{path}': {exc.strerror or exc}") from None
        base_dir = path.resolve().parent
        if kind == "json":
            return cls.from_json(text, source=str(path), base_dir=base_dir)
        return cls.from_yaml(text, source=str(path), base_dir=base_dir)

    @model_validator(mode="after")
    def _validate_graph(self) -> Self:
        self._analysis = _analyse(self.tasks)
        return self

    # -- lookup ---------------------------------------------------------------------

    @property
    def base_dir(self) -> Path | None:
        """The directory of the file the graph was loaded from (None when it was not loaded from a file)."""
        return self._base_dir

    @property
    def ids(self) -> list[str]:
        """Task ids in declaration order."""
        return [t.id for t in self.tasks]

    def task(self, task_id: str) -> Task:
        """The task with this id."""
        return self.tasks[self._index_of(task_id)]

    def dependents(self, task_id: str) -> list[str]:
        """Ids of the tasks that depend directly on ``task_id``, in declaration order."""
        self._index_of(task_id)
        return list(self._a.dependents[task_id])

    def test_paths(self, task_id: str) -> list[Path]:
        """Absolute paths of a task's acceptance tests, which ship next to the graph file."""
        task = self.task(task_id)
        if task.tests and self._base_dir is None:
            raise TaskGraphError(
                f"task '{task_id}' lists tests but graph '{self.name}' was not loaded from a file: "
                "load it with TaskGraph.from_file or pass base_dir"
            )
        return [self._base_dir / t for t in task.tests] if self._base_dir is not None else []

    def topological_order(self) -> list[str]:
        """Kahn's algorithm, ties broken by declaration order."""
        return list(self._a.topo)

    def ready(self, done: Iterable[str]) -> list[str]:
        """Tasks not in ``done`` whose dependencies are all in ``done``, in declaration order."""
        done_set = set(done)
        unknown = sorted(done_set - self._a.index.keys())
        if unknown:
            raise TaskGraphError(f"ready(): {', '.join(repr(u) for u in unknown)} not a task in graph '{self.name}'")
        return [t.id for t in self.tasks if t.id not in done_set and all(d in done_set for d in t.dependencies)]

    # -- analysis -------------------------------------------------------------------

    def weight(self, task_id: str) -> float:
        """The task's estimate, or 1.0 when it has none."""
        return self.task(task_id).weight

    def work(self) -> float:
        """The sum of all weights: the time one agent needs for the whole graph."""
        return self._a.work

    def bottom_level(self, task_id: str) -> float:
        """The weight of the longest path from this task (included) to a sink."""
        self._index_of(task_id)
        return self._a.bottom[task_id]

    def critical_path(self) -> list[str]:
        """Ids along a longest weighted path, first to last; ties go to the earlier-declared task."""
        return list(self._a.critical)

    def critical_path_length(self) -> float:
        """The weight of the critical path: no schedule can finish sooner."""
        return self._a.critical_length

    def parallel_fraction(self) -> float:
        """p = (work - critical path) / work: the share of work off the critical path (0.0 for a chain)."""
        work = self._a.work
        # Both sums are math.fsum, so a chain gives exactly 0; the clamp guards the rest.
        return min(1.0, max(0.0, (work - self._a.critical_length) / work))

    def amdahl(self, n: float) -> float:
        """Amdahl's bound on the speedup of n agents: 1 / ((1 - p) + p / n); n may be ``math.inf``."""
        if isinstance(n, bool) or not isinstance(n, int | float) or math.isnan(n) or n < 1:
            raise TaskGraphError(f"amdahl(n) needs a number of agents n >= 1, got {n!r}")
        if n == 1:
            return 1.0  # exactly, where (1 - p) + p might round below 1
        p = self.parallel_fraction()
        return 1.0 / ((1.0 - p) + p / n)

    def bound(self, n: int) -> ScheduleBound:
        """The best makespan and speedup any schedule on n agents could reach."""
        _check_agents(n, "bound")
        work = self._a.work
        work_over_n = work / n
        cp = self._a.critical_length
        makespan = max(work_over_n, cp)
        return ScheduleBound(
            agents=n, work_over_n=work_over_n, critical_path=cp, makespan=makespan, speedup=work / makespan
        )

    def list_schedule(self, n: int, priority: Mapping[str, float] | None = None) -> Schedule:
        """HLFET list scheduling on n agents, durations = weights.

        At the earliest time an agent is free it takes the ready task with the
        highest priority, by default its bottom level (ties: declaration order);
        a task is ready once all its dependencies have finished. Agents free at
        the same time go in index order.
        """
        _check_agents(n, "list_schedule")
        a = self._a
        rank = a.bottom if priority is None else priority
        tasks = self.tasks
        pending = {t.id: len(t.dependencies) for t in tasks}
        ready: list[tuple[float, int, str]] = []  # (-bottom level, declaration index, id)
        for i, t in enumerate(tasks):
            if not t.dependencies:
                heapq.heappush(ready, (-rank[t.id], i, t.id))
        running: list[tuple[float, int, str]] = []  # (finish, declaration index, id)
        free: list[tuple[float, int]] = [(0.0, k) for k in range(n)]  # (free at, agent)
        lanes: list[list[str]] = [[] for _ in range(n)]
        start: dict[str, float] = {}
        finish: dict[str, float] = {}
        while len(start) < len(tasks):
            now, agent = heapq.heappop(free)
            # The clock only moves forward (the earliest free agent is popped first), so
            # every task finished by now can release its dependents once.
            while running and running[0][0] <= now:
                _, _, done = heapq.heappop(running)
                for d in a.dependents[done]:
                    pending[d] -= 1
                    if pending[d] == 0:
                        heapq.heappush(ready, (-rank[d], a.index[d], d))
            if not ready:
                # Nothing can start now: this agent idles until the next task finishes.
                heapq.heappush(free, (running[0][0], agent))
                continue
            _, i, tid = heapq.heappop(ready)
            end = now + tasks[i].weight
            start[tid], finish[tid] = now, end
            lanes[agent].append(tid)
            heapq.heappush(running, (end, i, tid))
            heapq.heappush(free, (end, agent))
        ids = self.ids
        return Schedule(
            agents=lanes,
            start={t: start[t] for t in ids},
            finish={t: finish[t] for t in ids},
            makespan=max(finish.values()),
        )

    def best_schedule(self, n: int, *, tries: int = 256, seed: int = 0) -> Schedule:
        """The shortest of HLFET and ``tries`` list schedules with jittered priorities.

        HLFET alone can miss the bound by a task's length (16 tasks on 3 agents:
        6.4 against 6.0 here); perturbing the bottom levels by up to 30% and
        keeping the best plan closes most of that gap. Seeded, so deterministic.
        """
        best = self.list_schedule(n)
        rng = random.Random(seed)
        bottom = self._a.bottom
        for _ in range(tries):
            if best.makespan <= self.bound(n).makespan + 1e-9:
                break
            jittered = {t: w * rng.uniform(0.7, 1.3) for t, w in bottom.items()}
            candidate = self.list_schedule(n, jittered)
            if candidate.makespan < best.makespan - 1e-9:
                best = candidate
        return best

    # -- internals ------------------------------------------------------------------

    @property
    def _a(self) -> _Analysis:
        # model_construct() and model_copy(update=...) skip validation; analyse on demand then.
        if self._analysis is None:
            self._analysis = _analyse(self.tasks)
        return self._analysis

    def _index_of(self, task_id: str) -> int:
        try:
            return self._a.index[task_id]
        except KeyError:
            raise TaskGraphError(f"no task {task_id!r} in graph '{self.name}'{_suggest(task_id, self.ids)}") from None


def _check_agents(n: int, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TaskGraphError(f"{what}(n) needs a whole number of agents n >= 1, got {n!r}")


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- validation and analysis -------------------------------------------------------------


def _analyse(tasks: list[Task]) -> _Analysis:
    """Check the graph's structure and compute its analysis; raise ``_GraphProblems`` when invalid."""
    ids = [t.id for t in tasks]
    problems: list[str] = []

    positions: dict[str, list[int]] = {}
    for i, tid in enumerate(ids):
        positions.setdefault(tid, []).append(i)
    for tid, where in positions.items():
        if len(where) > 1:
            listed = [f"tasks[{i}]" for i in where]
            both = " and ".join(listed) if len(listed) == 2 else ", ".join(listed[:-1]) + f" and {listed[-1]}"
            problems.append(f"duplicate task id {tid!r} ({both}): give each task a unique id")

    for t in tasks:
        for field, what in (
            ("dependencies", "dependency"),
            ("resources", "resource"),
            ("files", "file"),
            ("tests", "test"),
        ):
            seen: set[str] = set()
            for value in getattr(t, field):
                if value in seen:
                    problems.append(f"task {t.id!r} lists {what} {value!r} twice in '{field}': remove the repeat")
                seen.add(value)
        for dep in dict.fromkeys(t.dependencies):
            if dep not in positions:
                problems.append(
                    f"task {t.id!r} depends on {dep!r}, which is not a task in this graph{_suggest(dep, ids)}: "
                    "fix the id or add that task"
                )
    if problems:
        raise _GraphProblems(problems)

    index = {tid: i for i, tid in enumerate(ids)}
    cycle = _find_cycle(tasks, index)
    if cycle is not None:
        path = " -> ".join(cycle)
        if len(cycle) == 2:
            raise _GraphProblems(
                [f"dependency cycle: {path} (task {cycle[0]!r} depends on itself): remove that dependency"]
            )
        raise _GraphProblems(
            [f"dependency cycle: {path} (each task depends on the next): remove one of these dependencies"]
        )

    dependents: dict[str, list[str]] = {tid: [] for tid in ids}
    for t in tasks:
        for dep in t.dependencies:
            dependents[dep].append(t.id)
    topo = _kahn(tasks, index, dependents)

    # Ancestors as bitsets over declaration indices: one pass in topological order.
    ancestors = [0] * len(tasks)
    for tid in topo:
        i = index[tid]
        for dep in tasks[i].dependencies:
            j = index[dep]
            ancestors[i] |= ancestors[j] | (1 << j)
    writers: dict[str, list[int]] = {}
    for i, t in enumerate(tasks):
        for f in t.files:
            writers.setdefault(f, []).append(i)
    for f, ws in writers.items():
        for x, i in enumerate(ws):
            for j in ws[x + 1 :]:
                if not (ancestors[i] >> j) & 1 and not (ancestors[j] >> i) & 1:
                    problems.append(
                        f"tasks {ids[i]!r} and {ids[j]!r} both write {f!r} but neither depends on the other: "
                        "add a dependency between them or split the file"
                    )
    if problems:
        raise _GraphProblems(problems)

    bottom: dict[str, float] = {}
    for tid in reversed(topo):
        below = max((bottom[d] for d in dependents[tid]), default=0.0)
        bottom[tid] = tasks[index[tid]].weight + below

    first = ids[0]
    for tid in ids:  # declaration order, so ties keep the earlier task
        if bottom[tid] > bottom[first]:
            first = tid
    critical = [first]
    while dependents[critical[-1]]:
        nxt = dependents[critical[-1]][0]
        for d in dependents[critical[-1]]:
            if bottom[d] > bottom[nxt]:
                nxt = d
        critical.append(nxt)

    return _Analysis(
        index=index,
        dependents={tid: tuple(ds) for tid, ds in dependents.items()},
        topo=tuple(topo),
        bottom=bottom,
        critical=tuple(critical),
        # fsum for both, so that a chain's critical path equals its work exactly.
        critical_length=math.fsum(tasks[index[tid]].weight for tid in critical),
        work=math.fsum(t.weight for t in tasks),
    )


def _find_cycle(tasks: list[Task], index: dict[str, int]) -> list[str] | None:
    """The first cycle an iterative DFS meets (tasks in declaration order, dependencies in listed
    order), rotated to start at its earliest-declared task and closed: ``[a, b, c, a]``."""
    state = [0] * len(tasks)  # 0 unvisited, 1 on the stack, 2 finished
    for root in range(len(tasks)):
        if state[root]:
            continue
        stack: list[tuple[int, int]] = [(root, 0)]  # (task, next dependency to follow)
        state[root] = 1
        while stack:
            i, k = stack[-1]
            deps = tasks[i].dependencies
            if k == len(deps):
                state[i] = 2
                stack.pop()
                continue
            stack[-1] = (i, k + 1)
            j = index[deps[k]]
            if state[j] == 1:
                on_path = [node for node, _ in stack]
                loop = on_path[on_path.index(j) :]
                pivot = loop.index(min(loop))
                loop = loop[pivot:] + loop[:pivot]
                return [tasks[x].id for x in loop] + [tasks[loop[0]].id]
            if state[j] == 0:
                state[j] = 1
                stack.append((j, 0))
    return None


def _kahn(tasks: list[Task], index: dict[str, int], dependents: dict[str, list[str]]) -> list[str]:
    pending = [len(t.dependencies) for t in tasks]
    heap = [i for i, n in enumerate(pending) if n == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        i = heapq.heappop(heap)
        order.append(tasks[i].id)
        for d in dependents[tasks[i].id]:
            j = index[d]
            pending[j] -= 1
            if pending[j] == 0:
                heapq.heappush(heap, j)
    return order


# -- parsing and error messages ---------------------------------------------------------


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"duplicate key {key!r} in a JSON object: keep only one")
        out[key] = value
    return out


class _TooManyAliases(Exception):
    pass


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate mapping keys instead of silently keeping the last,
    and more than ``MAX_YAML_ALIASES`` aliases (the expanded size is checked after loading)."""

    _aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise _TooManyAliases
        return super().compose_node(parent, index)


def _check_size(text: str, source: str | None) -> None:
    if len(text) > MAX_GRAPH_BYTES:
        raise TaskGraphError(
            f"task graph{_named(source)} is {len(text):,} characters long, more than the {MAX_GRAPH_BYTES:,} "
            "accepted: split it"
        )


def _too_deep(source: str | None) -> TaskGraphError:
    return TaskGraphError(
        f"task graph{_named(source)} nests lists or mappings more than {MAX_GRAPH_DEPTH} levels deep: "
        "a task graph needs 4 (graph, tasks, task, fields); flatten its values"
    )


def _check_limits(data: Any, source: str | None) -> None:
    """Walk ``data`` (aliases expanded) without recursion; stop at the first limit passed."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_GRAPH_NODES:
            raise TaskGraphError(
                f"task graph{_named(source)} holds more than {MAX_GRAPH_NODES:,} values (YAML aliases "
                "expanded): split it, or write out fewer aliased values"
            )
        if isinstance(value, Mapping | list | tuple):
            if depth > MAX_GRAPH_DEPTH:
                raise _too_deep(source)
            items = value.values() if isinstance(value, Mapping) else value
            stack.extend((item, depth + 1) for item in items)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        # Only explicit scalar keys: merge keys ('<<') may legitimately be overridden.
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1}): keep only one", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        return (
            f"YAML error at line {mark.line + 1}, column {mark.column + 1}: {problem}{context}; "
            "fix the YAML there (check indentation, colons and quoting)"
        )
    return f"YAML error: {exc}"


def _named(source: str | None) -> str:
    return f" '{source}'" if source else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _task_label(data: Any, i: int) -> str:
    """'task 'x' (tasks[3])' when the raw data shows the id, else 'tasks[3]'."""
    tid: Any = None
    tasks = data.get("tasks") if isinstance(data, Mapping) else None
    if isinstance(tasks, list | tuple) and 0 <= i < len(tasks):
        item = tasks[i]
        tid = item.get("id") if isinstance(item, Mapping) else getattr(item, "id", None)
    return f"task {tid!r} (tasks[{i}])" if isinstance(tid, str) and tid else f"tasks[{i}]"


_FIELDS_OF = {"graph": list(TaskGraph.model_fields), "task": list(Task.model_fields)}


def _describe_validation(exc: ValidationError, data: Any, source: str | None) -> str:
    """One line per problem: which task (by id when known) and field, what is wrong, and the value."""
    lines = _problem_lines(exc, data)
    head = f"invalid task graph{_named(source)}"
    if len(lines) == 1:
        return f"{head}: {lines[0]}"
    return f"{head} ({len(lines)} problems):\n" + "\n".join(f"  - {line}" for line in lines)


def _problem_lines(exc: ValidationError, data: Any) -> list[str]:
    lines: list[str] = []
    for err in exc.errors():
        loc = err["loc"]
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, _InvalidGraph) and not loc:
            lines.extend(_problem_lines(cause.validation, cause.data))
            continue
        if isinstance(cause, _GraphProblems):
            lines.extend(cause.problems)
            continue
        is_value_error = err["type"] == "value_error" and isinstance(cause, BaseException)
        msg = str(cause) if is_value_error else err["msg"]

        owner, rest = "", list(loc)
        if len(loc) >= 2 and loc[0] == "tasks" and isinstance(loc[1], int):
            owner, rest = _task_label(data, loc[1]), list(loc[2:])
        field = rest[0] if rest else None
        field_path = "".join(
            f"[{p}]" if isinstance(p, int) else ("" if i == 0 else ".") + str(p) for i, p in enumerate(rest)
        )

        if err["type"] == "extra_forbidden":
            allowed = _FIELDS_OF["task" if owner else "graph"]
            text = f"unknown field {field!r}: allowed fields are {', '.join(allowed)}"
        elif err["type"] == "missing":
            text = f"field {field!r} is missing: add it"
        else:
            text = f"field {field_path!r}: {msg}" if field_path else msg
            if not is_value_error:
                text += f" (got {_short(err['input'])})"
                if err["type"] == "string_type" and isinstance(err["input"], int | float | bool):
                    text += "; quote it to make it a string"
        lines.append(f"{owner}: {text}" if owner else text)
    return lines
