"""The generic client of a Raft cluster: find the leader, follow redirects, retry
with backoff, and number commands ``(client_id, seq)`` so that a retry is applied once.

A retry reuses the command's seq, and a state machine that keeps sessions
returns the first result for it. That is what makes "retry until it
answers" safe for a command that is not idempotent by itself (Raft thesis §6.3).

That logic lives once, in `SessionClient`, and knows no state machine: a
`SessionCodec` says how a command and its session coordinates become the
bytes a node proposes. Its subclasses only say how one call reaches one node:

- `NodeClient` calls `RaftNode` objects running in this process (a
  `LocalCluster`'s, or an embedded `NodeProcess`'s), for any state machine;
- the world state's own clients (`consensus.client.world`): `Client` in
  process and `RemoteClient` over TCP, with ``put``/``get``/``cas``/... on top.

For a state machine of your own, `JsonSessions` is a ready codec: the client
sends ``{"client_id", "seq", "ack_below", "command"}`` as JSON, and the
machine reads it back with `JsonSessions.decode` and keeps, per client, the
result of each seq it applied (returning it again for a retry).
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import anyio
import structlog

from lmteams.consensus.errors import ConsensusError, NotLeader, ProposalDropped
from lmteams.consensus.node.raft_node import NodeStopped
from lmteams.transports import Backoff

if TYPE_CHECKING:
    from lmteams.consensus.node.raft_node import RaftNode

__all__ = [
    "DEFAULT_WINDOW",
    "ClientTimeout",
    "JsonSessions",
    "NodeClient",
    "NodeUnreachable",
    "SessionClient",
    "SessionCodec",
    "SessionCommand",
]

log = structlog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_WINDOW = 64
"""Seqs a client keeps open at once by default (the world state remembers as many results per
session); a state machine of your own should remember at least a client's ``window`` results."""


class ClientTimeout(ConsensusError):
    """No answer before the client's deadline. The command may or may not
    have taken effect; retrying it with the same client is safe."""


class NodeUnreachable(ConsensusError):
    """One node could not be reached (refused, reset, failed handshake); the client tries another."""


class SessionCodec(Protocol):
    """How a state machine's commands travel with their session coordinates."""

    def propose(self, client_id: str, seq: int, command: Any, ack_below: int) -> tuple[Any, bytes]:
        """``command`` of session ``client_id`` at ``seq`` (every result below ``ack_below`` has been
        received) as the bytes a node proposes, with whatever form of it a remote client sends."""
        ...

    def describe(self, command: Any) -> str:
        """A short name of ``command`` for error messages."""
        ...


@dataclass(frozen=True, slots=True)
class SessionCommand:
    """A command as `JsonSessions` delivers it to a state machine's ``apply``."""

    client_id: str
    seq: int
    ack_below: int
    command: Any


class JsonSessions:
    """A `SessionCodec` for state machines of your own: commands are JSON values.

    The machine's ``apply(data, stamp)`` calls ``JsonSessions.decode(data)`` and,
    to apply each seq once, remembers per ``client_id`` the result of each seq it
    applied and returns it again for a retry (results below ``ack_below`` may be
    forgotten); its ``query`` receives the client's query as it was given.
    """

    def propose(self, client_id: str, seq: int, command: Any, ack_below: int) -> tuple[Any, bytes]:
        message = {"client_id": client_id, "seq": seq, "ack_below": ack_below, "command": command}
        return message, json.dumps(message, separators=(",", ":")).encode()

    def describe(self, command: Any) -> str:
        return repr(command)[:60]

    @staticmethod
    def decode(data: bytes) -> SessionCommand:
        """The `SessionCommand` that `propose` encoded; ``ValueError`` if ``data`` is not one."""
        try:
            message = json.loads(data)
            return SessionCommand(
                str(message["client_id"]), int(message["seq"]), int(message["ack_below"]), message["command"]
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a JsonSessions command: {data[:80]!r} ({exc})") from None


_RETRYABLE = (NotLeader, ProposalDropped, NodeStopped, NodeUnreachable, TimeoutError)


class SessionClient(ABC, Generic[R]):
    """The session, leader-finding and retry logic shared by every client, for any state machine.

    ``codec`` turns each command and its session coordinates into the bytes a
    node proposes; ``R`` is what the state machine's ``apply`` and ``query`` return.
    Subclasses implement `node_ids` and the two single-node calls
    `_propose_on` and `_read_on`, raising ``NotLeader`` (with a hint),
    ``ProposalDropped``, ``NodeStopped``, `NodeUnreachable` or
    ``TimeoutError`` for what is worth retrying elsewhere or later. Each
    call enforces its own ``timeout`` (raising ``TimeoutError``): a node in
    this process does it for free, where a cancel scope per call cost more
    than the rest of an in-process commit.
    """

    def __init__(
        self,
        client_id: str,
        *,
        codec: SessionCodec,
        seed: int = 0,
        attempt_timeout: float = 1.0,
        deadline: float = 10.0,
        backoff: Backoff | None = None,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        if attempt_timeout <= 0 or deadline <= 0:
            raise ValueError(
                f"attempt_timeout and deadline must be positive seconds, got {attempt_timeout}, {deadline}"
            )
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.client_id = client_id
        self.codec = codec
        self.window = window
        """At most this many seqs from the oldest unanswered one to the newest: keep it within the
        results the state machine remembers per session, so a retry never finds its result forgotten."""
        self._window_moved = anyio.Event()
        self.attempt_timeout = attempt_timeout
        self.deadline = deadline
        self.backoff = backoff or Backoff(base=0.01, cap=0.5)
        self.rng = random.Random(seed)
        self._seq = 0
        self._outstanding: set[int] = set()
        self._leader: str | None = None
        self.retries = 0
        self.last_error: BaseException | None = None

    # -- how one call reaches one node (the subclass's part) ----------------------

    @abstractmethod
    def node_ids(self) -> Sequence[str]:
        """The nodes worth trying now, in a stable order."""

    @abstractmethod
    async def _propose_on(self, node_id: str, proposal: Any, data: bytes, timeout: float) -> R:
        """``node.propose(data)`` on one node, ``TimeoutError`` after ``timeout`` seconds;
        ``proposal, data`` are what ``codec.propose`` made of the command."""

    @abstractmethod
    async def _read_on(self, node_id: str, command: Any, timeout: float) -> R:
        """``node.read(command)`` on one node, ``TimeoutError`` after ``timeout`` seconds."""

    # -- commands -------------------------------------------------------------

    @property
    def leader(self) -> str | None:
        """The node this client believes leads (None until it has found one)."""
        return self._leader

    async def submit(self, command: Any) -> R:
        """Commit ``command`` exactly once (with a state machine that keeps sessions); return its result."""
        # Seq 1 opens the session, so it must be applied before any later seq is;
        # after that, stay within the window of results the machine remembers.
        while self._outstanding and (1 in self._outstanding or self._seq + 1 - min(self._outstanding) >= self.window):
            if self._window_moved.is_set():
                self._window_moved = anyio.Event()
            await self._window_moved.wait()
        self._seq += 1
        seq = self._seq
        self._outstanding.add(seq)
        try:
            proposal, data = self.codec.propose(self.client_id, seq, command, min(self._outstanding))
            return await self._retry(
                lambda node_id, timeout: self._propose_on(node_id, proposal, data, timeout),
                what=f"{self.codec.describe(command)} #{seq}",
            )
        finally:
            self._outstanding.discard(seq)
            self._window_moved.set()

    async def query(self, command: Any) -> R:
        """A linearizable read through the leader (ReadIndex) of the state machine's ``query``; nothing is logged."""
        return await self._retry(
            lambda node_id, timeout: self._read_on(node_id, command, timeout), what=self.codec.describe(command)
        )

    # -- finding the leader and retrying ----------------------------------------------

    async def _retry(self, call: Callable[[str, float], Awaitable[T]], what: str) -> T:
        # Each attempt ends at its timeout or at the call's deadline, whichever comes first;
        # the backoff sleeps never pass the deadline either.
        attempt = 0
        deadline = anyio.current_time() + self.deadline
        while True:
            node_id = self._pick()
            if node_id is not None:
                now = anyio.current_time()
                try:
                    result = await call(node_id, min(self.attempt_timeout, deadline - now))
                    self._leader = node_id
                    return result
                except NotLeader as exc:
                    self.last_error = exc
                    self._leader = exc.leader_hint
                except TimeoutError as exc:
                    if anyio.current_time() >= deadline:
                        break  # the call's deadline passed during the attempt
                    self.last_error = exc
                    self._leader = None
                except _RETRYABLE as exc:
                    self.last_error = exc
                    self._leader = None
            attempt += 1
            self.retries += 1
            left = deadline - anyio.current_time()
            delay = self.backoff.delay(attempt, self.rng)
            if delay >= left:
                await anyio.sleep(max(left, 0.0))
                break
            await anyio.sleep(delay)
        last = f"; last error: {self.last_error}" if self.last_error is not None else ""
        raise ClientTimeout(
            f"{self.client_id}: {what} got no answer within {self.deadline}s; it may or may not have taken effect{last}"
        )

    def _pick(self) -> str | None:
        """The node believed to lead, else any node: its NotLeader answer
        carries the hint to follow next."""
        nodes = self.node_ids()
        if self._leader in nodes:
            return self._leader
        if not nodes:
            return None
        return self.rng.choice(list(nodes))


class HasNodes(Protocol):
    """What `Client` needs: the running nodes of this process by id."""

    @property
    def nodes(self) -> Mapping[str, RaftNode]: ...


class NodeClient(SessionClient[R]):
    """A client of nodes running in this process, for any state machine: calls their `RaftNode` objects directly.

    ``cluster`` is anything with a ``nodes`` mapping (node id -> running `RaftNode`), read
    at each call: a `LocalCluster`, or e.g. ``types.SimpleNamespace(nodes={"a": proc.node})``
    for the node of an embedded `NodeProcess` (it then only reaches that node: use a
    `RemoteClient` to follow the leader elsewhere). ``codec`` says how commands reach the
    state machine (`JsonSessions` for one of your own); `LocalCluster.client` picks it for you.
    """

    def __init__(
        self,
        cluster: HasNodes,
        client_id: str,
        *,
        codec: SessionCodec,
        seed: int = 0,
        attempt_timeout: float = 1.0,
        deadline: float = 10.0,
        backoff: Backoff | None = None,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        super().__init__(
            client_id,
            codec=codec,
            seed=seed,
            attempt_timeout=attempt_timeout,
            deadline=deadline,
            backoff=backoff,
            window=window,
        )
        self.cluster = cluster

    def node_ids(self) -> Sequence[str]:
        return sorted(self.cluster.nodes)

    def _node(self, node_id: str) -> RaftNode:
        node = self.cluster.nodes.get(node_id)
        if node is None:
            raise NodeStopped(f"node {node_id!r} is not running")
        return node

    async def _propose_on(self, node_id: str, proposal: Any, data: bytes, timeout: float) -> R:
        result: R = await self._node(node_id).propose(data, timeout)
        return result

    async def _read_on(self, node_id: str, command: Any, timeout: float) -> R:
        result: R = await self._node(node_id).read(command, timeout)
        return result
