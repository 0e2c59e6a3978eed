"""The world state's clients: the generic `SessionClient` with world commands on top.

`WorldSessions` is the codec (a command becomes a world ``Proposal``), and
`WorldCommands` adds ``put``, ``get``, ``delete`` and ``cas`` to any session
client whose state machine is a ``WorldState``. `Client` is that in process;
``RemoteClient`` (`consensus.client.remote`) is that over TCP.
"""

from __future__ import annotations

from typing import Any

from lmteams.consensus.client.session import HasNodes, NodeClient, SessionClient
from lmteams.consensus.errors import ConsensusError
from lmteams.consensus.world import DEFAULT_MAX_RESULTS_PER_SESSION, Applied, Cas, Delete, Get, Put, Rejected
from lmteams.consensus.world.commands import client_proposal
from lmteams.transports import Backoff

__all__ = ["WORLD_SESSIONS", "Client", "CommandRejected", "WorldCommands", "WorldSessions"]

WorldResult = Applied | Rejected


class CommandRejected(ConsensusError):
    """The world state committed the command as ``Rejected(reason, detail)``: it changed nothing."""

    def __init__(self, result: Rejected) -> None:
        self.result = result
        super().__init__(f"rejected ({result.reason}): {result.detail}")


class WorldSessions:
    """The `SessionCodec` of the world state: a command travels as a ``Proposal``."""

    def propose(self, client_id: str, seq: int, command: Any, ack_below: int) -> tuple[Any, bytes]:
        return client_proposal(client_id, seq, command, ack_below)

    def describe(self, command: Any) -> str:
        return str(getattr(command, "op", type(command).__name__))


WORLD_SESSIONS = WorldSessions()


class WorldCommands(SessionClient[WorldResult]):
    """``put``/``get``/``delete``/``cas`` for a session client of a ``WorldState``."""

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

    @staticmethod
    def _expect_applied(result: WorldResult) -> Any:
        if isinstance(result, Rejected):
            raise CommandRejected(result)
        return result.value


class Client(NodeClient[WorldResult], WorldCommands):
    """A client of a ``WorldState`` replicated by nodes in this process (see `NodeClient`)."""

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
            cluster,
            client_id,
            codec=WORLD_SESSIONS,
            seed=seed,
            attempt_timeout=attempt_timeout,
            deadline=deadline,
            backoff=backoff,
            window=window,
        )
