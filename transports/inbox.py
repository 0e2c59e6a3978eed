"""Received messages, iterated the same way by every transport."""

from __future__ import annotations

from typing import Self

import anyio
from anyio.lowlevel import checkpoint_if_cancelled
from anyio.streams.memory import MemoryObjectReceiveStream

from lmteams.transports.stats import TransportStats


class InboxIteration:
    """``async for peer, data in transport``: ends when the transport closes.

    Expects ``_closed``, ``_inbox_receive`` and ``stats`` on the transport.
    """

    _closed: bool
    _inbox_receive: MemoryObjectReceiveStream[tuple[str, bytes]]
    stats: TransportStats

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> tuple[str, bytes]:
        if self._closed:
            raise StopAsyncIteration
        # A message already waiting is taken without a trip through the event loop (which
        # ``receive()`` makes even then); a cancelled caller is still stopped here.
        await checkpoint_if_cancelled()
        try:
            item = self._inbox_receive.receive_nowait()
        except anyio.WouldBlock:
            try:
                item = await self._inbox_receive.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                raise StopAsyncIteration from None
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None
        self.stats.received += 1
        return item
