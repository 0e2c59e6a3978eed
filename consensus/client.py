"""Client: finds the leader, follows redirects, retries with backoff, and
numbers its commands ``(client_id, seq)`` so that a retry is applied once.

A retry reuses the command's seq, and the world state machine's sessions
return the first result for it. That is what makes "retry until it
answers" safe for a command that is not idempotent by itself (Raft thesis §6.3).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import anyio
import structlog

from transports import Backoff

from .errors import ConsensusError, NotLeader, ProposalDropped
from .node import NodeStopped, RaftNode
from .world import Applied, Cas, Delete, Get, Proposal, Rejected, encode_proposal
from .world.commands import Put

if TYPE_CHECKING:
    from .cluster import LocalCluster

log = structlog.get_logger(__name__)

_RETRYABLE = (NotLeader, ProposalDropped, NodeStopped, TimeoutError)


class ClientTimeout(ConsensusError):
    """No answer before the client's deadline. The command may or may not
    have taken effect; retrying it with the same client is safe."""


class Client:
    def __init__(
        self,
        cluster: LocalCluster,
        client_id: str,
        *,
        seed: int = 0,
        attempt_timeout: float = 1.0,
        deadline: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.cluster = cluster
        self.client_id = client_id
        self.attempt_timeout = attempt_timeout
        self.deadline = deadline
        self.backoff = backoff or Backoff(base=0.01, cap=0.5)
        self.rng = random.Random(seed)
        self._seq = 0
        self._outstanding: set[int] = set()
        self._leader: str | None = None
        self.retries = 0

    # -- commands -------------------------------------------------------------

    async def submit(self, command: Any) -> Applied | Rejected:
        """Commit ``command`` (a world-state command) exactly once; return its result."""
        self._seq += 1
        seq = self._seq
        self._outstanding.add(seq)
        try:
            data = encode_proposal(
                Proposal(client_id=self.client_id, seq=seq, command=command, stamp=0.0, ack_below=min(self._outstanding))
            )
            return await self._retry(lambda node: node.propose(data), what=f"{command.op} #{seq}")
        finally:
            self._outstanding.discard(seq)

    async def query(self, command: Any) -> Applied | Rejected:
        """A linearizable read through the leader (ReadIndex); nothing is logged."""
        return await self._retry(lambda node: node.read(command), what=command.op)

    async def put(self, key: str, value: Any) -> None:
        self._expect_applied(await self.submit(Put(key=key, value=value)))

    async def get(self, key: str) -> Any:
        return self._expect_applied(await self.query(Get(key=key)))

    async def delete(self, key: str) -> None:
        self._expect_applied(await self.submit(Delete(key=key)))

    async def cas(self, key: str, expected: Any, new: Any) -> bool:
        """True if the value was ``expected`` and is now ``new``."""
        return isinstance(await self.submit(Cas(key=key, expected=expected, new=new)), Applied)

    # -- finding the leader and retrying ----------------------------------------------

    async def _retry(self, call: Any, what: str) -> Any:
        attempt = 0
        with anyio.move_on_after(self.deadline):
            while True:
                node = self._pick()
                if node is not None:
                    try:
                        with anyio.fail_after(self.attempt_timeout):
                            result = await call(node)
                        self._leader = node.id
                        return result
                    except NotLeader as exc:
                        self._leader = exc.leader_hint
                    except _RETRYABLE:
                        self._leader = None
                attempt += 1
                self.retries += 1
                await anyio.sleep(self.backoff.delay(attempt, self.rng))
        raise ClientTimeout(
            f"{self.client_id}: {what} got no answer within {self.deadline}s; it may or may not have taken effect"
        )

    def _pick(self) -> RaftNode | None:
        """The node believed to lead, else any running node: its NotLeader
        answer carries the hint to follow next."""
        nodes = self.cluster.nodes
        if self._leader in nodes:
            return nodes[self._leader]
        if not nodes:
            return None
        return nodes[self.rng.choice(sorted(nodes))]

    @staticmethod
    def _expect_applied(result: Applied | Rejected) -> Any:
        if isinstance(result, Rejected):
            raise ConsensusError(f"rejected ({result.reason}): {result.detail}")
        return result.value
