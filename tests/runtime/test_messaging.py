"""Typed messages between agents: request/reply, send and publish, over a lossy memory network and TCP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from pydantic import BaseModel

from lmteams.runtime.messaging import MessageError, MessageTimeout, Messenger
from lmteams.transports import MemoryNetwork, TcpTransport, Transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


class Ping(BaseModel):
    n: int


class Pong(BaseModel):
    n: int
    by: str


class Note(BaseModel):
    text: str


@asynccontextmanager
async def pair(a: Transport, b: Transport) -> AsyncIterator[tuple[Messenger, Messenger]]:
    """Two started messengers, ``b`` answering Ping with Pong(n + 1)."""
    async with a, b, anyio.create_task_group() as tg:
        ma, mb = Messenger("a", a, ["a", "b"]), Messenger("b", b, ["a", "b"])

        async def pong(message: Ping, sender: str) -> Pong:
            return Pong(n=message.n + 1, by=sender)

        mb.handle(Ping, pong)
        tg.start_soon(ma.serve)
        tg.start_soon(mb.serve)
        yield ma, mb
        tg.cancel_scope.cancel()


async def test_request_reply_under_a_lossy_network_answers_or_times_out_never_mixes_replies() -> None:
    network = MemoryNetwork(seed=7, drop=0.3, duplicate=0.2, delay=(0.0, 0.15))  # some replies come late
    async with pair(network.endpoint("a"), network.endpoint("b")) as (a, _):
        answered, timed_out = 0, 0
        for n in range(40):
            try:
                reply = await a.request("b", Ping(n=n), timeout=0.2, reply=Pong)
            except MessageTimeout:
                timed_out += 1
                continue
            assert reply == Pong(n=n + 1, by="a")  # the reply to this request, not a late one to an earlier
            answered += 1
    # Seeded: about half the round trips lose one of their two frames (0.7 * 0.7 get through).
    assert answered + timed_out == 40
    assert answered > 5 and timed_out > 5, (answered, timed_out)
    assert a.sent["ping"] == 40


async def test_duplicated_frames_are_delivered_at_most_once() -> None:
    network = MemoryNetwork(seed=3, duplicate=1.0)
    async with pair(network.endpoint("a"), network.endpoint("b")) as (a, b):
        inbox = b.listen(Note)
        for i in range(5):
            await a.send("b", Note(text=str(i)))
        got: list[str] = []
        with anyio.move_on_after(1.0):
            while len(got) < 6:
                got += [r.message.text for r in await inbox.wait(0.2)]  # type: ignore[attr-defined]
    assert sorted(got) == ["0", "1", "2", "3", "4"]


async def test_a_request_nobody_handles_is_an_error_not_a_hang() -> None:
    network = MemoryNetwork(seed=1)
    async with pair(network.endpoint("a"), network.endpoint("b")) as (a, _):
        with pytest.raises(MessageError, match="no handler for .*Note"):
            await a.request("b", Note(text="?"), timeout=5.0)


async def test_request_send_and_publish_over_tcp_on_loopback() -> None:
    secret = b"test-secret"
    ta = TcpTransport("a", ("127.0.0.1", 0), {"b": None}, secret=secret)
    tb = TcpTransport("b", ("127.0.0.1", 0), {"a": None}, secret=secret)
    async with pair(ta, tb) as (a, b):
        ta.set_peer("b", tb.listen_address)
        tb.set_peer("a", ta.listen_address)
        reply = await a.request("b", Ping(n=41), timeout=5.0, reply=Pong)
        assert reply == Pong(n=42, by="a")
        inbox = a.listen(Note)
        await b.send("a", Note(text="direct"))
        await b.publish("news", Note(text="to all"))
        got: list[tuple[str, str | None]] = []
        with anyio.fail_after(5.0):
            while len(got) < 2:
                got += [(r.message.text, r.topic) for r in await inbox.wait(0.5)]  # type: ignore[attr-defined]
    assert sorted(got, key=str) == sorted([("direct", None), ("to all", "news")], key=str)
