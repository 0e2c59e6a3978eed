"""TaskGraph: loading, validation messages, analysis and HLFET list scheduling.

Analytic results are checked against hand-computed values on small graphs and,
on random DAGs, against brute-force references written independently here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmteams.runtime.errors import TaskGraphError
from lmteams.runtime.graph import Schedule, ScheduleBound, Task, TaskGraph

TOL = 1e-9


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def t(tid: str, *deps: str, w: float | None = None, files: Iterable[str] = ()) -> dict[str, Any]:
    return {"id": tid, "title": f"task {tid}", "dependencies": list(deps), "estimate": w, "files": list(files)}


def graph(*tasks: dict[str, Any]) -> TaskGraph:
    return TaskGraph.from_dict({"name": "g", "tasks": list(tasks)})


def error_of(*tasks: dict[str, Any]) -> str:
    with pytest.raises(TaskGraphError) as info:
        graph(*tasks)
    return str(info.value)


# -- validation ---------------------------------------------------------------------------


def test_duplicate_id_names_id_and_both_positions() -> None:
    msg = error_of(t("a"), t("b"), t("x"), t("c"), t("d"), t("x"))
    assert "duplicate task id 'x' (tasks[2] and tasks[5])" in msg


def test_unknown_dependency_names_task_and_dependency() -> None:
    msg = error_of(t("a"), t("b", "zz"))
    assert "task 'b' depends on 'zz', which is not a task in this graph" in msg


def test_unknown_dependency_suggests_close_id() -> None:
    msg = error_of(t("build"), t("test", "biuld"))
    assert "did you mean 'build'?" in msg


def test_self_dependency_is_a_cycle() -> None:
    msg = error_of(t("a"), t("b", "b"))
    assert "dependency cycle: b -> b" in msg


def test_cycle_message_gives_the_path_from_earliest_declared_task() -> None:
    # c -> a -> b -> c, declared a, b, c; 'd' hangs off the cycle and is not part of it.
    msg = error_of(t("d", "c"), t("a", "b"), t("b", "c"), t("c", "a"))
    assert "dependency cycle: a -> b -> c -> a" in msg
    assert "'d'" not in msg


def test_cycle_is_found_deterministically() -> None:
    tasks = [t("a", "b"), t("b", "a"), t("c", "d"), t("d", "c")]
    messages = {error_of(*tasks) for _ in range(3)}
    assert len(messages) == 1
    assert "a -> b -> a" in messages.pop()


@pytest.mark.parametrize(("field", "what"), [("dependencies", "dependency"), ("files", "file"), ("tests", "test")])
def test_task_listing_something_twice(field: str, what: str) -> None:
    task = {**t("b"), field: ["a", "a"] if field == "dependencies" else ["x.py", "x.py"]}
    msg = error_of(t("a"), task)
    value = "'a'" if field == "dependencies" else "'x.py'"
    assert f"task 'b' lists {what} {value} twice" in msg


def test_unordered_writers_of_one_file() -> None:
    msg = error_of(t("a", files=["pkg/x.py"]), t("b", files=["pkg/x.py"]))
    assert (
        "tasks 'a' and 'b' both write 'pkg/x.py' but neither depends on the other: "
        "add a dependency between them or split the file"
    ) in msg


def test_writers_ordered_transitively_are_fine_siblings_are_not() -> None:
    ok = graph(t("a", files=["x.py"]), t("m", "a"), t("b", "m", files=["x.py"]))
    assert ok.ids == ["a", "m", "b"]
    msg = error_of(t("root"), t("a", "root", files=["x.py"]), t("b", "root", files=["x.py"]))
    assert "tasks 'a' and 'b' both write 'x.py'" in msg


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("C:/x.py", "absolute"),
        ("pkg\\x.py", "backslash"),
        ("pkg//x.py", "empty part"),
        ("pkg/", "empty part"),
        ("", "empty"),
        ("../x.py", "'..'"),
        ("pkg/../../x.py", "'..'"),
        ("./x.py", "'.'"),
    ],
)
@pytest.mark.parametrize("field", ["files", "tests"])
def test_bad_paths_are_rejected_with_reason_and_task(path: str, reason: str, field: str) -> None:
    msg = error_of(t("a"), {**t("writer"), field: ["ok/fine.py", path]})
    assert reason in msg
    assert "task 'writer'" in msg and field in msg


def test_good_paths_are_kept() -> None:
    g = graph({**t("a"), "files": ["pkg/x.py", "README.md", ".github/ci.yml"], "tests": ["tests/test_a.py"]})
    assert g.task("a").files == ["pkg/x.py", "README.md", ".github/ci.yml"]


@pytest.mark.parametrize("bad", ["", "-a", "a b", "a/b", "é", "x" * 129])
def test_bad_ids(bad: str) -> None:
    msg = error_of(t(bad))
    assert "field 'id'" in msg


@pytest.mark.parametrize("bad", [0, -1.5, math.inf, math.nan, True, "soon"])
def test_bad_estimates_name_task_field_and_value(bad: Any) -> None:
    msg = error_of(t("a"), t("slow", w=bad))
    assert "task 'slow' (tasks[1])" in msg and "'estimate'" in msg
    assert repr(bad) in msg or str(bad) in msg


def test_direct_construction_validates_too() -> None:
    with pytest.raises(TaskGraphError, match="dependency cycle: a -> b -> a"):
        TaskGraph(
            name="g",
            tasks=[Task(id="a", title="A", dependencies=["b"]), Task(id="b", title="B", dependencies=["a"])],
        )
    with pytest.raises(TaskGraphError, match="which is not a task"):
        TaskGraph.model_validate({"name": "g", "tasks": [t("a", "nope")]})


def test_all_problems_of_a_kind_are_listed_not_just_the_first() -> None:
    msg = error_of(t("a", "x"), t("a"), t("b", "y"))
    assert "(3 problems)" in msg
    assert "duplicate task id 'a'" in msg and "'x'" in msg and "'y'" in msg


def test_unknown_field_and_missing_field() -> None:
    msg = error_of(t("a"), {"id": "b", "title": "B", "deps": ["a"]}, {"id": "c"})
    assert "task 'b' (tasks[1]): unknown field 'deps'" in msg and "dependencies" in msg
    assert "task 'c' (tasks[2]): field 'title' is missing" in msg


def test_empty_task_list_and_non_mapping() -> None:
    with pytest.raises(TaskGraphError, match="tasks"):
        TaskGraph.from_dict({"name": "g", "tasks": []})
    with pytest.raises(TaskGraphError, match="expected a mapping"):
        TaskGraph.from_dict(["a"])  # type: ignore[arg-type]


def test_errors_are_not_raw_pydantic() -> None:
    msg = error_of({"id": "a", "title": "A", "estimate": -1})
    assert "errors.pydantic.dev" not in msg and "validation error for" not in msg


# -- loading from files ---------------------------------------------------------------------

YAML_GRAPH = """\
name: web app
description: a small one
tasks:
  - id: schema
    title: Design the schema
    files: [db/schema.sql]
    estimate: 2
  - id: api
    title: Write the API
    dependencies: [schema]
    files: [api/app.py]
    tests: [tests/test_api.py]
  - id: ui
    title: Write the UI
    dependencies: [schema]
"""


def test_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "graph.yaml"
    path.write_text(YAML_GRAPH)
    g = TaskGraph.from_file(path)
    assert g.name == "web app" and g.ids == ["schema", "api", "ui"]
    assert g.task("schema").estimate == 2.0 and g.task("api").dependencies == ["schema"]
    assert g.base_dir == tmp_path.resolve()
    assert g.test_paths("api") == [tmp_path.resolve() / "tests/test_api.py"]
    assert "base_dir" not in g.model_dump() and "base_dir" not in g.model_dump_json()


def test_json_file_and_round_trip(tmp_path: Path) -> None:
    g = TaskGraph.from_yaml(YAML_GRAPH)
    assert g.base_dir is None
    path = tmp_path / "sub" / "graph.json"
    path.parent.mkdir()
    path.write_text(g.model_dump_json(indent=2))
    loaded = TaskGraph.from_file(str(path))
    assert loaded.model_dump() == g.model_dump()
    assert loaded.base_dir == path.parent.resolve()


@pytest.mark.parametrize("suffix", [".yml", ".YAML"])
def test_yaml_suffixes(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"g{suffix}"
    path.write_text(YAML_GRAPH)
    assert TaskGraph.from_file(path).ids == ["schema", "api", "ui"]


def test_tests_without_a_file_cannot_be_located() -> None:
    g = TaskGraph.from_yaml(YAML_GRAPH)
    assert g.test_paths("ui") == []
    with pytest.raises(TaskGraphError, match="from_file"):
        g.test_paths("api")


def test_unknown_extension_is_named(tmp_path: Path) -> None:
    path = tmp_path / "graph.toml"
    path.write_text("name = 'x'")
    with pytest.raises(TaskGraphError, match=r"'\.toml'.*\.json, \.yaml or \.yml"):
        TaskGraph.from_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaskGraphError, match=r"nothere\.yaml' not found"):
        TaskGraph.from_file(tmp_path / "nothere.yaml")


def test_directory_and_non_utf8(tmp_path: Path) -> None:
    (tmp_path / "d.json").mkdir()
    with pytest.raises(TaskGraphError, match="cannot read"):
        TaskGraph.from_file(tmp_path / "d.json")
    bad = tmp_path / "latin.yaml"
    bad.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(TaskGraphError, match="UTF-8"):
        TaskGraph.from_file(bad)


def test_yaml_syntax_error_gives_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    # line 5 is indented one space less than the mapping it should belong to
    path.write_text("name: x\ntasks:\n  - id: a\n    title: A\n   files: [x.py]\n")
    with pytest.raises(TaskGraphError, match=r"bad\.yaml.*line 5, column 4"):
        TaskGraph.from_file(path)


def test_yaml_unclosed_flow_sequence_points_past_it() -> None:
    with pytest.raises(TaskGraphError, match=r"line 5, column 7: expected ',' or ']'"):
        TaskGraph.from_yaml("name: x\ntasks:\n  - id: a\n    title: [unclosed\n  - id: b\n")


def test_json_syntax_error_gives_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "name": "x",\n  "tasks": [\n    {"id": "a", "title": "A",}\n  ]\n}\n')
    with pytest.raises(TaskGraphError, match=r"bad\.json.*line 4, column \d+"):
        TaskGraph.from_file(path)


def test_duplicate_keys_are_errors_not_silently_merged() -> None:
    with pytest.raises(TaskGraphError, match=r"line 5, column 5: duplicate key 'dependencies' \(first at line 4\)"):
        TaskGraph.from_yaml("name: x\ntasks:\n  - id: a\n    dependencies: []\n    dependencies: [b]\n    title: A\n")
    with pytest.raises(TaskGraphError, match="duplicate key 'name'"):
        TaskGraph.from_json('{"name": "x", "name": "y", "tasks": []}')


def test_yaml_merge_keys_still_work() -> None:
    g = TaskGraph.from_yaml(
        "name: x\ntasks:\n  - &base {id: a, title: A, estimate: 3}\n  - {<<: *base, id: b, dependencies: [a]}\n"
    )
    assert g.task("b").estimate == 3.0 and g.task("b").title == "A"


def test_empty_yaml_and_top_level_list() -> None:
    with pytest.raises(TaskGraphError, match="empty"):
        TaskGraph.from_yaml("# nothing\n")
    with pytest.raises(TaskGraphError, match="expected a mapping.*list"):
        TaskGraph.from_yaml("- id: a\n")


def test_wrong_field_type_in_file_names_task_id_field_and_value(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    # 'dependencies: schema' (a string, not a list) on task 'api' only
    path.write_text(YAML_GRAPH.replace("dependencies: [schema]\n    files:", "dependencies: schema\n    files:"))
    with pytest.raises(TaskGraphError) as info:
        TaskGraph.from_file(path)
    msg = str(info.value)
    assert "g.yaml" in msg and "task 'api' (tasks[1])" in msg and "'dependencies'" in msg and "'schema'" in msg


def test_numeric_id_suggests_quoting() -> None:
    with pytest.raises(TaskGraphError, match=r"tasks\[0\]: field 'id'.*got 7.*quote"):
        TaskGraph.from_yaml("name: x\ntasks:\n  - {id: 7, title: A}\n")


# -- lookup ---------------------------------------------------------------------------------


def test_lookups_and_unknown_ids() -> None:
    g = graph(t("a"), t("b", "a"), t("c", "a"), t("d", "c", "b"))
    assert g.dependents("a") == ["b", "c"] and g.dependents("d") == []
    assert g.task("c").title == "task c"
    for call in (g.task, g.dependents, g.weight, g.bottom_level):
        with pytest.raises(TaskGraphError, match="no task 'e'"):
            call("e")


def test_ready() -> None:
    g = graph(t("d", "b", "c"), t("b", "a"), t("a"), t("c", "a"))
    assert g.ready([]) == ["a"]
    assert g.ready(["a"]) == ["b", "c"]
    assert g.ready(["a", "c"]) == ["b"]
    assert g.ready(iter(["a", "b", "c"])) == ["d"]
    assert g.ready(["a", "b", "c", "d"]) == []
    with pytest.raises(TaskGraphError, match="'zz'"):
        g.ready(["a", "zz"])


def test_topological_order_breaks_ties_by_declaration() -> None:
    g = graph(t("z", "y"), t("c"), t("y"), t("b", "c"), t("a"))
    # Sources c, y, a: c goes first and frees b; y (declared before b) goes next and frees z,
    # which was declared first of all, so it jumps ahead of b and a.
    assert g.topological_order() == ["c", "y", "z", "b", "a"]


# -- analysis on hand-computed graphs -------------------------------------------------------


def test_chain() -> None:
    g = graph(t("c", "b", w=3), t("a", w=1), t("b", "a", w=2))
    assert g.topological_order() == ["a", "b", "c"]
    assert g.critical_path() == ["a", "b", "c"] and g.critical_path_length() == 6.0
    assert g.work() == 6.0 and g.parallel_fraction() == 0.0
    assert [g.bottom_level(x) for x in "abc"] == [6.0, 5.0, 3.0]
    assert g.amdahl(1) == 1.0 and g.amdahl(8) == 1.0
    b = g.bound(3)
    assert b == ScheduleBound(agents=3, work_over_n=2.0, critical_path=6.0, makespan=6.0, speedup=1.0)


def test_chain_of_tenths_has_exactly_zero_parallel_fraction() -> None:
    g = graph(*[t(f"s{i}", *([f"s{i - 1}"] if i else []), w=0.1) for i in range(10)])
    assert g.parallel_fraction() == 0.0 and g.amdahl(100) == 1.0


def test_diamond() -> None:
    g = graph(t("a"), t("b", "a"), t("c", "a"), t("d", "b", "c"))
    assert g.critical_path() == ["a", "b", "d"]  # b and c tie: declaration order
    assert g.critical_path_length() == 3.0 and g.work() == 4.0
    assert g.parallel_fraction() == 0.25
    assert math.isclose(g.amdahl(2), 8 / 7)
    assert math.isclose(g.amdahl(math.inf), 4 / 3)
    assert g.bound(2) == ScheduleBound(agents=2, work_over_n=2.0, critical_path=3.0, makespan=3.0, speedup=4 / 3)
    s = g.list_schedule(2)
    assert s.agents == [["a", "b", "d"], ["c"]] and s.makespan == 3.0


def test_wide_fan_out() -> None:
    g = graph(t("root"), *[t(f"leaf{i}", "root") for i in range(8)])
    assert g.work() == 9.0 and g.critical_path_length() == 2.0
    assert g.critical_path() == ["root", "leaf0"]
    assert math.isclose(g.parallel_fraction(), 7 / 9)
    assert math.isclose(g.amdahl(4), 1 / (2 / 9 + 7 / 36))
    b = g.bound(4)
    assert (b.work_over_n, b.critical_path, b.makespan, b.speedup) == (2.25, 2.0, 2.25, 4.0)
    s = g.list_schedule(4)
    # root on agent 0 at 0; at t=1 all four agents take a leaf each, then the other four at t=2.
    assert s.makespan == 3.0
    assert s.agents == [["root", "leaf0", "leaf4"], ["leaf1", "leaf5"], ["leaf2", "leaf6"], ["leaf3", "leaf7"]]
    assert g.bound(8).makespan == 2.0 and g.list_schedule(8).makespan == 2.0


def test_weighted() -> None:
    g = graph(t("a", w=2), t("b", "a", w=5), t("c", "a"), t("d", "c"), t("e", "b", "d"))
    assert {x: g.bottom_level(x) for x in "abcde"} == {"a": 8.0, "b": 6.0, "c": 3.0, "d": 2.0, "e": 1.0}
    assert g.critical_path() == ["a", "b", "e"] and g.critical_path_length() == 8.0
    assert g.work() == 10.0 and math.isclose(g.parallel_fraction(), 0.2)
    assert g.weight("a") == 2.0 and g.weight("c") == 1.0
    s = g.list_schedule(2)
    assert s.agents == [["a", "b", "e"], ["c", "d"]]
    assert s.start == {"a": 0.0, "b": 2.0, "c": 2.0, "d": 3.0, "e": 7.0}
    assert s.makespan == 8.0


def test_critical_path_prefers_heavier_branch_not_declaration_order() -> None:
    g = graph(t("s"), t("light", "s", w=1), t("heavy", "s", w=4), t("end", "light", "heavy"))
    assert g.critical_path() == ["s", "heavy", "end"] and g.critical_path_length() == 6.0


def test_hlfet_picks_highest_bottom_level_first() -> None:
    g = graph(t("x"), t("y"), t("z", "y", w=4))
    s = g.list_schedule(1)
    assert s.agents == [["y", "z", "x"]]  # bottom levels: y 5, z 4, x 1
    assert s.start == {"x": 5.0, "y": 0.0, "z": 1.0} and s.makespan == 6.0


def test_list_schedule_waits_for_dependencies_to_finish() -> None:
    g = graph(t("a", w=3), t("b", "a"), t("c"))
    s = g.list_schedule(2)
    # agent 1 is free at 1 but b only becomes ready when a finishes at 3.
    assert s.agents == [["a", "b"], ["c"]]
    assert s.start["b"] == 3.0 and s.makespan == 4.0


def test_more_agents_than_tasks_leaves_some_idle() -> None:
    s = graph(t("a"), t("b")).list_schedule(4)
    assert s.agents == [["a"], ["b"], [], []] and s.makespan == 1.0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_agent_counts_must_be_positive_integers(bad: Any) -> None:
    g = graph(t("a"))
    with pytest.raises(TaskGraphError, match="n >= 1"):
        g.bound(bad)
    with pytest.raises(TaskGraphError, match="n >= 1"):
        g.list_schedule(bad)


@pytest.mark.parametrize("bad", [0, 0.5, -3, math.nan])
def test_amdahl_needs_n_at_least_one(bad: float) -> None:
    with pytest.raises(TaskGraphError, match="n >= 1"):
        graph(t("a"), t("b")).amdahl(bad)


def test_schedule_is_a_frozen_model() -> None:
    s = graph(t("a")).list_schedule(1)
    assert isinstance(s, Schedule)
    with pytest.raises(pydantic.ValidationError):
        s.makespan = 0.0  # type: ignore[misc]


# -- properties on random DAGs --------------------------------------------------------------

weights = st.none() | st.integers(1, 5).map(float) | st.floats(0.05, 10.0, allow_nan=False, allow_infinity=False)


@st.composite
def dag_specs(draw: st.DrawFn, max_tasks: int = 12) -> list[dict[str, Any]]:
    """Task dicts of a random DAG, declared in a random order (not necessarily topological)."""
    n = draw(st.integers(1, max_tasks))
    specs = []
    for k in range(n):
        deps = draw(st.lists(st.integers(0, k - 1), unique=True, max_size=min(k, 4))) if k else []
        specs.append(t(f"t{k}", *[f"t{d}" for d in deps], w=draw(weights)))
    return draw(st.permutations(specs))


@st.composite
def dags(draw: st.DrawFn) -> TaskGraph:
    return graph(*draw(dag_specs()))


def deps_of(g: TaskGraph) -> dict[str, list[str]]:
    return {x.id: x.dependencies for x in g.tasks}


def w_of(g: TaskGraph, x: str) -> float:
    e = g.task(x).estimate
    return 1.0 if e is None else e


def all_paths_from(g: TaskGraph, start: str) -> list[list[str]]:
    """Every maximal path from ``start`` following 'is depended on by' edges, by brute force."""
    children = {x: [y for y in g.ids if x in deps_of(g)[y]] for x in g.ids}
    out: list[list[str]] = []

    def walk(path: list[str]) -> None:
        nxt = children[path[-1]]
        if not nxt:
            out.append(path)
        for c in nxt:
            walk([*path, c])

    walk([start])
    return out


def longest_path_by_top_level(g: TaskGraph) -> float:
    """Longest path computed the other way round: longest path ending at each task."""
    memo: dict[str, float] = {}

    def top(x: str) -> float:
        if x not in memo:
            memo[x] = w_of(g, x) + max((top(d) for d in deps_of(g)[x]), default=0.0)
        return memo[x]

    return max(top(x) for x in g.ids)


@given(dags())
def test_topological_order_respects_deps_and_declaration_ties(g: TaskGraph) -> None:
    order = g.topological_order()
    assert sorted(order) == sorted(g.ids)
    pos = {x: i for i, x in enumerate(order)}
    for x, ds in deps_of(g).items():
        assert all(pos[d] < pos[x] for d in ds)
    # Each pick is the earliest-declared task whose dependencies were all emitted already.
    emitted: set[str] = set()
    for x in order:
        available = [y for y in g.ids if y not in emitted and set(deps_of(g)[y]) <= emitted]
        assert x == available[0]
        emitted.add(x)


@given(dags())
def test_bottom_levels_and_critical_path(g: TaskGraph) -> None:
    for x in g.ids:
        brute = max(math.fsum(w_of(g, y) for y in p) for p in all_paths_from(g, x))
        assert close(g.bottom_level(x), brute)
    cp = g.critical_path()
    assert not g.task(cp[0]).dependencies and not g.dependents(cp[-1])
    for a, b in zip(cp, cp[1:], strict=False):
        assert a in g.task(b).dependencies
    length = g.critical_path_length()
    assert close(math.fsum(w_of(g, x) for x in cp), length)
    assert close(length, longest_path_by_top_level(g))
    assert all(length >= g.bottom_level(x) - TOL for x in g.ids)
    assert g.critical_path() == cp  # deterministic


@given(dags())
def test_parallel_fraction_and_amdahl(g: TaskGraph) -> None:
    p = g.parallel_fraction()
    assert 0.0 <= p <= 1.0
    assert close(p, (g.work() - g.critical_path_length()) / g.work())
    assert g.amdahl(1) == 1.0
    curve = [g.amdahl(n) for n in range(1, 33)]
    assert all(a <= b for a, b in zip(curve, curve[1:], strict=False))
    assert all(s <= 1.0 / (1.0 - p) + TOL for s in curve)
    for n in (1, 2, 3, 7):
        b = g.bound(n)
        assert b.agents == n and close(b.makespan, max(g.work() / n, g.critical_path_length()))
        assert b.speedup <= n + TOL and close(b.speedup * b.makespan, g.work())


@given(dags(), st.integers(1, 5), st.booleans())
def test_list_schedule_is_valid_and_within_bounds(g: TaskGraph, n: int, best: bool) -> None:
    s = g.best_schedule(n, tries=16) if best else g.list_schedule(n)
    assert len(s.agents) == n
    placed = [x for lane in s.agents for x in lane]
    assert sorted(placed) == sorted(g.ids)  # every task exactly once
    assert set(s.start) == set(s.finish) == set(g.ids)
    for x in g.ids:
        assert close(s.finish[x] - s.start[x], w_of(g, x))
        assert all(s.start[x] >= s.finish[d] for d in g.task(x).dependencies)
    for lane in s.agents:
        for a, b in zip(lane, lane[1:], strict=False):
            assert s.start[b] >= s.finish[a]  # start order, no overlap
    assert s.makespan == max(s.finish.values())
    work, cp = g.work(), g.critical_path_length()
    assert g.bound(n).makespan <= s.makespan + TOL
    assert s.makespan <= work / n + cp + TOL  # Graham
    if n == 1:
        assert close(s.makespan, work)
    if n >= len(g.ids):
        assert close(s.makespan, cp)  # enough agents: every task starts when its deps finish


@given(dags(), st.integers(1, 4))
def test_list_schedule_never_idles_an_agent_while_a_task_is_ready(g: TaskGraph, n: int) -> None:
    s = g.list_schedule(n)
    # Greedy: when a task starts later than its release time, all agents were busy in between.
    for x in g.ids:
        release = max((s.finish[d] for d in g.task(x).dependencies), default=0.0)
        if s.start[x] > release:
            busy = sum(1 for y in g.ids if s.start[y] <= release < s.finish[y])
            assert busy == n


@given(dags(), st.data())
def test_ready_matches_definition(g: TaskGraph, data: st.DataObject) -> None:
    done = set(data.draw(st.lists(st.sampled_from(g.ids), unique=True)))
    expected = [x for x in g.ids if x not in done and all(d in done for d in g.task(x).dependencies)]
    assert g.ready(done) == expected


def digraphs(n: int) -> st.SearchStrategy[tuple[int, list[tuple[int, int]]]]:
    edge = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    return st.tuples(st.just(n), st.lists(edge, max_size=12, unique=True))


@given(st.integers(1, 7).flatmap(digraphs))
def test_cycles_are_detected_exactly_and_reported_as_real_cycles(case: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = case
    deps = {f"n{i}": [f"n{b}" for a, b in edges if a == i] for i in range(n)}
    # Reference: peel off tasks with no remaining dependencies; a cycle is what remains.
    remaining = {k: set(v) for k, v in deps.items()}
    while True:
        free = [k for k, v in remaining.items() if not v]
        if not free:
            break
        for k in free:
            del remaining[k]
        for v in remaining.values():
            v.difference_update(free)
    has_cycle = bool(remaining)
    specs = [t(k, *v) for k, v in deps.items()]
    if not has_cycle:
        assert graph(*specs).ids == list(deps)
        return
    msg = error_of(*specs)
    m = re.search(r"dependency cycle: (.+?) \(", msg)
    assert m is not None, msg
    path = m.group(1).split(" -> ")
    assert path[0] == path[-1] and len(path) >= 2
    for a, b in zip(path, path[1:], strict=False):
        assert b in deps[a]


@given(dag_specs(max_tasks=8), st.data())
def test_file_conflicts_are_detected_exactly(specs: list[dict[str, Any]], data: st.DataObject) -> None:
    pool = ["a.py", "b.py", "c.py"]
    specs = [{**s, "files": data.draw(st.lists(st.sampled_from(pool), unique=True, max_size=2))} for s in specs]
    deps = {s["id"]: s["dependencies"] for s in specs}

    def reaches(a: str, b: str) -> bool:  # does a (transitively) depend on b?
        stack, seen = list(deps[a]), set()
        while stack:
            x = stack.pop()
            if x == b:
                return True
            if x not in seen:
                seen.add(x)
                stack.extend(deps[x])
        return False

    conflicts = {
        (a["id"], b["id"], f)
        for i, a in enumerate(specs)
        for b in specs[i + 1 :]
        for f in set(a["files"]) & set(b["files"])
        if not reaches(a["id"], b["id"]) and not reaches(b["id"], a["id"])
    }
    if not conflicts:
        graph(*specs)
        return
    msg = error_of(*specs)
    reported = set(re.findall(r"tasks '(\w+)' and '(\w+)' both write '([\w.]+)'", msg))
    assert reported == conflicts


@given(dags(), st.integers(2, 4))
def test_best_schedule_is_never_longer_than_hlfet_and_is_deterministic(g: TaskGraph, n: int) -> None:
    best = g.best_schedule(n, tries=32, seed=3)
    assert best.makespan <= g.list_schedule(n).makespan + TOL
    assert best == g.best_schedule(n, tries=32, seed=3)


def test_best_schedule_beats_hlfet_on_the_bundled_graph() -> None:
    from lmteams.runtime.suites import coding_suite

    g = TaskGraph.from_file(coding_suite().graph_path)
    assert g.best_schedule(3).makespan < g.list_schedule(3).makespan
