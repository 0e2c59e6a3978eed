"""Run a task's acceptance tests on the files an agent wrote.

Two halves:

* the command ``python -m lmteams.runtime.testrunner [--json] FILE...``, run with the
  workspace as its working directory. It puts the workspace first on
  ``sys.path``, imports each test file by path, calls every top-level
  ``test_*`` function and reports each failure (assertion or exception) with
  one short traceback line. Exit status: 0 when every test passed, 1 when
  any failed, 2 on a usage error (no files, a missing file). With
  ``--json`` the last line of stdout is ``{"passed": n, "failed": n,
  "failures": [{"test": "file::name", "error": "..."}]}``; anything the
  tests print goes to stderr.
* ``run_tests(workspace, files)``, the async API the runtime uses. It runs
  the command in a real subprocess (so a test cannot damage the caller, and
  a hung test can be killed) and always returns a ``TestOutcome``: a
  timeout, a crash of the runner or garbage on its stdout become a failed
  outcome, never an exception.

Test files are plain Python: ``test_*`` functions using ``assert``. No
fixtures, no pytest.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import inspect
import json
import linecache
import os
import re
import shutil
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # the runner's child process imports this module: keep its start light
    from lmteams.runtime.graph import TaskGraph

__all__ = ["MissingTestFiles", "TestFailure", "TestOutcome", "install_tests", "main", "run_tests"]

#: Exit statuses of the command.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: In ``--json`` mode the runner writes ``<PROGRESS_PREFIX> file::name`` to
#: stderr before each test, so a timeout can say which test hung.
PROGRESS_PREFIX = "testrunner: running"

_MAX_ERROR_CHARS = 600
_MAX_REPR_CHARS = 160
_STDERR_TAIL_CHARS = 1200
_DRAIN_GRACE_S = 2.0  # how long to wait for the pipes to close once the runner has exited
_RUNNER_FILE = os.path.normcase(os.path.abspath(__file__))
_LMTEAMS_ROOT = Path(__file__).resolve().parent.parent  # holds runtime/, consensus/, transports/


# -- the command ------------------------------------------------------------------


class _UsageError(Exception):
    pass


def _run_files(paths: Sequence[str], *, progress: bool) -> dict[str, Any]:
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        listed = ", ".join(missing)
        raise _UsageError(f"test file not found: {listed} (paths are relative to the working directory {os.getcwd()})")
    passed = 0
    failures: list[dict[str, str]] = []
    for index, path in enumerate(paths):
        try:
            module = _import_test_file(path, index)
        except BaseException as exc:  # noqa: BLE001 - a broken test file is a failure, not a crash
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append({"test": f"{path}::<module>", "error": _describe(exc, path)})
            continue
        tests = [
            (name, obj) for name, obj in vars(module).items() if name.startswith("test_") and inspect.isfunction(obj)
        ]
        if not tests:
            failures.append({"test": f"{path}::<module>", "error": f"no test_* functions found in {path}"})
            continue
        for name, function in tests:
            test_id = f"{path}::{name}"
            if progress:
                sys.stderr.write(f"{PROGRESS_PREFIX} {test_id}\n")
                sys.stderr.flush()
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    result = function()
                if inspect.iscoroutine(result):
                    result.close()
                    raise TypeError(f"{name} is async; acceptance tests must be plain functions")
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append({"test": test_id, "error": _describe(exc, path)})
            else:
                passed += 1
    return {"passed": passed, "failed": len(failures), "failures": failures}


def _import_test_file(path: str, index: int) -> Any:
    stem = re.sub(r"\W", "_", Path(path).stem)
    name = f"_lmteams_acceptance_{index}_{stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with contextlib.redirect_stdout(sys.stderr):
        spec.loader.exec_module(module)
    return module


def _describe(exc: BaseException, test_path: str) -> str:
    """``Type: message at file:line: source`` for the innermost frame, plus the test's own line when they differ."""
    message = str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    frames = [
        (frame, summary)
        for frame, summary in zip(_tb_frames(exc.__traceback__), traceback.extract_tb(exc.__traceback__))
        if os.path.normcase(os.path.abspath(summary.filename)) != _RUNNER_FILE and not summary.filename.startswith("<")
    ]
    if frames:
        frame, innermost = frames[-1]
        text += f" at {_where(innermost)}"
        test_file = os.path.normcase(os.path.abspath(test_path))
        in_test = [s for _, s in frames if os.path.normcase(os.path.abspath(s.filename)) == test_file]
        if in_test and in_test[-1] is not innermost:
            text += f" (called from {_where(in_test[-1])})"
        elif isinstance(exc, AssertionError) and not message:
            text += _explain_assert(frame, innermost)
    if len(text) > _MAX_ERROR_CHARS:
        text = text[: _MAX_ERROR_CHARS - 3] + "..."
    return text


def _tb_frames(tb: TracebackType | None) -> list[Any]:
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _where(summary: traceback.FrameSummary) -> str:
    try:
        shown = os.path.relpath(summary.filename)
    except ValueError:
        shown = summary.filename
    line = (summary.line or "").strip()
    return f"{shown}:{summary.lineno}: {line}" if line else f"{shown}:{summary.lineno}"


def _explain_assert(frame: Any, summary: traceback.FrameSummary) -> str:
    """For a bare ``assert left <op> right`` re-evaluate both sides and show them; '' when unsure."""
    try:
        source = "".join(linecache.getlines(summary.filename))
        node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Assert) and n.lineno == summary.lineno)
        test = node.test
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1) or node.msg is not None:
            return ""
        namespace = dict(frame.f_globals)
        namespace.update(frame.f_locals)
        values = []
        for side in (test.left, test.comparators[0]):
            code = compile(ast.Expression(side), summary.filename, "eval")
            values.append(_short_repr(eval(code, namespace)))  # noqa: S307 - the test's own expression
        return f" (left: {values[0]}, right: {values[1]})"
    except Exception:  # noqa: BLE001 - an explanation is optional
        return ""


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR_CHARS else text[: _MAX_REPR_CHARS - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lmteams.runtime.testrunner",
        description="Run the test_* functions of the given files; paths are relative to the working directory.",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line on stdout")
    parser.add_argument("files", nargs="*", metavar="FILE", help="test files to run")
    args = parser.parse_args(argv)
    if not args.files:
        parser.print_usage(sys.stderr)
        sys.stderr.write("testrunner: error: give at least one test file\n")
        return EXIT_USAGE
    cwd = os.getcwd()
    if not sys.path or sys.path[0] != cwd:
        sys.path.insert(0, cwd)
    out = sys.stdout
    try:
        summary = _run_files(args.files, progress=args.json)
    except _UsageError as exc:
        sys.stderr.write(f"testrunner: error: {exc}\n")
        return EXIT_USAGE
    if args.json:
        out.write("\n" + json.dumps(summary) + "\n")
    else:
        for failure in summary["failures"]:
            out.write(f"FAILED {failure['test']}: {failure['error']}\n")
        out.write(f"{summary['passed']} passed, {summary['failed']} failed\n")
    out.flush()
    return EXIT_OK if summary["failed"] == 0 else EXIT_FAILED


if __name__ == "__main__":
    # The command runs in a fresh interpreter for every test run. Stop here, before the
    # imports that only the async API below needs: pydantic, anyio and structlog would
    # roughly triple the runner's start-up time (~0.2 s of CPU per run).
    sys.exit(main())

import signal  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import anyio  # noqa: E402
import structlog  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, ValidationError  # noqa: E402

log = structlog.get_logger(__name__)


# -- the outcome ------------------------------------------------------------------


class TestFailure(BaseModel):
    """One failed test: ``test`` is ``"file::name"`` (or ``"file::<module>"``, ``"<timeout>"``, ``"<runner>"``)."""

    __test__: ClassVar[bool] = False  # not a pytest test class
    model_config = ConfigDict(frozen=True, extra="forbid")

    test: str
    error: str


class TestOutcome(BaseModel):
    """What running a set of test files gave. ``ok`` is True only when nothing failed and nothing timed out."""

    __test__: ClassVar[bool] = False
    model_config = ConfigDict(frozen=True, extra="forbid")

    passed: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)
    failures: tuple[TestFailure, ...] = ()
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.timed_out

    def describe(self, limit: int = 10) -> str:
        """A few lines for a human or a repair prompt: the counts, then one line per failure."""
        head = f"{self.passed} passed, {self.failed} failed" + (" (timed out)" if self.timed_out else "")
        lines = [head] + [f"- {f.test}: {f.error}" for f in self.failures[:limit]]
        if len(self.failures) > limit:
            lines.append(f"- ... and {len(self.failures) - limit} more")
        return "\n".join(lines)


class _Summary(BaseModel):
    """The JSON line the command prints, as ``run_tests`` validates it."""

    model_config = ConfigDict(extra="ignore")

    passed: int = Field(ge=0)
    failed: int = Field(ge=0)
    failures: list[TestFailure]


# -- the async API ----------------------------------------------------------------


class MissingTestFiles(FileNotFoundError):
    """A task names a test file that is not next to its graph file (or the graph was not loaded from a file)."""


def install_tests(graph: TaskGraph, workspace: Path) -> list[str]:
    """Copy every task's test files, each once, from beside the graph file into ``workspace``.

    The one way tests are installed: paths stay relative, so a test file at
    ``tests/test_x.py`` next to ``graph.yaml`` lands at ``workspace/tests/test_x.py``.
    Returns the installed paths in graph order.
    """
    paths = list(dict.fromkeys(test for task in graph.tasks for test in task.tests))
    if paths and graph.base_dir is None:
        raise MissingTestFiles(
            f"graph {graph.name!r} lists test files but was not loaded from a file, so they cannot be found:"
            " load it with TaskGraph.from_file"
        )
    for rel in paths:
        assert graph.base_dir is not None
        source = graph.base_dir / rel
        if not source.is_file():
            raise MissingTestFiles(f"graph {graph.name!r}: test file {rel} is missing (expected at {source})")
        target = Path(workspace) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return paths


async def run_tests(workspace: Path, test_files: Sequence[str], *, timeout: float = 30.0) -> TestOutcome:
    """Run ``test_files`` (paths relative to ``workspace``) in a subprocess with cwd = ``workspace``.

    Never raises for anything the tests or the code under test do: a hang
    past ``timeout`` seconds kills the runner's whole process group and gives
    ``timed_out=True``; a runner that dies or prints garbage gives a failed
    outcome carrying the tail of its stderr. An empty ``test_files`` runs
    nothing and returns an empty, ok outcome.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    workspace = Path(workspace).resolve()
    if not workspace.is_dir():
        raise NotADirectoryError(f"workspace {workspace} is not a directory; create it before running tests")
    files = [str(f) for f in test_files]
    if not files:
        return TestOutcome()

    command = [sys.executable, "-m", "lmteams.runtime.testrunner", "--json", "--", *files]
    started = time.monotonic()
    returncode, stdout, stderr, timed_out = await _run(
        command, cwd=workspace, env=_child_env(workspace), timeout=timeout
    )
    elapsed = time.monotonic() - started

    if timed_out:
        running = _last_running_test(stderr)
        where = f" while running {running}" if running else ""
        outcome = TestOutcome(
            failed=1,
            failures=(
                TestFailure(
                    test=running or "<timeout>",
                    error=f"timed out after {timeout:g} s{where}; the test process was killed",
                ),
            ),
            timed_out=True,
        )
    else:
        outcome = _parse(returncode, stdout, stderr)
    log.debug(
        "tests.run",
        workspace=str(workspace),
        files=len(files),
        passed=outcome.passed,
        failed=outcome.failed,
        timed_out=outcome.timed_out,
        seconds=round(elapsed, 3),
    )
    return outcome


def _child_env(workspace: Path) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(workspace), str(_LMTEAMS_ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"  # so a killed runner's stderr says how far it got
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONHASHSEED"] = "0"  # set and dict-of-set orders repeat run to run
    return env


async def _run(
    command: list[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> tuple[int | None, bytes, bytes, bool]:
    """Like ``anyio.run_process`` but with a timeout that kills the whole process group.

    Returns ``(returncode, stdout, stderr, timed_out)``.
    """
    posix = os.name == "posix"
    process = await anyio.open_process(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, start_new_session=posix)
    out, err = bytearray(), bytearray()
    timed_out = False
    open_streams = 2
    drained = anyio.Event()

    async def drain(stream: Any, sink: bytearray) -> None:
        nonlocal open_streams
        try:
            async for chunk in stream:
                sink.extend(chunk)
        finally:
            open_streams -= 1
            if open_streams == 0:
                drained.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(drain, process.stdout, out)
            tg.start_soon(drain, process.stderr, err)
            with anyio.move_on_after(timeout) as scope:
                await process.wait()
            timed_out = scope.cancelled_caught
            # Kill the group: on a timeout that is the runner itself; after a normal exit it is
            # whatever the tests left behind, which may still hold our pipes open.
            _kill_group(process, posix=posix)
            # Something that left the group (setsid) may still hold the pipes: stop reading soon.
            with anyio.move_on_after(_DRAIN_GRACE_S):
                await drained.wait()
            tg.cancel_scope.cancel()
    finally:
        _kill_group(process, posix=posix)
        with anyio.CancelScope(shield=True):
            await process.aclose()
    return process.returncode, bytes(out), bytes(err), timed_out


def _kill_group(process: Any, *, posix: bool) -> None:
    if posix:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()


def _parse(returncode: int | None, stdout: bytes, stderr: bytes) -> TestOutcome:
    err_text = stderr.decode("utf-8", errors="replace")
    summary = _last_json_line(stdout.decode("utf-8", errors="replace"))
    consistent = summary is not None and (
        (returncode == EXIT_OK and summary.failed == 0) or (returncode == EXIT_FAILED and summary.failed > 0)
    )
    if summary is not None and consistent:
        return TestOutcome(passed=summary.passed, failed=summary.failed, failures=tuple(summary.failures))
    if returncode == EXIT_USAGE:
        return TestOutcome(failed=1, failures=(TestFailure(test="<usage>", error=_tail(err_text) or "usage error"),))
    reason = "printed no valid summary" if summary is None else "printed a summary that contradicts its exit status"
    error = f"the test runner exited with status {returncode} and {reason}"
    tail = _tail(err_text)
    if tail:
        error += f"; stderr ends: {tail}"
    return TestOutcome(failed=1, failures=(TestFailure(test="<runner>", error=error),))


def _last_json_line(text: str) -> _Summary | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if not line:
            continue
        try:
            return _Summary.model_validate_json(line)
        except ValidationError:
            return None
    return None


def _last_running_test(stderr: bytes) -> str | None:
    found = None
    for line in stderr.decode("utf-8", errors="replace").splitlines():
        if line.startswith(PROGRESS_PREFIX + " "):
            found = line[len(PROGRESS_PREFIX) + 1 :].strip()
    return found


def _tail(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith(PROGRESS_PREFIX)]
    tail = "\n".join(lines)[-_STDERR_TAIL_CHARS:]
    return tail.strip()
