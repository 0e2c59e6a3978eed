"""Clients: leader-finding, session-keeping ``Client`` (in process) and ``RemoteClient`` (over TCP), with their wire protocol and server."""

from lmteams.consensus.client.protocol import NodeStatus, ServerError
from lmteams.consensus.client.remote import RemoteClient
from lmteams.consensus.client.server import ClientServer
from lmteams.consensus.client.session import Client, ClientTimeout, CommandRejected, NodeUnreachable, SessionClient

__all__ = [
    "Client",
    "ClientServer",
    "ClientTimeout",
    "CommandRejected",
    "NodeStatus",
    "NodeUnreachable",
    "RemoteClient",
    "ServerError",
    "SessionClient",
]
