"""FrameReader (many frames per receive) and encode_frames (many frames per send): same bytes, same errors."""

from __future__ import annotations

import struct

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from hypothesis import given, settings
from hypothesis import strategies as st

from transports import FrameTooLarge, IncompleteFrame, TransportConfigError
from transports.framing import FrameReader, encode_frame, encode_frames


def chunked(data: bytes, cuts: list[int]) -> BufferedByteReceiveStream:
    """A byte stream that delivers ``data`` split at ``cuts``, then ends."""
    send, receive = anyio.create_memory_object_stream[bytes](len(cuts) + 2)
    previous = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        if cut > previous:
            send.send_nowait(data[previous:cut])
            previous = cut
    send.close()
    return BufferedByteReceiveStream(receive)


async def read_all(reader: FrameReader) -> list[bytes]:
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
        stream = chunked(wire, cuts)
        reader = FrameReader(stream, chunk_size=chunk_size)
        frames = await read_all(reader)
        assert reader.buffered == 0
        return frames

    assert anyio.run(main, backend="asyncio") == payloads


@pytest.mark.anyio
async def test_bytes_left_in_a_handshake_buffer_come_first() -> None:
    stream = chunked(encode_frame(b"second") + encode_frame(b"third"), [3])
    stream.feed_data(encode_frame(b"first")[:6])  # what the handshake's reads left behind
    stream.feed_data(encode_frame(b"first")[6:])
    assert await read_all(FrameReader(stream)) == [b"first", b"second", b"third"]


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
async def test_frame_of_exactly_the_limit_is_accepted() -> None:
    reader = FrameReader(chunked(encode_frame(b"x" * 64, max_frame_size=64), [10]), max_frame_size=64)
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
async def test_stream_cut_mid_frame_raises_incomplete_frame(wire: bytes, message: str) -> None:
    reader = FrameReader(chunked(wire, [1]))
    with pytest.raises(IncompleteFrame, match=message):
        await read_all(reader)


def test_encode_frames_refuses_an_oversized_payload() -> None:
    with pytest.raises(FrameTooLarge):
        encode_frames([b"ok", b"abcd"], max_frame_size=3)
    assert encode_frames([]) == b""


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(TransportConfigError):
        FrameReader(chunked(b"", []), chunk_size=0)
    with pytest.raises(TransportConfigError):
        FrameReader(chunked(b"", []), max_frame_size=0)
