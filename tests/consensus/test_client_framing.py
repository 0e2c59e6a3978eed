"""Framing errors on a client connection to a real node are named once, without a traceback."""

from __future__ import annotations

import struct

import anyio
import pytest
from structlog.testing import capture_logs

from lmteams.consensus.cluster.process import NodeProcess
from lmteams.transports import open_connection

from .test_client_protocol import SECRET, cluster, leader_of, remote

__all__ = ["cluster"]

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

BAD_FRAMES = {
    "length 0xFFFFFFFF": (struct.pack(">I", 0xFFFFFFFF), "frame_too_large"),
    "length 5 MiB": (struct.pack(">I", 5 * 2**20) + b"x" * 100, "frame_too_large"),
    "cut frame": (struct.pack(">I", 100) + b"only ten b", "truncated_frame"),
    "cut header": (b"\x00\x00", "truncated_frame"),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_a_bad_client_frame_is_named_once_and_the_node_keeps_serving(
    cluster: dict[str, NodeProcess], name: str
) -> None:
    raw, reason = BAD_FRAMES[name]
    leader = await leader_of(cluster)
    transport = cluster[leader].transport
    assert transport is not None
    with capture_logs() as logs:
        conn = await open_connection(
            cluster[leader].config.listen, secret=SECRET, client_id="bad", expected_node=leader
        )
        await conn._stream.send(raw)  # by hand: the client's own checks would refuse it
        if reason == "truncated_frame":
            await conn.aclose()
        else:
            with anyio.fail_after(5), pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                await conn.receive()  # the node closed the connection
            await conn.aclose()
        with anyio.fail_after(5):
            while transport.stats.rejection_reasons[reason] < 1:
                await anyio.sleep(0.01)
    rejected = [e for e in logs if e["event"] == "tcp.connection_rejected"]
    assert [e["reason"] for e in rejected] == [reason]  # before the fix: internal_error
    assert not [e for e in logs if "exc_info" in e or e.get("log_level") in ("error", "critical")]
    async with remote(cluster) as client:
        await client.put("after", name)
        assert await client.get("after") == name
