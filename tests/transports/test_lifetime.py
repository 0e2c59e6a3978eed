"""AsyncLifetime and stoppable_task_group: the one idiom for long-lived objects' tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from lmteams.transports import AlreadyRunning, AsyncLifetime, stoppable_task_group

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(10)]


class Ticker(AsyncLifetime):
    """Counts in a background task while its ``async with`` block runs; ``stop()`` ends the counting."""

    def __init__(self, fail_on_start: bool = False) -> None:
        self.fail_on_start = fail_on_start
        self.ticks = 0
        self.events: list[str] = []
        self._tasks: anyio.abc.TaskGroup | None = None

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        self.events.append("start")
        if self.fail_on_start:
            raise ValueError("cannot start")
        async with stoppable_task_group() as tasks:
            self._tasks = tasks
            tasks.start_soon(self._count)
            try:
                yield
            finally:
                self.events.append("stop")

    async def _count(self) -> None:
        while True:
            self.ticks += 1
            await anyio.sleep(0.001)

    def stop(self) -> None:
        assert self._tasks is not None
        self._tasks.cancel_scope.cancel()


async def test_tasks_run_inside_the_block_and_stop_when_it_ends() -> None:
    ticker = Ticker()
    async with ticker as entered:
        assert entered is ticker
        await anyio.sleep(0.02)
        assert ticker.ticks > 0
    stopped_at = ticker.ticks
    await anyio.sleep(0.02)
    assert ticker.ticks == stopped_at
    assert ticker.events == ["start", "stop"]


async def test_stopping_the_tasks_does_not_cancel_the_block() -> None:
    reached = False
    async with Ticker() as ticker:
        await anyio.sleep(0.01)
        ticker.stop()
        await anyio.sleep(0.01)  # a checkpoint: a cancelled block would end here
        stopped_at = ticker.ticks
        await anyio.sleep(0.01)
        assert ticker.ticks == stopped_at
        reached = True
    assert reached


async def test_entering_twice_is_refused_and_the_object_can_run_again_after() -> None:
    ticker = Ticker()
    async with ticker:
        with pytest.raises(AlreadyRunning, match="already running"):
            async with ticker:
                pass
    async with ticker:
        pass
    assert ticker.events == ["start", "stop", "start", "stop"]


async def test_a_failed_start_enters_nothing_and_an_error_in_the_block_passes_through() -> None:
    broken = Ticker(fail_on_start=True)
    with pytest.raises(ValueError, match="cannot start"):
        async with broken:
            raise AssertionError("the block must not run")
    broken.fail_on_start = False
    with pytest.raises(ExceptionGroup) as raised:
        async with broken:
            raise KeyError("from the block")
    assert raised.group_contains(KeyError, match="from the block")
    assert broken.events == ["start", "start", "stop"]
