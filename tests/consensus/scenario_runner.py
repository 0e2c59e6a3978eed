"""A small interpreter for Raft scenario scripts, in the style of etcd's datadriven tests.

A script is blocks of ``command`` / ``----`` / expected output, separated by
blank lines; ``#`` lines are comments. Set ``LMTEAMS_REWRITE_SCENARIOS=1``
to write the actual output into the file (then review the diff by eye).

Commands (nodes are n1, n2, ...):

    add-nodes N [pre_vote=bool] [check_quorum=bool] [max_entries=N] [seed=N]
              [snapshot_threshold=N] [chunk=N]     compaction every N applied entries,
                                                   snapshot chunks of N bytes
              [voters=n1,n2,...]                   the bootstrap configuration (default: all);
                                                   the other nodes start outside it
    conf NODE OP TARGET        propose a configuration change to NODE: OP is add_voter,
                               add_learner, promote or remove; a refusal prints its error
    members                    each node's configuration (voters and learners)
    campaign NODE              start an election on NODE now
    propose NODE VALUE         a client proposal to NODE
    tick NODE|all [N]          tick without delivering anything
    run N                      N full steps: every node ticks, due messages arrive
    stabilize                  deliver everything in flight (and what it causes)
    deliver [from=X] [to=Y] [type=T] [prev=T/I] [offset=N] [n=N]   deliver matching in-flight messages
    drop    (same filters)                             drop matching in-flight messages
    dup     (same filters)                             duplicate matching in-flight messages

Filters: ``type`` is the printed label (App, AppResp, Vote, Snap, ...), ``prev``
matches an append's previous entry (a snapshot chunk's snapshot entry),
``offset`` a snapshot chunk's offset, ``n`` takes the first N in send order.
    partition a b | c d        cut links between the groups
    heal
    crash NODE / restart NODE
    status                     role, term, vote, leader, commit, last index per node
                               (and the snapshot, term/index, once there is one)
    log NODE                   NODE's entries, after its snapshot if it has one
    compact NODE               snapshot NODE's state machine now and compact its log
    snapshot NODE              NODE's stored snapshot and its data
    applied NODE               what NODE's state machine holds (restored + applied)
    in-flight                  the messages on the wire

Output of commands that send or deliver messages is one message per line.
An ``InvariantViolation`` becomes the command's output, so a script that
breaks a safety property fails by its text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lmteams.consensus import ConfChangeRejected, RaftConfig
from lmteams.consensus.core.messages import Message
from lmteams.consensus.testing import InvariantViolation, Simulation


class RecordingMachine:
    """Applies nothing but remembers what it was given."""

    def __init__(self) -> None:
        self.applied: list[object] = []

    def apply(self, command: object) -> object:
        self.applied.append(command)
        return len(self.applied)

    def snapshot(self) -> bytes:
        return json.dumps(self.applied, separators=(",", ":")).encode()

    def restore(self, data: bytes) -> None:
        self.applied = json.loads(data)


@dataclass
class Block:
    line: int
    command: str
    expected: str


def parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        if not raw.strip() or raw.lstrip().startswith("#"):
            i += 1
            continue
        start, command = i + 1, raw.strip()
        i += 1
        if i >= len(lines) or lines[i].strip() != "----":
            raise ValueError(f"line {start}: expected '----' after command {command!r}")
        i += 1
        out: list[str] = []
        while i < len(lines) and lines[i].strip() != "":
            out.append(lines[i].rstrip())
            i += 1
        blocks.append(Block(start, command, "\n".join(out)))
    return blocks


def render(blocks: list[Block], comments_from: str) -> str:
    """Rebuild the file with new outputs, keeping comments in place."""
    out: list[str] = []
    lines = comments_from.splitlines()
    bi = 0
    i = 0
    while i < len(lines):
        raw = lines[i]
        if raw.lstrip().startswith("#") or not raw.strip():
            out.append(raw.rstrip())
            i += 1
            continue
        b = blocks[bi]
        bi += 1
        out.extend([b.command, "----"])
        out.extend(b.expected.splitlines() or [])
        i += 2
        while i < len(lines) and lines[i].strip() != "":
            i += 1
    return "\n".join(out).rstrip() + "\n"


class ScenarioRunner:
    def __init__(self) -> None:
        self.sim: Simulation | None = None

    def run(self, command: str) -> str:
        name, *args = command.split()
        handler: Callable[[list[str]], str] = getattr(self, "cmd_" + name.replace("-", "_"), None)  # type: ignore[assignment]
        if handler is None:
            raise ValueError(f"unknown scenario command {name!r}")
        try:
            return handler(args)
        except InvariantViolation as exc:
            return f"InvariantViolation: {exc.property}: {exc.detail}"

    # -- commands ---------------------------------------------------------------

    def cmd_add_nodes(self, args: list[str]) -> str:
        opts = dict(a.split("=", 1) for a in args[1:])
        cfg = RaftConfig(
            pre_vote=opts.pop("pre_vote", "true") == "true",
            check_quorum=opts.pop("check_quorum", "true") == "true",
            max_entries_per_msg=int(opts.pop("max_entries", "64")),
            snapshot_threshold=int(opts.pop("snapshot_threshold", "0")),
            snapshot_chunk_bytes=int(opts.pop("chunk", str(64 * 1024))),
        )
        seed = int(opts.pop("seed", "0"))
        voters = opts.pop("voters").split(",") if "voters" in opts else None
        if opts:
            raise ValueError(f"unknown add-nodes options {sorted(opts)}")
        self.sim = Simulation(int(args[0]), seed=seed, config=cfg, state_machine=RecordingMachine, voters=voters)
        return self.cmd_status([])

    def cmd_conf(self, args: list[str]) -> str:
        node, op, target = args
        if node in self.s.crashed:
            return f"{node} is down"
        core = self.s.cores[node]
        if core.role.value != "leader":
            return f"NotLeader: leader hint {core.leader_id or '-'}"
        index = core.last_index + 1
        try:
            out = self._sends(lambda: self.s.propose_conf_change(op, target, node=node))
        except ConfChangeRejected as exc:
            return f"{type(exc).__name__}: {exc}"
        return f"proposed {op} {target} at index {index}\n{out}"

    def cmd_members(self, args: list[str]) -> str:
        rows = []
        for n in self.s.ids:
            where = self.s.cores[n] if n not in self.s.crashed else None
            conf = where.membership if where is not None else None
            rows.append(f"{n}: " + (str(conf) if conf is not None else "down"))
        return "\n".join(rows)

    def cmd_campaign(self, args: list[str]) -> str:
        return self._sends(lambda: self.s.campaign(args[0]))

    def cmd_propose(self, args: list[str]) -> str:
        node, value = args[0], " ".join(args[1:])
        if node in self.s.crashed:
            return f"{node} is down"
        core = self.s.cores[node]
        if core.role.value != "leader":
            return f"NotLeader: leader hint {core.leader_id or '-'}"
        index = core.last_index + 1
        out = self._sends(lambda: self.s.propose(value, node=node))
        return f"proposed at index {index}\n{out}"

    def cmd_tick(self, args: list[str]) -> str:
        node = None if args[0] == "all" else args[0]
        times = int(args[1]) if len(args) > 1 else 1
        return self._sends(lambda: self.s.tick(node, times))

    def cmd_run(self, args: list[str]) -> str:
        self.s.run(int(args[0]))
        return self.cmd_status([])

    def cmd_stabilize(self, args: list[str]) -> str:
        lines = []
        for m in self.s.stabilize():
            lines.append(self._show_delivery(m))
        return "\n".join(lines) or "(nothing in flight)"

    def cmd_deliver(self, args: list[str]) -> str:
        picks = self._matching(args)
        lines = []
        for f in picks:
            idx = self.s.in_flight.index(f)
            self.s.deliver(idx)
            lines.append(self._show_delivery(f.message))
        return "\n".join(lines) or "(no matching message)"

    def cmd_drop(self, args: list[str]) -> str:
        picks = self._matching(args)
        for f in picks:
            self.s.in_flight.remove(f)
        return "\n".join(f"dropped {f.message}" for f in picks) or "(no matching message)"

    def cmd_dup(self, args: list[str]) -> str:
        picks = self._matching(args)
        for f in picks:
            self.s.duplicate_message(self.s.in_flight.index(f))
        return "\n".join(f"duplicated {f.message}" for f in picks) or "(no matching message)"

    def cmd_partition(self, args: list[str]) -> str:
        groups = [g.split() for g in " ".join(args).split("|")]
        self.s.partition(*groups)
        return "groups: " + " | ".join(" ".join(sorted(g)) for g in self.s.groups or [])

    def cmd_heal(self, args: list[str]) -> str:
        self.s.heal()
        return "healed"

    def cmd_crash(self, args: list[str]) -> str:
        self.s.crash(args[0])
        return f"{args[0]} crashed"

    def cmd_restart(self, args: list[str]) -> str:
        node = args[0]
        self.s.restart(node)
        hs = self.s.storages[node].initial_state()
        return f"{node} restarted from storage: {hs}, last index {self.s.cores[node].last_index}"

    def cmd_status(self, args: list[str]) -> str:
        rows = []
        for n in self.s.ids:
            if n in self.s.crashed:
                rows.append(f"{n}: down")
                continue
            c = self.s.cores[n]
            snap = self.s.storages[n].snapshot()
            rows.append(
                f"{n}: {c.role.value} term={c.term} vote={c.vote or '-'} lead={c.leader_id or '-'} "
                f"commit={c.commit_index} last={c.last_index}" + (f" snap={snap.meta}" if snap.index else "")
            )
        return "\n".join(rows)

    def cmd_log(self, args: list[str]) -> str:
        node = args[0]
        if node in self.s.crashed:
            storage = self.s.storages[node]
            entries = storage.all_entries()
            first = storage.first_index()
        else:
            c = self.s.cores[node]
            first = c.log.first_index()
            entries = c.log.slice(first, c.last_index + 1)
        text = " ".join(str(e) for e in entries) or "(empty)"
        if first > 1:
            snap_term = (
                self.s.storages[node].term(first - 1)
                if node in self.s.crashed
                else self.s.cores[node].log.term(first - 1)
            )
            text = f"[snapshot {snap_term}/{first - 1}] {text}"
        return text

    def cmd_compact(self, args: list[str]) -> str:
        snap = self.s.compact(args[0])
        return f"{args[0]} compacted: {snap}"

    def cmd_applied(self, args: list[str]) -> str:
        machine = self.s.machines[args[0]]
        assert isinstance(machine, RecordingMachine)
        return " ".join(json.dumps(c) for c in machine.applied) or "(nothing)"

    def cmd_snapshot(self, args: list[str]) -> str:
        snap = self.s.storages[args[0]].snapshot()
        if snap.is_empty():
            return "(no snapshot)"
        return f"{snap} data={snap.data.decode(errors='replace')}"

    def cmd_in_flight(self, args: list[str]) -> str:
        return "\n".join(str(f.message) for f in sorted(self.s.in_flight, key=lambda f: f.seq)) or "(nothing in flight)"

    # -- helpers ---------------------------------------------------------------------

    @property
    def s(self) -> Simulation:
        if self.sim is None:
            raise ValueError("add-nodes first")
        return self.sim

    def _sends(self, action: Callable[[], object]) -> str:
        self.s.sent_log = []
        try:
            action()
            return "\n".join(str(m) for m in self.s.sent_log) or "(no messages)"
        finally:
            self.s.sent_log = None

    def _show_delivery(self, m: Message) -> str:
        lost = m.dst in self.s.crashed or not self.s.connected(m.src, m.dst)
        return f"{m}{'  (lost)' if lost else ''}"

    def _matching(self, args: list[str]):
        opts = dict(a.split("=", 1) for a in args)
        want_type = opts.get("type")
        out = []
        for f in sorted(self.s.in_flight, key=lambda f: f.seq):
            m = f.message
            if "from" in opts and m.src != opts["from"]:
                continue
            if "to" in opts and m.dst != opts["to"]:
                continue
            if want_type and m.type.label != want_type:
                continue
            if "prev" in opts and f"{m.log_term}/{m.index}" != opts["prev"]:
                continue
            if "offset" in opts and m.offset != int(opts["offset"]):
                continue
            out.append(f)
        return out[: int(opts["n"])] if "n" in opts else out


def run_file(path: Path) -> tuple[list[Block], list[Block]]:
    text = path.read_text()
    blocks = parse(text)
    runner = ScenarioRunner()
    actual = [Block(b.line, b.command, runner.run(b.command)) for b in blocks]
    if os.environ.get("LMTEAMS_REWRITE_SCENARIOS"):
        path.write_text(render(actual, text))
    return blocks, actual
