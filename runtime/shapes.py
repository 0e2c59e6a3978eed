"""The paper's graph shapes: a chain of k tasks plus 20 - k independent ones.

"Language Model Teams as Distributed Systems" ran every suite in three
variants of 20 tasks: p = 0.9 is a chain of 2 plus 18 independent tasks,
p = 0.5 a chain of 10 plus 10, p = 0.2 a chain of 16 plus 4. ``paper_graph``
builds these shapes (all estimates 1.0, one file per task, no tests), so a
sweep can run the paper's schedules without any suite on disk.
"""

from __future__ import annotations

from lmteams.runtime.graph import Task, TaskGraph

PAPER_CHAINS: dict[float, int] = {0.2: 16, 0.5: 10, 0.9: 2}
"""Chain length of each of the paper's variants (by parallel fraction) in a 20-task suite."""

PAPER_TASKS = 20


def chain_and_free(chain: int, free: int, *, name: str = "shape", estimate: float = 1.0) -> TaskGraph:
    """A chain ``c1 -> c2 -> ... -> c<chain>`` plus ``free`` independent tasks ``f1 ... f<free>``."""
    if chain < 1 or free < 0:
        raise ValueError(f"a shape needs a chain of at least 1 task and free >= 0, got chain={chain}, free={free}")
    tasks = [
        Task(
            id=f"c{i}",
            title=f"{name}: chain step {i} of {chain}",
            description=f"Write step {i} of the chain; it builds on step {i - 1}." if i > 1 else "Start the chain.",
            dependencies=[f"c{i - 1}"] if i > 1 else [],
            files=[f"{name}/c{i}.py"],
            estimate=estimate,
        )
        for i in range(1, chain + 1)
    ]
    tasks += [
        Task(
            id=f"f{i}",
            title=f"{name}: independent task {i} of {free}",
            description="Write this module; it depends on nothing else.",
            files=[f"{name}/f{i}.py"],
            estimate=estimate,
        )
        for i in range(1, free + 1)
    ]
    return TaskGraph(name=name, tasks=tasks)


def paper_graph(p: float, *, name: str = "shape") -> TaskGraph:
    """The paper's 20-task variant with parallel fraction ``p`` (0.2, 0.5 or 0.9)."""
    chain = PAPER_CHAINS.get(round(p, 1))
    if chain is None:
        raise ValueError(f"the paper's variants have p in {sorted(PAPER_CHAINS)}, got {p}")
    return chain_and_free(chain, PAPER_TASKS - chain, name=f"{name}-p{round(p, 1):g}")
