"""One PySyncObj process for the lmteams benchmarks: a voting node, or a read-only client node.

Started by ``raft_throughput.py`` and ``failover.py`` (never by hand, though it can be):

    python benchmarks/pysyncobj_peer.py node   --self 127.0.0.1:P1 --partner 127.0.0.1:P2 --partner 127.0.0.1:P3 \\
                                               --config default|fast --journal DIR/j1
    python benchmarks/pysyncobj_peer.py client --partner 127.0.0.1:P1 --partner ... --config default|fast

It uses PySyncObj as an installed package (``pip install pysyncobj``): a
``SyncObj`` whose only consumer is ``pysyncobj.batteries.ReplDict``, the
replicated dict PySyncObj ships. A write is ``ReplDict.set(key, value,
callback=...)``; it counts as committed when the callback reports
``FAIL_REASON.SUCCESS``, i.e. once the entry is committed and applied on the
calling node. PySyncObj has no client protocol of its own: an application
calls replicated methods on a SyncObj in its own process (a voter, or a
read-only node that forwards the call to the leader).

The process is driven by JSON lines on stdin and answers with JSON lines on
stdout (one answer per request, in order):

- ``{"cmd": "status"}`` -> ``{"state": 0|1|2, "leader": "host:port"|null, "term": n, "commit": n, ...}``
  (state 2 is leader);
- ``{"cmd": "load", "callers": N, "seconds": S, "warmup": W}`` -> ``{"commits": n, "elapsed": s,
  "latencies_ms": [...], "errors": {...}}``: N callback chains, each a caller with one call
  outstanding at a time (the callback of one call issues the next), measured for S seconds
  after W seconds of warm-up;
- ``{"cmd": "write", "interval": s}`` (client only) starts writing for ever, open loop: a new
  write every ``interval`` seconds (default 0.02), each retried until it commits;
  ``{"cmd": "first_after", "t": T, "timeout": s}`` -> ``{"t": T1}``,
  the ``time.monotonic()`` at which the first write *issued* at or after T (a
  ``time.monotonic()`` of the parent: the clock is system-wide on Linux) was committed,
  or ``{"t": null}`` after the timeout.

``--config default`` is ``SyncObjConf()`` as shipped: appendEntriesUseBatch=True,
appendEntriesPeriod=0.1 s, raftMinTimeout=0.4 s, raftMaxTimeout=1.4 s, no journal
(the log lives in memory). ``--config fast`` is ``appendEntriesUseBatch=False`` with
``journalFile`` set. PySyncObj's FileJournal writes through an mmap and never calls
fsync or msync while running (only on shutdown), so neither configuration makes a
commit durable against power loss; the journal survives a process kill (the page
cache does).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any

from pysyncobj import FAIL_REASON, SyncObj, SyncObjConf
from pysyncobj.batteries import ReplDict

PAYLOAD = "v" * 200


def make_conf(kind: str, journal: str | None) -> SyncObjConf:
    if kind == "default":
        return SyncObjConf()
    if kind == "fast":
        if journal is None:
            raise SystemExit("--config fast needs --journal FILE")
        return SyncObjConf(appendEntriesUseBatch=False, journalFile=journal)
    raise SystemExit(f"unknown --config {kind!r}: use default or fast")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * (len(sorted_values) - 1)))]


class Load:
    """N callers, each a chain of ``ReplDict.set`` calls with one outstanding at a time."""

    def __init__(self, store: ReplDict, callers: int, seconds: float, warmup: float) -> None:
        self.store = store
        self.callers = callers
        self.lock = threading.Lock()
        now = time.monotonic()
        self.measure_from = now + warmup
        self.stop_at = self.measure_from + seconds
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.live = callers
        self.done = threading.Event()
        self.seq = [0] * callers

    def start(self) -> None:
        for i in range(self.callers):
            self._issue(i)

    def _issue(self, i: int) -> None:
        now = time.monotonic()
        if now >= self.stop_at:
            with self.lock:
                self.live -= 1
                if self.live == 0:
                    self.done.set()
            return
        self.seq[i] += 1
        key = f"k{i}-{self.seq[i] % 16}"
        t0 = now

        def callback(result: Any, error: int) -> None:
            t1 = time.monotonic()
            if error == FAIL_REASON.SUCCESS:
                if t0 >= self.measure_from and t1 <= self.stop_at:
                    with self.lock:
                        self.latencies.append(t1 - t0)
            else:
                with self.lock:
                    self.errors[str(error)] = self.errors.get(str(error), 0) + 1
            self._issue(i)

        self.store.set(key, PAYLOAD, callback=callback)


class Writer:
    """Open-loop writes for failover: one new ``set`` every ``interval`` seconds, each retried
    (after 10 ms) until it commits; records when each write was issued and when it committed."""

    def __init__(self, store: ReplDict, interval: float, call_timeout: float = 3.0) -> None:
        self.store = store
        self.interval = interval
        self.call_timeout = call_timeout
        self.lock = threading.Lock()
        self.commits: list[tuple[float, float]] = []  # (issued, committed) in commit order, monotonic
        self.pending: dict[int, tuple[float, float, int]] = {}  # write -> (issued, attempt sent, attempt)
        self.n = 0

    def start(self) -> None:
        threading.Thread(target=self._issuer, daemon=True).start()
        threading.Thread(target=self._watchdog, daemon=True).start()

    def _issuer(self) -> None:
        while True:
            with self.lock:
                self.n += 1
                write = self.n
                t0 = time.monotonic()
                self.pending[write] = (t0, t0, 0)
            self._send(write, 0)
            time.sleep(self.interval)

    def _send(self, write: int, attempt: int) -> None:
        with self.lock:
            if write not in self.pending:
                return
            t0, _, _ = self.pending[write]
            self.pending[write] = (t0, time.monotonic(), attempt)

        def callback(result: Any, error: int) -> None:
            t1 = time.monotonic()
            with self.lock:
                entry = self.pending.get(write)
                if entry is None or entry[2] != attempt:
                    return  # already committed, or the watchdog re-sent it
                if error == FAIL_REASON.SUCCESS:
                    del self.pending[write]
                    self.commits.append((t0, t1))
                    del self.commits[:-5000]
                    return
            # Never sleep here: callbacks run on PySyncObj's tick thread.
            threading.Timer(0.01, self._send, (write, attempt + 1)).start()

        self.store.set(f"w-{write % 16}", PAYLOAD, callback=callback)

    def _watchdog(self) -> None:
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            with self.lock:
                stuck = [(w, a) for w, (_, sent, a) in self.pending.items() if now - sent > self.call_timeout]
            for write, attempt in stuck:  # a call whose callback never came (e.g. sent to a node that died)
                self._send(write, attempt + 1)

    def first_after(self, t: float, timeout: float) -> float | None:
        """When the first write issued at or after ``t`` committed (commits are recorded in order)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for issued, committed in self.commits:
                    if issued >= t:
                        return committed
            time.sleep(0.002)
        return None


def reply(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=["node", "client"])
    parser.add_argument("--self", dest="self_addr", default=None, help="host:port of this voter (node only)")
    parser.add_argument("--partner", action="append", default=[], help="host:port of another voter (repeat)")
    parser.add_argument("--config", choices=["default", "fast"], default="default")
    parser.add_argument("--journal", default=None, help="journal file (needed by --config fast)")
    args = parser.parse_args()
    if args.role == "node" and not args.self_addr:
        raise SystemExit("node needs --self")
    journal = args.journal if args.role == "node" else None
    if args.role == "client" and args.config == "fast":
        # A read-only node keeps no journal of its own; only the forwarding mode matters.
        conf = SyncObjConf(appendEntriesUseBatch=False)
    else:
        conf = make_conf(args.config, journal)
    store = ReplDict()
    self_node = args.self_addr if args.role == "node" else None
    syncobj = SyncObj(self_node, args.partner, conf=conf, consumers=[store])
    writer: Writer | None = None
    reply({"ready": True, "pid": os.getpid()})
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            cmd = req.get("cmd")
            if cmd == "status":
                st = syncobj.getStatus()
                leader = st.get("leader")
                reply(
                    {
                        "state": int(st["state"]),
                        "leader": getattr(leader, "id", None) if leader is not None else None,
                        "term": st["raft_term"],
                        "commit": st["commit_idx"],
                        "applied": st["last_applied"],
                        "has_quorum": bool(st["has_quorum"]),
                        "connected": sum(
                            1 for k, v in st.items() if k.startswith("partner_node_status_server_") and v == 2
                        ),
                    }
                )
            elif cmd == "load":
                load = Load(store, int(req["callers"]), float(req["seconds"]), float(req.get("warmup", 0.5)))
                load.start()
                load.done.wait(float(req["seconds"]) + float(req.get("warmup", 0.5)) + 30)
                with load.lock:
                    lat = sorted(load.latencies)
                reply(
                    {
                        "commits": len(lat),
                        "elapsed": float(req["seconds"]),
                        "latencies_ms": [round(1000 * x, 4) for x in lat],
                        "errors": load.errors,
                    }
                )
            elif cmd == "write":
                if writer is None:
                    writer = Writer(store, float(req.get("interval", 0.02)))
                    writer.start()
                reply({"ok": True})
            elif cmd == "first_after":
                assert writer is not None, "send write first"
                reply({"t": writer.first_after(float(req["t"]), float(req.get("timeout", 30.0)))})
            elif cmd == "quit":
                reply({"ok": True})
                break
            else:
                reply({"error": f"unknown cmd {cmd!r}"})
    finally:
        syncobj.destroy()


if __name__ == "__main__":
    main()
