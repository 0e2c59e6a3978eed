"""Clients of the world state: find the leader, follow redirects, retry with
backoff, and number commands ``(client_id, seq)`` so that a retry is applied once.

A retry reuses the command's seq, and the world state machine's sessions
return the first result for it. That is what makes "retry until it
answers" safe for a command that is not idempotent by itself (Raft thesis §6.3).

That logic lives once, in `SessionClient`. Its subclasses only say how one
call reaches one node:

- `Client` calls `RaftNode` objects running in this process (a `LocalCluster`'s, or an
  embedded `NodeProcess`'s);
- `consensus.remote_client.RemoteClient` sends requests over TCP to node
  processes (``lmteams node``).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio
import structlog

from lmteams.consensus.errors import ConsensusError, NotLeader, ProposalDropped
from lmteams.consensus.node.raft_node import NodeStopped
from lmteams.consensus.world import DEFAULT_MAX_RESULTS_PER_SESSION, Applied, Cas, Delete, Get, Proposal, Rejected
from lmteams.consensus.world.commands import Put, client_proposal
from lmteams.transports import Backoff

if TYPE_CHECKING:
    from lmteams.consensus.node.raft_node import RaftNode

__all__ = ["Client", "ClientTimeout", "CommandRejected", "NodeUnreachable", "SessionClient"]

log = structlog.get_logger(__name__)

T = TypeVar("T")


class ClientTimeout(ConsensusError):
    """No answer before the client's deadline. The command may or may not
    have taken effect; retrying it with the same client is safe."""


class NodeUnreachable(ConsensusError):
    """One node could not be reached (refused, reset, failed handshake); the client tries another."""


class CommandRejected(ConsensusError):
    """The world state committed the command as ``Rejected(reason, detail)``: it changed nothing."""

    def __init__(self, result: Rejected) -> None:
        self.result = result
        super().__init__(f"rejected ({result.reason}): {result.detail}")


_RETRYABLE = (NotLeader, ProposalDropped, NodeStopped, NodeUnreachable, TimeoutError)


class SessionClient(ABC):
    """The session, leader-finding and retry logic shared by every client.

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
        seed: int = 0,
        attempt_timeout: float = 1.0,
        deadline: float = 10.0,
        backoff: Backoff | None = None,
        window: int = DEFAULT_MAX_RESULTS_PER_SESSION,
    ) -> None:
        if attempt_timeout <= 0 or deadline <= 0:
            raise ValueError(
                f"attempt_timeout and deadline must be positive seconds, got {attempt_timeout}, {deadline}"
            )
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.client_id = client_id
        self.window = window
        """At most this many seqs from the oldest unanswered one to the newest: the world
        remembers that many results per session, so a retry never finds its result forgotten."""
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
    async def _propose_on(self, node_id: str, proposal: Proposal, data: bytes, timeout: float) -> Applied | Rejected:
        """``node.propose(data)`` on one node, ``TimeoutError`` after ``timeout`` seconds;
        ``data`` is ``encode_proposal(proposal)``."""

    @abstractmethod
    async def _read_on(self, node_id: str, command: Any, timeout: float) -> Applied | Rejected:
        """``node.read(command)`` on one node, ``TimeoutError`` after ``timeout`` seconds."""

    # -- commands -------------------------------------------------------------

    @property
    def leader(self) -> str | None:
        """The node this client believes leads (None until it has found one)."""
        return self._leader

    async def submit(self, command: Any) -> Applied | Rejected:
        """Commit ``command`` (a world-state command) exactly once; return its result."""
        # Seq 1 opens the session, so it must be applied before any later seq is;
        # after that, stay within the window of results the world remembers.
        while self._outstanding and (1 in self._outstanding or self._seq + 1 - min(self._outstanding) >= self.window):
            if self._window_moved.is_set():
                self._window_moved = anyio.Event()
            await self._window_moved.wait()
        self._seq += 1
        seq = self._seq
        self._outstanding.add(seq)
        try:
            proposal, data = client_proposal(self.client_id, seq, command, min(self._outstanding))
            return await self._retry(
                lambda node_id, timeout: self._propose_on(node_id, proposal, data, timeout),
                what=f"{command.op} #{seq}",
            )
        finally:
            self._outstanding.discard(seq)
            self._window_moved.set()

    async def query(self, command: Any) -> Applied | Rejected:
        """A linearizable read through the leader (ReadIndex); nothing is logged."""
        return await self._retry(lambda node_id, timeout: self._read_on(node_id, command, timeout), what=command.op)

    async def put(self, key: str, value: Any) -> None:
        self._expect_applied(await self.submit(Put(key=key, value=value)))

    async def get(self, key: str) -> Any:
        return self._expect_applied(await self.query(Get(key=key)))

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True if it existed."""
        return bool(self._expect_applied(await self.submit(Delete(key=key))))

    async def cas(self, key: str, expected: Any, new: Any) -> bool:
        """True if the value was ``expected`` and is now ``new``."""
        return isinstance(await self.submit(Cas(key=key, expected=expected, new=new)), Applied)

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

    @staticmethod
    def _expect_applied(result: Applied | Rejected) -> Any:
        if isinstance(result, Rejected):
            raise CommandRejected(result)
        return result.value


class HasNodes(Protocol):
    """What `Client` needs: the running nodes of this process by id."""

    @property
    def nodes(self) -> Mapping[str, RaftNode]: ...


class Client(SessionClient):
    """A client of nodes running in this process: calls their `RaftNode` objects directly.

    ``cluster`` is anything with a ``nodes`` mapping (node id -> running `RaftNode`), read
    at each call: a `LocalCluster`, or e.g. ``types.SimpleNamespace(nodes={"a": proc.node})``
    for the node of an embedded `NodeProcess` (it then only reaches that node: use a
    `RemoteClient` to follow the leader elsewhere).
    """

    def __init__(
        self,
        cluster: HasNodes,
        client_id: str,
        *,
        seed: int = 0,
        attempt_timeout: float = 1.0,
        deadline: float = 10.0,
        backoff: Backoff | None = None,
        window: int = DEFAULT_MAX_RESULTS_PER_SESSION,
    ) -> None:
        super().__init__(
            client_id, seed=seed, attempt_timeout=attempt_timeout, deadline=deadline, backoff=backoff, window=window
        )
        self.cluster = cluster

    def node_ids(self) -> Sequence[str]:
        return sorted(self.cluster.nodes)

    def _node(self, node_id: str) -> Any:
        node = self.cluster.nodes.get(node_id)
        if node is None:
            raise NodeStopped(f"node {node_id!r} is not running")
        return node

    async def _propose_on(self, node_id: str, proposal: Proposal, data: bytes, timeout: float) -> Applied | Rejected:
        return await self._node(node_id).propose(data, timeout)

    async def _read_on(self, node_id: str, command: Any, timeout: float) -> Applied | Rejected:
        return await self._node(node_id).read(command, timeout)
