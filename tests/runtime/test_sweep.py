"""``lmteams sweep`` on a tiny grid, then ``lmteams plot``: the table's columns, resuming, and the figures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lmteams.runtime.cli import main
from lmteams.runtime.events import read_events
from lmteams.runtime.plots import attempts_from_events
from lmteams.runtime.report import GraphFigures, RunReport
from lmteams.runtime.shapes import paper_graph
from lmteams.runtime.sweep import (
    RESULTS_JSONL,
    Cell,
    SweepError,
    available_suites,
    cell_graph,
    grid,
    read_rows,
    read_table,
    suite_variants,
    with_speedups,
)

pytest.importorskip("matplotlib")

TINY = ["--variants", "0.9", "--agents", "3", "--topologies", "decentralized", "rounds", "--seeds", "1"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep")
    assert main(["sweep", "--out", str(out), "--suites", "shapes", "--time-scale", "0.002", *TINY]) == 0
    return out


def test_grid_puts_one_baseline_per_suite_variant_and_seed_first() -> None:
    cells = grid(suites=["shapes"], variants=[0.5, 0.9], agents=[2, 3], topologies=["rounds"], seeds=[1, 2])
    baselines = [c for c in cells if c.topology == "single"]
    assert len(baselines) == 4 and cells[:4] == baselines and len(cells) == 4 + 2 * 2 * 2
    assert all(c.baseline() in baselines for c in cells)
    repeated = grid(suites=["shapes"], variants=[0.9], agents=[2], topologies=["rounds"], seeds=[1], baseline_repeats=3)
    assert [(c.topology, c.repeat) for c in repeated] == [("single", 0), ("single", 1), ("single", 2), ("rounds", 0)]
    rows = [
        {**c.model_dump(), "key": c.key, "status": "completed", "wall_s": w} for c, w in zip(repeated, (3, 2, 4, 1))
    ]
    assert [r["speedup"] for r in with_speedups(rows)] == pytest.approx([2 / 3, 1.0, 0.5, 2.0])  # the fastest repeat
    # A per-model profile differs by mode: a preassigned cell is measured against a preassigned single agent.
    claude = Cell(suite="shapes", variant=0.9, topology="preassigned", agents=3, seed=1, model="claude")
    assert claude.baseline().topology == "preassigned" and claude.latency_mode == "pre-assigned"


def test_the_table_has_one_row_per_run_with_every_report_figure(swept: Path) -> None:
    table = swept / "results.parquet"
    assert table.is_file()
    rows = read_table(table)
    assert sorted((r["topology"], r["agents"]) for r in rows) == [("decentralized", 3), ("rounds", 3), ("single", 1)]
    columns = set(rows[0])
    flat = set(RunReport.model_fields) - {"graph", "messages", "conflicts_rejected", "model"}
    assert flat <= columns, flat - columns
    assert {f"graph_{name}" for name in GraphFigures.model_fields} <= columns
    assert {"suite", "variant", "work", "time_scale", "messages_total", "conflicts_total", "tokens"} <= columns
    for row in rows:
        assert row["status"] == "completed" and row["tasks_done"] == 20
        assert row["speedup"] == pytest.approx(row["baseline_wall_s"] / row["wall_s"])
        assert row["graph_parallel_fraction"] == pytest.approx(0.9)
    single = next(r for r in rows if r["topology"] == "single")
    assert single["speedup"] == pytest.approx(1.0) and single["messages_total"] == 0
    team = next(r for r in rows if r["topology"] == "rounds")
    assert team["messages_total"] > 0 and team["messages_done"] == team["messages_total"]


def test_a_sweep_resumes_without_rerunning_finished_cells(swept: Path, tmp_path: Path) -> None:
    before = (swept / RESULTS_JSONL).read_text()
    assert main(["sweep", "--out", str(swept), "--suites", "shapes", "--time-scale", "0.002", *TINY]) == 0
    assert (swept / RESULTS_JSONL).read_text() == before
    # A half-written last line (an interrupted append) is ignored, and its cell is run again.
    lines = before.splitlines()
    (tmp_path / RESULTS_JSONL).write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])
    assert [r["key"] for r in read_rows(tmp_path)] == [r["key"] for r in read_rows(swept)][:-1]


def test_plot_writes_every_figure_and_a_timeline_from_a_real_run(swept: Path, tmp_path: Path) -> None:
    assert main(["plot", str(swept / "results.parquet"), "--out", str(tmp_path)]) == 0
    for name in ("speedup.png", "cost.png", "conflicts.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    timelines = sorted(p.name for p in tmp_path.glob("timeline-*.png"))
    assert timelines == ["timeline-decentralized-n3-p0.9.png", "timeline-rounds-n3-p0.9.png"]
    rounds = next(r for r in read_table(swept) if r["topology"] == "rounds")
    attempts, marks = attempts_from_events(read_events(Path(rounds["events_path"])))
    assert sorted(a.task for a in attempts if a.outcome == "done") == sorted(f"c{i}" for i in (1, 2)) + sorted(
        f"f{i}" for i in range(1, 19)
    )
    assert {a.agent for a in attempts} == {"a1", "a2", "a3"} and len(marks["round"]) >= 7
    assert all(a.end >= a.start for a in attempts)


def test_plot_says_what_is_wrong_with_a_missing_results_directory(tmp_path: Path) -> None:
    assert main(["plot", str(tmp_path / "nowhere")]) == 2
    assert main(["plot", str(tmp_path)]) == 2  # exists, but holds no runs


def test_plan_calibrates_on_a_sweep_then_advises_a_graph(
    swept: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    results = tmp_path / "results"
    shutil.copytree(swept, results)
    assert main(["plan", "--calibrate", str(results), "--holdout-seeds"]) == 0
    calibration = json.loads((results / "calibration.json").read_text())
    assert set(calibration["fits"]) == {"decentralized", "rounds"} and calibration["seeds"] == [1]
    graph = tmp_path / "graph.json"
    graph.write_text(paper_graph(0.9).model_dump_json())
    capsys.readouterr()
    assert main(["plan", str(graph), "--from", str(results), "--max-agents", "4", "--json"]) == 0
    advice = json.loads(capsys.readouterr().out)
    assert [p["agents"] for p in advice["predictions"]["rounds"]] == [1, 2, 3, 4]
    assert all(p["low"] <= p["speedup"] <= p["high"] for ps in advice["predictions"].values() for p in ps)
    assert main(["plan", str(graph), "--from", str(tmp_path / "elsewhere")]) == 2
    assert main(["plan", "--calibrate", str(results), "--holdout-seeds", "7"]) == 2  # not a seed of the sweep


def test_schedule_work_drops_a_suites_tests_and_coding_work_keeps_them() -> None:
    variants = suite_variants("coding")  # the bundled suite has one graph, p about 0.66
    assert list(variants) == [0.7]
    assert not any(t.tests for t in cell_graph("coding", 0.7, "schedule").tasks)
    coding = cell_graph("coding", 0.7, "coding")
    assert all(t.tests for t in coding.tasks) and coding.base_dir is not None
    with pytest.raises(SweepError, match="no tests"):
        cell_graph("shapes", 0.5, "coding")
    with pytest.raises(SweepError, match="no suite 'nope'"):
        suite_variants("nope")
    assert "shapes" in available_suites() and "coding" not in available_suites()  # not in the paper's three shapes
