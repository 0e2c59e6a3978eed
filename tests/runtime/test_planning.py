"""lmteams plan: whether a graph needs a team, and how many agents, with coordination counted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.planning import plan
from lmteams.runtime.suites import coding_suite


def graph(name: str, tasks: list[tuple[str, list[str], float]]) -> TaskGraph:
    return TaskGraph.from_dict(
        {"name": name, "tasks": [{"id": i, "title": i, "dependencies": d, "estimate": w} for i, d, w in tasks]}
    )


def test_a_chain_needs_no_team() -> None:
    chain = graph("chain", [("a", [], 1.0), ("b", ["a"], 1.0), ("c", ["b"], 1.0)])
    p = plan(chain, max_agents=4)
    assert not p.needs_team and p.recommended_agents == 1
    assert all(r.predicted_speedup <= 1.0 + 1e-9 for r in p.rows)
    assert "one agent is enough" in p.reason


def test_independent_tasks_want_as_many_agents_as_tasks_when_coordination_is_free() -> None:
    wide = graph("wide", [(f"t{i}", [], 1.0) for i in range(4)])
    p = plan(wide, max_agents=6, coordination=0.0)
    assert p.recommended_agents == 4 and p.needs_team
    assert [round(r.predicted_speedup, 6) for r in p.rows] == [1.0, 2.0, 2.0, 4.0, 4.0, 4.0]  # 3 agents: 2 rounds


def test_coordination_cost_lowers_the_prediction_and_the_recommendation() -> None:
    wide = graph("wide", [(f"t{i}", [], 1.0) for i in range(8)])
    free = plan(wide, max_agents=8, coordination=0.0)
    costly = plan(wide, max_agents=8, coordination=0.5)  # 8 agents: 1 round of 4.5; 4 agents: 2 of 2.5
    assert all(c.predicted_speedup <= f.predicted_speedup + 1e-9 for c, f in zip(costly.rows, free.rows))
    assert costly.recommended_agents == 4 and free.recommended_agents == 8
    assert all(r.predicted_speedup <= r.schedule_bound + 1e-9 for r in costly.rows)


def test_the_bundled_graph_recommends_a_small_team() -> None:
    p = plan(TaskGraph.from_file(coding_suite().graph_path))
    assert p.needs_team and 2 <= p.recommended_agents <= 4
    with pytest.raises(ValueError, match="coordination"):
        plan(TaskGraph.from_file(coding_suite().graph_path), coordination=-1)


def test_the_cli_prints_json_and_refuses_a_bad_graph_clearly(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "lmteams.runtime.cli", "plan", "--json"], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["recommended_agents"] >= 2
    bad = tmp_path / "cycle.json"
    bad.write_text(json.dumps({"name": "x", "tasks": [{"id": "a", "title": "A", "dependencies": ["a"]}]}))
    refused = subprocess.run(
        [sys.executable, "-m", "lmteams.runtime.cli", "plan", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and "cycle" in refused.stderr and "Traceback" not in refused.stderr
