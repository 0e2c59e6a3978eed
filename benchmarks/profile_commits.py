"""Where the time of a commit goes: cProfile of the in-process benchmark load, and micro-timings.

    python benchmarks/profile_commits.py cluster [--callers 64] [--seconds 3] [--storage mem|file-sync|file-nosync]
                                                 [--sort tottime|cumulative] [--top 40] [--out FILE.prof]
    python benchmarks/profile_commits.py procs [--callers 64] [--seconds 3] [--no-fsync] [--sort tottime] [--top 40]
    python benchmarks/profile_commits.py apply [--n 20000] [--repeats 5]

``cluster`` runs the load of ``raft_throughput.py`` (``lm-mem`` / ``lm-file-*``: three nodes of a
`LocalCluster` on a `MemoryNetwork`, each caller looping on ``Client.put`` of a 200-byte value)
under cProfile and prints the top functions. cProfile slows Python code down by a large factor,
so read the shares, not the rates.

``procs`` runs the load of ``lm-proc-sync`` / ``lm-proc-nosync`` (three ``lmteams node`` processes
over TCP, one `RemoteClient` per caller in this process) with every node under cProfile, and prints
the leader's profile (each node writes its own when SIGTERM stops it; the files stay in ``--keep``).

``apply`` times `WorldState.apply` alone on the benchmark's proposals (a session-numbered ``Put``
of a 200-byte value, acknowledged as the client does), without Raft, the network or the clients:
microseconds per apply, the best and the median of ``--repeats`` rounds.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PAYLOAD, load  # noqa: E402


async def _cluster_load(callers: int, seconds: float, storage_kind: str, tmp: Path) -> Any:
    from lmteams import LocalCluster
    from lmteams.consensus.node.file_storage import FileStorage

    storage: Callable[[str], Any] | None = None
    if storage_kind != "mem":
        fsync = storage_kind == "file-sync"
        storage = lambda node_id: FileStorage(tmp / node_id, fsync=fsync)  # noqa: E731
    async with LocalCluster(3, seed=1, transport="memory", storage=storage) as cluster:
        await cluster.wait_for_leader()
        clients = [cluster.client(f"bench-{i}") for i in range(callers)]
        return await load([c.put for c in clients], seconds, 0.5)


def profile_cluster(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="profile-commits-"))
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        result = anyio.run(_cluster_load, args.callers, args.seconds, args.storage, tmp)
        profiler.disable()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s = result.summary()
    print(
        f"{args.callers} callers, {args.storage}: {s['commits_per_s']:,.0f} commits/s under cProfile, p50 {s['p50_ms']} ms"
    )
    if args.out:
        profiler.dump_stats(args.out)
        print(f"wrote {args.out}")
    stats = pstats.Stats(profiler)
    stats.sort_stats(args.sort).print_stats(args.top)


async def _procs_load(procs: Any, callers: int, seconds: float) -> tuple[Any, str]:
    leader = await procs.wait_leader(all_nodes=True)
    clients = [procs.client(f"bench-{i}-{time.monotonic_ns()}", attempt_timeout=5.0) for i in range(callers)]
    try:
        return await load([c.put for c in clients], seconds, 0.5), leader
    finally:
        for c in clients:
            await c.aclose()


def profile_procs(args: argparse.Namespace) -> None:
    import harness

    harness.install_cleanup()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="profile-procs-"))
    tmp.mkdir(parents=True, exist_ok=True)
    procs = harness.LmteamsProcs(tmp, fsync=not args.no_fsync)
    base = procs.command
    try:
        for node in harness.IDS:
            # cProfile in front of the node's own command line (``-m lmteams.runtime.cli node`` or the harness script).
            rest = base[1:]
            target = ["-m", *rest[1:]] if rest[0] == "-m" else rest
            procs.command = [sys.executable, "-m", "cProfile", "-o", str(tmp / f"{node}.prof"), *target]
            procs.start(node)
        procs.command = base
        client_profile = cProfile.Profile()
        client_profile.enable()
        result, leader = anyio.run(_procs_load, procs, args.callers, args.seconds)
        client_profile.disable()
        client_profile.dump_stats(str(tmp / "clients.prof"))
    finally:
        procs.stop()
    s = result.summary()
    print(
        f"{args.callers} callers, fsync {'off' if args.no_fsync else 'on'}: {s['commits_per_s']:,.0f} commits/s"
        f" with the nodes under cProfile, p50 {s['p50_ms']} ms; leader {leader}"
    )
    path = tmp / f"{leader}.prof"
    if not path.exists():
        print(f"no profile from the leader at {path}; node logs:\n{procs.logs()}")
        return
    pstats.Stats(str(path)).sort_stats(args.sort).print_stats(args.top)
    print("the callers' process (RemoteClients):")
    pstats.Stats(str(tmp / "clients.prof")).sort_stats(args.sort).print_stats(args.top)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


def time_apply(args: argparse.Namespace) -> None:
    from lmteams import WorldState
    from lmteams.consensus.world import Proposal, Put, encode_proposal

    def entries(clients: int) -> list[bytes]:
        out = []
        for seq in range(1, args.n // clients + 1):
            for c in range(clients):
                p = Proposal(
                    client_id=f"bench-{c}",
                    seq=seq,
                    command=Put(key=f"bench-{c}-{seq % 16}", value=PAYLOAD),
                    stamp=0.0,
                    ack_below=seq,
                )
                out.append(encode_proposal(p))
        return out

    data = entries(64)
    rounds = []
    for _ in range(args.repeats):
        machine = WorldState()
        t0 = time.perf_counter()
        for i, d in enumerate(data):
            machine.apply(d, 1000.0 + i)
        rounds.append(1e6 * (time.perf_counter() - t0) / len(data))
    print(
        f"WorldState.apply of a 200-byte Put: best {min(rounds):.2f} us, median {statistics.median(rounds):.2f} us"
        f" per entry ({len(data)} entries, {args.repeats} rounds: {', '.join(f'{r:.2f}' for r in rounds)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("cluster", help="cProfile of the in-process load")
    c.add_argument("--callers", type=int, default=64)
    c.add_argument("--seconds", type=float, default=3.0)
    c.add_argument("--storage", choices=["mem", "file-sync", "file-nosync"], default="mem")
    c.add_argument("--sort", default="tottime")
    c.add_argument("--top", type=int, default=40)
    c.add_argument("--out", default=None)
    pr = sub.add_parser("procs", help="cProfile of the node processes under the TCP load")
    pr.add_argument("--callers", type=int, default=64)
    pr.add_argument("--seconds", type=float, default=3.0)
    pr.add_argument("--no-fsync", action="store_true")
    pr.add_argument("--sort", default="tottime")
    pr.add_argument("--top", type=int, default=40)
    pr.add_argument("--keep", default=None, help="directory to keep the profiles and logs in")
    a = sub.add_parser("apply", help="time WorldState.apply alone")
    a.add_argument("--n", type=int, default=20_000)
    a.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from lmteams.runtime.logging import configure as configure_logging

    configure_logging("error")
    if args.what == "cluster":
        profile_cluster(args)
    elif args.what == "procs":
        profile_procs(args)
    else:
        time_apply(args)


if __name__ == "__main__":
    main()
