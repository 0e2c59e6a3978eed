"""Every example runs, as a user would run it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_testing_kit_bank_example_runs_clean() -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLES / "testing_kit_bank.py"), "3"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "linearizable" in proc.stdout


def test_testing_kit_bank_catches_a_wrong_model() -> None:
    bank = _load("testing_kit_bank")

    class OffByOne(bank.BankModel):  # a spec that disagrees with the machine
        def step(self, state, input, output):  # type: ignore[no-untyped-def]
            ok, nxt = super().step(state, input, output)
            if input[0] == "transfer" and nxt != state:
                nxt = (nxt[0] + 1, nxt[1])
            return ok, nxt

    done, _, verdict = bank.run(3, bank.BankModel())
    assert verdict == "linearizable" and done > 20
    _, _, verdict = bank.run(3, OffByOne())
    assert verdict == "not linearizable"
