"""A team inside an ordinary asyncio service: run it, stream its events, shut down cleanly.

The service runs a team (agents talking over TCP on loopback) as one
asyncio task among its own, prints the run's events as they happen, and
on shutdown (SIGTERM, Ctrl-C, or ``--shutdown-after``) cancels the team.
It then checks that nothing is left behind: no tasks, no open sockets.

    python examples/embed_in_asyncio_app.py                      # run to the end
    python examples/embed_in_asyncio_app.py --latency 0.5 --shutdown-after 1.0  # cancel mid-run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys

from lmteams import Latency, SimulatedModel, TaskGraph, Team
from lmteams.runtime.logging import configure
from lmteams.runtime.suites import coding_suite, make_responder

SHOWN = {"run_start", "claim", "complete", "conflict", "retry", "breaker", "leader_change", "run_end"}


def open_sockets() -> int:
    """Sockets this process holds now (Linux: /proc/self/fd)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


async def serve(shutdown_after: float | None, latency: float = 0.05) -> int:
    configure("warning")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)  # the service's handlers, not the library's
    if shutdown_after is not None:
        loop.call_later(shutdown_after, stop.set)
    sockets_before = open_sockets()

    suite = coding_suite()
    graph = TaskGraph.from_file(suite.graph_path)
    model = SimulatedModel(seed=5, latency=Latency(median_s=latency), responder=make_responder(suite, seed=5))
    outcome = "finished"
    async with Team(size=3, model=model, transport="tcp", seed=5, runs_dir=None) as team:

        async def stream() -> None:
            async for event in team.events():
                if event["event"] in SHOWN:
                    fields = {k: event[k] for k in ("t", "event", "task", "agent", "status") if k in event}
                    print(json.dumps(fields), flush=True)

        streamer = asyncio.create_task(stream())
        run = asyncio.create_task(team.run(graph))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({run, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not run.done():
            outcome = "cancelled"
            run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            report = await run
            print(f"report: {report.status.value}, {report.tasks_done}/{report.tasks_total} tasks", flush=True)
        for task in (streamer, stopper):
            task.cancel()
        await asyncio.gather(streamer, stopper, return_exceptions=True)

    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    sockets = open_sockets() - sockets_before
    print(f"service: team {outcome}; leftover tasks: {len(leftover)}; open sockets: {sockets}", flush=True)
    return 0 if not leftover and sockets == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shutdown-after", type=float, default=None, help="shut the service down after N seconds")
    parser.add_argument("--latency", type=float, default=0.05, help="the simulated model's median latency, seconds")
    args = parser.parse_args()
    return asyncio.run(serve(args.shutdown_after, args.latency))


if __name__ == "__main__":
    sys.exit(main())
