"""The paper-style suites (mathkit, tablekit, svgkit) in their three variants.

Per variant: the graph validates, its parallel fraction is exactly the stated
p (by ``TaskGraph`` and by ``lmteams plan --json``), its chain and free tasks
are prefixes of the suite's, and the declared dependencies are exactly what
the modules import. Per suite, over the union of its variants' tasks, the
acceptance tests really run through ``run_tests``: all reference solutions in
one run, and each buggy variant in a workspace of reference solutions, where
it must fail its own tests. Chain bugs need a workspace each (a bug early in
the chain also breaks later tasks' tests); the independent tasks' bugs ride
along in those workspaces, since nothing else imports them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import anyio
import pytest
import yaml

from lmteams.runtime.cli import build_parser
from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.models.base import Message
from lmteams.runtime.suites import TASK_ID_PREFIX, FileReply, Suite, SuiteError, make_responder, write_files
from lmteams.runtime.suites.catalog import PAPER_SUITES, VARIANTS, load_suite, paper_variants, suite_graph
from lmteams.runtime.testrunner import TestOutcome, run_tests

pytestmark = pytest.mark.timeout(300)

CHAIN_LENGTH = {0.9: 2, 0.5: 10, 0.2: 16}
ALL_VARIANTS = list(paper_variants())


def raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def chain_and_free(name: str) -> tuple[list[str], list[str]]:
    """The suite's full chain (from the p = 0.2 variant) and all its independent tasks (from p = 0.9)."""
    longest = raw(suite_graph(name, 0.2))["tasks"]
    widest = raw(suite_graph(name, 0.9))["tasks"]
    return [t["id"] for t in longest[:16]], [t["id"] for t in widest[2:]]


def union_tasks(name: str) -> dict[str, dict]:
    """Every task of the suite's variants by id (each variant agrees on a shared task: see below)."""
    tasks: dict[str, dict] = {}
    for p in VARIANTS:
        for task in raw(suite_graph(name, p))["tasks"]:
            tasks.setdefault(task["id"], task)
    return tasks


def package_imports(source: str, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == package)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
            found.add(node.module)
    return found


def count_tests(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(1 for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_"))


def module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


# -- the graphs ---------------------------------------------------------------------


def test_catalog() -> None:
    assert PAPER_SUITES == ("mathkit", "tablekit", "svgkit")
    assert len(ALL_VARIANTS) == 3 * len(PAPER_SUITES)
    assert load_suite(PAPER_SUITES[0], 0.5).graph_path == suite_graph(PAPER_SUITES[0], 0.5)
    with pytest.raises(SuiteError, match="no paper-style suite 'nope'"):
        suite_graph("nope", 0.5)
    with pytest.raises(SuiteError, match="no variant p = 0.7"):
        load_suite(PAPER_SUITES[0], 0.7)


@pytest.mark.parametrize(("name", "p", "path"), ALL_VARIANTS, ids=[f"{n}-p{p}" for n, p, _ in ALL_VARIANTS])
def test_variant_graph(name: str, p: float, path: Path) -> None:
    graph = TaskGraph.from_file(path)  # validates: no cycle, no unknown dependency, no two writers of a file
    data = raw(path)
    assert graph.name == data["name"] == f"{name}-p{round(p * 100)}"
    assert len(graph.ids) == 20
    assert all(graph.task(t).estimate == 1.0 for t in graph.ids)
    assert graph.work() == 20
    assert abs(graph.parallel_fraction() - p) < 1e-9
    assert graph.critical_path_length() == CHAIN_LENGTH[p]
    chain, free = chain_and_free(name)
    k = CHAIN_LENGTH[p]
    assert graph.critical_path() == chain[:k]
    assert graph.ids == chain[:k] + free[: 20 - k]
    for i, task_id in enumerate(graph.ids):
        task = graph.task(task_id)
        assert task.dependencies == ([chain[i - 1]] if 0 < i < k else []), task_id
        assert task.files == [f"{name}/{task_id}.py"] and task.tests == [f"tests/test_{task_id}.py"]
        assert all(test.is_file() for test in graph.test_paths(task_id))
        assert len(task.description) > 100 and task.title.strip()


@pytest.mark.parametrize(("name", "p", "path"), ALL_VARIANTS, ids=[f"{n}-p{p}" for n, p, _ in ALL_VARIANTS])
def test_plan_json_agrees(name: str, p: float, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["plan", str(path), "--json"])
    assert args.run(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert abs(result["parallel_fraction"] - p) < 1e-9
    assert result["tasks"] == 20 and result["work"] == 20
    assert result["critical_path_length"] == CHAIN_LENGTH[p]
    assert result["critical_path"] == chain_and_free(name)[0][: CHAIN_LENGTH[p]]


@pytest.mark.parametrize("name", PAPER_SUITES)
def test_variants_agree_on_shared_tasks(name: str) -> None:
    graphs = [raw(suite_graph(name, p)) for p in VARIANTS]
    assert len({g["description"] for g in graphs}) == 1
    seen: dict[str, dict] = {}
    for graph in graphs:
        for task in graph["tasks"]:
            fields = {key: task[key] for key in ("title", "description", "files", "tests", "estimate")}
            assert seen.setdefault(task["id"], fields) == fields, f"{name}: task {task['id']} differs between variants"
    chain, free = chain_and_free(name)
    assert len(seen) == 34 and set(seen) == set(chain) | set(free) and len(set(chain) | set(free)) == 34


@pytest.mark.parametrize("name", PAPER_SUITES)
def test_imports_are_the_declared_dependencies(name: str) -> None:
    """A chain module imports its predecessor (and nothing outside the chain before it); a free one imports none."""
    suite = load_suite(name, 0.2)
    chain, free = chain_and_free(name)
    for kind in ("solutions", "buggy"):
        for i, task_id in enumerate(chain + free):
            source = (suite.root / kind / name / f"{task_id}.py").read_text(encoding="utf-8")
            imported = package_imports(source, name)
            earlier = {f"{name}.{t}" for t in chain[:i]} if task_id in chain else set()
            assert imported <= earlier, f"{kind}/{task_id} imports {imported - earlier}"
            if task_id in chain and i > 0:
                assert f"{name}.{chain[i - 1]}" in imported, f"{kind}/{task_id} does not use {chain[i - 1]}"
            tested = package_imports((suite.root / "tests" / f"test_{task_id}.py").read_text(encoding="utf-8"), name)
            assert f"{name}.{task_id}" in tested and tested <= earlier | {f"{name}.{task_id}"}, task_id
            if task_id in chain and i > 0:
                assert f"{name}.{chain[i - 1]}" in tested, f"tests of {task_id} do not use {chain[i - 1]}"
    assert not (suite.root / "solutions" / name / "__init__.py").exists()  # a namespace package: no shared root task


@pytest.mark.parametrize(("name", "p", "path"), ALL_VARIANTS, ids=[f"{n}-p{p}" for n, p, _ in ALL_VARIANTS])
def test_suite_files_and_responder(name: str, p: float, path: Path) -> None:
    suite = Suite.load(path)
    respond, buggy = make_responder(suite), make_responder(suite, bug_rate=1.0)
    for task_id in suite:
        solution, bug = suite.solution(task_id), suite.buggy(task_id)
        assert list(solution) == list(bug) == [f"{name}/{task_id}.py"] and solution != bug
        for text in (*solution.values(), *bug.values()):
            compile(text, task_id, "exec")
            assert "```" not in text
        ask = [Message(role="user", content=f"{TASK_ID_PREFIX} {task_id}\nWrite it.")]
        assert {f.path: f.content for f in FileReply.from_text(respond(ask)).files} == solution
        assert {f.path: f.content for f in FileReply.from_text(buggy(ask)).files} == bug


# -- running the tests ----------------------------------------------------------------


def _workspace(ws: Path, root: Path, tasks: dict[str, dict], bugs: list[str]) -> None:
    """Every task's files (``buggy/`` for those in ``bugs``, else ``solutions/``) and tests, copied from ``root``."""
    for task_id, task in tasks.items():
        kind = "buggy" if task_id in bugs else "solutions"
        paths = [(f"{kind}/{f}", f) for f in task["files"]] + [(t, t) for t in task["tests"]]
        write_files(ws, {dest: (root / src).read_text(encoding="utf-8") for src, dest in paths})


@pytest.mark.anyio
@pytest.mark.parametrize("name", PAPER_SUITES)
async def test_solutions_pass_and_every_bug_fails(name: str, tmp_path: Path) -> None:
    suite = load_suite(name, 0.2)  # its root holds every task's files; the graph names only 20 of them
    chain, free = chain_and_free(name)
    tasks = union_tasks(name)
    everything = chain + free
    files = {t: tasks[t]["tests"] for t in everything}

    # Each chain bug gets a workspace; the free tasks' bugs are spread over those workspaces.
    groups = [[c] for c in chain]
    for j, task_id in enumerate(free):
        groups[j % len(groups)].append(task_id)
    results: dict[str, TestOutcome] = {}
    limiter = anyio.CapacityLimiter(2)

    async def check(label: str, bugs: list[str]) -> None:
        ws = tmp_path / label
        _workspace(ws, suite.root, tasks, bugs)
        run = [f for t in (bugs or everything) for f in files[t]]
        async with limiter:
            results[label] = await run_tests(ws, run, timeout=60)

    async with anyio.create_task_group() as tg:
        tg.start_soon(check, "solutions", [])
        for group in groups:
            tg.start_soon(check, group[0], group)

    reference = results["solutions"]
    assert reference.ok, reference.describe()
    assert reference.passed == sum(count_tests(suite.root / f) for t in everything for f in files[t])
    for group in groups:
        outcome = results[group[0]]
        assert not outcome.timed_out, outcome.describe()
        # a bug must fail assertions or raise inside a test, not break the test file's import
        assert outcome.passed + outcome.failed == sum(count_tests(suite.root / f) for t in group for f in files[t])
        for task_id in group:
            own = [f for f in outcome.failures if f.test.startswith(f"tests/test_{task_id}.py::test_")]
            assert own, f"{name}: the buggy {task_id} passed its tests ({outcome.describe()})"
