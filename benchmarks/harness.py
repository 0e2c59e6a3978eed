"""Shared parts of the benchmarks: real node processes on 127.0.0.1, and their clean-up.

- `LmteamsProcs`: three ``lmteams node`` processes (``python -m lmteams.runtime.cli node``), each with
  its own data directory, driven from this process by `RemoteClient`s;
- `PsoProcs`: three PySyncObj voters (``benchmarks/pysyncobj_peer.py node``) and, for
  failover, one read-only PySyncObj node as the client;
- `load`: N concurrent lmteams clients, each looping on ``put`` with a 200-byte value.

Every child runs in its own process group and is SIGKILLed (the whole group) by `kill_all`,
which runs on the way out of every benchmark (try/finally, atexit, SIGTERM and SIGHUP handlers),
so Ctrl-C or an error leaves no process behind.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import queue
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
LOOPBACK = "127.0.0.1"
PAYLOAD = "v" * 200
IDS = ("a", "b", "c")

# -- processes and their clean-up ----------------------------------------------------------------

_LIVE: dict[int, subprocess.Popen[Any]] = {}
_LOCK = threading.Lock()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def spawn(argv: Sequence[str], *, log: Path, pipes: bool = False) -> subprocess.Popen[Any]:
    """Start ``argv`` in a process group of its own; stderr (and stdout unless ``pipes``) go to ``log``."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=child_env(),
            start_new_session=True,
            stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipes else out,
            stderr=out,
            text=pipes,
            bufsize=1 if pipes else -1,
        )
    with _LOCK:
        _LIVE[proc.pid] = proc
    return proc


def kill(proc: subprocess.Popen[Any], sig: int = signal.SIGKILL, wait: float = 10.0) -> None:
    """Send ``sig`` to ``proc``'s whole process group and reap it (SIGKILL if it outlives ``wait``)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    with _LOCK:
        _LIVE.pop(proc.pid, None)


def kill_all() -> None:
    """SIGKILL every child process group this process started and has not reaped yet."""
    with _LOCK:
        procs = list(_LIVE.values())
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with _LOCK:
            _LIVE.pop(proc.pid, None)


def _on_signal(signum: int, _frame: Any) -> None:
    kill_all()
    raise SystemExit(128 + signum)


_interrupted = False


def _on_sigint(_signum: int, _frame: Any) -> None:
    # Our own handler, so that asyncio's runner does not turn Ctrl-C into a cancellation that
    # some ``move_on_after`` could absorb: the children die first, then KeyboardInterrupt.
    global _interrupted
    kill_all()
    if _interrupted:
        os._exit(130)
    _interrupted = True
    raise KeyboardInterrupt


def install_cleanup() -> None:
    """Kill every child on exit, Ctrl-C, SIGTERM and SIGHUP (callers also use try/finally)."""
    atexit.register(kill_all)
    signal.signal(signal.SIGINT, _on_sigint)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)


def free_ports(count: int) -> list[int]:
    """Ports free now, below the ephemeral range (so an outgoing connection cannot take a killed
    node's port before it restarts), offset by the pid so that parallel runs differ."""
    ports: list[int] = []
    port = 11000 + (os.getpid() * 7919) % 8000  # 11000-19999: below the tests' 20000-29999 and the ephemeral range
    while len(ports) < count:
        port += 1
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                continue
        ports.append(port)
    return ports


# -- statistics -----------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * (len(sorted_values) - 1)))]


@dataclass
class RunResult:
    commits: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    errors: dict[str, int] = field(default_factory=dict)
    cpu: CpuMeter | None = None

    @property
    def commits_per_s(self) -> float:
        return self.commits / self.seconds

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        extra = {}
        if self.cpu is not None and self.commits:
            # CPU over the whole load (warm-up included) per commit at the measured rate.
            made = self.commits_per_s * self.cpu.wall_s
            extra["cpu_us_per_commit"] = {name: round(1e6 * used / made, 1) for name, used in self.cpu.used_s.items()}
        return {
            **extra,
            "commits": self.commits,
            "seconds": self.seconds,
            "commits_per_s": round(self.commits_per_s, 1),
            "p50_ms": round(percentile(lat, 0.50), 3),
            "p99_ms": round(percentile(lat, 0.99), 3),
            "max_ms": round(lat[-1], 3) if lat else float("nan"),
            "errors": self.errors,
        }


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds used so far by process ``pid`` (this process, all threads, if None)."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """``with CpuMeter({"b": pid, ...}, this="a+callers"):`` the CPU seconds each process used inside
    the block (``used_s``), and the block's wall time (``wall_s``). ``this=None`` leaves this process out."""

    def __init__(self, pids: dict[str, int], this: str | None = "this") -> None:
        self.pids: dict[str, int | None] = {**({this: None} if this else {}), **pids}
        self.used_s: dict[str, float] = {}
        self.wall_s = 0.0

    def __enter__(self) -> CpuMeter:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.monotonic() - self._t0
        self.used_s = {name: cpu_seconds(pid) - self._start[name] for name, pid in self.pids.items()}


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of the repeated runs."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


# -- lmteams load ---------------------------------------------------------------------------------


async def load(puts: Sequence[Callable[[str, Any], Awaitable[Any]]], seconds: float, warmup: float) -> RunResult:
    """Each of ``puts`` loops on ``put(key, 200-byte value)``, waiting for each commit; calls issued
    during the first ``warmup`` seconds, or still running after ``seconds`` more, are not counted."""
    import anyio

    latencies: list[float] = []
    measure_from = time.monotonic() + warmup
    stop_at = measure_from + seconds

    async def worker(i: int, put: Callable[[str, Any], Awaitable[Any]]) -> None:
        n = 0
        while True:
            t0 = time.monotonic()
            if t0 >= stop_at:
                return
            await put(f"k{i}-{n % 16}", PAYLOAD)
            t1 = time.monotonic()
            if t0 >= measure_from and t1 <= stop_at:
                latencies.append(1000 * (t1 - t0))
            n += 1

    async with anyio.create_task_group() as tg:
        for i, put in enumerate(puts):
            tg.start_soon(worker, i, put)
    return RunResult(len(latencies), seconds, latencies)


# -- lmteams node processes -------------------------------------------------------------------------


DEFAULT_TICK = 0.05  # lmteams node --tick-interval default
DEFAULT_ELECTION_TICKS = (10, 20)  # RaftConfig election_timeout_min / _max (exclusive)
DEFAULT_HEARTBEAT_TICKS = 3


def lmteams_node_defaults() -> dict[str, float]:
    """The timing `lmteams node` runs with when given no --tick-interval, read from the code."""
    try:
        from lmteams.consensus import RaftConfig

        cfg = RaftConfig()
        lo, hi, hb = cfg.election_timeout_min, cfg.election_timeout_max, cfg.heartbeat_interval
    except Exception:  # noqa: BLE001
        lo, hi = DEFAULT_ELECTION_TICKS
        hb = DEFAULT_HEARTBEAT_TICKS
    return {
        "tick_interval_s": DEFAULT_TICK,
        "election_timeout_min_s": round(lo * DEFAULT_TICK, 3),
        "election_timeout_max_s": round(hi * DEFAULT_TICK, 3),
        "heartbeat_s": round(hb * DEFAULT_TICK, 3),
    }


class LmteamsProcs:
    """Three ``lmteams node`` processes on 127.0.0.1, data in ``root``; SIGKILL and restart them."""

    def __init__(
        self, root: Path, *, fsync: bool = True, tick: float | None = None, log_level: str = "warning"
    ) -> None:
        self.root = root
        self.fsync = fsync
        self.tick = tick
        self.log_level = log_level
        self.ports = dict(zip(IDS, free_ports(len(IDS))))
        self.secret = secrets.token_hex(16).encode()
        self.secret_file = root / "secret"
        self.secret_file.write_bytes(self.secret + b"\n")
        self.procs: dict[str, subprocess.Popen[Any]] = {}
        self.starts = {n: 0 for n in IDS}
        self.started_at: dict[str, float] = {}
        self.command = [sys.executable, "-m", "lmteams.runtime.cli", "node", *([] if fsync else ["--no-fsync"])]
        self.how = "lmteams node" if fsync else "lmteams node --no-fsync"

    @property
    def addresses(self) -> dict[str, tuple[str, int]]:
        return {n: (LOOPBACK, p) for n, p in self.ports.items()}

    def node_args(self, node: str) -> list[str]:
        """``node``'s ``lmteams node`` arguments (after the command)."""
        args = [
            "--id", node,
            "--listen", f"{LOOPBACK}:{self.ports[node]}",
            *[a for p in IDS if p != node for a in ("--peer", f"{p}={LOOPBACK}:{self.ports[p]}")],
            "--data", str(self.root / f"data-{node}"),
            "--secret-file", str(self.secret_file),
            "--log-level", self.log_level,
        ]  # fmt: skip
        if self.tick is not None:
            args += ["--tick-interval", str(self.tick)]
        return args

    def node_config(self, node: str, **update: Any) -> Any:
        """The `NodeConfig` that `start` would give ``node``'s process (same arguments, parsed by
        the same `lmteams node` code, fsync as configured), with ``update`` applied: for running
        ``node`` in this process with `lmteams.consensus.cluster.process.NodeProcess` instead."""
        return build_node_config(parse_node_args(self.node_args(node)), fsync=self.fsync, **update)

    def start(self, *nodes: str) -> None:
        for node in nodes or IDS:
            if node in self.procs:
                raise RuntimeError(f"{node} is running")
            self.starts[node] += 1
            argv = [*self.command, *self.node_args(node)]
            self.started_at[node] = time.time() - 0.01
            self.procs[node] = spawn(argv, log=self.root / f"{node}.{self.starts[node]}.log")

    def kill(self, node: str) -> float:
        """SIGKILL ``node``; return the ``time.monotonic()`` just before the signal."""
        proc = self.procs.pop(node)
        t = time.monotonic()
        os.killpg(proc.pid, signal.SIGKILL)
        kill(proc)
        return t

    def stop(self) -> None:
        """SIGTERM every node (a graceful stop), then SIGKILL any still running after 5 s."""
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5.0
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            kill(proc)  # reaps it, and SIGKILLs its group if anything is left
        self.procs.clear()

    def links_up(self) -> bool:
        """Whether every node's outbound connection to every other node is up, as its log says
        (``tcp.connected`` after the peer's last start and no ``tcp.connection_lost`` since).
        Needs ``log_level`` info. NodeStatus does not report links, so the log is the only window."""
        from datetime import datetime

        def stamp(line: str) -> float:
            return datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00")).timestamp()

        for x in IDS:
            if x not in self.procs:
                return False
            lines = (self.root / f"{x}.{self.starts[x]}.log").read_text(errors="replace").splitlines()
            for y in IDS:
                if y == x:
                    continue
                up = False
                for line in lines:
                    if f"peer={y}" not in line or f"node={x}" not in line:
                        continue
                    if "tcp.connected" in line:
                        try:
                            up = stamp(line) >= self.started_at[y]
                        except ValueError:
                            up = True
                    elif "tcp.connection_lost" in line or "tcp.connection_closed" in line:
                        up = False
                if not up:
                    return False
        return True

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"node process(es) exited: {dead}\n{self.logs()}")

    def logs(self, tail: int = 30) -> str:
        out = []
        for node in IDS:
            for start in range(1, self.starts[node] + 1):
                path = self.root / f"{node}.{start}.log"
                if path.exists():
                    lines = path.read_text(errors="replace").splitlines()[-tail:]
                    out += [f"--- {node} start {start} ---", *lines]
        return "\n".join(out)

    def client(self, name: str, **kwargs: Any) -> Any:
        from lmteams.consensus.client.remote import RemoteClient

        return RemoteClient(self.addresses, name, secret=self.secret, **kwargs)

    async def statuses(self, client: Any, timeout: float = 0.5) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for node in IDS:
            try:
                result[node] = await client.status(node, timeout=timeout)
            except Exception:  # noqa: BLE001 - down or starting: not answering now
                result[node] = None
        return result

    async def wait_leader(self, timeout: float = 20.0, all_nodes: bool = False, links: bool = False) -> str:
        """A leader acknowledged by a majority (by every node if ``all_nodes``, with the others caught up;
        and with every node-to-node connection up if ``links``)."""
        import anyio

        async with self.client(f"observer-{secrets.token_hex(4)}") as client:
            with anyio.move_on_after(timeout):
                while True:
                    self.check_alive()
                    st = await self.statuses(client)
                    leaders = [s for s in st.values() if s is not None and s.role == "leader"]
                    if leaders:
                        top = max(leaders, key=lambda s: s.term)
                        follow = [s for s in st.values() if s is not None and s.leader_id == top.node_id]
                        if not all_nodes and len(follow) >= 2:
                            return str(top.node_id)
                        if (
                            all_nodes
                            and len(follow) == len(IDS)
                            and all(s.applied_index >= top.commit_index - 64 for s in follow)
                            and (not links or self.links_up())
                        ):
                            return str(top.node_id)
                    await anyio.sleep(0.05)
        raise RuntimeError(f"no leader within {timeout}s\n{self.logs()}")


def parse_node_args(argv: Sequence[str]) -> argparse.Namespace:
    """``argv`` parsed by ``lmteams node``'s own argument parser."""
    from lmteams.runtime.cli import node as node_cli

    parser = argparse.ArgumentParser(prog="lmteams node")
    node_cli._add_arguments(parser)  # noqa: SLF001
    return parser.parse_args(list(argv))


def build_node_config(args: argparse.Namespace, **update: Any) -> Any:
    """The `NodeConfig` ``lmteams node`` builds from ``args`` (its `build_config`), with ``update``
    applied (e.g. ``fsync=False``)."""
    from lmteams.runtime.cli import node as node_cli

    return node_cli.build_config(args).model_copy(update=update)


def eager_raft_config() -> Any:
    """The default `RaftConfig` with the election timeout drawn from ``[min // 2, min)`` ticks instead
    of ``[min, max)``: a node with it, started before nodes with the defaults and the same tick,
    times out before any of them, so it is (nearly always) the first leader. Heartbeats unchanged."""
    from lmteams.consensus import RaftConfig

    default = RaftConfig()
    low = max(default.heartbeat_interval + 1, default.election_timeout_min // 2)
    return RaftConfig.model_validate(
        {**default.model_dump(), "election_timeout_min": low, "election_timeout_max": default.election_timeout_min}
    )


@asynccontextmanager
async def lmteams_with_local_leader(
    root: Path, *, fsync: bool, local: str = "a", attempts: int = 5, on_retry: Callable[[int, str], None] | None = None
) -> AsyncIterator[tuple[LmteamsProcs, Any]]:
    """A 3-node lmteams cluster on 127.0.0.1 whose node ``local`` runs in this process (a
    `NodeProcess` over TCP, FileStorage, fsync as given) and leads; the other two are
    `LmteamsProcs` processes. Yields ``(procs, node_process)`` once every node follows ``local`` and
    is caught up. ``local`` gets `eager_raft_config` and starts first; should another node lead all
    the same, the whole cluster is torn down and started afresh (``on_retry(attempt, leader)``),
    at most ``attempts`` times. The processes are stopped and ``local`` closed on the way out."""
    from lmteams.consensus.cluster.process import NodeProcess

    others = [n for n in IDS if n != local]
    leaders: list[str] = []
    for attempt in range(1, attempts + 1):
        run_root = root / f"attempt-{attempt}"
        run_root.mkdir(parents=True)
        procs = LmteamsProcs(run_root, fsync=fsync)
        config = procs.node_config(local, raft=eager_raft_config())
        async with NodeProcess(config) as node_process:
            try:
                procs.start(*others)
                leader = await procs.wait_leader(all_nodes=True)
                if leader == local:
                    yield procs, node_process
                    return
            finally:
                procs.stop()
        leaders.append(leader)
        if on_retry is not None and attempt < attempts:
            on_retry(attempt, leader)
    raise RuntimeError(f"{local!r} did not become the leader in {attempts} attempts (leaders: {leaders})")


# -- PySyncObj processes ------------------------------------------------------------------------------


class Peer:
    """One ``pysyncobj_peer.py`` process, driven by JSON lines."""

    def __init__(self, argv: Sequence[str], log: Path) -> None:
        self.proc = spawn(argv, log=log, pipes=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        ready = self._next(30.0)
        if ready is None or not ready.get("ready"):
            raise RuntimeError(f"PySyncObj peer did not start: {ready!r}; see {log}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _next(self, timeout: float) -> dict[str, Any] | None:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        return None if line is None else json.loads(line)

    def request(self, obj: dict[str, Any], timeout: float = 5.0) -> dict[str, Any] | None:
        """Send one request; its answer, or None if the process is gone or did not answer in time."""
        with self.lock:
            if self.proc.poll() is not None:
                return None
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps(obj) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                return None
            answer = self._next(timeout)
            if answer is None:  # a late answer must not be taken for the next request's
                self.lines = queue.Queue()
            return answer


class PsoProcs:
    """Three PySyncObj voters on 127.0.0.1 (``config`` default or fast), each a process of its own."""

    def __init__(self, root: Path, config: str) -> None:
        self.root = root
        self.config = config
        self.ports = dict(zip(IDS, free_ports(len(IDS))))
        self.peers: dict[str, Peer] = {}
        self.starts = {n: 0 for n in IDS}
        self.client_peer: Peer | None = None

    def addr(self, node: str) -> str:
        return f"{LOOPBACK}:{self.ports[node]}"

    def node_of(self, addr: str | None) -> str | None:
        for n in IDS:
            if self.addr(n) == addr:
                return n
        return None

    def start(self, *nodes: str) -> None:
        for node in nodes or IDS:
            if node in self.peers:
                raise RuntimeError(f"{node} is running")
            self.starts[node] += 1
            argv = [
                sys.executable, str(HERE / "pysyncobj_peer.py"), "node",
                "--self", self.addr(node),
                *[a for p in IDS if p != node for a in ("--partner", self.addr(p))],
                "--config", self.config,
                "--journal", str(self.root / f"journal-{node}"),
            ]  # fmt: skip
            self.peers[node] = Peer(argv, self.root / f"pso-{node}.{self.starts[node]}.log")

    def start_client(self) -> Peer:
        argv = [
            sys.executable, str(HERE / "pysyncobj_peer.py"), "client",
            *[a for p in IDS for a in ("--partner", self.addr(p))],
            "--config", self.config,
        ]  # fmt: skip
        self.client_peer = Peer(argv, self.root / "pso-client.log")
        return self.client_peer

    def kill(self, node: str) -> float:
        peer = self.peers.pop(node)
        t = time.monotonic()
        os.killpg(peer.proc.pid, signal.SIGKILL)
        kill(peer.proc)
        return t

    def stop(self) -> None:
        everyone = list(self.peers.values()) + ([self.client_peer] if self.client_peer else [])
        for peer in everyone:
            kill(peer.proc)
        self.peers.clear()
        self.client_peer = None

    def statuses(self) -> dict[str, dict[str, Any] | None]:
        return {n: (self.peers[n].request({"cmd": "status"}, 2.0) if n in self.peers else None) for n in IDS}

    def wait_leader(self, timeout: float = 30.0, all_nodes: bool = False) -> str:
        """A voter in state leader that a majority (every node, if ``all_nodes``) names as leader."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = {n: p.proc.returncode for n, p in self.peers.items() if p.proc.poll() is not None}
            if dead:
                raise RuntimeError(f"PySyncObj process(es) exited: {dead}; logs in {self.root}")
            st = self.statuses()
            for node, s in st.items():
                if s is None or s["state"] != 2:
                    continue
                follow = [o for o in st.values() if o is not None and o["leader"] == self.addr(node)]
                if all_nodes:
                    ok = len(follow) == len(IDS) and all(o["applied"] >= s["commit"] - 64 for o in follow)
                    ok = ok and all(o["connected"] == len(IDS) - 1 for o in follow)
                else:
                    ok = len(follow) >= 2
                if ok:
                    return node
            time.sleep(0.05)
        raise RuntimeError(f"no PySyncObj leader within {timeout}s: {self.statuses()}")


if __name__ == "__main__":
    print(__doc__)
    sys.exit(2)
