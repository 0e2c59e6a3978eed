"""A custom agent: same consensus gate, its own prompt and its own reply check.

``CarefulAgent`` adds the team's style rules to every prompt and refuses a
reply that leaves a module without a docstring, feeding the problem back
to the model (the gate, claims, fenced writes and tests are inherited).

    python examples/custom_agent.py
"""

from __future__ import annotations

import sys

import anyio

from lmteams.runtime.agent import Agent
from lmteams.runtime.graph import Task, TaskGraph
from lmteams.runtime.logging import configure
from lmteams.runtime.models import Latency, SimulatedModel
from lmteams.runtime.models.base import Message
from lmteams.runtime.suites import FileReply, coding_suite, make_responder
from lmteams.runtime.team import Team

STYLE = "House style: every module starts with a docstring; no prints; pure functions."


class CarefulAgent(Agent):
    checked = 0

    def build_messages(self, task: Task, context: dict[str, str]) -> list[Message]:
        messages = super().build_messages(task, context)
        return [Message(role="system", content=messages[0].content + " " + STYLE), *messages[1:]]

    def check_reply(self, task: Task, reply: FileReply) -> str | None:
        problem = super().check_reply(task, reply)
        if problem is not None:
            return problem
        CarefulAgent.checked += 1
        for f in reply.files:
            if f.path.endswith(".py") and not f.content.lstrip().startswith(('"""', "'''")):
                return f"{f.path} has no module docstring ({STYLE})"
        return None


async def main(agents: int = 3) -> int:
    configure("warning")
    suite = coding_suite()
    graph = TaskGraph.from_file(suite.graph_path)
    model = SimulatedModel(seed=7, latency=Latency(median_s=0.02), responder=make_responder(suite, seed=7))
    async with Team(size=agents, model=model, agent_class=CarefulAgent, seed=7, runs_dir=None) as team:
        report = await team.run(graph, timeout=120)
    print(
        f"{report.status.value}: {report.tasks_done}/{report.tasks_total} tasks, "
        f"{CarefulAgent.checked} replies checked by CarefulAgent, {report.tests_passed} tests passed"
    )
    return 0 if report.status.value == "completed" else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 3))
