"""Length-prefixed frames on anyio byte streams.

A frame is a 4-byte big-endian unsigned length followed by that many payload
bytes. The reader checks the length against `max_frame_size` *before* reading
the payload, so a peer cannot make this node buffer more than that.

`read_frame` and `write_frame` move one frame at a time. The connections of
`transports.tcp` use `FrameReader`, which takes whatever the stream has (up to
``chunk_size`` bytes) in one receive and cuts every frame in it, and
`encode_frames`, which writes many queued frames with one send: the bytes on
the wire are the same, with far fewer trips through the event loop and the
kernel.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import anyio
from anyio.abc import AnyByteSendStream, ByteReceiveStream
from anyio.streams.buffered import BufferedByteReceiveStream

from lmteams.transports.base import FrameTooLarge, IncompleteFrame, TransportConfigError

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "HEADER_SIZE",
    "MAX_LENGTH",
    "FrameReader",
    "check_max_frame_size",
    "encode_frame",
    "encode_frames",
    "read_frame",
    "write_frame",
]

_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size
MAX_LENGTH = 2**32 - 1
"""The largest length the 4-byte header can express."""
DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024


def check_max_frame_size(max_frame_size: int) -> int:
    """Validate a `max_frame_size` argument and return it."""
    if not 0 < max_frame_size <= MAX_LENGTH:
        raise TransportConfigError(f"max_frame_size must be between 1 and {MAX_LENGTH} bytes, got {max_frame_size}")
    return max_frame_size


def encode_frame(payload: bytes, *, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> bytes:
    """Return the header and payload as one byte string; raise `FrameTooLarge` if it is too big."""
    if len(payload) > max_frame_size:
        raise FrameTooLarge(len(payload), max_frame_size)
    return _HEADER.pack(len(payload)) + payload


def encode_frames(payloads: Sequence[bytes], *, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> bytes:
    """Several frames back to back, as one byte string; raise `FrameTooLarge` if any payload is too big."""
    pack = _HEADER.pack
    parts: list[bytes] = []
    for payload in payloads:
        if len(payload) > max_frame_size:
            raise FrameTooLarge(len(payload), max_frame_size)
        parts.append(pack(len(payload)))
        parts.append(payload)
    return b"".join(parts)


async def write_frame(
    stream: AnyByteSendStream, payload: bytes, *, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
) -> None:
    """Write one frame (a single `send`, so TLS sends one record sequence per frame)."""
    await stream.send(encode_frame(payload, max_frame_size=max_frame_size))


async def read_frame(stream: BufferedByteReceiveStream, *, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> bytes:
    """Read one frame and return its payload.

    Raises:
        anyio.EndOfStream: the peer closed the stream cleanly between frames.
        IncompleteFrame: the stream ended inside a header or a payload.
        FrameTooLarge: the header announced more than `max_frame_size` bytes;
            the payload has not been read.
    """
    try:
        header = await stream.receive_exactly(HEADER_SIZE)
    except anyio.IncompleteRead:
        received = len(stream.buffer)
        if received == 0:
            raise anyio.EndOfStream from None
        raise IncompleteFrame(
            f"connection closed after {received} of the {HEADER_SIZE} header bytes of a frame"
        ) from None
    (length,) = _HEADER.unpack(header)
    if length > max_frame_size:
        raise FrameTooLarge(length, max_frame_size)
    if length == 0:
        return b""
    try:
        return await stream.receive_exactly(length)
    except anyio.IncompleteRead:
        raise IncompleteFrame(
            f"connection closed after {len(stream.buffer)} of the {length} payload bytes of a frame"
        ) from None


class FrameReader:
    """Reads frames from a byte stream, taking what the stream has in chunks of up to ``chunk_size``.

    `read_frame` asks the stream for exactly the bytes it needs, so it makes two receives
    per frame however many frames the peer's bytes hold; this reader makes one receive for
    all the frames that arrived together. Its errors are `read_frame`'s: ``anyio.EndOfStream``
    when the stream ends between frames, `IncompleteFrame` inside one, `FrameTooLarge` for a
    header over ``max_frame_size`` (raised before the payload is waited for, so at most
    ``max_frame_size + chunk_size`` bytes are ever held; close the connection then).

    ``stream`` may be a ``BufferedByteStream`` that was used for a handshake: its
    ``receive`` hands over what it has buffered first. Read frames through one reader only.
    """

    __slots__ = ("_buffer", "_start", "_stream", "chunk_size", "max_frame_size")

    def __init__(
        self,
        stream: ByteReceiveStream,
        *,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        chunk_size: int = 65536,
    ) -> None:
        if chunk_size < 1:
            raise TransportConfigError(f"chunk_size must be at least 1 byte, got {chunk_size}")
        self._stream = stream
        self.max_frame_size = check_max_frame_size(max_frame_size)
        self.chunk_size = chunk_size
        self._buffer = bytearray()
        self._start = 0  # the received bytes not handed out yet are _buffer[_start:]

    @property
    def buffered(self) -> int:
        """Bytes received but not handed out as frames yet."""
        return len(self._buffer) - self._start

    async def receive(self) -> bytes:
        """The next frame's payload."""
        if len(self._buffer) - self._start < HEADER_SIZE:
            await self._fill(HEADER_SIZE, None)
        buffer, start = self._buffer, self._start
        (length,) = _HEADER.unpack_from(buffer, start)
        if length > self.max_frame_size:
            raise FrameTooLarge(length, self.max_frame_size)
        end = start + HEADER_SIZE + length
        if len(buffer) < end:
            await self._fill(HEADER_SIZE + length, length)
            buffer, start = self._buffer, self._start
            end = start + HEADER_SIZE + length
        payload = bytes(memoryview(buffer)[start + HEADER_SIZE : end])
        if end == len(buffer):
            buffer.clear()
            self._start = 0
        else:
            self._start = end
        return payload

    async def _fill(self, need: int, length: int | None) -> None:
        """Receive until ``need`` bytes are buffered; ``length`` is the payload's, or None for a header."""
        buffer = self._buffer
        if self._start:
            del buffer[: self._start]  # only the tail of one frame is left: a short move
            self._start = 0
        while len(buffer) < need:
            try:
                chunk = await self._stream.receive(self.chunk_size)
            except anyio.EndOfStream:
                if length is None:
                    if not buffer:
                        raise
                    raise IncompleteFrame(
                        f"connection closed after {len(buffer)} of the {HEADER_SIZE} header bytes of a frame"
                    ) from None
                raise IncompleteFrame(
                    f"connection closed after {len(buffer) - HEADER_SIZE} of the {length} payload bytes of a frame"
                ) from None
            buffer += chunk
