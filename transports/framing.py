"""Length-prefixed frames on anyio byte streams.

A frame is a 4-byte big-endian unsigned length followed by that many payload
bytes. The reader checks the length against `max_frame_size` *before* reading
the payload, so a peer cannot make this node buffer more than that.
"""

from __future__ import annotations

import struct

import anyio
from anyio.abc import AnyByteSendStream
from anyio.streams.buffered import BufferedByteReceiveStream

from transports.base import FrameTooLarge, IncompleteFrame, TransportConfigError

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "HEADER_SIZE",
    "MAX_LENGTH",
    "check_max_frame_size",
    "encode_frame",
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
