"""Tests for consensus.codec: roundtrip, fuzzing and specific malformed inputs.

The malformed inputs are built by hand from the documented layout (not by
calling ``encode``), so a codec that silently changed its layout would fail
here too.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmteams.consensus import (
    ConfChange,
    ConfChangeOp,
    DecodeError,
    Entry,
    EntryKind,
    Message,
    MessageType,
    decode,
    encode,
)
from lmteams.consensus.node import entry_data

U64 = 2**64 - 1

# version u8 | type u8 | term u64 | log_term u64 | index u64 | commit u64
# | reject u8 | reject_hint u64 | context u64
HEAD = struct.Struct(">BBQQQQBQQ")
ENTRY_HEAD = struct.Struct(">QQBI")
SNAP_TYPES = (MessageType.SNAP, MessageType.SNAP_RESP)


def snap_section(
    offset: int = 0,
    done: int = 0,
    voters: tuple[bytes, ...] = (b"a", b"b"),
    data: bytes = b"",
    learners: tuple[bytes, ...] = (),
) -> bytes:
    """The snapshot section after the entries, laid out by hand: offset u64 | done u8
    | n_voters u8 | n x (len u8 | id) | n_learners u8 | n x (len u8 | id)
    | data_len u32 | data."""
    out = struct.pack(">QBB", offset, done, len(voters))
    for v in voters:
        out += bytes((len(v),)) + v
    out += bytes((len(learners),))
    for v in learners:
        out += bytes((len(v),)) + v
    return out + struct.pack(">I", len(data)) + data


def raw(
    *,
    version: int = 2,
    mtype: int = int(MessageType.APPEND),
    term: int = 5,
    log_term: int = 1,
    index: int = 3,
    commit: int = 2,
    reject: int = 0,
    hint: int = 0,
    context: int = 0,
    src: bytes = b"a",
    dst: bytes = b"b",
    count: int | None = None,
    entries: tuple[tuple[int, int, int, bytes], ...] = (),
    trailer: bytes = b"",
) -> bytes:
    """Bytes laid out by hand as the codec's docstring specifies."""
    out = HEAD.pack(version, mtype, term, log_term, index, commit, reject, hint, context)
    out += bytes((len(src),)) + src + bytes((len(dst),)) + dst
    out += struct.pack(">I", len(entries) if count is None else count)
    for e_term, e_index, kind, data in entries:
        out += ENTRY_HEAD.pack(e_term, e_index, kind, len(data)) + data
    return out + trailer


# -- strategies -----------------------------------------------------------------

node_ids = st.text(min_size=1, max_size=20).filter(lambda s: 0 < len(s.encode()) <= 255)
u64 = st.integers(min_value=0, max_value=U64)
kinds = st.sampled_from(list(EntryKind))


@st.composite
def append_messages(draw: st.DrawFn) -> Message:
    n = draw(st.integers(min_value=0, max_value=6))
    term = draw(st.integers(min_value=1, max_value=U64))
    log_term = draw(st.integers(min_value=0, max_value=term))
    index = draw(st.integers(min_value=0, max_value=U64 - n))
    entries = []
    prev = max(log_term, 1)
    for i in range(1, n + 1):
        e_term = draw(st.integers(min_value=prev, max_value=term))
        prev = e_term
        kind = draw(kinds)
        if kind is EntryKind.CONF_CHANGE:
            data = ConfChange(draw(st.sampled_from(list(ConfChangeOp))), draw(node_ids)).encode()
        elif kind is EntryKind.BATCH:
            commands = draw(st.lists(st.binary(max_size=12), min_size=2, max_size=4))
            data = entry_data.pack(draw(st.floats(allow_nan=False)), commands)[1]
        else:
            data = draw(st.binary(max_size=40))
        entries.append(Entry(e_term, index + i, data, kind))
    return Message(
        MessageType.APPEND,
        draw(node_ids),
        draw(node_ids),
        term,
        log_term=log_term,
        index=index,
        commit=draw(u64),
        entries=tuple(entries),
        reject=draw(st.booleans()),
        reject_hint=draw(u64),
        context=draw(u64),
    )


@st.composite
def other_messages(draw: st.DrawFn) -> Message:
    mtype = draw(st.sampled_from([t for t in MessageType if t is not MessageType.APPEND and t not in SNAP_TYPES]))
    return Message(
        mtype,
        draw(node_ids),
        draw(node_ids),
        draw(u64),
        log_term=draw(u64),
        index=draw(u64),
        commit=draw(u64),
        reject=draw(st.booleans()),
        reject_hint=draw(u64),
        context=draw(u64),
    )


@st.composite
def snapshot_messages(draw: st.DrawFn) -> Message:
    term = draw(st.integers(min_value=1, max_value=U64))
    common = dict(
        index=draw(st.integers(min_value=1, max_value=U64)),
        commit=draw(u64),
        offset=draw(u64),
        reject=draw(st.booleans()),
        reject_hint=draw(u64),
        context=draw(u64),
    )
    if draw(st.booleans()):
        return Message(MessageType.SNAP_RESP, draw(node_ids), draw(node_ids), term, log_term=draw(u64), **common)
    voters = draw(st.lists(node_ids, min_size=1, max_size=5, unique=True))
    return Message(
        MessageType.SNAP,
        draw(node_ids),
        draw(node_ids),
        term,
        log_term=draw(st.integers(min_value=1, max_value=term)),
        done=draw(st.booleans()),
        data=draw(st.binary(max_size=64)),
        voters=tuple(voters),
        learners=tuple(draw(st.lists(node_ids.filter(lambda n: n not in voters), max_size=3, unique=True))),
        **common,
    )


messages = st.one_of(append_messages(), other_messages(), snapshot_messages())


def decode_or_error(data: bytes) -> Message | None:
    """decode() must return a Message or raise DecodeError, nothing else."""
    try:
        m = decode(data)
    except DecodeError:
        return None
    assert isinstance(m, Message)
    return m


# -- roundtrip ---------------------------------------------------------------------


@given(messages)
@settings(max_examples=200)
def test_roundtrip(m: Message) -> None:
    data = encode(m)
    assert isinstance(data, bytes)
    back = decode(data)
    assert back == m
    assert type(back.type) is MessageType
    assert all(type(e.kind) is EntryKind for e in back.entries)
    assert isinstance(back.reject, bool)


@given(messages)
@settings(max_examples=50)
def test_decode_accepts_bytearray_and_memoryview(m: Message) -> None:
    data = encode(m)
    assert decode(bytearray(data)) == m
    assert decode(memoryview(data)) == m


def test_roundtrip_every_type_explicitly() -> None:
    for t in MessageType:
        entries = (Entry(2, 8, b"x"), Entry(3, 9, b"", EntryKind.NOOP)) if t is MessageType.APPEND else ()
        extra: dict[str, object] = {}
        if t is MessageType.SNAP:
            extra = dict(offset=5, done=True, data=b"\x00snap", voters=("n1", "n2", "n3"))
        elif t is MessageType.SNAP_RESP:
            extra = dict(offset=5)
        m = Message(
            t,
            "n1",
            "n2",
            3,
            log_term=2,
            index=7,
            commit=6,
            entries=entries,
            reject=True,
            reject_hint=4,
            context=9,
            **extra,
        )
        assert decode(encode(m)) == m


def test_snapshot_encoding_matches_documented_layout() -> None:
    m = Message(
        MessageType.SNAP,
        "a",
        "b",
        5,
        log_term=4,
        index=9,
        commit=3,
        offset=16,
        done=True,
        data=b"xyz",
        voters=("a", "b"),
    )
    want = raw(
        mtype=int(MessageType.SNAP), log_term=4, index=9, commit=3, trailer=snap_section(16, 1, (b"a", b"b"), b"xyz")
    )
    assert encode(m) == want
    assert decode(want) == m
    resp = Message(MessageType.SNAP_RESP, "a", "b", 5, index=9, offset=19)
    assert encode(resp) == raw(
        mtype=int(MessageType.SNAP_RESP), log_term=0, index=9, commit=0, trailer=snap_section(19, 0, ())
    )


def test_other_types_carry_no_snapshot_fields() -> None:
    with pytest.raises(ValueError, match="only Snap and SnapResp"):
        encode(Message(MessageType.APPEND, "a", "b", 1, data=b"x"))
    with pytest.raises(ValueError, match="only Snap and SnapResp"):
        encode(Message(MessageType.HEARTBEAT, "a", "b", 1, offset=3))


def test_encoding_matches_documented_layout() -> None:
    m = Message(MessageType.APPEND, "a", "b", 5, log_term=1, index=3, commit=2, entries=(Entry(4, 4, b"hi"),))
    assert encode(m) == raw(entries=((4, 4, 0, b"hi"),))


def test_encode_rejects_bad_node_ids() -> None:
    with pytest.raises(ValueError):
        encode(Message(MessageType.HEARTBEAT, "", "b", 1))
    with pytest.raises(ValueError):
        encode(Message(MessageType.HEARTBEAT, "a", "x" * 256, 1))


# -- fuzz --------------------------------------------------------------------------


@given(st.binary(max_size=200))
@settings(max_examples=200)
def test_decode_arbitrary_bytes(data: bytes) -> None:
    decode_or_error(data)


@given(
    st.builds(
        lambda head, tail: head + tail,
        st.builds(
            lambda t, fields: HEAD.pack(2, t, *fields),
            st.integers(0, 255),
            st.tuples(u64, u64, u64, u64, st.integers(0, 255), u64, u64),
        ),
        st.binary(max_size=120),
    )
)
@settings(max_examples=200)
def test_decode_bytes_with_a_valid_looking_header(data: bytes) -> None:
    # Random bytes almost never get past the version byte; these do.
    decode_or_error(data)


@given(messages, st.data())
@settings(max_examples=100)
def test_decode_mutated_encodings(m: Message, data: st.DataObject) -> None:
    enc = encode(m)
    # flip one byte
    pos = data.draw(st.integers(0, len(enc) - 1))
    flip = data.draw(st.integers(1, 255))
    mutated = bytearray(enc)
    mutated[pos] ^= flip
    decode_or_error(bytes(mutated))
    # truncate at every position: never a full message, so always DecodeError
    for cut in range(len(enc)):
        with pytest.raises(DecodeError):
            decode(enc[:cut])
    # append a byte: trailing garbage is an error
    extra = data.draw(st.integers(0, 255))
    with pytest.raises(DecodeError):
        decode(enc + bytes((extra,)))


# -- specific malformed inputs --------------------------------------------------------


def test_reference_raw_message_decodes() -> None:
    # The baseline the malformed cases below deviate from is itself valid.
    m = decode(raw(entries=((4, 4, 0, b"hi"), (5, 5, 1, b""))))
    assert m == Message(
        MessageType.APPEND,
        "a",
        "b",
        5,
        log_term=1,
        index=3,
        commit=2,
        entries=(Entry(4, 4, b"hi"), Entry(5, 5, b"", EntryKind.NOOP)),
    )


def _error(data: bytes) -> str:
    with pytest.raises(DecodeError) as info:
        decode(data)
    return str(info.value).lower()


@pytest.mark.parametrize("version", [1, 3])
def test_wrong_version(version: int) -> None:
    # Version 1 had no learners in the snapshot section and no conf-change entries.
    msg = _error(raw(version=version))
    assert "version" in msg and str(version) in msg


def test_unknown_type() -> None:
    msg = _error(raw(mtype=42))
    assert "type" in msg and "42" in msg


def test_type_zero_is_unknown() -> None:
    assert "type" in _error(raw(mtype=0))


def test_truncated_header() -> None:
    data = raw()
    for cut in (0, 1, HEAD.size - 1):
        msg = _error(data[:cut])
        assert "short" in msg or "truncated" in msg


def test_entries_on_a_non_append_message() -> None:
    msg = _error(raw(mtype=int(MessageType.HEARTBEAT), entries=((4, 4, 0, b""),)))
    assert "entries" in msg and "heartbeat" in msg


def test_non_consecutive_entry_indexes() -> None:
    msg = _error(raw(index=3, entries=((4, 4, 0, b""), (4, 6, 0, b""))))
    assert "consecutive" in msg


def test_first_entry_must_follow_prev_index() -> None:
    msg = _error(raw(index=3, entries=((4, 5, 0, b""),)))
    assert "consecutive" in msg


def test_entry_term_above_message_term() -> None:
    msg = _error(raw(term=5, entries=((6, 4, 0, b""),)))
    assert "term" in msg and "6" in msg


def test_entry_terms_must_not_decrease() -> None:
    msg = _error(raw(term=5, log_term=1, entries=((4, 4, 0, b""), (3, 5, 0, b""))))
    assert "term" in msg


def test_entry_term_below_prev_log_term() -> None:
    msg = _error(raw(term=5, log_term=4, entries=((3, 4, 0, b""),)))
    assert "term" in msg


def test_entry_term_zero() -> None:
    msg = _error(raw(term=5, log_term=0, index=0, entries=((0, 1, 0, b""),)))
    assert "term" in msg


def test_unknown_entry_kind() -> None:
    msg = _error(raw(entries=((4, 4, 7, b""),)))
    assert "kind" in msg


def test_reject_flag_not_boolean() -> None:
    msg = _error(raw(reject=2))
    assert "reject" in msg


def test_trailing_bytes() -> None:
    msg = _error(raw(trailer=b"\x00\x00"))
    assert "trailing" in msg


def test_entry_count_claims_more_entries_than_bytes() -> None:
    msg = _error(raw(count=1_000_000, entries=((4, 4, 0, b""),), trailer=b""))
    assert "1000000" in msg and "entries" in msg


def test_entry_count_of_u32_max_is_rejected_cheaply() -> None:
    msg = _error(raw(count=2**32 - 1))
    assert "entries" in msg


def test_entry_data_length_past_the_end() -> None:
    good = raw(entries=((4, 4, 0, b"abcd"),))
    # Patch the entry's data length (last u32 of the entry header) to 1000.
    data_len_at = len(good) - 4 - 4
    bad = good[:data_len_at] + struct.pack(">I", 1000) + good[data_len_at + 4 :]
    msg = _error(bad)
    assert "truncated" in msg


def test_invalid_utf8_node_id() -> None:
    msg = _error(raw(src=b"\xff\xfe"))
    assert "utf-8" in msg or "utf8" in msg
    msg = _error(raw(dst=b"\xc3"))
    assert "utf-8" in msg or "utf8" in msg


def test_empty_node_id() -> None:
    msg = _error(raw(src=b""))
    assert "empty" in msg and "src" in msg
    msg = _error(raw(dst=b""))
    assert "empty" in msg and "dst" in msg


def test_node_id_length_past_the_end() -> None:
    data = HEAD.pack(2, int(MessageType.VOTE), 1, 0, 0, 0, 0, 0, 0) + bytes((10,)) + b"abc"
    msg = _error(data)
    assert "truncated" in msg and "src" in msg


def test_decode_error_is_a_value_error() -> None:
    # Callers that catch ValueError for bad input also catch DecodeError.
    with pytest.raises(ValueError):
        decode(b"")


# -- snapshot chunks ---------------------------------------------------------------------


def _snap(**kw: object) -> bytes:
    fields = dict(mtype=int(MessageType.SNAP), term=5, log_term=4, index=9, commit=3)
    section = kw.pop("section", snap_section(0, 1, (b"a", b"b"), b"data"))
    fields.update(kw)
    return raw(**fields, trailer=section)  # type: ignore[arg-type]


def test_reference_snapshot_chunk_decodes() -> None:
    m = decode(_snap())
    assert (m.type, m.index, m.log_term, m.offset, m.done, m.data, m.voters) == (
        MessageType.SNAP,
        9,
        4,
        0,
        True,
        b"data",
        ("a", "b"),
    )


def test_snapshot_section_missing() -> None:
    assert "snapshot section" in _error(raw(mtype=int(MessageType.SNAP), log_term=4, index=9))


def test_snapshot_done_flag_not_boolean() -> None:
    assert "done" in _error(_snap(section=snap_section(0, 2)))


@pytest.mark.parametrize(("log_term", "index"), [(0, 9), (4, 0), (0, 0)])
def test_snapshot_of_nothing(log_term: int, index: int) -> None:
    assert "at least 1/1" in _error(_snap(log_term=log_term, index=index))


def test_snapshot_term_above_message_term() -> None:
    assert "newer than the message term" in _error(_snap(log_term=6))


def test_snapshot_without_voters() -> None:
    assert "voters" in _error(_snap(section=snap_section(0, 1, ())))


def test_snapshot_repeated_voters() -> None:
    assert "repeat" in _error(_snap(section=snap_section(0, 1, (b"a", b"a"))))


def test_snapshot_empty_voter_id() -> None:
    assert "empty voter 1" in _error(_snap(section=snap_section(0, 1, (b"a", b""))))


def test_snapshot_data_length_past_the_end() -> None:
    section = snap_section(0, 1, (b"a",), b"abc")[:-1]
    assert "snapshot data" in _error(_snap(section=section))


def test_snapshot_trailing_bytes() -> None:
    assert "trailing" in _error(_snap(section=snap_section() + b"!"))


def test_snap_resp_carries_no_data_or_voters() -> None:
    for section in (snap_section(4, 0, (), b"x"), snap_section(4, 0, (b"a",)), snap_section(4, 1, ())):
        assert "snapresp carries no" in _error(raw(mtype=int(MessageType.SNAP_RESP), trailer=section))


def test_snapshot_learners_roundtrip_in_the_documented_layout() -> None:
    m = Message(
        MessageType.SNAP, "a", "b", 5, log_term=4, index=9, done=True, data=b"d", voters=("a",), learners=("c", "d")
    )
    want = raw(
        mtype=int(MessageType.SNAP),
        log_term=4,
        index=9,
        commit=0,
        trailer=snap_section(0, 1, (b"a",), b"d", (b"c", b"d")),
    )
    assert encode(m) == want and decode(want) == m


def test_snapshot_learner_count_missing() -> None:
    section = struct.pack(">QBB", 0, 1, 1) + b"\x01a"
    assert "learner count" in _error(_snap(section=section))


def test_snapshot_repeated_learners() -> None:
    assert "learners repeat" in _error(_snap(section=snap_section(0, 1, (b"a",), b"", (b"c", b"c"))))


def test_snapshot_learner_that_is_a_voter() -> None:
    assert "both as voters and as learners" in _error(_snap(section=snap_section(0, 1, (b"a", b"b"), b"", (b"b",))))


def test_snapshot_empty_learner_id() -> None:
    assert "empty learner 0" in _error(_snap(section=snap_section(0, 1, (b"a",), b"", (b"",))))


def test_snap_resp_carries_no_learners() -> None:
    assert "snapresp carries no" in _error(
        raw(mtype=int(MessageType.SNAP_RESP), trailer=snap_section(4, 0, (), b"", (b"c",)))
    )


def test_conf_change_entry_roundtrip_and_layout() -> None:
    cc = ConfChange(ConfChangeOp.PROMOTE, "n4")
    assert cc.encode() == b"CC" + bytes((1, 3, 2)) + b"n4"
    m = decode(raw(entries=((4, 4, 2, cc.encode()),)))
    assert m.entries == (Entry(4, 4, cc.encode(), EntryKind.CONF_CHANGE),)
    assert ConfChange.decode(m.entries[0].data) == cc


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"", "too short"),
        (b"XX\x01\x01\x01a", "magic"),
        (b"CC\x02\x01\x01a", "version 2"),
        (b"CC\x01\x00\x01a", "op 0"),
        (b"CC\x01\x05\x01a", "op 5"),
        (b"CC\x01\x01\x00", "does not fit"),
        (b"CC\x01\x01\x02a", "does not fit"),
        (b"CC\x01\x01\x01ab", "does not fit"),
        (b"CC\x01\x01\x01\xff", "utf-8"),
    ],
)
def test_malformed_conf_change_entry_is_refused(payload: bytes, why: str) -> None:
    msg = _error(raw(entries=((4, 4, int(EntryKind.CONF_CHANGE), payload),)))
    assert "entry 4" in msg and why in msg


def test_batch_entry_roundtrip_and_layout() -> None:
    kind, data = entry_data.pack(1.5, [b"ab", b"", b"c"])
    assert kind is EntryKind.BATCH
    assert data == struct.pack(">dII", 1.5, 3, 2) + b"ab" + struct.pack(">II", 0, 1) + b"c"
    m = decode(raw(entries=((4, 4, int(EntryKind.BATCH), data),)))
    assert entry_data.unpack(m.entries[0]) == (1.5, [b"ab", b"", b"c"])
    # One command is a NORMAL entry: the stamp, then the command as is.
    assert entry_data.pack(2.0, [b"x"]) == (EntryKind.NORMAL, struct.pack(">d", 2.0) + b"x")


_STAMPED = struct.pack(">d", 1.0)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"", "too short"),
        (_STAMPED + b"\x00\x00", "before its command count"),
        (_STAMPED + struct.pack(">I", 1) + struct.pack(">I", 0), "holds 1 commands"),
        (_STAMPED + struct.pack(">I", 2) + struct.pack(">I", 0), "length of command 2 of 2"),
        (_STAMPED + struct.pack(">I", 2) + struct.pack(">I", 5) + b"abc", "command 1 of 2 needs 5 bytes, 3 left"),
        (_STAMPED + struct.pack(">II", 2, 0) + struct.pack(">I", 0) + b"z", "1 bytes after its 2 commands"),
    ],
)
def test_malformed_batch_entry_is_refused(payload: bytes, why: str) -> None:
    msg = _error(raw(entries=((4, 4, int(EntryKind.BATCH), payload),)))
    assert "entry 4" in msg and why in msg, msg


def test_snapshot_chunk_with_entries() -> None:
    data = _snap(entries=((4, 10, 0, b"x"),))
    assert "carries no entries" in _error(data)
