"""Loopback ports for tests that start node processes on fixed addresses."""

from __future__ import annotations

import os
import socket


def free_ports(count: int, *, offset: int = 0) -> list[int]:
    """Ports that are free now, below the ephemeral range (an outgoing connection could otherwise
    take a killed node's port before it restarts), from an offset of the pid so parallel runs differ."""
    ports: list[int] = []
    port = 20000 + (os.getpid() * 7919 + offset) % 10000
    while len(ports) < count:
        port += 1
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    return ports
