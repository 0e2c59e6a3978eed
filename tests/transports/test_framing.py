"""Length-prefixed framing: round trips across arbitrary chunk boundaries, limits, truncation."""

from __future__ import annotations

import struct

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from hypothesis import given, settings
from hypothesis import strategies as st

from lmteams.transports import FrameTooLarge, IncompleteFrame, TransportConfigError
from lmteams.transports.framing import (
    HEADER_SIZE,
    FrameReader,
    check_max_frame_size,
    encode_frame,
    encode_frames,
    read_frame,
    write_frame,
)


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


# -- FrameReader (many frames per receive) and encode_frames (many per send) --------------


async def read_all_frames(reader: FrameReader) -> list[bytes]:
    frames = []
    while True:
        try:
            frames.append(await reader.receive())
        except anyio.EndOfStream:
            return frames


@settings(max_examples=60, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=300), max_size=10),
    chunk_size=st.integers(min_value=1, max_value=700),
    data=st.data(),
)
def test_frames_round_trip_across_any_chunking_and_chunk_size(
    payloads: list[bytes], chunk_size: int, data: st.DataObject
) -> None:
    wire = encode_frames(payloads)
    assert wire == b"".join(encode_frame(p) for p in payloads)
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(wire)), max_size=20))

    async def main() -> list[bytes]:
        stream = chunked_stream(wire, cuts)
        reader = FrameReader(stream, chunk_size=chunk_size)
        frames = await read_all_frames(reader)
        assert reader.buffered == 0
        return frames

    assert anyio.run(main, backend="asyncio") == payloads


@pytest.mark.anyio
async def test_bytes_left_in_a_handshake_buffer_come_first() -> None:
    stream = chunked_stream(encode_frame(b"second") + encode_frame(b"third"), [3])
    stream.feed_data(encode_frame(b"first")[:6])  # what the handshake's reads left behind
    stream.feed_data(encode_frame(b"first")[6:])
    assert await read_all_frames(FrameReader(stream)) == [b"first", b"second", b"third"]


@pytest.mark.anyio
async def test_oversized_length_is_refused_without_waiting_for_the_payload() -> None:
    # The payload never arrives (the stream stays open): the reader must not wait for it.
    send, receive = anyio.create_memory_object_stream[bytes](4)
    send.send_nowait(struct.pack(">I", 2**32 - 1) + b"0123")
    reader = FrameReader(BufferedByteReceiveStream(receive), max_frame_size=1024)
    with anyio.fail_after(1):
        with pytest.raises(FrameTooLarge) as raised:
            await reader.receive()
    assert (raised.value.size, raised.value.limit) == (2**32 - 1, 1024)
    send.close()


@pytest.mark.anyio
async def test_frame_reader_accepts_a_frame_of_exactly_the_limit() -> None:
    reader = FrameReader(chunked_stream(encode_frame(b"x" * 64, max_frame_size=64), [10]), max_frame_size=64)
    assert await reader.receive() == b"x" * 64


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"\x00\x00", "after 2 of the 4 header bytes"),
        (b"\x00\x00\x00\x08abc", "after 3 of the 8 payload bytes"),
        (encode_frame(b"whole") + b"\x00\x00\x00\x08abc", "after 3 of the 8 payload bytes"),
    ],
    ids=["in header", "in payload", "after a whole frame"],
)
async def test_frame_reader_raises_incomplete_frame_on_a_cut_stream(wire: bytes, message: str) -> None:
    reader = FrameReader(chunked_stream(wire, [1]))
    with pytest.raises(IncompleteFrame, match=message):
        await read_all_frames(reader)


def test_encode_frames_refuses_an_oversized_payload() -> None:
    with pytest.raises(FrameTooLarge):
        encode_frames([b"ok", b"abcd"], max_frame_size=3)
    assert encode_frames([]) == b""


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(TransportConfigError):
        FrameReader(chunked_stream(b"", []), chunk_size=0)
    with pytest.raises(TransportConfigError):
        FrameReader(chunked_stream(b"", []), max_frame_size=0)
