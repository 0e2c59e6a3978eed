"""A custom coding agent: same consensus gate, its own instructions and its own reply check.

The built-in coding work kind (``CodingWork``) takes extra ``instructions``
for the model and a ``check`` for each reply. Here the check refuses a
reply that leaves a module without a docstring, and the problem is fed back
to the model; claims, fenced writes and tests are the gate's and the kind's.

    python examples/custom_agent.py
"""

from __future__ import annotations

import sys

import anyio

from lmteams import Latency, SimulatedModel, Task, TaskGraph, Team
from lmteams.runtime.logging import configure
from lmteams.runtime.suites import FileReply, coding_suite, make_responder
from lmteams.runtime.work.coding import CodingWork

STYLE = "House style: every module starts with a docstring; no prints; pure functions."
checked = 0


def careful(task: Task, reply: FileReply) -> str | None:
    """What is wrong with a reply (fed back to the model), or None."""
    global checked
    checked += 1
    for f in reply.files:
        if f.path.endswith(".py") and not f.content.lstrip().startswith(('"""', "'''")):
            return f"{f.path} has no module docstring ({STYLE})"
    return None


async def main(agents: int = 3) -> int:
    configure("warning")
    suite = coding_suite()
    graph = TaskGraph.from_file(suite.graph_path)
    model = SimulatedModel(seed=7, latency=Latency(median_s=0.02), responder=make_responder(suite, seed=7))
    work = CodingWork(instructions=STYLE, check=careful)
    async with Team(size=agents, model=model, work=work, seed=7, runs_dir=None) as team:
        report = await team.run(graph, timeout=120)
    print(
        f"{report.status.value}: {report.tasks_done}/{report.tasks_total} tasks, "
        f"{checked} replies checked by the careful check, {report.tests_passed} tests passed"
    )
    return 0 if report.status.value == "completed" else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 3))
