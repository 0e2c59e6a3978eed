"""SessionClient's retry loop: attempt timeouts, the call deadline, redirects and the session seq."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
import pytest

from lmteams.consensus.client.session import ClientTimeout
from lmteams.consensus.client.world import WORLD_SESSIONS, WorldCommands
from lmteams.consensus.errors import NotLeader
from lmteams.consensus.world import Applied, Proposal, Put, Rejected
from lmteams.transports import Backoff

pytestmark = pytest.mark.anyio

FAST = Backoff(base=0.001, cap=0.002)


class Scripted(WorldCommands):
    """Each propose call takes the next step of ``script``: "hang", "ok", or an exception to raise."""

    def __init__(self, script: list[Any], **kwargs: Any) -> None:
        super().__init__("scripted", codec=WORLD_SESSIONS, backoff=FAST, **kwargs)
        self.script = list(script)
        self.calls: list[tuple[str, int, bytes]] = []

    def node_ids(self) -> Sequence[str]:
        return ["a", "b", "c"]

    async def _propose_on(self, node_id: str, proposal: Proposal, data: bytes, timeout: float) -> Applied | Rejected:
        self.calls.append((node_id, proposal.seq, data))
        step = self.script.pop(0) if self.script else "hang"
        if step == "hang":
            with anyio.fail_after(timeout):
                await anyio.sleep_forever()
        if isinstance(step, BaseException):
            raise step
        return Applied(value=step)

    async def _read_on(self, node_id: str, command: Any, timeout: float) -> Applied | Rejected:
        raise AssertionError("not used")


async def put(client: Scripted) -> Applied | Rejected:
    return await client.submit(Put(key="k", value=1))


async def test_a_timed_out_attempt_is_retried_with_the_same_seq_and_bytes() -> None:
    client = Scripted(["hang", "hang", "done"], attempt_timeout=0.05, deadline=5.0)
    result = await put(client)
    assert result == Applied(value="done")
    assert len(client.calls) == 3
    assert {seq for _, seq, _ in client.calls} == {1}
    assert len({data for _, _, data in client.calls}) == 1
    assert client.retries == 2
    assert isinstance(client.last_error, TimeoutError)


async def test_the_deadline_ends_the_call_with_client_timeout_naming_the_last_error() -> None:
    client = Scripted([], attempt_timeout=0.05, deadline=0.3)
    started = anyio.current_time()
    with pytest.raises(
        ClientTimeout, match="got no answer within 0.3s; it may or may not have taken effect; last error"
    ):
        await put(client)
    elapsed = anyio.current_time() - started
    assert 0.3 <= elapsed < 0.6
    assert len(client.calls) >= 3


async def test_a_deadline_shorter_than_one_attempt_cuts_that_attempt() -> None:
    client = Scripted([], attempt_timeout=5.0, deadline=0.1)
    started = anyio.current_time()
    with pytest.raises(ClientTimeout) as raised:
        await put(client)
    assert anyio.current_time() - started < 1.0
    assert client.last_error is None and "last error" not in str(raised.value)
    assert len(client.calls) == 1


async def test_not_leader_hints_are_followed_and_remembered() -> None:
    client = Scripted([NotLeader("a", "c"), "ok"], attempt_timeout=1.0, deadline=5.0)
    client._leader = "a"
    assert await put(client) == Applied(value="ok")
    assert [node for node, _, _ in client.calls] == ["a", "c"]
    assert client.leader == "c"


async def test_cancelling_the_caller_is_not_taken_for_a_timeout() -> None:
    client = Scripted([], attempt_timeout=0.05, deadline=5.0)
    with anyio.move_on_after(0.12) as scope:
        await put(client)
    assert scope.cancelled_caught
    started = anyio.current_time()
    client.script = ["again"]
    assert await put(client) == Applied(value="again")
    assert anyio.current_time() - started < 1.0
