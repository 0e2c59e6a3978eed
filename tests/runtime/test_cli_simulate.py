"""``lmteams simulate`` as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from lmteams.consensus.testing import PROPERTIES

ARGS = ["simulate", "--nodes", "3", "--seed", "3", "--ticks", "400", "--drop", "0.1", "--partitions", "--crashes"]


def lmteams(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = f"{prelude}\nimport sys\nfrom lmteams.runtime.cli import main\nsys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_simulate_reports_every_invariant_and_faults() -> None:
    proc = lmteams(*ARGS, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout)
    assert set(summary["invariants"]) == set(PROPERTIES)
    assert all(count > 0 for count in summary["invariants"].values()), summary["invariants"]
    assert summary["faults"]["dropped"] > 0
    assert summary["faults"]["partitions"] > 0
    assert summary["entries_committed"] > 0
    assert summary["leaders_by_term"], "no leader was ever elected"
    assert summary["linearizability"]["verdict"] == "linearizable"
    assert summary["violation"] is None


def test_simulate_is_deterministic_per_seed() -> None:
    first = json.loads(lmteams(*ARGS, "--json").stdout)
    again = json.loads(lmteams(*ARGS, "--json").stdout)
    other = json.loads(lmteams(*ARGS[:-5], "5", *ARGS[-4:], "--json").stdout)
    assert first == again
    assert first != other


def test_simulate_prints_tables() -> None:
    proc = lmteams(*ARGS)
    assert proc.returncode == 0, proc.stderr
    for heading in ("Leaders elected per term", "Faults injected", "Invariants", *PROPERTIES):
        assert heading in proc.stdout


def test_broken_core_exits_nonzero_naming_the_seed() -> None:
    # A real run of a really broken core: votes are never persisted.
    prelude = (
        "from lmteams.consensus.core.raft import RaftCore\n"
        "from lmteams.consensus.core.messages import HardState\n"
        "RaftCore.hard_state = lambda self: HardState(self.term, None, self.commit_index)"
    )
    proc = lmteams(*ARGS, prelude=prelude)
    assert proc.returncode == 1
    assert "seed 3" in proc.stdout
    assert "Durable Acknowledgement" in proc.stdout


def test_bad_arguments_are_rejected_clearly() -> None:
    proc = lmteams("simulate", "--drop", "1.5")
    assert proc.returncode == 2
    assert "--drop is a probability" in proc.stdout
