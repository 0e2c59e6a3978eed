"""A seeded workload and nemesis for long simulated runs.

``run_with_nemesis`` is what ``lmteams simulate`` and the soak tests run:
clients propose KV operations while the nemesis partitions, heals, crashes
and restarts nodes, all from the simulation's seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable

from .simulation import Simulation


@dataclass(frozen=True, slots=True)
class NemesisConfig:
    """Per-step probabilities of each fault and of a client proposal."""

    partition: float = 0.0
    heal: float = 0.05
    crash: float = 0.0
    restart: float = 0.1
    propose: float = 0.3
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


def nemesis_step(sim: Simulation, rng: random.Random, cfg: NemesisConfig) -> None:
    """One round of faults and client work; call ``sim.step()`` after it."""
    majority = len(sim.ids) // 2 + 1
    if cfg.partition and rng.random() < cfg.partition:
        nodes = list(sim.ids)
        rng.shuffle(nodes)
        cut = rng.randint(1, len(nodes) - 1)
        sim.partition(nodes[:cut], nodes[cut:])
    elif sim.groups is not None and rng.random() < cfg.heal:
        sim.heal()
    if cfg.crash and rng.random() < cfg.crash:
        live = [n for n in sim.ids if n not in sim.crashed]
        # Crash at most a minority at once, so that progress stays possible.
        if len(live) > majority:
            sim.crash(rng.choice(live))
    if sim.crashed and rng.random() < cfg.restart:
        sim.restart(rng.choice(sorted(sim.crashed)))
    if rng.random() < cfg.propose:
        sim.propose(random_kv_op(rng, cfg.keys, cfg.values))


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
