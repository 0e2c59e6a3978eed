"""The paper's latency profiles, graph shapes, and the rounds (lock-step) topology against event-driven ones."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import anyio
import pytest

from lmteams.runtime.events import read_events
from lmteams.runtime.models import Latency, SimulatedModel
from lmteams.runtime.models.base import Message
from lmteams.runtime.report import RunStatus
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.shapes import chain_and_free, paper_graph
from lmteams.runtime.suites import FileEdit, FileReply, find_task_id
from lmteams.runtime.team import Team

# -- Latency.profile ------------------------------------------------------------------------------


def test_profile_replays_the_papers_lognormal_scaled_in_time() -> None:
    claude = Latency.profile("claude", "pre-assigned")
    assert claude.median_s == pytest.approx(math.exp(2.401)) and claude.sigma == 0.917
    assert Latency.profile("claude", "preassigned") == claude  # the topology's spelling works too
    pooled = Latency.profile(time_scale=0.02)
    assert pooled.sigma == 1.015 and pooled.time_scale == 0.02
    assert pooled.base_s(0.0) == pytest.approx(0.02 * math.exp(1.166))
    assert pooled.base_s(1.0) / pooled.base_s(0.0) == pytest.approx(math.exp(1.015))
    gpt = Latency.profile("GPT-5.2", "decentralized")
    assert gpt.median_s == pytest.approx(math.exp(0.701)) and gpt.sigma == 0.832


def test_profile_names_the_known_ones_when_asked_for_an_unknown_one() -> None:
    with pytest.raises(ValueError, match="'gemini', 'decentralized'"):
        Latency.profile("gemini", "centralized")
    with pytest.raises(ValueError, match="no paper latency profile"):
        Latency.profile("llama")


@pytest.mark.anyio
async def test_a_simulated_model_on_a_profile_draws_the_profiles_spread() -> None:
    model = SimulatedModel(seed=3, latency=Latency.profile("gemini", "decentralized", time_scale=1e-5))
    for i in range(400):
        await model.complete([Message(role="user", content=f"prompt {i}")])
    logs = sorted(math.log(c.latency_s / 1e-5) for c in model.history if c.latency_s is not None)
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    assert mean == pytest.approx(1.497, abs=0.1) and sd == pytest.approx(0.608, abs=0.08)


# -- the paper's shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize("p,chain", [(0.2, 16), (0.5, 10), (0.9, 2)])
def test_paper_graph_has_the_stated_parallel_fraction(p: float, chain: int) -> None:
    graph = paper_graph(p)
    assert len(graph.tasks) == 20 and graph.parallel_fraction() == pytest.approx(p)
    assert graph.critical_path_length() == chain and graph.critical_path() == [f"c{i}" for i in range(1, chain + 1)]
    assert all(t.weight == 1.0 and len(t.files) == 1 and not t.tests for t in graph.tasks)


def test_paper_graph_refuses_other_fractions() -> None:
    with pytest.raises(ValueError, match="0.2, 0.5, 0.9"):
        paper_graph(0.7)


# -- rounds against event-driven --------------------------------------------------------------------

SLOW_S = 0.3
FAST_S = 0.01
SETTINGS = TeamSettings(lease_s=5.0, poll_s=0.1, backup_after=None)


def scripted(graph: Any, slow: str, *, gate: bool = False) -> SimulatedModel:
    """Task ``slow`` takes SLOW_S, every other FAST_S (the responder sleeps; no jitter).

    With ``gate``, the slow reply also waits until every other task has been answered: a team that
    waited for its slowest call before starting more work would never finish.
    """
    others = {t for t in graph.ids if t != slow}
    answered: set[str] = set()
    all_answered = anyio.Event()

    async def respond(messages: list[Message]) -> str:
        task = graph.task(find_task_id(messages))
        await anyio.sleep(SLOW_S if task.id == slow else FAST_S)
        if task.id == slow and gate:
            await all_answered.wait()
        answered.add(task.id)
        if answered >= others:
            all_answered.set()
        return FileReply(files=[FileEdit(path=p, content=f"# {task.id}\n") for p in task.files]).to_text()

    return SimulatedModel(seed=1, latency=Latency(median_s=0.0, sigma=0.0), responder=respond)


async def run(tmp_path: Path, topology: str, *, gate: bool = False) -> list[dict[str, Any]]:
    graph = chain_and_free(1, 5, name="r")  # c1, f1..f5: all ready at once, dealt in declaration order
    async with Team(
        size=2,
        model=scripted(graph, slow="c1", gate=gate),
        topology=topology,
        seed=1,
        settings=SETTINGS,
        runs_dir=tmp_path / "runs",
        workspace=tmp_path / "ws",
    ) as team:
        report = await team.run(graph, timeout=60)
    assert report.status is RunStatus.COMPLETED, report.detail
    assert report.tasks_done == 6
    if topology == "rounds":  # tasks are dealt, never raced for
        assert report.conflicts_rejected == {}
    assert report.events_path is not None
    return read_events(Path(report.events_path))


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_a_round_lasts_as_long_as_its_slowest_call(tmp_path: Path) -> None:
    events = await run(tmp_path, "rounds")
    rounds = [e for e in events if e["event"] == "round"]
    completes = {e["task"]: e for e in events if e["event"] == "complete"}
    claims = {e["task"]: e for e in events if e["event"] == "claim"}
    # Three rounds of two tasks; c1 (slow) and f1 share the first.
    assert [r["deal"] for r in rounds] == [{"a1": "c1", "a2": "f1"}, {"a1": "f2", "a2": "f3"}, {"a1": "f4", "a2": "f5"}]
    # Nobody starts round 2 until the slowest call of round 1 has answered.
    assert rounds[1]["t"] >= completes["c1"]["t"] >= completes["f1"]["t"]
    for later, deal in ((rounds[1], rounds[0]["deal"]), (rounds[2], rounds[1]["deal"])):
        assert all(later["t"] >= completes[task]["t"] for task in deal.values())
        assert all(
            claims[task]["t"] >= later["t"] for task in ("f2", "f3", "f4", "f5") if task in later["deal"].values()
        )
    assert rounds[1]["t"] - rounds[0]["t"] >= SLOW_S


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_event_driven_agents_do_not_wait_for_the_slowest(tmp_path: Path) -> None:
    # c1's reply waits until f1..f5 are answered: only a team that works on meanwhile can finish.
    events = await run(tmp_path, "decentralized", gate=True)
    assert not any(e["event"] == "round" for e in events)
    completes = {e["task"]: e for e in events if e["event"] == "complete"}
    slow_agent = completes["c1"]["agent"]
    others = [t for t, e in completes.items() if t != "c1" and e["agent"] != slow_agent]
    assert len(others) == 5
