"""MemoryNetwork: delivery, seeded faults, partitions, bounded buffers, crash and restart."""

from __future__ import annotations

from collections import Counter

import anyio
import pytest

from lmteams.transports import (
    MemoryEndpoint,
    MemoryNetwork,
    NodeIdInUse,
    Transport,
    TransportClosed,
    TransportConfigError,
    TransportError,
    UnknownPeer,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]  # a hang fails in 30 s, not 300


async def drain(endpoint: MemoryEndpoint) -> list[tuple[str, bytes]]:
    """Everything already delivered to an endpoint (immediate delivery only)."""
    items = []
    with anyio.fail_after(1):
        for _ in range(endpoint.pending()):
            items.append(await endpoint.__anext__())
    return items


async def test_endpoints_exchange_messages(receive) -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a, network.endpoint("b") as b:
        assert isinstance(a, Transport)
        await a.send("b", b"ping")
        assert await receive(b, 1) == [("a", b"ping")]
        await b.send("a", b"pong")
        assert await receive(a, 1) == [("b", b"pong")]
        assert (a.stats.sent, a.stats.received, b.stats.sent, b.stats.received) == (1, 1, 1, 1)


async def test_endpoints_work_without_async_with(receive) -> None:
    network = MemoryNetwork()
    a, b = network.endpoint("a"), network.endpoint("b")
    await a.send("b", b"direct")
    assert await receive(b, 1) == [("a", b"direct")]
    await a.close()
    await b.close()


async def test_a_node_can_send_to_itself(receive) -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a:
        network.isolate("a")
        await a.send("a", b"note to self")
        assert await receive(a, 1) == [("a", b"note to self")]


async def test_send_to_unknown_peer_raises() -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a:
        with pytest.raises(UnknownPeer, match="'nobody'"):
            await a.send("nobody", b"x")
        assert a.stats.sent == 0


async def test_send_takes_bytes_and_copies_mutable_buffers(receive) -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a, network.endpoint("b") as b:
        buffer = bytearray(b"original")
        await a.send("b", buffer)  # type: ignore[arg-type]  # accepted at runtime, copied
        buffer[:] = b"changed!"
        assert await receive(b, 1) == [("a", b"original")]
        with pytest.raises(TypeError, match="encode"):
            await a.send("b", "a str")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await a.send("b", 5)  # type: ignore[arg-type]


async def test_send_after_close_raises() -> None:
    network = MemoryNetwork()
    async with network.endpoint("b"):
        a = network.endpoint("a")
        await a.close()
        with pytest.raises(TransportClosed):
            await a.send("b", b"x")


async def test_close_ends_iteration_of_a_waiting_consumer() -> None:
    network = MemoryNetwork()
    a = network.endpoint("a")
    received: list[tuple[str, bytes]] = []
    finished = anyio.Event()

    async def consume() -> None:
        async for item in a:
            received.append(item)
        finished.set()

    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await anyio.sleep(0.01)
            await a.close()
            await a.close()  # idempotent
            await finished.wait()
    assert received == []


async def test_code_after_close_inside_async_with_still_runs() -> None:
    network = MemoryNetwork(delay=(0.01, 0.02))
    reached = False
    async with network.endpoint("a") as a:
        await a.close()
        await anyio.sleep(0)
        reached = True
    assert reached


async def test_same_seed_same_faults_different_seed_different_faults() -> None:
    async def run(seed: int) -> tuple[Counter[bytes], int, int]:
        network = MemoryNetwork(seed=seed, drop=0.3, duplicate=0.3, buffer=1000)
        async with network.endpoint("a") as a, network.endpoint("b") as b:
            for i in range(200):
                await a.send("b", b"%d" % i)
            received = Counter(data for _, data in await drain(b))
            return received, a.stats.dropped_fault, a.stats.duplicated

    first, dropped, duplicated = await run(seed=1)
    again, _, _ = await run(seed=1)
    other, _, _ = await run(seed=2)
    assert first == again
    assert first != other
    assert dropped > 0 and duplicated > 0
    assert 2 in first.values()  # some messages really arrived twice
    assert sum(first.values()) == 200 - dropped + duplicated


async def test_zero_fault_probabilities_deliver_everything_once() -> None:
    network = MemoryNetwork(seed=3)
    async with network.endpoint("a") as a, network.endpoint("b") as b:
        for i in range(100):
            await a.send("b", b"%d" % i)
        assert [data for _, data in await drain(b)] == [b"%d" % i for i in range(100)]


async def test_delay_delivers_later_and_reorders(receive) -> None:
    network = MemoryNetwork(seed=5, delay=(0.01, 0.08))
    async with network.endpoint("a") as a, network.endpoint("b") as b:
        sent = [b"%02d" % i for i in range(20)]
        for data in sent:
            await a.send("b", data)
        assert a.stats.delayed == 20  # every copy was scheduled, none delivered inline
        arrived = [data for _, data in await receive(b, 20, 2.0)]
        assert sorted(arrived) == sent
        assert arrived != sent


async def test_delay_needs_the_senders_task_group() -> None:
    network = MemoryNetwork(delay=(0.01, 0.02))
    async with network.endpoint("b"):
        a = network.endpoint("a")
        with pytest.raises(TransportError, match="async with"):
            await a.send("b", b"x")
        await a.close()


async def test_close_does_not_wait_for_delayed_messages() -> None:
    network = MemoryNetwork(delay=(30.0, 30.0))
    with anyio.fail_after(2):
        async with network.endpoint("a") as a, network.endpoint("b"):
            await a.send("b", b"slow")
            assert a.stats.delayed == 1


async def test_partition_drops_between_groups_and_heal_restores(receive) -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a, network.endpoint("b") as b, network.endpoint("c") as c:
        network.partition({"a"}, {"b", "c"})
        await a.send("b", b"a->b")
        await b.send("a", b"b->a")
        await b.send("c", b"b->c")
        assert await receive(c, 1) == [("b", b"b->c")]
        assert a.pending() == 0 and b.pending() == 0
        assert a.stats.dropped_partition == 1 and b.stats.dropped_partition == 1
        assert not network.connected("a", "c")

        network.heal()
        await a.send("b", b"healed")
        assert await receive(b, 1) == [("a", b"healed")]


async def test_nodes_not_named_in_a_partition_form_one_group(receive) -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a, network.endpoint("b") as b, network.endpoint("c") as c:
        network.partition({"a"})
        await b.send("c", b"rest still talk")
        assert await receive(c, 1) == [("b", b"rest still talk")]
        await c.send("a", b"cut off")
        assert a.pending() == 0
        assert c.stats.dropped_partition == 1


async def test_isolate_cuts_one_node_off_and_keeps_the_rest(receive) -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a, network.endpoint("b") as b, network.endpoint("c") as c:
        network.partition({"a", "b"}, {"c"})
        network.isolate("b")
        await a.send("b", b"x")
        await b.send("a", b"x")
        await b.send("c", b"x")
        assert (a.pending(), b.pending(), c.pending()) == (0, 0, 0)
        assert not network.connected("a", "c")  # the earlier partition still holds
        network.heal()
        await b.send("a", b"back")
        assert await receive(a, 1) == [("b", b"back")]


async def test_delayed_message_is_dropped_if_a_partition_starts_in_flight(receive) -> None:
    network = MemoryNetwork(delay=(0.05, 0.05))
    async with network.endpoint("a") as a, network.endpoint("b") as b:
        await a.send("b", b"in flight")
        network.isolate("b")
        with anyio.fail_after(2):
            while a.stats.dropped_partition == 0:
                await anyio.sleep(0.01)
        assert b.pending() == 0


def test_partition_arguments_are_checked() -> None:
    network = MemoryNetwork()
    with pytest.raises(TransportConfigError, match="collections"):
        network.partition("ab")  # a string is not a group
    with pytest.raises(TransportConfigError, match="more than one"):
        network.partition({"a", "b"}, {"b"})


@pytest.mark.parametrize(
    "kwargs",
    [{"drop": 1.5}, {"duplicate": -0.1}, {"delay": (0.2, 0.1)}, {"delay": (-1.0, 0.0)}, {"buffer": 0}],
)
def test_network_arguments_are_checked(kwargs: dict[str, object]) -> None:
    with pytest.raises(TransportConfigError):
        MemoryNetwork(**kwargs)  # type: ignore[arg-type]


async def test_full_buffer_drops_instead_of_blocking(receive) -> None:
    network = MemoryNetwork(buffer=4)
    async with network.endpoint("a") as a, network.endpoint("b") as b:
        with anyio.fail_after(1):
            for i in range(10):
                await a.send("b", b"%d" % i)
        assert b.pending() == 4
        assert a.stats.dropped_queue_full == 6
        assert await receive(b, 4) == [("a", b"%d" % i) for i in range(4)]


async def test_sending_to_a_closed_endpoint_is_dropped_silently() -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a:
        b = network.endpoint("b")
        await b.close()
        await a.send("b", b"anyone there?")
        assert a.stats.dropped_peer_down == 1


async def test_closing_drops_buffered_messages() -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a:
        b = network.endpoint("b")
        await a.send("b", b"unread")
        await b.close()
        assert [item async for item in b] == []


async def test_endpoint_can_be_recreated_after_close(receive) -> None:
    network = MemoryNetwork()
    async with network.endpoint("a") as a:
        old = network.endpoint("b")
        with pytest.raises(NodeIdInUse):
            network.endpoint("b")
        await old.close()
        async with network.endpoint("b") as restarted:
            assert restarted is not old
            await a.send("b", b"after restart")
            assert await receive(restarted, 1) == [("a", b"after restart")]
            assert restarted.stats.received == 1
        assert old.stats.received == 0
        with pytest.raises(TransportClosed):
            async with old:
                pass
