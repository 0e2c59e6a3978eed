"""Your own work function: lock a resource, check the fencing token, return a result a dependent reads.

A tiny ledger in the team's replicated world. Each task locks ``ledger``
through the consensus gate; before it writes, the ledger's guard checks the
task's fencing token against the committed lock table. The second task also
shows the guard refusing the first task's token, which went stale when the
first released its lock. The last task reads both results from ``ctx.inputs``.

    python examples/custom_work.py
"""

from __future__ import annotations

import sys
from typing import Any

import anyio

from lmteams import Task, TaskGraph, Team
from lmteams.runtime.logging import configure
from lmteams.runtime.work import StaleToken, WorkContext

GRAPH = TaskGraph.from_dict(
    {
        "name": "ledger",
        "tasks": [
            {"id": "deposit", "title": "Deposit", "resources": ["ledger"], "input": {"amount": 100}},
            {
                "id": "interest",
                "title": "Interest",
                "dependencies": ["deposit"],
                "resources": ["ledger"],
                "input": {"rate": 0.05},
            },
            {"id": "statement", "title": "Statement", "dependencies": ["deposit", "interest"]},
        ],
    }
)


async def work(task: Task, ctx: WorkContext) -> Any:
    if task.id == "statement":
        return f"balance {ctx.inputs['interest']['balance']:.2f} after {len(ctx.inputs)} entries"
    token = ctx.fence("ledger")
    await ctx.guard("ledger").check(token)  # the ledger refuses a stale token (StaleToken)
    stale_refused = False
    if "deposit" in ctx.inputs:
        try:
            await ctx.guard("ledger").check(ctx.inputs["deposit"]["token"])
        except StaleToken:
            stale_refused = True
    balance = (await ctx.world.get("balance")) or 0.0
    balance = balance + task.input.get("amount", 0) + balance * task.input.get("rate", 0)
    await ctx.world.put("balance", balance)
    return {"balance": balance, "token": token, "stale_refused": stale_refused}


async def main() -> int:
    configure("warning")
    async with Team(size=2, work=work, runs_dir=None) as team:
        report = await team.run(GRAPH, timeout=60)
    print(f"{report.status.value}: {report.tasks_done}/{report.tasks_total} tasks")
    print(f"statement: {report.results['statement']}")
    print(f"stale token refused by the guard: {report.results['interest']['stale_refused']}")
    return 0 if report.status.value == "completed" else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
