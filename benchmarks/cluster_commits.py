"""Commits per second of a 3-node LocalCluster, with 1 and with 64 concurrent clients.

    python benchmarks/cluster_commits.py [--transport memory|tcp] [--seconds 3] [--json]

Each client loops on ``Client.put`` (a committed, session-numbered command
with a ~200-byte value) for the given time; the figure is completed
commands per second over the whole run. A record, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import anyio

from lmteams import LocalCluster
from lmteams.runtime.logging import configure as configure_logging


async def measure(transport: str, clients: int, seconds: float) -> dict[str, float]:
    payload = "v" * 200
    latencies: list[float] = []
    async with LocalCluster(3, seed=1, transport=transport) as cluster:
        await cluster.wait_for_leader()
        stop_at = time.perf_counter() + seconds

        async def worker(i: int) -> None:
            client = cluster.client(f"bench-{i}")
            n = 0
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                await client.put(f"k{i}-{n % 16}", payload)
                latencies.append(time.perf_counter() - t0)
                n += 1

        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(clients):
                tg.start_soon(worker, i)
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "clients": clients,
        "commits_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["memory", "tcp"], default="memory")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("warning")
    rows = [anyio.run(measure, args.transport, n, args.seconds) for n in (1, 64)]
    if args.json:
        print(json.dumps({"transport": args.transport, "results": rows}, indent=2))
        return
    print(f"3-node LocalCluster on {args.transport}, {args.seconds:g}s per run")
    for r in rows:
        print(
            f"  {r['clients']:>3} clients: {r['commits_per_s']:8.0f} commits/s   p50 {r['p50_ms']:.2f} ms   p99 {r['p99_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()
