"""The consensus testing kit on your own state machine: a tiny bank.

Run it: ``python examples/testing_kit_bank.py [seed]``. It replicates the
bank with Raft in a simulated 5-node cluster under message loss, partitions
and crashes, checks every Raft invariant after every step, and then checks
that what clients saw is linearizable against a sequential model of the bank.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from lmteams.consensus.testing import (
    UNKNOWN,
    Model,
    NemesisConfig,
    Operation,
    Simulation,
    check_linearizable,
    run_with_nemesis,
)


class Bank:
    """The replicated state machine: deterministic, applied in log order."""

    def __init__(self) -> None:
        self.balances = {"alice": 100, "bob": 100}

    def apply(self, cmd: Any) -> Any:
        if cmd[0] == "transfer":
            _, src, dst, amount = cmd
            if self.balances[src] < amount:
                return "insufficient funds"
            self.balances[src] -= amount
            self.balances[dst] += amount
            return "ok"
        if cmd[0] == "balance":
            return self.balances[cmd[1]]
        raise ValueError(f"unknown bank command {cmd!r}")


class BankModel(Model[tuple[int, int]]):
    """The same bank, sequentially, as a pure function on hashable states."""

    def init(self) -> tuple[int, int]:
        return (100, 100)

    def step(self, state: tuple[int, int], input: Any, output: Any) -> tuple[bool, tuple[int, int]]:
        names = ("alice", "bob")
        if input[0] == "balance":
            return (output is not None and output == state[names.index(input[1])]) or _unknown(output), state
        _, src, dst, amount = input
        s, d = names.index(src), names.index(dst)
        if state[s] < amount:
            return output == "insufficient funds" or _unknown(output), state
        after = list(state)
        after[s] -= amount
        after[d] += amount
        return output == "ok" or _unknown(output), (after[0], after[1])


def _unknown(output: Any) -> bool:
    # An operation whose client never heard back: any output is possible.
    return output is UNKNOWN


def run(seed: int, model: Model[Any]) -> tuple[int, int, str]:
    """Returns (completed, indeterminate, verdict)."""
    sim = Simulation(5, seed=seed, drop=0.05, state_machine=Bank)
    rng = random.Random(seed)
    # Our own client workload instead of the KV one; the nemesis only faults.
    nemesis = NemesisConfig(partition=0.02, crash=0.01, propose=0.0)
    for _ in range(300):
        if rng.random() < 0.4:
            if rng.random() < 0.5:
                sim.propose(["transfer", *rng.sample(["alice", "bob"], 2), rng.randint(1, 60)])
            else:
                sim.propose(["balance", rng.choice(["alice", "bob"])])
        run_with_nemesis(sim, 1, nemesis, settle=0)
    run_with_nemesis(sim, 0, nemesis, settle=200)
    sim.check()  # raises InvariantViolation if a Raft safety property broke
    ops: list[Operation] = sim.history.operations()
    result = check_linearizable(ops, model)
    done = sum(1 for o in ops if o.completed)
    return done, len(ops) - done, result.verdict


def main(seed: int = 1) -> int:
    done, unknown, verdict = run(seed, BankModel())
    print(f"seed {seed}: {done} operations completed, {unknown} indeterminate; {verdict}")
    return 0 if verdict == "linearizable" else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
