"""Scenario scripts, one per known Raft bug: see ``scenarios/*.txt``.

Each command's output must match the script. Set
``LMTEAMS_REWRITE_SCENARIOS=1`` to regenerate outputs after an intended
change, and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .scenario_runner import run_file

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.txt"))


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) >= 10


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path: Path) -> None:
    expected, actual = run_file(path)
    for want, got in zip(expected, actual):
        assert got.expected == want.expected, (
            f"{path.name}:{want.line} `{want.command}`\n--- expected\n{want.expected}\n--- actual\n{got.expected}"
        )
