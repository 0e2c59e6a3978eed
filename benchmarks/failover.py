"""Failover time: SIGKILL the leader of a 3-node cluster while a client writes; time until a new write commits.

    python benchmarks/failover.py [--kills 20] [--json out.json] [--only lmteams,pysyncobj]
                                  [--pso-config default|fast] [--interval 0.02]

lmteams: three ``lmteams node`` processes on 127.0.0.1 with the command's default timing
(``--tick-interval 0.05``, RaftConfig defaults: elections after 10-20 ticks, i.e. 0.5-1.0 s of
silence, heartbeats every 3 ticks, 0.15 s; pre-vote and check-quorum on), FileStorage with
fsync. A `RemoteClient` in this process (its defaults: 1 s per attempt, backoff 0.01-0.5 s)
issues a ``put`` of 200 bytes every ``--interval`` seconds, open loop, each retried by the
client until it commits.

PySyncObj: three voter processes with ``SyncObjConf()`` defaults (``--pso-config``;
raftMinTimeout 0.4 s, raftMaxTimeout 1.4 s, heartbeats every 0.1 s, no journal), and a
read-only PySyncObj node in a fourth process as the client, issuing ``ReplDict.set`` every
``--interval`` seconds, each retried until it commits.

Each round waits until all three nodes follow one leader and are caught up (and, for
PySyncObj, every connection is up), waits 1 s plus a random 0-150 ms, SIGKILLs the leader's
process, and measures from just before the kill to the commit of the first write *issued*
after it. It then restarts the killed node from its data directory. The figure overstates
the outage by up to ``--interval`` plus one commit latency (about 100 ms for PySyncObj's
batching defaults, a few ms for lmteams). With 20 kills, p99 is the largest (nearest rank).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from harness import PAYLOAD, LmteamsProcs, PsoProcs  # noqa: E402


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_s": round(nearest_rank(samples, 0.50), 4),
        "p99_s": round(nearest_rank(samples, 0.99), 4),
        "max_s": round(max(samples), 4),
        "min_s": round(min(samples), 4),
        "mean_s": round(sum(samples) / len(samples), 4),
    }


# -- lmteams ----------------------------------------------------------------------------------------


async def lmteams_failover(
    kills: int, interval: float, tmp: Path, rng: random.Random, settle: float, wait_links: bool
) -> dict[str, Any]:
    from lmteams.consensus.client import ClientTimeout, CommandRejected

    procs = LmteamsProcs(tmp, fsync=True, tick=None, log_level="info")
    records: list[tuple[float, float]] = []  # (issued, committed), in commit order
    counts = {"timed_out": 0, "rejected": 0, "clients": 0}
    samples: list[dict[str, Any]] = []
    idle: list[Any] = []  # RemoteClients with no write outstanding
    everyone: list[Any] = []
    try:
        procs.start()
        await procs.wait_leader(all_nodes=True, links=wait_links)

        async def one(n: int) -> None:
            # One write per client at a time: a single session with many writes outstanding
            # across a failover can see its oldest results evicted (max 64 per session).
            if idle:
                client = idle.pop()
            else:
                counts["clients"] += 1
                client = procs.client(f"failover-w{counts['clients']}-{time.monotonic_ns()}")
                everyone.append(client)
            t0 = time.monotonic()
            try:
                await client.put(f"w-{n % 16}", PAYLOAD)
            except ClientTimeout:
                counts["timed_out"] += 1
                return
            except CommandRejected:
                counts["rejected"] += 1
                return
            finally:
                idle.append(client)
            records.append((t0, time.monotonic()))
            del records[:-5000]

        async def writer() -> None:
            async with anyio.create_task_group() as writes:
                n = 0
                while True:
                    n += 1
                    writes.start_soon(one, n)
                    await anyio.sleep(interval)

        async def first_after(t: float, timeout: float = 30.0) -> float | None:
            with anyio.move_on_after(timeout):
                while True:
                    for issued, committed in records:
                        if issued >= t:
                            return committed
                    await anyio.sleep(0.002)
            return None

        async with anyio.create_task_group() as tg:
            tg.start_soon(writer)
            for k in range(kills):
                leader = await procs.wait_leader(all_nodes=True, links=wait_links)
                await anyio.sleep(settle + rng.uniform(0, 0.15))
                t_kill = await anyio.to_thread.run_sync(procs.kill, leader)
                t_commit = await first_after(t_kill)
                if t_commit is None:
                    raise RuntimeError(f"no write committed within 30 s of killing {leader}\n{procs.logs()}")
                new_leader = await procs.wait_leader()
                sample = {"killed": leader, "new_leader": new_leader, "failover_s": round(t_commit - t_kill, 4)}
                samples.append(sample)
                print(
                    f"  lmteams   kill {k + 1:2d}/{kills}: {leader} -> {new_leader}  {sample['failover_s']:.3f} s",
                    flush=True,
                )
                procs.start(leader)
                t_restart = time.monotonic()
                await procs.wait_leader(all_nodes=True, links=wait_links)
                sample["restart_to_healthy_s"] = round(time.monotonic() - t_restart, 3)
            tg.cancel_scope.cancel()
    finally:
        for client in everyone:
            await client.aclose()
        procs.stop()
    defaults = harness.lmteams_node_defaults()
    return {
        "system": "lmteams",
        "how": "3 lmteams node processes, default timing, FileStorage fsync on; RemoteClient writers"
        + ("; waited for all node-to-node links before each kill" if wait_links else "; did not wait for links"),
        "timing": defaults,
        "upper_election_timeout_s": defaults["election_timeout_max_s"],
        "writes_timed_out": counts["timed_out"],
        "writes_rejected": counts["rejected"],
        "clients_used": counts["clients"],
        "settle_s": settle,
        "samples": samples,
        **summary([s["failover_s"] for s in samples]),
    }


# -- PySyncObj -------------------------------------------------------------------------------------


def pso_failover(
    kills: int, interval: float, tmp: Path, rng: random.Random, config: str, settle: float
) -> dict[str, Any]:
    procs = PsoProcs(tmp, config)
    samples: list[dict[str, Any]] = []

    def client_connected() -> bool:
        assert procs.client_peer is not None
        st = procs.client_peer.request({"cmd": "status"}, 2.0)
        return st is not None and st["connected"] == len(harness.IDS) and st["leader"] is not None

    def healthy(timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leader = procs.wait_leader(timeout=max(1.0, deadline - time.monotonic()), all_nodes=True)
            if client_connected():
                return leader
            time.sleep(0.05)
        raise RuntimeError(f"PySyncObj cluster not healthy within {timeout}s: {procs.statuses()}")

    try:
        procs.start()
        procs.wait_leader(all_nodes=True)
        client = procs.start_client()
        healthy()
        if client.request({"cmd": "write", "interval": interval}) is None:
            raise RuntimeError("the PySyncObj client did not start writing")
        for k in range(kills):
            leader = healthy()
            time.sleep(settle + rng.uniform(0, 0.15))
            t_kill = procs.kill(leader)
            answer = client.request({"cmd": "first_after", "t": t_kill, "timeout": 30.0}, timeout=35.0)
            if answer is None or answer["t"] is None:
                raise RuntimeError(f"no PySyncObj write committed within 30 s of killing {leader}: {procs.statuses()}")
            new_leader = procs.wait_leader()
            sample = {"killed": leader, "new_leader": new_leader, "failover_s": round(answer["t"] - t_kill, 4)}
            samples.append(sample)
            print(
                f"  pysyncobj kill {k + 1:2d}/{kills}: {leader} -> {new_leader}  {sample['failover_s']:.3f} s",
                flush=True,
            )
            procs.start(leader)
    finally:
        procs.stop()
    from pysyncobj import SyncObjConf

    conf = SyncObjConf()
    return {
        "system": "pysyncobj",
        "how": f"3 PySyncObj voter processes, config {config}; read-only SyncObj client process",
        "timing": {
            "raftMinTimeout_s": conf.raftMinTimeout,
            "raftMaxTimeout_s": conf.raftMaxTimeout,
            "appendEntriesPeriod_s": conf.appendEntriesPeriod,
        },
        "upper_election_timeout_s": conf.raftMaxTimeout,
        "settle_s": settle,
        "samples": samples,
        **summary([s["failover_s"] for s in samples]),
    }


def print_report(results: list[dict[str, Any]], kills: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Leader SIGKILL -> first new write committed, {kills} kills each", title_justify="left")
    for col in ("system", "p50 s", "p99 s", "max s", "min s", "upper election timeout s", "p99 < 2x timeout"):
        table.add_column(col, justify="left" if col == "system" else "right")
    for r in results:
        bound = 2 * r["upper_election_timeout_s"]
        table.add_row(
            r["system"],
            f"{r['p50_s']:.3f}",
            f"{r['p99_s']:.3f}",
            f"{r['max_s']:.3f}",
            f"{r['min_s']:.3f}",
            f"{r['upper_election_timeout_s']:.2f}",
            ("yes" if r["p99_s"] < bound else "NO") + f" (< {bound:.2f})",
        )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    for r in results:
        console.print(f"  {r['system']}: {r['how']}; timing {r['timing']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="leader kills per system (default 20)")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between new writes (default 0.02)")
    parser.add_argument("--only", default="lmteams,pysyncobj", help="systems, comma-separated (default both)")
    parser.add_argument("--pso-config", choices=["default", "fast"], default="default")
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds to wait once healthy before a kill (default 1)"
    )
    parser.add_argument(
        "--no-wait-links",
        action="store_true",
        help="lmteams: do not wait for every node-to-node TCP connection before a kill",
    )
    parser.add_argument("--seed", type=int, default=1, help="seeds the random pause before each kill")
    parser.add_argument("--json", metavar="FILE", default=None, help="write every figure to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the data directories and node logs")
    args = parser.parse_args()

    from lmteams.runtime.logging import configure as configure_logging

    configure_logging("error")
    harness.install_cleanup()
    systems = args.only.split(",")
    rng = random.Random(args.seed)
    results: list[dict[str, Any]] = []
    try:
        for system in systems:
            tmp = Path(tempfile.mkdtemp(prefix=f"failover-{system}-"))
            try:
                if system == "lmteams":
                    results.append(
                        anyio.run(
                            lmteams_failover, args.kills, args.interval, tmp, rng, args.settle, not args.no_wait_links
                        )
                    )
                elif system == "pysyncobj":
                    results.append(pso_failover(args.kills, args.interval, tmp, rng, args.pso_config, args.settle))
                else:
                    parser.error(f"unknown system {system!r}: lmteams or pysyncobj")
            finally:
                harness.kill_all()
                if args.keep:
                    print(f"  {system}: data and logs kept in {tmp}")
                else:
                    shutil.rmtree(tmp, ignore_errors=True)
    finally:
        harness.kill_all()
    print_report(results, args.kills)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"kills": args.kills, "interval_s": args.interval, "results": results}, indent=2)
        )
        print(f"wrote {args.json}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        harness.kill_all()
        print("interrupted; every node process was killed", file=sys.stderr)
        sys.exit(130)
