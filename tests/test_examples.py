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
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "testing_kit_bank.py"), "3"], capture_output=True, text=True, timeout=120
    )
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


def _run_example(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout)


def test_the_bundled_coding_graph_is_in_examples_and_loads() -> None:
    from lmteams.runtime.graph import TaskGraph

    graph = TaskGraph.from_file(EXAMPLES / "coding_graph" / "graph.yaml")
    assert 12 <= len(graph.tasks) <= 20 and graph.parallel_fraction() > 0.3
    assert all((EXAMPLES / "coding_graph" / t).is_file() for task in graph.tasks for t in task.tests)


def test_custom_agent_example_checks_every_reply_and_completes() -> None:
    proc = _run_example(str(EXAMPLES / "custom_agent.py"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "completed: 16/16 tasks, 16 replies checked by the careful check" in proc.stdout


def test_custom_work_example_fences_its_resource_and_feeds_a_dependent() -> None:
    proc = _run_example(str(EXAMPLES / "custom_work.py"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "completed: 3/3 tasks" in proc.stdout
    assert "statement: balance 105.00 after 2 entries" in proc.stdout  # 100 deposited, then 5% interest
    assert "stale token refused by the guard: True" in proc.stdout


def test_custom_world_command_example_journals_every_task_on_every_replica() -> None:
    proc = _run_example(str(EXAMPLES / "custom_world_command.py"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "16 journal entries for 16 tasks; identical on all 3 replicas: True" in proc.stdout


def test_embedding_example_streams_events_and_cancels_cleanly_mid_run() -> None:
    # Six tasks on the critical path at 0.5 s a model call: the run cannot be over after 1 s.
    proc = _run_example(str(EXAMPLES / "embed_in_asyncio_app.py"), "--latency", "0.5", "--shutdown-after", "1.0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"event": "claim"' in proc.stdout  # events arrived while the run went on
    assert "service: team cancelled; leftover tasks: 0; open sockets: 0" in proc.stdout


def test_embedding_example_runs_to_the_end_and_leaves_nothing_behind() -> None:
    proc = _run_example(str(EXAMPLES / "embed_in_asyncio_app.py"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "report: completed, 16/16 tasks" in proc.stdout
    assert "service: team finished; leftover tasks: 0; open sockets: 0" in proc.stdout
