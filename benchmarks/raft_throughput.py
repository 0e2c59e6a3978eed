"""Commit throughput and latency of lmteams' Raft against PySyncObj, 3 nodes, 200-byte values.

    python benchmarks/raft_throughput.py [--seconds 3] [--repeats 3] [--json out.json]
                                         [--only lm-mem,lm-file-sync,...] [--clients 1,64]
                                         [--pso-caller leader|follower]

Every configuration runs with 1 and with 64 concurrent callers, each looping on a write of a
200-byte value to one of 16 keys of its own and waiting for the commit before the next. A run
warms up for 0.5 s, then counts the writes issued and committed within ``--seconds``; its
figures are commits/s and the p50/p99 of those writes' latencies. Each (configuration, callers)
pair runs ``--repeats`` times, on a fresh cluster, with the pairs interleaved so that other load
on the machine spreads over all of them; the table shows the median run and the min..max spread.

lmteams configurations (``Client.put`` / ``RemoteClient.put``: a session-numbered ``Put`` of the
world state, committed and applied, then acknowledged):

- ``lm-mem``: `LocalCluster` (3 nodes in this process, `MemoryNetwork`), `MemoryStorage`;
- ``lm-file-sync`` / ``lm-file-nosync``: the same with `FileStorage(dir, fsync=True/False)`;
- ``lm-proc-sync`` / ``lm-proc-nosync``: three real node processes on 127.0.0.1 over TCP, each
  with FileStorage in its own directory, driven by one `RemoteClient` per caller from this
  process. fsync on is ``lmteams node`` as shipped, fsync off ``lmteams node --no-fsync``.
- ``lm-embed-sync`` / ``lm-embed-nosync``: the like-for-like of how PySyncObj is measured (callers
  in the leader's process): node ``a`` runs in this process (`NodeProcess`, TCP on 127.0.0.1,
  FileStorage with fsync on/off) and leads, ``b`` and ``c`` are node processes as in ``lm-proc-*``;
  one `Client` per caller calls node ``a``'s `RaftNode` directly (no client protocol). ``a`` gets a
  shorter election timeout (same tick) and starts first; if another node leads all the same, the
  cluster is started afresh (`harness.lmteams_with_local_leader`).

PySyncObj configurations (three voter processes, ``benchmarks/pysyncobj_peer.py``; callers are
callback chains on ``ReplDict.set`` in the leader's process by default, since PySyncObj has no
client protocol and an application calls a SyncObj in its own process):

- ``pso-default``: ``SyncObjConf()`` (batches every 0.1 s: about 10 commits/s per caller);
- ``pso-fast``: ``appendEntriesUseBatch=False`` with ``journalFile`` set (mmap, never fsynced).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from harness import CpuMeter, LmteamsProcs, PsoProcs, RunResult, load, spread  # noqa: E402

WARMUP = 0.5

CONFIGS: dict[str, str] = {
    "lm-mem": "lmteams in-process, MemoryNetwork, MemoryStorage (reference)",
    "lm-file-sync": "lmteams in-process, MemoryNetwork, FileStorage fsync on",
    "lm-file-nosync": "lmteams in-process, MemoryNetwork, FileStorage fsync off",
    "lm-proc-sync": "lmteams 3 node processes, TCP 127.0.0.1, fsync on",
    "lm-proc-nosync": "lmteams 3 node processes, TCP 127.0.0.1, fsync off",
    "lm-embed-sync": "lmteams node a (leader) in the callers' process, b and c processes, TCP 127.0.0.1, fsync on",
    "lm-embed-nosync": "lmteams node a (leader) in the callers' process, b and c processes, TCP 127.0.0.1, fsync off",
    "pso-default": "PySyncObj 3 processes, defaults (batch every 0.1 s, no journal)",
    "pso-fast": "PySyncObj 3 processes, appendEntriesUseBatch=False + journalFile",
}
LMTEAMS = [c for c in CONFIGS if c.startswith("lm-")]
PSO = [c for c in CONFIGS if c.startswith("pso-")]


# -- one run of each kind ---------------------------------------------------------------------------


def by_role(pids: dict[str, int], leader: str, callers_in: str | None = None) -> dict[str, int]:
    """``pids`` (node id -> pid) named by role for the CPU table: which node leads differs between runs."""
    named: dict[str, int] = {}
    followers = 0
    for node, pid in pids.items():
        if node == leader:
            name = "leader"
        else:
            followers += 1
            name = f"follower {followers}"
        named[name + ("+callers" if node == callers_in else "")] = pid
    return named


async def measured_load(
    puts: list[Callable[[str, Any], Any]], seconds: float, pids: dict[str, int], this: str
) -> RunResult:
    """`load`, with the CPU each process used meanwhile (this one as ``this``)."""
    with CpuMeter(pids, this=this) as meter:
        result = await load(puts, seconds, WARMUP)
    result.cpu = meter
    return result


async def run_in_process(config: str, callers: int, seconds: float, tmp: Path) -> RunResult:
    from lmteams import LocalCluster
    from lmteams.consensus.node.file_storage import FileStorage

    storage: Callable[[str], Any] | None
    if config == "lm-mem":
        storage = None
    else:
        fsync = config == "lm-file-sync"
        storage = lambda node_id: FileStorage(tmp / node_id, fsync=fsync)  # noqa: E731
    async with LocalCluster(3, seed=1, transport="memory", storage=storage) as cluster:
        await cluster.wait_for_leader()
        clients = [cluster.client(f"bench-{i}") for i in range(callers)]
        return await measured_load([c.put for c in clients], seconds, {}, this="3 nodes+callers")


async def run_processes(config: str, callers: int, seconds: float, tmp: Path) -> tuple[RunResult, str]:
    procs = LmteamsProcs(tmp, fsync=config == "lm-proc-sync")
    try:
        procs.start()
        leader = await procs.wait_leader(all_nodes=True)
        clients = [procs.client(f"bench-{i}-{time.monotonic_ns()}", attempt_timeout=5.0) for i in range(callers)]
        try:
            nodes = by_role({n: p.pid for n, p in procs.procs.items()}, leader)
            return await measured_load([c.put for c in clients], seconds, nodes, this="callers"), procs.how
        finally:
            for c in clients:
                await c.aclose()
    finally:
        procs.stop()


async def run_embedded(config: str, callers: int, seconds: float, tmp: Path) -> tuple[RunResult, str]:
    from lmteams.consensus.client import Client

    def on_retry(attempt: int, leader: str) -> None:
        print(f"  {config}: {leader} led, not a (attempt {attempt}); starting the cluster afresh", file=sys.stderr)

    fsync = config == "lm-embed-sync"
    async with harness.lmteams_with_local_leader(tmp, fsync=fsync, local="a", on_retry=on_retry) as (procs, a):
        only_a = SimpleNamespace(nodes={"a": a.node})  # `Client` takes anything with a `nodes` mapping
        clients = [Client(only_a, f"bench-{i}-{time.monotonic_ns()}", attempt_timeout=5.0) for i in range(callers)]
        how = f"node a (leader) in the callers' process, b and c processes, TCP 127.0.0.1 (b, c: {procs.how})"
        others = by_role({n: p.pid for n, p in procs.procs.items()}, leader="a")
        return await measured_load([c.put for c in clients], seconds, others, this="a+callers"), how


def run_pso(config: str, callers: int, seconds: float, tmp: Path, caller_on: str) -> tuple[RunResult, str]:
    kind = config.removeprefix("pso-")
    procs = PsoProcs(tmp, kind)
    try:
        procs.start()
        leader = procs.wait_leader(all_nodes=True)
        node = leader if caller_on == "leader" else next(n for n in harness.IDS if n != leader)
        pids = by_role({n: peer.proc.pid for n, peer in procs.peers.items()}, leader, callers_in=node)
        with CpuMeter(pids, this=None) as meter:
            answer = procs.peers[node].request(
                {"cmd": "load", "callers": callers, "seconds": seconds, "warmup": WARMUP}, timeout=seconds + 60
            )
        if answer is None:
            raise RuntimeError(f"PySyncObj load on {node} did not answer; logs in {tmp}")
        how = f"callers in the {caller_on}'s process"
        return RunResult(answer["commits"], seconds, answer["latencies_ms"], answer["errors"], cpu=meter), how
    finally:
        procs.stop()


def run_one(config: str, callers: int, seconds: float, caller_on: str) -> tuple[RunResult, str]:
    tmp = Path(tempfile.mkdtemp(prefix=f"raft-bench-{config}-"))
    try:
        if config in ("lm-mem", "lm-file-sync", "lm-file-nosync"):
            return anyio.run(run_in_process, config, callers, seconds, tmp), "LocalCluster(transport='memory')"
        if config.startswith("lm-proc"):
            return anyio.run(run_processes, config, callers, seconds, tmp)
        if config.startswith("lm-embed"):
            return anyio.run(run_embedded, config, callers, seconds, tmp)
        return run_pso(config, callers, seconds, tmp, caller_on)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- report ----------------------------------------------------------------------------------------------


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {key: spread([r[key] for r in runs]) for key in ("commits_per_s", "p50_ms", "p99_ms")}
    cpu = [r["cpu_us_per_commit"] for r in runs if "cpu_us_per_commit" in r]
    if cpu:
        names = dict.fromkeys(name for c in cpu for name in c)  # process names can differ between runs
        out["cpu_us_per_commit"] = {name: statistics.median(c[name] for c in cpu if name in c) for name in names}
    return out


def fmt_spread(s: dict[str, float], digits: int = 0) -> str:
    f = f"{{:,.{digits}f}}"
    return f"{f.format(s['median'])} ({f.format(s['min'])}..{f.format(s['max'])})"


def fmt_ms(s: dict[str, float]) -> str:
    digits = 2 if s["median"] < 10 else 1
    return fmt_spread(s, digits)


def ratios(results: dict[str, dict[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    out = []
    for lm in LMTEAMS:
        for pso in PSO:
            for callers in sorted({c for r in results.values() for c in r}):
                a = results.get(lm, {}).get(callers)
                b = results.get(pso, {}).get(callers)
                if not a or not b:
                    continue
                sa, sb = a["summary"], b["summary"]
                out.append(
                    {
                        "lmteams": lm,
                        "pysyncobj": pso,
                        "callers": callers,
                        "throughput_ratio": sa["commits_per_s"]["median"] / sb["commits_per_s"]["median"],
                        "p50_latency_ratio": sa["p50_ms"]["median"] / sb["p50_ms"]["median"],
                    }
                )
    return out


def print_report(
    results: dict[str, dict[int, dict[str, Any]]], rat: list[dict[str, Any]], meta: dict[str, Any]
) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 120))
    for key in results:
        console.print(f"  {key:15s} {CONFIGS[key]}")
    table = Table(
        title=f"3-node commit throughput, 200-byte values: median (min..max) of the runs, {meta['seconds']:g} s each",
        title_justify="left",
    )
    table.add_column("configuration")
    table.add_column("callers", justify="right")
    table.add_column("runs", justify="right")
    table.add_column("commits/s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    for config, by_callers in results.items():
        for callers, res in sorted(by_callers.items()):
            s = res["summary"]
            table.add_row(
                config,
                str(callers),
                str(len(res["runs"])),
                fmt_spread(s["commits_per_s"]),
                fmt_ms(s["p50_ms"]),
                fmt_ms(s["p99_ms"]),
            )
    console.print(table)
    for config, by_callers in results.items():
        hows = {res["how"] for res in by_callers.values()}
        console.print(f"  {config}: {', '.join(sorted(hows))}")
    console.print("  latency = from the call to its acknowledgement (committed and applied), per write")

    cpu_table = Table(
        title="CPU per commit, µs (user + system, medians of the runs; the whole load, warm-up included, "
        "over the commits at the measured rate)",
        title_justify="left",
    )
    for column in ("configuration", "callers", "per process", "total"):
        cpu_table.add_column(column, justify="left" if column != "total" else "right")
    for config, by_callers in results.items():
        for callers, res in sorted(by_callers.items()):
            cpu = res["summary"].get("cpu_us_per_commit")
            if cpu:
                parts = ", ".join(f"{name} {v:,.1f}" for name, v in cpu.items())
                cpu_table.add_row(config, str(callers), parts, f"{sum(cpu.values()):,.1f}")
    console.print(cpu_table)

    if rat:
        callers_list = sorted({r["callers"] for r in rat})
        t2 = Table(
            title="lmteams / PySyncObj commits/s (medians), same number of callers; >1: lmteams commits more",
            title_justify="left",
        )
        t2.add_column("lmteams configuration")
        for pso in PSO:
            for c in callers_list:
                t2.add_column(f"vs {pso}, {c}", justify="right")
        for lm in LMTEAMS:
            row = [lm]
            any_value = False
            for pso in PSO:
                for c in callers_list:
                    match = [r for r in rat if r["lmteams"] == lm and r["pysyncobj"] == pso and r["callers"] == c]
                    row.append(f"{match[0]['throughput_ratio']:.2f}x" if match else "-")
                    any_value |= bool(match)
            if any_value:
                t2.add_row(*row)
        console.print(t2)
        console.print(
            "  pso-default: SyncObjConf() as shipped; pso-fast: appendEntriesUseBatch=False, journalFile set.\n"
            "  PySyncObj never fsyncs its journal (mmap), so lm-*-nosync rows are its like-for-like; "
            "lm-*-sync rows also pay an fsync per batch.\n"
            "  With the callers in the leader's process on both sides (the default --pso-caller leader), "
            "lm-embed-nosync is the closest like-for-like."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per run (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration (default 3)")
    parser.add_argument("--clients", default="1,64", help="caller counts, comma-separated (default 1,64)")
    parser.add_argument("--only", default=None, help=f"configurations, comma-separated, of: {', '.join(CONFIGS)}")
    parser.add_argument(
        "--pso-caller",
        choices=["leader", "follower"],
        default="leader",
        help="where PySyncObj's callers run (default: in the leader's process)",
    )
    parser.add_argument("--json", metavar="FILE", default=None, help="write every figure to FILE")
    args = parser.parse_args()

    from lmteams.runtime.logging import configure as configure_logging

    configure_logging("error")
    harness.install_cleanup()
    configs = args.only.split(",") if args.only else list(CONFIGS)
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {unknown}; choose from {list(CONFIGS)}")
    if any(c in PSO for c in configs):
        import importlib.util

        if importlib.util.find_spec("pysyncobj") is None:
            parser.error("PySyncObj is not installed: pip install pysyncobj (or leave out pso-* with --only)")
    callers_list = [int(c) for c in args.clients.split(",")]

    results: dict[str, dict[int, dict[str, Any]]] = {c: {} for c in configs}
    started = time.time()
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        for rep in range(args.repeats):
            for config in configs:
                for callers in callers_list:
                    res, how = run_one(config, callers, args.seconds, args.pso_caller)
                    summary = res.summary()
                    slot = results[config].setdefault(callers, {"runs": [], "how": how})
                    slot["runs"].append(summary)
                    print(
                        f"[{rep + 1}/{args.repeats}] {config:15s} {callers:3d} callers: "
                        f"{summary['commits_per_s']:9,.0f} commits/s  p50 {summary['p50_ms']:8.2f} ms  "
                        f"p99 {summary['p99_ms']:8.2f} ms"
                        + (f"  errors {summary['errors']}" if summary["errors"] else ""),
                        flush=True,
                    )
    except KeyboardInterrupt:
        print("interrupted: reporting the runs done so far", file=sys.stderr)
    finally:
        harness.kill_all()

    results = {c: {n: r for n, r in by.items() if r["runs"]} for c, by in results.items()}
    results = {c: by for c, by in results.items() if by}
    for by_callers in results.values():
        for res in by_callers.values():
            res["summary"] = summarize(res["runs"])
    rat = ratios(results)
    meta = {
        "seconds": args.seconds,
        "warmup_s": WARMUP,
        "repeats": args.repeats,
        "payload_bytes": 200,
        "pso_caller": args.pso_caller,
        "python": platform.python_version(),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(time.time() - started, 1),
    }
    print_report(results, rat, meta)
    print(f"load average (1, 5, 15 min) before {load_before}, after {meta['loadavg_after']}; {meta['cpus']} CPUs")
    if args.json:
        out = {
            "meta": meta,
            "configs": {c: CONFIGS[c] for c in results},
            "results": {c: {str(n): r for n, r in by.items()} for c, by in results.items()},
            "ratios": rat,
        }
        Path(args.json).write_text(json.dumps(out, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
