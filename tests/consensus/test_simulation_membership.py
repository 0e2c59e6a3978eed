"""Membership changes in the Simulation, and the checker's membership
properties: they hold on a correct run and fire on a broken core."""

from __future__ import annotations

import pytest

from lmteams.consensus import ConfChangeTooEarly, Membership, RaftConfig
from lmteams.consensus.testing import InvariantViolation, Simulation


def elected(sim: Simulation) -> str:
    assert sim.run_until(lambda: sim.leader() is not None, 500)
    lead = sim.leader()
    assert lead is not None
    sim.run(5)  # its no-op commits
    return lead


def test_a_node_added_at_runtime_joins_by_snapshot_and_votes() -> None:
    sim = Simulation(3, seed=5, config=RaftConfig(snapshot_threshold=5))
    lead = elected(sim)
    for i in range(12):
        sim.propose(["put", "x", i])
        sim.run(2)
    sim.add_node("n4")
    assert not sim.cores["n4"].promotable
    assert sim.propose_conf_change("add_learner", "n4") is not None
    sim.run(20)
    assert sim.snapshots_installed >= 1 and sim.storages["n4"].first_index() > 1
    assert sim.propose_conf_change("promote", "n4") is not None
    sim.run(20)
    assert {sim.cores[n].membership for n in sim.ids} == {Membership.of({"n1", "n2", "n3", "n4"})}
    assert sim.machines["n4"].data == sim.machines[lead].data  # type: ignore[attr-defined]
    sim.crash(lead)
    sim.crash(next(n for n in ("n1", "n2", "n3") if n != lead))
    assert not sim.commit_one(["put", "y", 1], 200)  # 2 of 4 voters: no majority
    sim.restart(lead)
    assert sim.commit_one(["put", "y", 2], 400)
    sim.check()
    for prop in ("Membership Follows Log", "Only Voters Campaign", "One Change At A Time"):
        assert sim.checker.counts[prop] > 0, prop


def test_simulation_refuses_a_change_before_the_leaders_first_commit() -> None:
    sim = Simulation(3, seed=1, voters=["n1", "n2"])
    assert sim.run_until(lambda: sim.leader() is not None, 500)
    with pytest.raises(ConfChangeTooEarly):
        sim.propose_conf_change("add_learner", "n3")


def test_checker_catches_a_configuration_that_does_not_follow_the_log() -> None:
    sim = Simulation(3, seed=2)
    elected(sim)
    core = sim.cores["n2"]
    core.voters = frozenset({"n2"})  # a core that forgot its configuration
    with pytest.raises(InvariantViolation, match="Membership Follows Log.*n2 uses configuration voters=n2"):
        sim.propose(["put", "x", 1])  # n2 checks it as soon as it saves the entry
        sim.run(5)


def test_checker_catches_a_learner_that_campaigns() -> None:
    sim = Simulation(3, seed=3, voters=["n1", "n2"])
    elected(sim)
    sim.propose_conf_change("add_learner", "n3")
    sim.run(5)
    learner = sim.cores["n3"]
    assert learner.learners == {"n3"}
    learner._campaign(transfer=False)  # what the tick must never do for a learner
    with pytest.raises(InvariantViolation, match="Only Voters Campaign"):
        sim.check()
