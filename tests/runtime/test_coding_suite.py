"""The bundled ``textkit`` coding suite, its buggy variants, and the responder that serves them.

The acceptance tests really run (through ``run_tests``, a subprocess each):
the reference solutions must pass them, each buggy variant must fail its own
task's tests, and each task's tests must pass in a workspace holding only
that task and its transitive dependencies.
"""

from __future__ import annotations

import ast
import random
import re
from collections import Counter
from pathlib import Path

import anyio
import pytest
import yaml

from lmteams.runtime.errors import OutputParseError
from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.models.base import Message
from lmteams.runtime.resilience.structured import JSONExtractError, extract_json
from lmteams.runtime.suites import (
    TASK_ID_PREFIX,
    TESTS_FAILED_MARKER,
    FileEdit,
    FileReply,
    Suite,
    SuiteError,
    UnknownTaskError,
    coding_suite,
    find_task_id,
    make_responder,
    write_files,
)
from lmteams.runtime.testrunner import TestOutcome, run_tests

pytestmark = pytest.mark.timeout(120)

SUITE = coding_suite()
DATA = yaml.safe_load(SUITE.graph_path.read_text(encoding="utf-8"))
TASKS = {task["id"]: task for task in DATA["tasks"]}


# -- graph helpers (plain PyYAML data, independent of runtime.graph) ----------------------


def levels() -> dict[str, int]:
    """Longest dependency chain to each task; raises on a cycle."""
    level: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(task_id: str) -> int:
        if task_id in level:
            return level[task_id]
        assert task_id not in visiting, f"cycle through {task_id}"
        visiting.add(task_id)
        deps = TASKS[task_id]["dependencies"]
        level[task_id] = 1 + max((visit(d) for d in deps), default=-1)
        visiting.discard(task_id)
        return level[task_id]

    for task_id in TASKS:
        visit(task_id)
    return level


def closure(task_id: str) -> set[str]:
    """The task and all its transitive dependencies."""
    seen: set[str] = set()
    stack = [task_id]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(TASKS[current]["dependencies"])
    return seen


def topological() -> list[str]:
    lv = levels()
    return sorted(TASKS, key=lambda t: (lv[t], list(TASKS).index(t)))


def module_of(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def textkit_imports(source: str) -> set[str]:
    """The ``textkit`` modules a source file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "textkit")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "textkit":
            found.add(node.module)
    return found


def count_tests(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(1 for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_"))


def user(text: str) -> Message:
    return Message(role="user", content=text)


def ask(task_id: str) -> list[Message]:
    return [Message(role="system", content="You write code."), user(f"{TASK_ID_PREFIX} {task_id}\nWrite it.")]


# -- the graph ----------------------------------------------------------------------


def test_graph_shape() -> None:
    assert DATA["name"] == "textkit" and DATA["description"].strip()
    assert 12 <= len(TASKS) <= 20 and len(TASKS) == len(DATA["tasks"])
    lv = levels()
    by_level = Counter(lv.values())
    assert max(lv.values()) + 1 >= 4, by_level
    assert max(by_level.values()) >= 3, by_level
    assert sum(1 for t in TASKS.values() if len(t["dependencies"]) >= 2) >= 3
    assert [t for t, level in lv.items() if level == 0] == ["package"]
    for task_id, task in TASKS.items():
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", task_id)
        assert set(task["dependencies"]) <= set(TASKS), task_id
        assert "package" in closure(task_id)
        assert len(task["files"]) == 1 and task["files"][0].startswith("textkit/"), task_id
        assert 0.3 <= task["estimate"] <= 2.0
        assert len(task["description"]) > 150 and task["title"].strip()
        assert task["tests"] == [f"tests/test_{task_id}.py"]
    files = [f for t in TASKS.values() for f in t["files"]]
    assert len(files) == len(set(files)) and "textkit/__init__.py" in files


def test_task_graph_loads_and_agrees() -> None:
    graph = TaskGraph.from_file(SUITE.graph_path)
    assert graph.name == "textkit" and graph.ids == list(TASKS)
    order = graph.topological_order()
    assert all(order.index(d) < order.index(t) for t in TASKS for d in TASKS[t]["dependencies"])
    assert graph.work() == pytest.approx(sum(t["estimate"] for t in TASKS.values()))
    longest: dict[str, float] = {}  # an independent longest-path count over the raw YAML
    for t in order:
        longest[t] = TASKS[t]["estimate"] + max((longest[d] for d in TASKS[t]["dependencies"]), default=0.0)
    assert graph.critical_path_length() == pytest.approx(max(longest.values()))
    assert graph.critical_path()[0] == "package" and graph.critical_path()[-1] == "report"
    assert 0.5 < graph.parallel_fraction() < 0.7
    assert all(path.is_file() for t in TASKS for path in graph.test_paths(t))


def test_every_task_has_solution_bug_and_tests() -> None:
    for task_id, task in TASKS.items():
        solution, bug = SUITE.solution(task_id), SUITE.buggy(task_id)
        assert list(solution) == list(bug) == task["files"]
        assert solution != bug, f"{task_id}: the buggy variant is identical to the solution"
        for text in (*solution.values(), *bug.values()):
            compile(text, task_id, "exec")
            assert "```" not in text  # would break the fenced reply
        assert SUITE.test_files(task_id) == task["tests"]
        assert all(count_tests(SUITE.root / path) >= 1 for path in task["tests"])


def test_modules_import_their_dependencies_and_nothing_else() -> None:
    for task_id, task in TASKS.items():
        allowed = {module_of(f) for dep in closure(task_id) for f in TASKS[dep]["files"]}
        own = module_of(task["files"][0])
        imported = textkit_imports(SUITE.solution(task_id)[task["files"][0]])
        assert imported <= allowed - {own}, f"{task_id} imports {imported - allowed}"
        direct = {module_of(TASKS[d]["files"][0]) for d in task["dependencies"] if d != "package"}
        assert direct <= imported, f"{task_id} does not import its dependencies {direct - imported}"
        for path in task["tests"]:
            tested = textkit_imports((SUITE.root / path).read_text(encoding="utf-8"))
            assert own in tested | {"textkit"} and tested <= allowed, f"{path} imports {tested - allowed}"


# -- running the tests ----------------------------------------------------------------


@pytest.mark.anyio
async def test_reference_solutions_pass_every_test(tmp_path: Path) -> None:
    for task_id in topological():
        write_files(tmp_path, SUITE.solution(task_id))
    installed = SUITE.install_tests(tmp_path)
    assert installed == [p for t in TASKS.values() for p in t["tests"]]
    outcome = await run_tests(tmp_path, installed)
    assert outcome.ok, outcome.describe()
    assert outcome.passed == sum(count_tests(SUITE.root / p) for p in installed)


@pytest.mark.anyio
async def test_each_task_alone_passes_and_its_bug_fails(tmp_path: Path) -> None:
    """Per task: its tests pass with only its dependency closure present, and fail with its buggy variant."""
    results: dict[tuple[str, str], TestOutcome] = {}
    limiter = anyio.CapacityLimiter(2)

    async def check(task_id: str, variant: str) -> None:
        ws = tmp_path / f"{task_id}-{variant}"
        for dep in closure(task_id) - {task_id}:
            write_files(ws, SUITE.solution(dep))
        write_files(ws, SUITE.buggy(task_id) if variant == "buggy" else SUITE.solution(task_id))
        for path in SUITE.test_files(task_id):
            (ws / path).parent.mkdir(parents=True, exist_ok=True)
            (ws / path).write_bytes((SUITE.root / path).read_bytes())
        async with limiter:
            results[task_id, variant] = await run_tests(ws, SUITE.test_files(task_id))

    async with anyio.create_task_group() as tg:
        for task_id in TASKS:
            for variant in ("solution", "buggy"):
                tg.start_soon(check, task_id, variant)

    for task_id in TASKS:
        alone, buggy = results[task_id, "solution"], results[task_id, "buggy"]
        assert alone.ok, f"{task_id} with only its dependencies: {alone.describe()}"
        assert not buggy.ok and not buggy.timed_out, f"the buggy {task_id} passed its tests"
        assert buggy.passed + buggy.failed == alone.passed, f"the buggy {task_id} broke the import: {buggy.describe()}"
        assert all(f.test.startswith(f"tests/test_{task_id}.py::test_") for f in buggy.failures), buggy.describe()


# -- the suite object ---------------------------------------------------------------


def test_suite_lookup_and_install(tmp_path: Path) -> None:
    assert SUITE.name == "textkit" and SUITE.root == SUITE.graph_path.parent
    assert SUITE.task_ids == list(TASKS) and len(SUITE) == len(TASKS) and "report" in SUITE
    with pytest.raises(UnknownTaskError, match="has no task 'nope'; its tasks are: package, "):
        SUITE.solution("nope")
    with pytest.raises(KeyError):
        SUITE.test_files("nope")
    installed = SUITE.install_tests(tmp_path)
    assert all((tmp_path / p).read_bytes() == (SUITE.root / p).read_bytes() for p in installed)
    assert len(installed) == len(TASKS) and not (tmp_path / "textkit").exists()


def test_suite_load_errors(tmp_path: Path) -> None:
    bad = tmp_path / "graph.yaml"
    bad.write_text("name: x\ntasks: []\n")
    with pytest.raises(SuiteError, match="'tasks': List should have at least 1 item"):
        Suite.load(bad)
    bad.write_text("name: x\ntasks:\n  - id: a\n    title: A\n    files: [../escape.py]\n")
    with pytest.raises(SuiteError, match="must stay inside"):
        Suite.load(bad)
    bad.write_text("name: x\ntasks:\n  - id: a\n    title: A\n    files: [a.py]\n")
    with pytest.raises(SuiteError, match="no solutions file for a.py"):
        Suite.load(bad).solution("a")
    with pytest.raises(SuiteError, match="no buggy variant"):
        Suite.load(bad).buggy("a")


def test_reply_paths_must_stay_in_the_workspace(tmp_path: Path) -> None:
    for path in ["../x.py", "/etc/passwd", "a\\b.py", "", "C:/x.py", "a/../../b"]:
        with pytest.raises(ValueError):
            FileEdit(path=path, content="")
        with pytest.raises(ValueError):
            write_files(tmp_path, {"ok.py": "", path: ""})
    assert not (tmp_path / "ok.py").exists()  # nothing written when any path is bad
    assert FileEdit(path="./pkg/x.py", content="").path == "pkg/x.py"


# -- the responder ------------------------------------------------------------------


def test_responder_returns_the_reference_solution() -> None:
    respond = make_responder(SUITE)
    for task_id in TASKS:
        text = respond(ask(task_id))
        reply = FileReply.from_text(text)
        assert {f.path: f.content for f in reply.files} == SUITE.solution(task_id)
        assert FileReply.model_validate(extract_json(text)) == reply  # what the agents' parser sees
        assert text == respond(ask(task_id))  # deterministic
    as_dicts = [{"role": "user", "content": f"{TASK_ID_PREFIX}   slugify  "}]
    assert FileReply.from_text(respond(as_dicts)).files[0].path == "textkit/slugify.py"  # type: ignore[arg-type]


def test_responder_bugs_at_the_seeded_rate() -> None:
    def is_buggy(text: str, task_id: str) -> bool:
        files = {f.path: f.content for f in FileReply.from_text(text).files}
        assert files in (SUITE.solution(task_id), SUITE.buggy(task_id))
        return files == SUITE.buggy(task_id)

    bugs = 0
    for seed in range(10):
        respond = make_responder(SUITE, bug_rate=0.3, seed=seed)
        for task_id in TASKS:
            got = is_buggy(respond(ask(task_id)), task_id)
            assert got == (random.Random(f"{seed}:{task_id}:0").random() < 0.3)
            bugs += got
    assert 0.2 < bugs / (10 * len(TASKS)) < 0.4, bugs
    assert all(is_buggy(make_responder(SUITE, bug_rate=1.0)(ask(t)), t) for t in TASKS)
    assert not any(is_buggy(make_responder(SUITE, bug_rate=0.0, seed=3)(ask(t)), t) for t in TASKS)
    for rate in (-0.1, 1.5):
        with pytest.raises(ValueError):
            make_responder(SUITE, bug_rate=rate)


def test_responder_fixes_after_a_test_failure() -> None:
    respond = make_responder(SUITE, bug_rate=1.0)
    first = ask("ngrams")
    bug = respond(first)
    assert {f.path: f.content for f in FileReply.from_text(bug).files} == SUITE.buggy("ngrams")
    repair = [
        *first,
        Message(role="assistant", content=bug),
        user(f"{TESTS_FAILED_MARKER}:\ntests/test_ngrams.py::test_ngrams: AssertionError\nFix the files."),
    ]
    assert find_task_id(repair) == "ngrams"  # from the first user message
    fixed = FileReply.from_text(respond(repair))
    assert {f.path: f.content for f in fixed.files} == SUITE.solution("ngrams")


def test_responder_declines_unknown_or_missing_task_ids() -> None:
    respond = make_responder(SUITE, bug_rate=1.0)
    for messages in (ask("no-such-task"), [user("Please write some code.")]):
        text = respond(messages)
        assert text.startswith("I'm sorry")
        with pytest.raises(OutputParseError):
            FileReply.from_text(text)
        with pytest.raises(JSONExtractError):
            extract_json(text)
    assert find_task_id([user("TASK-ID:\nnothing here")]) is None
