"""A real multi-process cluster: three ``lmteams node`` processes on loopback TCP, each with its own
data directory (FileStorage, fsync), killed with SIGKILL and restarted from disk while clients write.

Each crash run records a client history (unique values, as in test_cluster_linearizability.py) that
must pass ``check_linearizable`` with ``KVModel``, and every acknowledged write must still be
readable afterwards. The nodes run with ``--tick-interval 0.02``: elections after 0.2-0.4 s of
silence, heartbeats every 0.06 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from lmteams.consensus.client.protocol import (
    ErrorResponse,
    NodeStatus,
    StatusRequest,
    StatusResponse,
    decode_response,
    encode,
)
from lmteams.consensus.client.remote import RemoteClient
from lmteams.consensus.client.session import ClientTimeout
from lmteams.consensus.testing import History, KVModel, check_linearizable
from lmteams.transports import Backoff, HandshakeError, open_connection

from .ports import free_ports

pytestmark = [pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
IDS = ("a", "b", "c")
TICK = 0.02
SHARED_KEYS = ("x", "y")
CRASH_RUNS: list[str] = []


def _registered(command: str) -> bool:
    """Whether ``lmteams <command>`` exists in lmteams.runtime.cli (else run the module directly)."""
    from lmteams.runtime.cli import build_parser

    parser = build_parser()
    actions = parser._subparsers._group_actions if parser._subparsers else []  # noqa: SLF001
    return any(command in getattr(action, "choices", {}) for action in actions)


def cli(command: str) -> list[str]:
    """The argv prefix of ``lmteams <command>``: ``python -m lmteams.runtime.cli <command>``."""
    if _registered(command):
        return [sys.executable, "-m", "lmteams.runtime.cli", command]
    return [sys.executable, "-m", f"lmteams.runtime.cli.{command}"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ProcessCluster:
    """Three node processes on loopback; SIGKILL and restart them from their data directories."""

    def __init__(self, root: Path, *, seed: int = 0) -> None:
        self.root = root
        self.seed = seed
        self.ports = dict(zip(IDS, free_ports(len(IDS), offset=5000)))
        self.secret = secrets.token_hex(16).encode()
        self.secret_file = root / "secret"
        self.secret_file.write_bytes(b"  " + self.secret + b"\n")  # surrounding whitespace is stripped
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: dict[str, int] = {n: 0 for n in IDS}
        self.command = cli("node")
        self.env = child_env()

    @property
    def addresses(self) -> dict[str, tuple[str, int]]:
        return {n: ("127.0.0.1", p) for n, p in self.ports.items()}

    @property
    def cluster_arg(self) -> str:
        return ",".join(f"{n}=127.0.0.1:{p}" for n, p in self.ports.items())

    def log_path(self, node: str, start: int) -> Path:
        return self.root / f"{node}.{start}.log"

    def start(self, *nodes: str) -> None:
        for node in nodes or IDS:
            assert node not in self.procs, f"{node} is running"
            self.starts[node] += 1
            argv = [
                *self.command,
                "--id", node,
                "--listen", f"127.0.0.1:{self.ports[node]}",
                *[arg for p in IDS if p != node for arg in ("--peer", f"{p}=127.0.0.1:{self.ports[p]}")],
                "--data", str(self.root / f"data-{node}"),
                "--secret-file", str(self.secret_file),
                "--tick-interval", str(TICK),
                "--seed", str(self.seed * 10 + IDS.index(node)),
                "--log-level", "info",
            ]  # fmt: skip
            with open(self.log_path(node, self.starts[node]), "wb") as out:
                self.procs[node] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=self.env)

    def kill(self, *nodes: str) -> None:
        """SIGKILL, all at once, then reap."""
        for node in nodes:
            self.procs[node].send_signal(signal.SIGKILL)
        for node in nodes:
            self.procs.pop(node).wait(timeout=10)

    def stop(self) -> dict[str, int | None]:
        """SIGTERM every running node and return the exit codes (a graceful stop exits 0)."""
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for node, proc in list(self.procs.items()):
            try:
                codes[node] = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                codes[node] = None
        self.procs.clear()
        return codes

    def logs(self, node: str, tail: int = 40) -> str:
        lines: list[str] = []
        for start in range(1, self.starts[node] + 1):
            lines += [
                f"--- {node} start {start} ---",
                *self.log_path(node, start).read_text(errors="replace").splitlines(),
            ]
        return "\n".join(lines[-tail:])

    def all_logs(self) -> str:
        return "\n".join(self.logs(n) for n in IDS)

    def client(self, name: str, **kwargs: Any) -> RemoteClient:
        options: dict[str, Any] = {
            "secret": self.secret,
            "seed": self.seed,
            "attempt_timeout": 1.0,
            "deadline": 10.0,
            "backoff": Backoff(base=0.02, cap=0.2),
        }
        options.update(kwargs)
        return RemoteClient(self.addresses, name, **options)

    async def statuses(self, client: RemoteClient) -> dict[str, NodeStatus | None]:
        result: dict[str, NodeStatus | None] = {}
        for node in IDS:
            try:
                result[node] = await client.status(node, timeout=0.5)
            except Exception:  # noqa: BLE001 - down, starting, or slow: not answering now
                result[node] = None
        return result

    async def wait_leader(self, among: tuple[str, ...] = IDS, timeout: float = 15.0) -> str:
        """A node of ``among`` that leads, acknowledged by a majority of the running ``among`` nodes."""
        async with self.client("observer") as client:
            with anyio.move_on_after(timeout):
                while True:
                    statuses = await self.statuses(client)
                    leaders = [s for n, s in statuses.items() if n in among and s is not None and s.role == "leader"]
                    if leaders:
                        top = max(leaders, key=lambda s: s.term)
                        followers = [s for s in statuses.values() if s is not None and s.leader_id == top.node_id]
                        if len(followers) >= 2:
                            return top.node_id
                    await anyio.sleep(0.05)
        raise AssertionError(f"no leader among {among} within {timeout}s\n{self.all_logs()}")

    async def converged(self, timeout: float = 15.0) -> dict[str, NodeStatus]:
        """Wait until every node has applied the same prefix and holds the same world."""
        async with self.client("observer") as client:
            last: dict[str, NodeStatus | None] = {}
            with anyio.move_on_after(timeout):
                while True:
                    last = await self.statuses(client)
                    if all(last.values()) and len({(s.applied_index, s.world_digest) for s in last.values()}) == 1:  # type: ignore[union-attr]
                        return last  # type: ignore[return-value]
                    await anyio.sleep(0.05)
        raise AssertionError(f"replicas did not converge within {timeout}s: {last}\n{self.all_logs()}")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ProcessCluster]:
    c = ProcessCluster(tmp_path)
    try:
        yield c
    finally:
        c.stop()


# -- the workload -------------------------------------------------------------------------------


@dataclass
class Workload:
    """Clients writing while the nemesis kills nodes; what they were told is recorded."""

    cluster: ProcessCluster
    seed: int
    history: History = field(default_factory=History)
    acked: dict[str, int] = field(default_factory=dict)  # unique key -> value, acknowledged writes only
    completed: int = 0
    timeouts: int = 0
    stop: anyio.Event = field(default_factory=anyio.Event)

    async def worker(self, name: str, rng: random.Random) -> None:
        seen: dict[str, Any] = {}
        n = 0
        async with self.cluster.client(name, seed=rng.getrandbits(32)) as client:
            while not self.stop.is_set():
                n += 1
                fresh = f"{name}.{n}"
                key = rng.choice(SHARED_KEYS)
                kind = rng.random()
                unique: str | None = None
                if kind < 0.3:  # a write to a key of its own: must be readable at the end
                    unique = f"u.{fresh}"
                    op = self.history.invoke(name, ("put", unique, n))
                    call = client.put(unique, n)
                elif kind < 0.55:
                    op = self.history.invoke(name, ("get", key))
                    call = client.get(key)
                elif kind < 0.8:
                    op = self.history.invoke(name, ("put", key, fresh))
                    call = client.put(key, fresh)
                else:
                    op = self.history.invoke(name, ("cas", key, seen.get(key), fresh))
                    call = client.cas(key, seen.get(key), fresh)
                try:
                    result = await call
                except ClientTimeout:
                    self.timeouts += 1  # indeterminate: stays open in the history; this client stops
                    return
                self.history.complete(op, result)
                self.completed += 1
                if unique is not None:
                    self.acked[unique] = n
                elif kind < 0.55:
                    seen[key] = result
                await anyio.sleep(rng.uniform(0, 0.01))

    async def run(self, nemesis: Any, clients: int = 3) -> Any:
        """Run ``clients`` workers while ``await nemesis(self)`` runs; stop them when it returns."""
        rng = random.Random(self.seed)
        outcome: list[Any] = []
        async with anyio.create_task_group() as tg:
            for i in range(clients):
                tg.start_soon(self.worker, f"w{i}", random.Random(rng.getrandbits(32)))
            try:
                outcome.append(await nemesis(self))
            finally:
                self.stop.set()
        return outcome[0]

    async def wait_for_acks(self, count: int, timeout: float = 15.0) -> None:
        target = self.completed + count
        with anyio.move_on_after(timeout):
            while self.completed < target:
                await anyio.sleep(0.01)
            return
        raise AssertionError(f"clients completed {self.completed}, wanted {target}\n{self.cluster.all_logs()}")

    async def verify(self, label: str) -> None:
        """Every acknowledged write is readable (recorded in the history too); the history is linearizable."""
        async with self.cluster.client("verifier") as client:
            for key, value in sorted(self.acked.items()):
                op = self.history.invoke("verifier", ("get", key))
                got = await client.get(key)
                self.history.complete(op, got)
                assert got == value, f"acknowledged write {key}={value} reads back as {got!r}"
            for key in SHARED_KEYS:
                op = self.history.invoke("verifier", ("get", key))
                self.history.complete(op, await client.get(key))
        result = check_linearizable(self.history.operations(), KVModel())
        assert result.ok, str(result)
        assert self.completed >= 30, f"only {self.completed} operations completed"
        CRASH_RUNS.append(
            f"{label}: {len(self.history)} ops ({self.completed} completed, {self.timeouts} timed out, "
            f"{len(self.acked)} acknowledged unique writes) linearizable"
        )
        print(CRASH_RUNS[-1])


# -- crash runs ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_sigkill_the_leader(cluster: ProcessCluster) -> None:
    cluster.start()
    leader = await cluster.wait_leader()
    work = Workload(cluster, seed=1)

    async def nemesis(w: Workload) -> str:
        await w.wait_for_acks(40)
        cluster.kill(leader)
        others = tuple(n for n in IDS if n != leader)
        new_leader = await cluster.wait_leader(among=others)
        await w.wait_for_acks(40)  # the survivors take writes
        cluster.start(leader)  # and the old leader comes back as a follower
        await w.wait_for_acks(20)
        return new_leader

    new_leader = await work.run(nemesis)
    assert new_leader != leader
    await work.verify(f"leader {leader} SIGKILLed")
    await cluster.converged()


@pytest.mark.anyio
async def test_sigkill_a_follower_mid_write_and_it_catches_up(cluster: ProcessCluster) -> None:
    cluster.start()
    await cluster.wait_leader()
    work = Workload(cluster, seed=2)
    killed: list[tuple[str, int]] = []  # (victim, its applied index just before the kill)

    async def nemesis(w: Workload) -> None:
        await w.wait_for_acks(30)
        async with cluster.client("observer") as observer:
            statuses = await cluster.statuses(observer)
        victim = next(n for n, s in sorted(statuses.items()) if s is not None and s.role == "follower")
        killed.append((victim, statuses[victim].applied_index))  # type: ignore[union-attr]
        cluster.kill(victim)  # the clients are mid-write: they never pause for this
        await w.wait_for_acks(60)  # the other two carry on while it is down
        cluster.start(victim)
        await w.wait_for_acks(30)

    await work.run(nemesis)
    [(victim, applied_at_kill)] = killed
    statuses = await cluster.converged()
    assert statuses[victim].applied_index > applied_at_kill, "the restarted follower did not catch up"
    await work.verify(f"follower {victim} SIGKILLed mid-write and restarted")
    final = await cluster.converged()
    assert len({s.world_digest for s in final.values()}) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("seed", [3, 4])
async def test_sigkill_the_whole_cluster(tmp_path: Path, seed: int) -> None:
    cluster = ProcessCluster(tmp_path, seed=seed)
    try:
        cluster.start()
        await cluster.wait_leader()
        work = Workload(cluster, seed=seed)

        async def nemesis(w: Workload) -> None:
            await w.wait_for_acks(40)
            cluster.kill(*IDS)  # all at once, mid-write
            cluster.start()  # every node reloads its log and hard state from disk
            await cluster.wait_leader()
            await w.wait_for_acks(40)

        await work.run(nemesis)
        await work.verify(f"whole cluster SIGKILLed (seed {seed})")
        await cluster.converged()
    finally:
        codes = cluster.stop()
    assert codes == {n: 0 for n in IDS}, f"a SIGTERMed node did not exit cleanly: {codes}"


# -- clients that misbehave, and the command line --------------------------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessCluster]:
    c = ProcessCluster(tmp_path_factory.mktemp("shared"), seed=7)
    c.start()
    try:
        yield c
    finally:
        c.stop()


@pytest.mark.anyio
async def test_unauthenticated_clients_and_garbage_frames_do_not_hurt_a_node(shared: ProcessCluster) -> None:
    leader = await shared.wait_leader()
    address = shared.addresses[leader]
    with pytest.raises(HandshakeError, match="secrets differ"):
        await open_connection(address, secret=b"wrong", client_id="mallory", expected_node=leader)
    async with await anyio.connect_tcp(*address) as raw:  # not even a handshake: junk
        await raw.send(b"GET / HTTP/1.1\r\n\r\n" + bytes(200))
    async with await open_connection(address, secret=shared.secret, client_id="fuzz", expected_node=leader) as conn:
        for frame in (b"\x00\xff garbage", b'{"v": 1, "id": 3, "type": "nope"}', b"{}"):
            await conn.send(frame)
            with anyio.fail_after(5):
                response = decode_response(await conn.receive())
            assert isinstance(response, ErrorResponse) and response.code == "bad_request"
        await conn.send(encode(StatusRequest(id=4)))
        with anyio.fail_after(5):
            assert isinstance(decode_response(await conn.receive()), StatusResponse)
    async with shared.client("after-garbage") as client:
        await client.put("still", "serving")
        assert await client.get("still") == "serving"
    log = shared.logs(leader, tail=10_000)
    assert "tcp.connection_rejected" in log and "reason=bad_hmac" in log
    assert "client.bad_request" in log
    assert all(proc.poll() is None for proc in shared.procs.values())


def kv(
    shared: ProcessCluster, *args: str, cluster: str | None = None, timeout: float = 10.0
) -> subprocess.CompletedProcess[str]:
    """``lmteams kv ARGS`` as a subprocess."""
    argv = [*cli("kv"), *args, "--cluster", cluster or shared.cluster_arg, "--secret-file", str(shared.secret_file)]
    argv += ["--timeout", str(timeout)]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=60)


def kv_here(
    shared: ProcessCluster, capsys: pytest.CaptureFixture[str], *args: str, cluster: str | None = None
) -> tuple[int, str, str]:
    """The same command run in this process (the CLI code, without a Python start-up per call)."""
    from lmteams.runtime.cli import kv as kv_cli

    parser = argparse.ArgumentParser(prog="lmteams kv")
    kv_cli._add_actions(parser)  # noqa: SLF001
    argv = [*args, "--cluster", cluster or shared.cluster_arg, "--secret-file", str(shared.secret_file)]
    parsed = parser.parse_args(argv)
    code = kv_cli.run(parsed)
    out, err = capsys.readouterr()
    return code, out, err


def test_kv_command_line_end_to_end(shared: ProcessCluster, capsys: pytest.CaptureFixture[str]) -> None:
    anyio.run(shared.wait_leader)
    put = kv(shared, "put", "cfg", '{"workers": 3}')
    assert (put.returncode, put.stdout) == (0, "ok\n"), put.stderr
    got = kv(shared, "get", "cfg")
    assert (got.returncode, json.loads(got.stdout)) == (0, {"workers": 3}), got.stderr
    mismatch = kv(shared, "cas", "cfg", "1", "2")
    assert (mismatch.returncode, mismatch.stdout) == (1, 'mismatch: found {"workers":3}\n'), mismatch.stderr
    [port] = free_ports(1, offset=5000)
    down = kv(shared, "get", "cfg", cluster=f"a=127.0.0.1:{port}", timeout=1.0)
    assert down.returncode == 3
    assert "no answer from the cluster" in down.stderr and f"127.0.0.1:{port}" in down.stderr, down.stderr

    assert kv_here(shared, capsys, "put", "name", "not json")[:2] == (0, "ok\n")  # not JSON: a string
    assert kv_here(shared, capsys, "get", "name")[:2] == (0, '"not json"\n')
    assert kv_here(shared, capsys, "get", "absent")[:2] == (0, "null\n")
    assert kv_here(shared, capsys, "cas", "cfg", '{"workers": 3}', "4")[:2] == (0, "ok\n")
    assert kv_here(shared, capsys, "get", "cfg")[:2] == (0, "4\n")
    assert kv_here(shared, capsys, "cas", "new", "null", "[1, 2]")[:2] == (0, "ok\n")  # null: absent
    assert kv_here(shared, capsys, "delete", "cfg")[:2] == (0, "ok\n")
    assert kv_here(shared, capsys, "delete", "cfg")[:2] == (0, "ok (it was absent)\n")
    code, out, _ = kv_here(shared, capsys, "status")
    assert code == 0 and out.count("leader=") == 3 and out.count(": leader ") == 1, out
    code, _, err = kv_here(shared, capsys, "put", " ", "1")
    assert code == 2 and "key" in err, err
    code, _, err = kv_here(shared, capsys, "get", "k", cluster="a=nowhere")
    assert code == 2 and "HOST:PORT" in err, err


def node_arguments(*args: str) -> argparse.Namespace:
    from lmteams.runtime.cli import node as node_cli

    parser = argparse.ArgumentParser(prog="lmteams node")
    node_cli._add_arguments(parser)  # noqa: SLF001
    return parser.parse_args(list(args))


def test_node_refuses_bad_arguments(tmp_path: Path) -> None:
    from lmteams.runtime.cli.node import UsageError, build_config

    secret = tmp_path / "secret"
    secret.write_text("  s3cret\n")
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    base = ["--id", "a", "--listen", "127.0.0.1:7001", "--peer", "b=127.0.0.1:7002"]
    good = [*base, "--data", str(tmp_path / "d"), "--secret-file", str(secret)]
    config = build_config(node_arguments(*good))
    assert (config.secret, config.peers, config.listen) == (b"s3cret", {"b": ("127.0.0.1", 7002)}, ("127.0.0.1", 7001))
    assert config.fsync is True and build_config(node_arguments(*good, "--no-fsync")).fsync is False
    cases = [
        ([*good, "--listen", "127.0.0.1"], "HOST:PORT"),
        ([*good, "--listen", "127.0.0.1:70000"], "port"),
        ([*good, "--peer", "a=127.0.0.1:7003"], "unique"),
        ([*good, "--peer", "b=127.0.0.1:7004"], "twice"),
        ([*good, "--peer", "c=127.0.0.1:7002"], "same address"),
        ([*good, "--peer", "127.0.0.1:7005"], "ID=HOST:PORT"),
        ([*good, "--secret-file", str(tmp_path / "missing")], "does not exist"),
        ([*good, "--secret-file", str(empty)], "is empty"),
        ([*good, "--data", str(secret)], "not a directory"),
        ([*good, "--tick-interval", "0"], "tick-interval"),
    ]
    if os.geteuid() != 0:  # root may write anywhere
        readonly = tmp_path / "readonly"
        readonly.mkdir()
        readonly.chmod(0o500)
        cases.append(([*good, "--data", str(readonly / "d")], "not a writable directory"))
    for args, message in cases:
        with pytest.raises(UsageError, match=message):
            build_config(node_arguments(*args))
    # And through a real process: a clear message and exit status 2.
    done = subprocess.run(
        [*cli("node"), *good, "--secret-file", str(empty)],
        capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "lmteams node: error: --secret-file" in done.stderr and "is empty" in done.stderr


def test_report_crash_runs() -> None:
    """Runs last in this file: says how many crash runs were checked for linearizability."""
    print(f"{len(CRASH_RUNS)} crash runs checked:", *CRASH_RUNS, sep="\n  ")
