"""One idiom for the lifetime of long-lived objects (transports, nodes, clusters).

A long-lived object subclasses `AsyncLifetime` and writes its lifetime as one
``@asynccontextmanager`` method, `_lifetime`: open resources and enter a task
group, start the tasks, ``yield``, clean up. ``async with obj:`` enters that
method through an ``AsyncExitStack``, so the tasks live in a task group that
the object's own ``async with`` block bounds, and nothing runs detached.

`stoppable_task_group` is for objects with a ``close()`` that may be called
inside their ``async with`` block: cancelling it stops exactly its tasks, not
the caller's block.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Self

import anyio
from anyio.abc import TaskGroup, TaskStatus

__all__ = ["AlreadyRunning", "AsyncLifetime", "stoppable_task_group"]


class AlreadyRunning(RuntimeError):
    """``async with`` was entered on an object that is already inside one; create another object."""


class AsyncLifetime:
    """Base class: ``async with obj:`` enters ``obj._lifetime()`` and leaves it on exit."""

    _exit_stack: AsyncExitStack | None = None

    def _lifetime(self) -> AbstractAsyncContextManager[object]:
        """The object's lifetime, written as an ``@asynccontextmanager`` method that yields once."""
        raise NotImplementedError(f"{type(self).__name__} must define _lifetime()")

    async def __aenter__(self) -> Self:
        if self._exit_stack is not None:
            raise AlreadyRunning(f"{type(self).__name__} is already running; leave its `async with` block first")
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(self._lifetime())
            self._exit_stack = stack.pop_all()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        stack, self._exit_stack = self._exit_stack, None
        if stack is None:
            return None
        return await stack.__aexit__(exc_type, exc, tb)


@asynccontextmanager
async def stoppable_task_group() -> AsyncIterator[TaskGroup]:
    """A task group whose ``cancel_scope.cancel()`` stops only its own tasks.

    The group runs inside a task of an enclosing group, so cancelling it does
    not cancel the body of the ``async with`` around it (a task group's own
    scope would). Leaving the block cancels what is still running; a task's
    error propagates as from any task group.
    """
    async with anyio.create_task_group() as outer:
        inner: TaskGroup = await outer.start(_hold_task_group)
        try:
            yield inner
        finally:
            inner.cancel_scope.cancel()


async def _hold_task_group(*, task_status: TaskStatus[TaskGroup]) -> None:
    async with anyio.create_task_group() as tg:
        task_status.started(tg)
        await anyio.sleep_forever()
