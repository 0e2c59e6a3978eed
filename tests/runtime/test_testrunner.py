"""``lmteams.runtime.testrunner``: the command and ``run_tests``, always through a real subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pydantic
import pytest

from lmteams.runtime.testrunner import TestFailure, TestOutcome, _parse, run_tests

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

REPO = Path(__file__).resolve().parents[2]

LIB = """
def divide(a, b):
    return a / b
"""

PASSING = """
from lib import divide

def test_divide():
    assert divide(6, 3) == 2

def test_print_does_not_corrupt_the_summary():
    print('{"passed": 99, "failed": 0, "failures": []}')
    print("chatter")

def helper_is_not_a_test():
    raise AssertionError("never called")
"""

FAILING = """
from lib import divide

def test_wrong_value():
    expected = 3
    assert divide(6, 3) == expected

def test_with_message():
    assert divide(1, 1) == 2, "one over one is not two"

def test_ok():
    assert divide(1, 1) == 1
"""

ERRORING = """
from lib import divide

def test_division_by_zero():
    assert divide(1, 0) == 0
"""


def workspace(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path


def cli(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "lmteams.runtime.testrunner", *args],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- run_tests ----------------------------------------------------------------------


async def test_passing_tests(tmp_path: Path) -> None:
    ws = workspace(tmp_path, {"lib.py": LIB, "tests/test_pass.py": PASSING})
    outcome = await run_tests(ws, ["tests/test_pass.py"])
    assert outcome == TestOutcome(passed=2, failed=0)
    assert outcome.ok and not outcome.timed_out
    assert not (ws / "tests" / "__pycache__").exists() and not (ws / "__pycache__").exists()


async def test_failing_assertions_name_the_test_and_show_the_line(tmp_path: Path) -> None:
    ws = workspace(tmp_path, {"lib.py": LIB, "tests/test_fail.py": FAILING})
    outcome = await run_tests(ws, ["tests/test_fail.py"])
    assert (outcome.passed, outcome.failed, outcome.ok) == (1, 2, False)
    by_test = {f.test: f.error for f in outcome.failures}
    assert set(by_test) == {"tests/test_fail.py::test_wrong_value", "tests/test_fail.py::test_with_message"}
    wrong = by_test["tests/test_fail.py::test_wrong_value"]
    assert wrong.startswith("AssertionError at tests/test_fail.py:6: assert divide(6, 3) == expected"), wrong
    assert "(left: 2.0, right: 3)" in wrong
    assert by_test["tests/test_fail.py::test_with_message"].startswith("AssertionError: one over one is not two at ")
    assert "tests/test_fail.py::test_wrong_value" in outcome.describe()


async def test_an_exception_in_the_code_under_test(tmp_path: Path) -> None:
    ws = workspace(tmp_path, {"lib.py": LIB, "tests/test_err.py": ERRORING})
    outcome = await run_tests(ws, ["tests/test_err.py"])
    assert (outcome.passed, outcome.failed) == (0, 1)
    error = outcome.failures[0].error
    assert error.startswith("ZeroDivisionError: division by zero at lib.py:3: return a / b"), error
    assert "(called from tests/test_err.py:5: assert divide(1, 0) == 0)" in error


async def test_syntax_error_and_import_error_fail_that_file_only(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        {
            "lib.py": LIB,
            "tests/test_pass.py": PASSING,
            "tests/test_syntax.py": "def test_x(:\n    pass\n",
            "tests/test_import.py": "from lib import missing\n\ndef test_y():\n    pass\n",
            "tests/test_empty.py": "X = 1\n",
        },
    )
    files = ["tests/test_syntax.py", "tests/test_pass.py", "tests/test_import.py", "tests/test_empty.py"]
    outcome = await run_tests(ws, files)
    assert (outcome.passed, outcome.failed) == (2, 3)
    errors = {f.test: f.error for f in outcome.failures}
    assert errors["tests/test_syntax.py::<module>"].startswith("SyntaxError: ")
    assert "line 1" in errors["tests/test_syntax.py::<module>"]
    assert errors["tests/test_import.py::<module>"].startswith("ImportError: cannot import name 'missing'")
    assert errors["tests/test_empty.py::<module>"] == "no test_* functions found in tests/test_empty.py"


async def test_a_missing_file_is_a_usage_error_not_an_exception(tmp_path: Path) -> None:
    ws = workspace(tmp_path, {"lib.py": LIB, "tests/test_pass.py": PASSING})
    outcome = await run_tests(ws, ["tests/test_pass.py", "tests/test_nope.py"])
    assert not outcome.ok and outcome.passed == 0
    assert outcome.failures[0].test == "<usage>"
    assert "test file not found: tests/test_nope.py" in outcome.failures[0].error


async def test_a_hung_test_times_out_and_its_process_group_is_killed(tmp_path: Path) -> None:
    hang = """
import subprocess, sys, time
from pathlib import Path

def test_sleeps_forever():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path("child.pid").write_text(str(child.pid))
    time.sleep(600)
"""
    ws = workspace(tmp_path, {"tests/test_hang.py": hang})
    started = time.monotonic()
    outcome = await run_tests(ws, ["tests/test_hang.py"], timeout=4.0)
    elapsed = time.monotonic() - started
    child = int((ws / "child.pid").read_text()) if (ws / "child.pid").exists() else None
    try:
        assert outcome.timed_out and not outcome.ok
        assert outcome.failed == 1 and outcome.passed == 0
        assert outcome.failures[0].test == "tests/test_hang.py::test_sleeps_forever"
        assert "timed out after 4 s" in outcome.failures[0].error
        assert elapsed < 20, elapsed
        assert child is not None
        await anyio.sleep(0.2)
        assert not _alive(child), "the test's own child process survived the timeout"
    finally:
        if child is not None and _alive(child):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


async def test_a_process_that_escapes_the_group_does_not_hang_the_caller(tmp_path: Path) -> None:
    escape = """
import subprocess, sys
from pathlib import Path

def test_leaves_a_daemon_holding_the_pipes():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    Path("daemon.pid").write_text(str(child.pid))
"""
    ws = workspace(tmp_path, {"tests/test_escape.py": escape})
    started = time.monotonic()
    try:
        outcome = await run_tests(ws, ["tests/test_escape.py"], timeout=30.0)
        assert outcome == TestOutcome(passed=1, failed=0)
        assert time.monotonic() - started < 15
    finally:
        pid_file = ws / "daemon.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


async def test_garbage_output_is_a_failed_outcome(tmp_path: Path) -> None:
    garbage = """
import os, sys

def test_exits_behind_the_runners_back():
    os.write(1, b"this is not json\\n")
    sys.stderr.write("something broke badly\\n")
    sys.stderr.flush()
    os._exit(0)
"""
    ws = workspace(tmp_path, {"tests/test_garbage.py": garbage})
    outcome = await run_tests(ws, ["tests/test_garbage.py"])
    assert not outcome.ok and not outcome.timed_out
    assert outcome.failures[0].test == "<runner>"
    error = outcome.failures[0].error
    assert "exited with status 0 and printed no valid summary" in error
    assert "something broke badly" in error


async def test_a_crashing_runner_reports_its_exit_status(tmp_path: Path) -> None:
    crash = "import os\n\ndef test_dies():\n    os._exit(3)\n"
    ws = workspace(tmp_path, {"tests/test_crash.py": crash})
    outcome = await run_tests(ws, ["tests/test_crash.py"])
    assert not outcome.ok and outcome.failures[0].test == "<runner>"
    assert "status 3" in outcome.failures[0].error


async def test_no_files_runs_nothing(tmp_path: Path) -> None:
    assert await run_tests(tmp_path, []) == TestOutcome()
    with pytest.raises(NotADirectoryError):
        await run_tests(tmp_path / "missing", ["tests/test_x.py"])


def test_a_summary_contradicting_the_exit_status_is_not_trusted() -> None:
    summary = json.dumps({"passed": 3, "failed": 0, "failures": []}).encode()
    assert _parse(0, summary, b"").ok
    lying = _parse(1, summary, b"Traceback: boom")
    assert not lying.ok and lying.failures[0].test == "<runner>" and "boom" in lying.failures[0].error
    assert _parse(-9, b"", b"").failures[0].error.startswith("the test runner exited with status -9")


def test_outcome_is_frozen_and_describes_itself() -> None:
    outcome = TestOutcome(passed=1, failed=1, failures=(TestFailure(test="t.py::test_a", error="AssertionError"),))
    with pytest.raises(pydantic.ValidationError):
        outcome.passed = 5  # type: ignore[misc]
    assert outcome.describe() == "1 passed, 1 failed\n- t.py::test_a: AssertionError"
    assert TestOutcome.model_validate_json(outcome.model_dump_json()) == outcome


# -- the command --------------------------------------------------------------------


def test_cli_exit_statuses_and_output(tmp_path: Path) -> None:
    ws = workspace(tmp_path, {"lib.py": LIB, "tests/test_pass.py": PASSING, "tests/test_fail.py": FAILING})

    ok = cli(ws, "--json", "tests/test_pass.py")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1]) == {"passed": 2, "failed": 0, "failures": []}
    assert "chatter" in ok.stderr  # what tests print goes to stderr

    failed = cli(ws, "tests/test_pass.py", "tests/test_fail.py")
    assert failed.returncode == 1
    assert "FAILED tests/test_fail.py::test_wrong_value: AssertionError" in failed.stdout
    assert failed.stdout.strip().endswith("3 passed, 2 failed")

    missing = cli(ws, "--json", "tests/test_nope.py")
    assert missing.returncode == 2 and missing.stdout == ""
    assert "test file not found: tests/test_nope.py" in missing.stderr

    nothing = cli(ws)
    assert nothing.returncode == 2 and "give at least one test file" in nothing.stderr
