"""examples/research_team.py: its tools and its offline script answer each question right, and,
where Team(work=...) exists (the `work` branch), the example runs as a user would run it."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lmteams.runtime.team import Team

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "research_team.py"
TEAM_HAS_WORK = "work" in inspect.signature(Team).parameters


def load() -> Any:
    spec = importlib.util.spec_from_file_location("research_team", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Task:
    id: str
    title: str
    input: Any = None


@dataclass
class Ctx:
    task: Task
    model: Any
    inputs: dict[str, Any]
    events: Any = None
    calls: list[str] = field(default_factory=list)


@pytest.mark.anyio
async def test_the_tools_and_the_scripted_model_answer_each_question(tmp_path: Path) -> None:
    research = load()
    describe, query = research.make_tools(research.create_dataset(tmp_path / "sales.db"))
    assert (await describe.invoke('{"table": "sales"}')).value["rows"] == 7
    missing = await describe.invoke('{"table": "nope"}')
    assert not missing.ok and "no table 'nope'" in missing.content
    refused = await query.invoke('{"query": "DELETE FROM sales"}')
    assert not refused.ok and "readonly" in refused.content.replace("-", "").lower()

    args = research.parse_args([])
    model = research.make_model(args)
    model.latency = research.Latency(time_scale=1e-3)
    question = research.llm_work(tools=[describe, query], output=research.Answer)
    results = {}
    for tid, (title, _) in research.QUESTIONS.items():
        task = Task(tid, title, {"table": "sales"})
        results[tid] = await question(task, Ctx(task, model, {}))
    assert {k: v["answer"] for k, v in results.items()} == {
        "top-region": "south",
        "revenue": "29490.00",
        "pricey": "blender",
    }
    summary_task = Task("summary", "Summarise")
    summary = await research.llm_work(output=research.Summary)(summary_task, Ctx(summary_task, model, results))
    assert summary["summary"].startswith("The south region sold the most units. Total revenue was 29490.00.")


@pytest.mark.skipif(not TEAM_HAS_WORK, reason="needs Team(work=...) from the `work` branch (connected at merge)")
def test_the_research_example_runs_offline_as_a_team() -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "completed: 4/4 tasks" in proc.stdout
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines()[1:] if ": " in line)
    assert json.loads(lines["top-region"])["answer"] == "south"
    assert "Total revenue was 29490.00" in json.loads(lines["summary"])["summary"]
