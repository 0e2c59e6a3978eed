"""Background tasks that can be cancelled without cancelling their owner.

A transport starts its listener and dialers in `__aenter__` and stops them in
`close()`. Cancelling a task group's own cancel scope would also cancel the
body of the owner's ``async with`` block, silently skipping the code that
follows ``await transport.close()``. `BackgroundTasks` gives each task its own
cancel scope instead, so `cancel()` stops exactly the background tasks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self, TypeVarTuple, Unpack

import anyio
from anyio.abc import TaskGroup

__all__ = ["BackgroundTasks", "split_exc_info"]

PosArgs = TypeVarTuple("PosArgs")


class BackgroundTasks:
    """A task group whose tasks are stopped by `cancel()`; the ``async with`` block is their lifetime."""

    def __init__(self) -> None:
        self._task_group: TaskGroup | None = None
        self._scopes: set[anyio.CancelScope] = set()
        self._cancelled = False

    async def __aenter__(self) -> Self:
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        self.cancel()
        assert self._task_group is not None
        return await self._task_group.__aexit__(exc_type, exc, tb)

    def start_soon(self, func: Callable[[Unpack[PosArgs]], Awaitable[object]], *args: *PosArgs) -> None:
        """Run ``func(*args)`` in the background until it returns or `cancel()` is called."""
        if self._task_group is None:
            raise RuntimeError("BackgroundTasks.start_soon() called outside `async with`")
        self._task_group.start_soon(self._run, func, args, name=getattr(func, "__qualname__", None))

    def cancel(self) -> None:
        """Cancel every running task, and every task started from now on."""
        self._cancelled = True
        for scope in list(self._scopes):
            scope.cancel()

    async def _run(self, func: Callable[[Unpack[PosArgs]], Awaitable[object]], args: tuple[*PosArgs]) -> None:
        with anyio.CancelScope() as scope:
            if self._cancelled:
                scope.cancel()
            self._scopes.add(scope)
            try:
                await func(*args)
            finally:
                self._scopes.discard(scope)


def split_exc_info(
    exc_info: tuple[object, ...],
) -> tuple[type[BaseException] | None, BaseException | None, TracebackType | None]:
    """Turn the ``*exc`` arguments of a protocol-style ``__aexit__`` into a typed triple."""
    for item in exc_info:
        if isinstance(item, BaseException):
            return type(item), item, item.__traceback__
    return None, None, None
