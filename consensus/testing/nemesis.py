"""A seeded workload and nemesis for long simulated runs.

``run_with_nemesis`` is what ``lmteams simulate`` and the soak tests run:
clients propose KV operations while the nemesis partitions, heals, crashes
and restarts nodes, all from the simulation's seed. With ``membership`` it
also changes the configuration one server at a time: it adds nodes outside
the configuration as learners (start the ``Simulation`` with ``voters=`` a
subset of its nodes to have some), promotes learners and removes voters or
learners (the leader included), always through the leader and its rules.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lmteams.consensus.core.quorum import majority
from lmteams.consensus.errors import ConfChangeRejected
from lmteams.consensus.testing.simulation import Simulation


@dataclass(frozen=True, slots=True)
class NemesisConfig:
    """Per-step probabilities of each fault and of a client proposal."""

    partition: float = 0.0
    heal: float = 0.05
    crash: float = 0.0
    restart: float = 0.1
    propose: float = 0.3
    membership: float = 0.0
    min_voters: int = 1
    keys: tuple[str, ...] = ("x", "y", "z")
    values: int = 5


def random_kv_op(rng: random.Random, keys: tuple[str, ...], values: int) -> list[Any]:
    """A random put, get or cas on a small key space, so that ops collide."""
    key = rng.choice(keys)
    kind = rng.random()
    if kind < 0.4:
        return ["put", key, rng.randrange(values)]
    if kind < 0.7:
        return ["get", key]
    return ["cas", key, rng.randrange(values), rng.randrange(values)]


def random_membership_change(sim: Simulation, rng: random.Random, min_voters: int = 1) -> str | None:
    """Propose one random single-server change to the leader: add a node
    outside the configuration as a learner, promote a learner, or remove a
    learner or (while more than ``min_voters`` remain) a voter. Returns what
    was proposed, or None if there is no leader or it refused (for example
    while an earlier change is uncommitted)."""
    lead = sim.leader()
    if lead is None:
        return None
    conf = sim.cores[lead].membership
    kinds = {
        "add_learner": [n for n in sim.ids if n not in conf.members],
        "promote": sorted(conf.learners),
        "remove learner": sorted(conf.learners),
        "remove voter": sorted(conf.voters) if len(conf.voters) > min_voters else [],
    }
    choices = [k for k, nodes in kinds.items() if nodes]
    if not choices:
        return None
    kind = rng.choice(choices)
    op, node = kind.split()[0], rng.choice(kinds[kind])
    try:
        index = sim.propose_conf_change(op, node, node=lead)
    except ConfChangeRejected:
        return None
    return None if index is None else f"{op} {node}"


def nemesis_step(sim: Simulation, rng: random.Random, cfg: NemesisConfig) -> None:
    """One round of faults and client work; call ``sim.step()`` after it."""
    voters = sim.membership().voters
    if cfg.partition and rng.random() < cfg.partition:
        nodes = list(sim.ids)
        rng.shuffle(nodes)
        cut = rng.randint(1, len(nodes) - 1)
        sim.partition(nodes[:cut], nodes[cut:])
    elif sim.groups is not None and rng.random() < cfg.heal:
        sim.heal()
    if cfg.crash and rng.random() < cfg.crash:
        live = [n for n in sim.ids if n not in sim.crashed]
        # Crash at most a minority of the voters at once, so that progress stays possible.
        if sum(1 for n in live if n in voters) > majority(len(voters)):
            sim.crash(rng.choice(live))
    if sim.crashed and rng.random() < cfg.restart:
        sim.restart(rng.choice(sorted(sim.crashed)))
    if rng.random() < cfg.propose:
        sim.propose(random_kv_op(rng, cfg.keys, cfg.values))
    if cfg.membership and rng.random() < cfg.membership:
        random_membership_change(sim, rng, cfg.min_voters)


def run_with_nemesis(
    sim: Simulation,
    ticks: int,
    cfg: NemesisConfig,
    *,
    settle: int = 200,
    on_step: Callable[[int], None] | None = None,
) -> None:
    """Run ``ticks`` steps under the nemesis, then heal, restart everything
    and run ``settle`` quiet steps so that the cluster converges."""
    rng = random.Random(sim.rng.getrandbits(64))
    for t in range(ticks):
        nemesis_step(sim, rng, cfg)
        sim.step()
        if on_step is not None:
            on_step(t)
    sim.heal()
    for n in sorted(sim.crashed):
        sim.restart(n)
    sim.run(settle)
