"""The recovery procedure for a damaged node on a real 3-process cluster under client load:
remove it, wipe it, start it with --join, add it back. Also: a second process on one data directory,
and a --join node that was not removed first (it must not vote)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from .test_processes import IDS, ROOT, ProcessCluster, Workload, cli

pytestmark = [pytest.mark.timeout(180)]


class JoinCluster(ProcessCluster):
    """A ProcessCluster whose next start of a node can carry extra arguments (``--join``)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.extra: dict[str, list[str]] = {}
        self._base = list(self.command)

    def start(self, *nodes: str) -> None:
        for node in nodes or IDS:
            self.command = [*self._base, *self.extra.pop(node, [])]
            super().start(node)
        self.command = self._base

    def wipe(self, node: str) -> None:
        shutil.rmtree(self.root / f"data-{node}")

    async def kv(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[bytes]:
        argv = [
            *cli("kv"), *args, "--cluster", self.cluster_arg, "--secret-file", str(self.secret_file),
            "--timeout", str(timeout),
        ]  # fmt: skip
        return await anyio.run_process(argv, cwd=ROOT, env=self.env, check=False)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[JoinCluster]:
    c = JoinCluster(tmp_path)
    try:
        yield c
    finally:
        c.stop()


@pytest.mark.anyio
async def test_remove_wipe_join_add_under_load_loses_no_acknowledged_write(cluster: JoinCluster) -> None:
    cluster.start()
    leader = await cluster.wait_leader()
    victim = next(n for n in IDS if n != leader)
    work = Workload(cluster, seed=7)

    async def nemesis(w: Workload) -> None:
        await w.wait_for_acks(40)
        cluster.kill(victim)  # its disk is lost
        removed = await cluster.kv("member", "remove", victim)
        assert removed.returncode == 0, removed.stderr.decode()
        await w.wait_for_acks(30)  # the two others carry on
        cluster.wipe(victim)
        cluster.extra[victim] = ["--join"]
        cluster.start(victim)
        added = await cluster.kv("member", "add", victim)
        assert added.returncode == 0, added.stderr.decode() + cluster.all_logs()
        assert f"voters {', '.join(sorted(IDS))}" in added.stdout.decode()
        await w.wait_for_acks(40)

    await work.run(nemesis)
    await work.verify(f"{victim} removed, wiped, joined and added back")
    statuses = await cluster.converged(timeout=30)
    assert not statuses[victim].awaiting_readd
    assert not (cluster.root / f"data-{victim}" / "awaiting-readd").exists()
    # It is a full voter again: the cluster survives losing one of the two others.
    other = next(n for n in IDS if n not in (victim, leader))
    cluster.kill(leader)
    new_leader = await cluster.wait_leader(among=(victim, other))
    assert new_leader in (victim, other)


@pytest.mark.anyio
async def test_a_join_without_removal_does_not_vote_even_after_a_restart(cluster: JoinCluster) -> None:
    cluster.start()
    leader = await cluster.wait_leader()
    victim = next(n for n in IDS if n != leader)
    cluster.kill(victim)
    cluster.wipe(victim)
    cluster.extra[victim] = ["--join"]
    cluster.start(victim)  # the operator skipped `member remove`
    async with cluster.client("observer") as client:
        for restart in (False, True):
            if restart:  # the marker outlives a restart, now that the directory is not empty
                cluster.kill(victim)
                cluster.start(victim)
            status = None
            with anyio.move_on_after(30):
                while True:
                    try:
                        status = await client.status(victim, timeout=0.5)
                    except Exception:  # noqa: BLE001 - still starting
                        status = None
                    if status is not None and status.applied_index > 0:
                        break
                    await anyio.sleep(0.05)
            assert status is not None and status.applied_index > 0, cluster.all_logs()
            assert status.awaiting_readd  # it caught up, as a voter of the old configuration, but refuses votes
            assert (cluster.root / f"data-{victim}" / "awaiting-readd").exists()
    status = await cluster.kv("status")
    assert "AWAITING-READD" in status.stdout.decode()


def test_a_second_process_on_one_data_directory_is_refused(cluster: JoinCluster) -> None:
    cluster.start("a")
    # Wait until the first one holds its lock (its log says it started).
    deadline = time.monotonic() + 30
    while b"node.ready" not in cluster.log_path("a", 1).read_bytes():
        assert time.monotonic() < deadline, cluster.logs("a")
        time.sleep(0.05)
    argv = [
        *cli("node"), "--id", "a", "--listen", "127.0.0.1:1", "--data", str(cluster.root / "data-a"),
        "--secret-file", str(cluster.secret_file),
    ]  # fmt: skip
    second = subprocess.run(argv, cwd=ROOT, env=cluster.env, capture_output=True, timeout=60)
    err = second.stderr.decode()
    assert second.returncode == 1, err
    assert "in use by another process" in err and "Traceback" not in err
    assert cluster.procs["a"].poll() is None  # the first one runs on
