"""The real ``lmteams`` command on bad input: a one-line error, the right exit code, no traceback, no hang."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

TIME_LIMIT_S = 60  # a hang (the alias bomb, NaN in the scheduler) is killed here and fails the test


def _deep_json(d: Path) -> list[str]:
    (d / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    return ["plan", "deep.json"]


def _deep_task_input(d: Path) -> list[str]:
    (d / "deep2.json").write_text('{"name": "x", "tasks": [{"id": "a", "input": ' + "[" * 500 + "]" * 500 + "}]}")
    return ["plan", "deep2.json"]


def _alias_bomb(d: Path) -> list[str]:
    lines, prev = ["a: &a [x, x, x, x, x, x, x, x, x]"], "a"
    for name in "bcdefghijk":
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
        prev = name
    (d / "bomb.yaml").write_text("\n".join([*lines, "name: bomb", "tasks: []", ""]))
    return ["plan", "bomb.yaml"]


def _kv_deep_value(d: Path) -> list[str]:
    (d / "secret").write_text("s3cret")
    deep = "[" * 300 + "]" * 300
    return ["kv", "put", "k", deep, "--cluster", "a=127.0.0.1:9", "--secret-file", "secret", "--timeout", "2"]


def _runs_dir_file(d: Path) -> list[str]:
    (d / "afile").write_text("not a directory")
    return ["demo", "--runs-dir", "afile", "--no-baseline"]


def _runs_dir_unwritable(d: Path) -> list[str]:
    (d / "afile").write_text("not a directory")
    return ["demo", "--runs-dir", "afile/runs", "--no-baseline"]  # cannot be created under a file, even as root


def _no_litellm(d: Path) -> list[str]:
    # Hide the installed litellm behind one that fails to import, as on a machine without the extra.
    (d / "hide" / "litellm").mkdir(parents=True)
    (d / "hide" / "litellm" / "__init__.py").write_text("raise ImportError('No module named litellm')\n")
    return ["demo", "--model", "openai/x", "--no-baseline"]


CASES: dict[str, tuple[Callable[[Path], list[str]], int, str]] = {
    "plan deep.json": (_deep_json, 2, "levels deep"),
    "plan deep task input": (_deep_task_input, 2, "levels deep"),
    "plan bomb.yaml": (_alias_bomb, 2, "aliases"),
    "plan --max-agents 100000": (lambda d: ["plan", "--max-agents", "100000"], 2, "--max-agents"),
    "plan --coordination nan": (lambda d: ["plan", "--coordination", "nan"], 2, "--coordination"),
    "plan --coordination inf": (lambda d: ["plan", "--coordination", "inf"], 2, "--coordination"),
    "plan --coordination 1e308": (lambda d: ["plan", "--coordination", "1e308"], 2, "--coordination"),
    "kv put 300 deep": (_kv_deep_value, 2, "levels deep"),
    "demo --runs-dir FILE": (_runs_dir_file, 2, "--runs-dir"),
    "demo --runs-dir unwritable": (_runs_dir_unwritable, 2, "--runs-dir"),
    "demo --model without litellm": (_no_litellm, 1, "lmteams[llm]"),
    "demo --api-base notaurl": (lambda d: ["demo", "--api-base", "notaurl", "--no-baseline"], 2, "--api-base"),
    "demo --agents 500": (lambda d: ["demo", "--agents", "500", "--no-baseline"], 2, "--agents"),
}


@pytest.mark.timeout(TIME_LIMIT_S + 30)
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_one_line_and_an_exit_code(tmp_path: Path, case: str) -> None:
    make, code, words = CASES[case]
    argv = make(tmp_path)
    env = {**os.environ, "LMTEAMS_TRACEBACK": ""}
    env.pop("LMTEAMS_TRACEBACK")
    if (tmp_path / "hide").exists():
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "hide"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "lmteams.runtime.cli", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_S,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(lines) == 1 and len(lines[0]) < 400, lines[:5]
    assert words in lines[0] and "error" in lines[0]
