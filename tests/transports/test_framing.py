"""Length-prefixed framing: round trips across arbitrary chunk boundaries, limits, truncation."""

from __future__ import annotations

import struct

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from hypothesis import given, settings
from hypothesis import strategies as st

from transports import FrameTooLarge, IncompleteFrame, TransportConfigError
from transports.framing import HEADER_SIZE, check_max_frame_size, encode_frame, read_frame, write_frame


def chunked_stream(data: bytes, cuts: list[int]) -> BufferedByteReceiveStream:
    """A buffered stream over a real memory object stream that delivers `data` split at `cuts`, then EOF."""
    send, receive = anyio.create_memory_object_stream[bytes](len(cuts) + 2)
    previous = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        if cut > previous:
            send.send_nowait(data[previous:cut])
            previous = cut
    send.close()
    return BufferedByteReceiveStream(receive)


async def read_all(stream: BufferedByteReceiveStream, max_frame_size: int = 1 << 20) -> list[bytes]:
    frames = []
    while True:
        try:
            frames.append(await read_frame(stream, max_frame_size=max_frame_size))
        except anyio.EndOfStream:
            return frames


@settings(max_examples=50, deadline=None)
@given(payloads=st.lists(st.binary(max_size=300), max_size=8), data=st.data())
def test_frames_round_trip_across_any_chunking(payloads: list[bytes], data: st.DataObject) -> None:
    wire = b"".join(encode_frame(p) for p in payloads)
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(wire)), max_size=20))

    async def main() -> list[bytes]:
        async with chunked_stream(wire, cuts) as stream:
            return await read_all(stream)

    assert anyio.run(main, backend="asyncio") == payloads


@pytest.mark.anyio
async def test_write_frame_writes_header_and_payload() -> None:
    send, receive = anyio.create_memory_object_stream[bytes](4)
    async with send, receive:
        await write_frame(send, b"hello")
        await write_frame(send, b"")
        assert receive.receive_nowait() == b"\x00\x00\x00\x05hello"
        assert receive.receive_nowait() == b"\x00\x00\x00\x00"


@pytest.mark.anyio
async def test_oversized_length_is_refused_before_reading_the_payload() -> None:
    async with chunked_stream(struct.pack(">I", 2**32 - 1) + b"0123456789", [4]) as stream:
        with pytest.raises(FrameTooLarge) as raised:
            await read_frame(stream, max_frame_size=1024)
        assert (raised.value.size, raised.value.limit) == (2**32 - 1, 1024)
        assert stream.buffer == b""  # only the header was consumed
        assert await stream.receive() == b"0123456789"  # the payload is still unread


@pytest.mark.anyio
async def test_frame_of_exactly_the_limit_is_accepted() -> None:
    async with chunked_stream(encode_frame(b"x" * 64, max_frame_size=64), []) as stream:
        assert await read_frame(stream, max_frame_size=64) == b"x" * 64


@pytest.mark.anyio
@pytest.mark.parametrize("wire", [b"\x00\x00", b"\x00\x00\x00\x08abc"], ids=["in header", "in payload"])
async def test_stream_cut_mid_frame_raises_incomplete_frame(wire: bytes) -> None:
    async with chunked_stream(wire, [1]) as stream:
        with pytest.raises(IncompleteFrame):
            await read_frame(stream)


@pytest.mark.anyio
async def test_clean_end_between_frames_is_end_of_stream() -> None:
    async with chunked_stream(encode_frame(b"last"), []) as stream:
        assert await read_frame(stream) == b"last"
        with pytest.raises(anyio.EndOfStream):
            await read_frame(stream)


def test_encode_refuses_payloads_over_the_limit() -> None:
    assert len(encode_frame(b"abc", max_frame_size=3)) == HEADER_SIZE + 3
    with pytest.raises(FrameTooLarge):
        encode_frame(b"abcd", max_frame_size=3)


@pytest.mark.parametrize("size", [0, -1, 2**32])
def test_max_frame_size_must_fit_the_header(size: int) -> None:
    with pytest.raises(TransportConfigError):
        check_max_frame_size(size)
