from __future__ import annotations

import time

import anyio
import pytest

from lmteams.runtime.errors import ModelTimeout, ServerError
from lmteams.runtime.resilience import Timeout

from .test_resilience_doubles import Events, SlowModel

pytestmark = pytest.mark.timeout(30)


@pytest.mark.anyio
async def test_expiry_becomes_a_retryable_model_timeout_and_cancels_the_call() -> None:
    events = Events()
    model = SlowModel("slow", [30.0])
    t = Timeout(0.05, name="slow", on_event=events)
    start = time.monotonic()
    with pytest.raises(ModelTimeout) as info:
        await t(lambda: model.complete([]))
    assert time.monotonic() - start < 5
    assert info.value.retryable is True and info.value.model == "slow"
    assert "0.05s" in str(info.value)
    assert model.cancelled == 1 and model.finished == 0
    assert t.timeouts == 1 and events.named("timeout") == [{"seconds": 0.05}]


@pytest.mark.anyio
async def test_a_fast_call_returns_its_value() -> None:
    model = SlowModel("fast", [0.0])
    t = Timeout(5.0)
    completion = await t(lambda: model.complete([]))
    assert completion.text == "slow answer 1" and t.timeouts == 0


@pytest.mark.anyio
async def test_the_calls_own_errors_pass_through_unchanged() -> None:
    async def fails() -> str:
        raise ServerError("500")

    async def own_timeout() -> str:
        raise TimeoutError("socket read timed out")

    t = Timeout(5.0)
    with pytest.raises(ServerError):
        await t(fails)
    with pytest.raises(TimeoutError) as info:
        await t(own_timeout)
    assert not isinstance(info.value, ModelTimeout) and t.timeouts == 0


@pytest.mark.anyio
async def test_outer_cancellation_is_not_swallowed_or_converted() -> None:
    model = SlowModel("slow", [30.0])
    t = Timeout(10.0)
    after_call = False
    with anyio.move_on_after(0.05) as outer:
        await t(lambda: model.complete([]))
        after_call = True
    assert outer.cancelled_caught and not after_call
    assert model.cancelled == 1 and t.timeouts == 0


@pytest.mark.anyio
async def test_cancelling_the_task_group_cancels_the_call_without_model_timeout() -> None:
    model = SlowModel("slow", [30.0])
    t = Timeout(10.0)
    seen: list[BaseException] = []

    async def agent() -> None:
        try:
            await t(lambda: model.complete([]))
        except BaseException as exc:
            seen.append(exc)
            raise

    async with anyio.create_task_group() as tg:
        tg.start_soon(agent)
        await anyio.wait_all_tasks_blocked()
        tg.cancel_scope.cancel()
    assert len(seen) == 1 and isinstance(seen[0], anyio.get_cancelled_exc_class())
    assert model.cancelled == 1 and t.timeouts == 0


def test_seconds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="seconds"):
        Timeout(0)
