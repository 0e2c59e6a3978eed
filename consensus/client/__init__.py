"""Clients: the generic leader-finding, session-keeping `SessionClient` (any state machine;
`NodeClient` in process, `JsonSessions` as a codec for your own machine), and the world state's
`Client` (in process) and `RemoteClient` (over TCP), with their wire protocol and server."""

from lmteams.consensus.client.protocol import NodeStatus, ServerError
from lmteams.consensus.client.remote import RemoteClient
from lmteams.consensus.client.server import ClientServer
from lmteams.consensus.client.session import (
    ClientTimeout,
    JsonSessions,
    NodeClient,
    NodeUnreachable,
    SessionClient,
    SessionCodec,
    SessionCommand,
)
from lmteams.consensus.client.world import WORLD_SESSIONS, Client, CommandRejected, WorldCommands, WorldSessions

__all__ = [
    "WORLD_SESSIONS",
    "Client",
    "ClientServer",
    "ClientTimeout",
    "CommandRejected",
    "JsonSessions",
    "NodeClient",
    "NodeStatus",
    "NodeUnreachable",
    "RemoteClient",
    "ServerError",
    "SessionClient",
    "SessionCodec",
    "SessionCommand",
    "WorldCommands",
    "WorldSessions",
]
