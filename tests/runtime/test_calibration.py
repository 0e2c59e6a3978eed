"""The calibrated advisor: the scheduling policies it replays, and a fit that recovers known costs."""

from __future__ import annotations

import math
import statistics

import pytest

from lmteams.runtime.calibration import (
    POLICIES,
    CalibrationError,
    Coordination,
    _draws,
    _ratios,
    _Shape,
    calibrate,
    evaluate,
    predict,
)
from lmteams.runtime.shapes import chain_and_free, paper_graph


def test_the_policies_replay_each_topologys_schedule_on_fixed_durations() -> None:
    shape = _Shape(chain_and_free(1, 3, name="t"))  # c1, f1, f2, f3: all ready at once
    slow_first = [3.0, 1.0, 1.0, 1.0]
    # Event-driven: the free agent works f1, f2, f3 while the other is on c1.
    assert POLICIES["decentralized"](shape, slow_first, 2) == 3.0
    # Lock-step: round 1 is {c1, f1} and lasts 3; round 2 is {f2, f3} and lasts 1.
    assert POLICIES["rounds"](shape, slow_first, 2) == 4.0
    # The plan of the estimates (all 1) puts two tasks on each agent, so c1's agent waits for it: 3 + 1.
    assert POLICIES["preassigned"](shape, slow_first, 2) == 4.0
    chain = _Shape(chain_and_free(4, 0, name="c"))
    for policy in POLICIES.values():
        assert policy(chain, [1.0, 2.0, 3.0, 4.0], 3) == 10.0  # a chain never goes faster


def test_a_backup_bounds_a_stragglers_time_in_event_driven_teams_only() -> None:
    shape = _Shape(chain_and_free(2, 0, name="b"))  # a chain: speedup is 1 unless a backup saves a slow call
    slow = [[8.0, 1.0, 0.5, 0.5]]  # c1 draws 8 mean calls; a backup would draw 0.5
    backed = _ratios(shape, "decentralized", 2, 0.0, 0.0, slow, sigma=1.0)[0]
    at = 3 * math.exp(-0.5)  # three median calls, in mean calls
    assert backed == pytest.approx(9.0 / (at + 0.5 + 1.0))
    assert _ratios(shape, "rounds", 2, 0.0, 0.0, slow, sigma=1.0) == [1.0]
    assert _ratios(shape, "decentralized", 2, 0.0, 0.0, slow) == [1.0]  # no sigma: no backups


def test_with_no_spread_and_no_cost_the_prediction_is_the_schedule_bound() -> None:
    graph = paper_graph(0.5)
    free = Coordination(topology="decentralized", per_task=0.0, per_agent=0.0, cells=0, rms_log_error=0.0)
    for n in (1, 2, 5):
        p = predict(graph, "decentralized", n, free, sigma=0.0)
        assert p.speedup == pytest.approx(graph.bound(n).speedup) and p.low == p.high == p.speedup


def synthetic_rows(per_task: float, per_agent: float) -> list[dict]:
    """Measured speedups as the model itself predicts them, from other draws than the fit's."""
    rows = []
    for variant in (0.2, 0.5, 0.9):
        shape = _Shape(paper_graph(variant))
        sample = _draws(600, 20, 1.015, seed=99)
        for topology in ("decentralized", "rounds"):
            for n in (2, 3, 4, 5):
                ratios = _ratios(shape, topology, n, per_task, per_agent, sample, sigma=1.015)
                for seed in (1, 2):
                    rows.append(
                        {
                            "status": "completed",
                            "speedup": statistics.median(ratios),
                            "topology": topology,
                            "suite": "shapes",
                            "variant": variant,
                            "agents": n,
                            "seed": seed,
                            "model": "all",
                            "latency_mode": "all",
                            "work": "schedule",
                        }
                    )
    return rows


def test_the_fit_recovers_the_cost_per_extra_agent_and_predicts_held_out_cells() -> None:
    rows = synthetic_rows(per_task=0.1, per_agent=0.08)
    calibration = calibrate(rows, seeds=[1])
    assert calibration.sigma == 1.015 and calibration.seeds == [1]
    for fit in calibration.fits.values():
        assert fit.per_agent == pytest.approx(0.08, abs=0.03), fit
        assert fit.rms_log_error < 0.05 and fit.cells == 12
    errors, recommendations = evaluate(rows, calibration, seeds=[2])
    assert len(errors) == 24 and all(abs(e.error) < 0.08 for e in errors)
    assert all(e.low <= e.predicted <= e.high for e in errors)
    assert len(recommendations) == 6 and all(r.shortfall <= 0.05 for r in recommendations)
    # A cost per extra agent this high makes big teams slower at p = 0.2: the advice is a small team.
    small = next(r for r in recommendations if r.variant == 0.2 and r.topology == "rounds")
    assert small.recommended <= 3


def test_calibrate_refuses_results_it_cannot_use() -> None:
    with pytest.raises(CalibrationError, match="no completed runs"):
        calibrate([])
    rows = synthetic_rows(0.0, 0.0)
    rows[0] = {**rows[0], "model": "claude", "latency_mode": "decentralized"}
    with pytest.raises(CalibrationError, match="mix"):
        calibrate(rows)
