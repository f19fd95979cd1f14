"""FrameParser: any split or glue, a hard bound on what it holds, typed errors for bad streams."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gadu import packets as p
from gadu.errors import FrameTooLarge, MalformedPacket, ProtocolError, RemoteProtocolError, TruncatedFrame
from gadu.framing import FrameParser
from gadu.limits import MAX_FRAME

S2C = p.Direction.SERVER_TO_CLIENT
C2S = p.Direction.CLIENT_TO_SERVER

SERVER_PACKETS = [
    p.Welcome(0x1234),
    p.Login80Ok(),
    p.NotifyReply80((p.StatusEntry(1001, p.GG_STATUS_AVAIL_DESCR, "jestem"),)),
    p.RecvMsg80.from_send(p.SendMsg80.from_text(1002, 7, "zażółć <gęślą>"), 1001, 99),
    p.Unknown(0x0099, b"\x01\x02"),
    p.SendMsgAck(p.GG_ACK_DELIVERED, 1001, 7),
    p.Pong(),
]
STREAM = b"".join(packet.encode() for packet in SERVER_PACKETS)


def split_at(data: bytes, cuts):
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


@given(st.lists(st.integers(min_value=0), max_size=30))
def test_any_split_gives_the_same_packets(cuts):
    """However the stream is cut into writes (empty ones included), the same packets come out in order."""
    parser = FrameParser(S2C)
    out = []
    for chunk in split_at(STREAM, cuts):
        out.extend(parser.feed(chunk))
        assert parser.buffered <= 8 + MAX_FRAME
    parser.feed_eof()
    assert out == SERVER_PACKETS


def test_one_byte_at_a_time_and_all_glued():
    """The two extremes libgadu was seen to handle: one byte per write, and every packet in one write."""
    parser = FrameParser(S2C)
    out = []
    for i in range(len(STREAM)):
        out.extend(parser.feed(STREAM[i : i + 1]))
    assert out == SERVER_PACKETS
    assert FrameParser(S2C).feed(STREAM * 3) == SERVER_PACKETS * 3


def test_accepts_bytearray_and_memoryview():
    parser = FrameParser(S2C)
    assert parser.feed(bytearray(STREAM[:12])) == [p.Welcome(0x1234)]
    assert parser.feed(memoryview(STREAM)[12:]) == SERVER_PACKETS[1:]


def test_feed_frames_gives_raw_type_and_body():
    """The undecoded view, for relaying or logging: (type, body) pairs, bodies as bytes."""
    frames = FrameParser(C2S).feed_frames(p.Ping().encode() + p.RecvMsgAck(5).encode())
    assert frames == [(0x08, b""), (0x46, struct.pack("<I", 5))]
    assert all(type(body) is bytes for _, body in frames)


def test_a_length_above_the_limit_fails_as_soon_as_the_header_is_complete():
    """A 4 GiB length raises FrameTooLarge at the header's eighth byte, with nothing of the body held."""
    parser = FrameParser(S2C)
    header = struct.pack("<II", 0x2E, 0xFFFFFFFF)
    assert parser.feed(header[:5]) == []
    with pytest.raises(FrameTooLarge) as info:
        parser.feed(header[5:])
    assert (info.value.packet_type, info.value.length, info.value.limit) == (0x2E, 0xFFFFFFFF, MAX_FRAME)
    assert "0x002e" in str(info.value) and "65535" in str(info.value)
    assert parser.buffered == 0


def test_the_limit_is_inclusive_and_configurable():
    """65535 is the largest body libgadu accepts; one more is too large; a parser may set a lower limit."""
    body = b"\x00" * MAX_FRAME
    assert FrameParser(S2C).feed(struct.pack("<II", 0x99, MAX_FRAME) + body) == [p.Unknown(0x99, body)]
    with pytest.raises(FrameTooLarge):
        FrameParser(S2C).feed(struct.pack("<II", 0x99, MAX_FRAME + 1))
    with pytest.raises(FrameTooLarge):
        FrameParser(S2C, max_frame=16).feed(struct.pack("<II", 0x99, 17))
    with pytest.raises(ValueError):
        FrameParser(S2C, max_frame=-1)


def test_end_of_stream_mid_packet_is_truncated_frame():
    """EOF inside a header or a body raises TruncatedFrame saying how much had arrived."""
    parser = FrameParser(S2C)
    parser.feed(STREAM[:3])
    with pytest.raises(TruncatedFrame) as info:
        parser.feed_eof()
    assert (info.value.received, info.value.expected) == (3, 0)
    parser = FrameParser(S2C)
    parser.feed(p.Welcome(1).encode()[:10])
    with pytest.raises(TruncatedFrame, match="10 of 12 bytes"):
        parser.feed_eof()
    FrameParser(S2C).feed_eof()


def test_after_an_error_the_parser_stays_broken():
    """Once the stream is wrong, later bytes cannot resynchronise it: every call raises."""
    parser = FrameParser(S2C)
    with pytest.raises(FrameTooLarge):
        parser.feed(struct.pack("<II", 1, 1 << 20))
    with pytest.raises(RemoteProtocolError, match="earlier error"):
        parser.feed(p.Welcome(1).encode())
    with pytest.raises(RemoteProtocolError, match="earlier error"):
        parser.feed_eof()


def test_a_malformed_known_packet_raises_malformed():
    with pytest.raises(MalformedPacket, match="GG_WELCOME"):
        FrameParser(S2C).feed(struct.pack("<II", 0x01, 2) + b"\x00\x00")


@given(
    st.lists(st.binary(max_size=40), max_size=12),
    st.sampled_from(list(p.Direction)),
    st.sampled_from([16, 64, MAX_FRAME]),
)
def test_any_bytes_give_packets_or_typed_errors_and_stay_bounded(chunks, direction, max_frame):
    """Arbitrary bytes in arbitrary writes: only packets or ProtocolErrors, never more held than
    one header plus one body of the limit."""
    parser = FrameParser(direction, max_frame)
    try:
        for chunk in chunks:
            for packet in parser.feed(chunk):
                assert isinstance(packet, p.Packet)
            assert parser.buffered <= 8 + max_frame
        parser.feed_eof()
    except ProtocolError:
        pass


@given(st.lists(st.tuples(st.integers(0, 0x60), st.binary(max_size=30)), max_size=8), st.data())
def test_framed_garbage_bodies_give_packets_or_typed_errors(frames, data):
    """Well-framed packets with garbage bodies of real types: packets, Unknowns or MalformedPacket."""
    stream = b"".join(struct.pack("<II", kind, len(body)) + body for kind, body in frames)
    cuts = data.draw(st.lists(st.integers(min_value=0), max_size=6))
    parser = FrameParser(data.draw(st.sampled_from(list(p.Direction))))
    try:
        for chunk in split_at(stream, cuts):
            parser.feed(chunk)
        parser.feed_eof()
    except MalformedPacket:
        pass


def test_big_glued_input_is_not_copied_into_the_buffer():
    """Complete frames in a large write are sliced out directly: only the unfinished tail is held."""
    parser = FrameParser(S2C)
    many = p.Pong().encode() * 10000 + p.Welcome(1).encode()[:5]
    assert len(parser.feed(many)) == 10000
    assert parser.buffered == 5


def test_frames_before_a_bad_header_travel_with_the_error():
    """Bad bytes end the stream, but what came whole before them in the same read is not lost."""
    from gadu.errors import FrameTooLarge
    from gadu.framing import FrameParser
    from gadu.packets import Direction, Pong

    parser = FrameParser(Direction.SERVER_TO_CLIENT)
    data = Pong().encode() + Pong().encode() + b"\x01\x00\x00\x00\xff\xff\xff\xff"
    try:
        parser.feed(data)
    except FrameTooLarge as exc:
        assert exc.frames == ((0x0007, b""), (0x0007, b""))
        assert exc.packets == (Pong(), Pong())
    else:
        raise AssertionError("the 4 GiB header was accepted")
