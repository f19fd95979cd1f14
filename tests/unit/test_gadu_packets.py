"""Packets: known bytes from docs/protocol.md#packets, round trips of every type, and a catalogue of bad bodies."""
from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gadu import packets as p
from gadu.errors import DescriptionTooLong, LocalProtocolError, MalformedPacket, MessageTooLong
from gadu.hashing import GG_LOGIN_HASH_SHA1, login_hash_field
from gadu.limits import MAX_DESCRIPTION, MAX_FRAME, MAX_MESSAGE

C2S = p.Direction.CLIENT_TO_SERVER
S2C = p.Direction.SERVER_TO_CLIENT
SPAN = "<span style=\"color:#000000; font-family:'MS Shell Dlg 2'; font-size:9pt; \">"

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
descriptions = st.text(max_size=63)
# Every character the CP1250 plain part can carry, NUL aside.
CP1250_CHARS = "".join(
    bytes([b]).decode("cp1250") for b in range(1, 256) if b not in (0x81, 0x83, 0x88, 0x90, 0x98)
)
plains = st.text(alphabet=CP1250_CHARS, max_size=40)
htmls = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)
status_entries = st.builds(p.StatusEntry, u32, u32, descriptions, u32, u32, u16, u8, u8, u32)
notify_entries = st.lists(st.builds(p.NotifyEntry, u32, u8), max_size=5).map(tuple)

PACKETS = {
    p.Welcome: st.builds(p.Welcome, u32),
    p.Login80: st.builds(
        p.Login80, u32, u8, st.binary(min_size=64, max_size=64), u32, u32, u32, st.text(max_size=40),
        descriptions, st.binary(min_size=2, max_size=2), u32, u16, u32, u16, u8, u8,
    ),
    p.Login80Ok: st.just(p.Login80Ok()),
    p.Login80Failed: st.just(p.Login80Failed()),
    p.LoginFailed: st.just(p.LoginFailed()),
    p.NewStatus80: st.builds(p.NewStatus80, u32, u32, descriptions),
    p.Status80: st.builds(p.Status80, status_entries),
    p.NotifyFirst: st.builds(p.NotifyFirst, notify_entries),
    p.NotifyLast: st.builds(p.NotifyLast, notify_entries),
    p.ListEmpty: st.just(p.ListEmpty()),
    p.NotifyReply80: st.builds(p.NotifyReply80, st.lists(status_entries, max_size=4).map(tuple)),
    p.AddNotify: st.builds(p.AddNotify, u32, u8),
    p.RemoveNotify: st.builds(p.RemoveNotify, u32, u8),
    p.SendMsg80: st.builds(p.SendMsg80, u32, u32, u32, htmls, plains, st.binary(max_size=20)),
    p.RecvMsg80: st.builds(p.RecvMsg80, u32, u32, u32, u32, htmls, plains, st.binary(max_size=20)),
    p.SendMsgAck: st.builds(p.SendMsgAck, u32, u32, u32),
    p.RecvMsgAck: st.builds(p.RecvMsgAck, u32),
    p.TypingNotify: st.builds(p.TypingNotify, u16, u32),
    p.Ping: st.just(p.Ping()),
    p.Pong: st.just(p.Pong()),
    p.Disconnecting: st.just(p.Disconnecting()),
    p.DisconnectAck: st.just(p.DisconnectAck()),
}
any_packet = st.one_of(*PACKETS.values())


def frame(packet_type: int, body: bytes) -> bytes:
    return struct.pack("<II", packet_type, len(body)) + body


def test_every_packet_of_the_issue_has_a_strategy():
    """The round-trip property covers every packet type of the issue, in its direction(s)."""
    names = {cls.NAME for cls in PACKETS}
    assert names == {
        "GG_WELCOME", "GG_LOGIN80", "GG_LOGIN80_OK", "GG_LOGIN80_FAILED", "GG_LOGIN_FAILED",
        "GG_NEW_STATUS80", "GG_STATUS80", "GG_NOTIFY_FIRST", "GG_NOTIFY_LAST", "GG_LIST_EMPTY",
        "GG_NOTIFY_REPLY80", "GG_ADD_NOTIFY", "GG_REMOVE_NOTIFY", "GG_SEND_MSG80", "GG_RECV_MSG80",
        "GG_SEND_MSG_ACK", "GG_RECV_MSG_ACK", "GG_TYPING_NOTIFY", "GG_PING", "GG_PONG",
        "GG_DISCONNECTING", "GG_DISCONNECT_ACK",
    }


@given(any_packet)
def test_decode_of_encode_is_identity(packet):
    """decode(encode(p)) == p for every packet type, through the header and the registry."""
    raw = packet.encode()
    kind, length = struct.unpack_from("<II", raw)
    assert kind == packet.TYPE and length == len(raw) - 8
    for direction in packet.DIRECTIONS:
        assert p.decode_packet(direction, kind, raw[8:]) == packet


def test_types_reused_across_directions_decode_by_direction():
    """0x000b and 0x000d mean different packets client->server and server->client."""
    assert p.decode_packet(S2C, 0x000D, b"") == p.DisconnectAck()
    assert p.decode_packet(C2S, 0x000D, struct.pack("<IB", 5, 3)) == p.AddNotify(5, 3)
    assert p.decode_packet(S2C, 0x000B, b"") == p.Disconnecting()
    assert p.decode_packet(C2S, 0x000B, b"xyz") == p.Unknown(0x000B, b"xyz")
    assert p.packet_name(S2C, 0x000D) == "GG_DISCONNECT_ACK"
    assert p.packet_name(C2S, 0x000D) == "GG_ADD_NOTIFY"
    assert p.packet_name(C2S, 0x0099) == "unknown 0x0099"


@given(st.sampled_from(list(p.Direction)), u32, st.binary(max_size=40))
def test_unknown_types_decode_to_unknown_never_raise(direction, kind, body):
    """An unregistered type is an Unknown value that re-encodes to the same frame."""
    try:
        cls = p.packet_class(direction, kind)
    except KeyError:
        packet = p.decode_packet(direction, kind, body)
        assert packet == p.Unknown(kind, body)
        assert packet.encode() == frame(kind, body)
    else:
        assert kind == cls.TYPE


@given(st.sampled_from(list(p.Direction)), st.sampled_from(sorted({c.TYPE for c in PACKETS})), st.binary(max_size=80))
def test_any_body_of_a_known_type_decodes_or_is_malformed(direction, kind, body):
    """Garbage bodies give a packet or MalformedPacket, never another exception."""
    try:
        p.decode_packet(direction, kind, body)
    except MalformedPacket as exc:
        assert str(exc).startswith("malformed GG_")


def test_login80_matches_libgadu_bytes():
    """GG_LOGIN80 for uin 1002 is the 140-byte body libgadu 1.12.2 sends (docs/protocol.md#gg_login80-exactly)."""
    sha1 = hashlib.sha1(b"secret" + struct.pack("<I", 0x12345678)).digest()
    expected = (
        bytes.fromhex("ea030000 706c 02") + sha1 + bytes(44)
        + bytes.fromhex("02000000 01008000 37270000 00000000 0000 00000000 0000 00 64 23000000")
        + b"Gadu-Gadu Client Build 10.1.0.11070" + bytes.fromhex("00000000")
    )
    assert len(expected) == 140
    packet = p.Login80(1002, GG_LOGIN_HASH_SHA1, login_hash_field(GG_LOGIN_HASH_SHA1, b"secret", 0x12345678))
    assert packet.encode() == frame(0x31, expected)
    assert p.Login80.decode(expected) == packet


def test_login80_with_description_and_without_its_length():
    """A description follows the version with its length; a body ending after the version is accepted too."""
    packet = p.Login80(1, 1, bytes(64), p.GG_STATUS_AVAIL_DESCR, description="zajęty")
    body = packet.encode()[8:]
    assert body.endswith(struct.pack("<I", 7) + "zajęty".encode())
    assert p.Login80.decode(body[: -(4 + 7)]) == p.Login80(1, 1, bytes(64), p.GG_STATUS_AVAIL_DESCR)


def test_send_msg80_matches_libgadu_bytes():
    """gg_send_message(CHAT, 1002, "hello zażółć") as libgadu puts it on the wire.

    docs/protocol.md#gg_send_msg80-exactly."""
    html = (SPAN + "hello zażółć</span>").encode()
    plain = "hello zażółć".encode("cp1250")
    offset_plain = 20 + len(html) + 1
    offset_attr = offset_plain + len(plain) + 1
    expected = (
        struct.pack("<IIIII", 1002, 1400000000, 0x08, offset_plain, offset_attr)
        + html + b"\x00" + plain + b"\x00" + bytes.fromhex("02 0600 0000 08 000000")
    )
    packet = p.SendMsg80.from_text(1002, 1400000000, "hello zażółć")
    assert packet.encode() == frame(0x2D, expected)
    assert p.SendMsg80.decode(expected) == packet
    assert packet.text == "hello zażółć"


def test_recv_msg80_offsets_are_send_offsets_plus_four():
    """GG_RECV_MSG80 carries the same parts behind a 24-byte header: both offsets grow by 4."""
    sent = p.SendMsg80.from_text(1002, 77, "a > b")
    received = p.RecvMsg80.from_send(sent, sender=1001, time=1234)
    send_body, recv_body = sent.encode()[8:], received.encode()[8:]
    send_offsets = struct.unpack_from("<II", send_body, 12)
    recv_offsets = struct.unpack_from("<II", recv_body, 16)
    assert recv_offsets == (send_offsets[0] + 4, send_offsets[1] + 4)
    assert recv_body[24:] == send_body[20:]
    assert struct.unpack_from("<IIII", recv_body) == (1001, 77, 1234, p.GG_CLASS_CHAT)
    assert p.RecvMsg80.from_send(sent, 1001, 1, sent.msgclass | p.GG_CLASS_QUEUED).msgclass == 0x09


def test_empty_html_is_left_out_not_sent_as_a_lone_nul():
    """An empty HTML part is absent (offset_plain == header size): libgadu then reads the plain part."""
    body = p.RecvMsg80(1, 2, 3, 8, "", "czesc").encode()[8:]
    assert struct.unpack_from("<II", body, 16) == (24, 24 + 6)
    # A lone NUL (what some peers send) still decodes, to the same empty HTML.
    lone = struct.pack("<IIIIII", 1, 2, 3, 8, 25, 27) + b"\x00x\x00"
    assert p.RecvMsg80.decode(lone) == p.RecvMsg80(1, 2, 3, 8, "", "x")


def test_notify_lists_and_replies_have_the_spec_layout():
    """GG_NOTIFY_* entries are `<IB`; GG_NOTIFY_REPLY80 entries are `<IIIIHBBII` + description."""
    last = p.NotifyLast((p.NotifyEntry(1001), p.NotifyEntry(1003, p.GG_USER_BLOCKED)))
    assert last.encode() == frame(0x10, struct.pack("<IBIB", 1001, 3, 1003, 4))
    reply = p.NotifyReply80((p.StatusEntry(1001, p.GG_STATUS_AVAIL_DESCR, "ok", features=0x2737, flags=1),))
    assert reply.encode() == frame(0x37, struct.pack("<IIIIHBBII", 1001, 4, 0x2737, 0, 0, 0, 0, 1, 2) + b"ok")


def test_fixed_bodies_have_the_spec_layout():
    """Small packets, byte for byte (protocol.html; docs/protocol.md#packets)."""
    assert p.Welcome(0xDEADBEEF).encode() == frame(0x01, bytes.fromhex("efbeadde"))
    assert p.Login80Ok().encode() == frame(0x35, b"\x01\x00\x00\x00")
    assert p.Login80Failed().encode() == frame(0x43, b"\x01\x00\x00\x00")
    assert p.LoginFailed().encode() == frame(0x09, b"")
    assert p.NewStatus80(0x15, description="bye").encode() == frame(
        0x38, struct.pack("<III", 0x15, 0x00800001, 3) + b"bye"
    )
    assert p.SendMsgAck(p.GG_ACK_QUEUED, 1002, 9).encode() == frame(0x05, struct.pack("<III", 3, 1002, 9))
    assert p.RecvMsgAck(9).encode() == frame(0x46, struct.pack("<I", 9))
    assert p.TypingNotify(3, 1002).encode() == frame(0x59, struct.pack("<HI", 3, 1002))
    assert p.AddNotify(5).encode() == frame(0x0D, struct.pack("<IB", 5, 3))
    assert p.RemoveNotify(5, 4).encode() == frame(0x0E, struct.pack("<IB", 5, 4))
    assert p.ListEmpty().encode() == frame(0x12, b"")
    assert p.Ping().encode() == frame(0x08, b"")
    assert p.Pong().encode() == frame(0x07, b"")
    assert p.Disconnecting().encode() == frame(0x0B, b"")
    assert p.DisconnectAck().encode() == frame(0x0D, b"")


def test_fixed_bodies_accept_trailing_bytes_like_libgadu():
    """A WELCOME longer than 4 bytes is accepted (docs/protocol.md#packets); so are long fixed-layout bodies."""
    assert p.decode_packet(S2C, 0x01, b"\x05\x00\x00\x00extra") == p.Welcome(5)
    assert p.decode_packet(S2C, 0x35, b"") == p.Login80Ok()
    assert p.decode_packet(S2C, 0x07, b"\x00") == p.Pong()


MALFORMED = [
    (S2C, 0x01, b"\x01\x02", "GG_WELCOME", "at least 4"),
    (C2S, 0x31, b"\x00" * 50, "GG_LOGIN80", "at least"),
    (C2S, 0x31, p.Login80(1, 2, bytes(64)).body()[:-4] + b"\xff\x00\x00\x00", "GG_LOGIN80", "description length"),
    (C2S, 0x38, struct.pack("<III", 2, 0, 5) + b"abc", "GG_NEW_STATUS80", "description length 5"),
    (C2S, 0x38, struct.pack("<III", 2, 0, 2) + b"\xc3\x28", "GG_NEW_STATUS80", "UTF-8"),
    (C2S, 0x38, struct.pack("<III", 2, 0, 256) + b"a" * 256, "GG_NEW_STATUS80", "limit is 255"),
    (S2C, 0x36, struct.pack("<IIIIHBBII", 1, 2, 0, 0, 0, 0, 0, 0, 9) + b"abc", "GG_STATUS80", "runs past"),
    (S2C, 0x37, struct.pack("<IIIIHBBII", 1, 2, 0, 0, 0, 0, 0, 0, 0) + b"\x00" * 10, "GG_NOTIFY_REPLY80", "entry"),
    (C2S, 0x10, b"\x01\x00\x00\x00\x03\x02", "GG_NOTIFY_LAST", "5-byte entries"),
    (C2S, 0x0D, b"\x01\x00", "GG_ADD_NOTIFY", "at least 5"),
    (S2C, 0x2E, b"\x00" * 10, "GG_RECV_MSG80", "at least 25"),
    (S2C, 0x2E, struct.pack("<IIIIII", 1, 2, 3, 8, 24, 99) + b"x\x00", "GG_RECV_MSG80", "offsets out of range"),
    (S2C, 0x2E, struct.pack("<IIIIII", 1, 2, 3, 8, 10, 26) + b"x\x00", "GG_RECV_MSG80", "offsets out of range"),
    (S2C, 0x2E, struct.pack("<IIIIII", 1, 2, 3, 8, 24, 26) + b"xy", "GG_RECV_MSG80", "plain part"),
    (S2C, 0x2E, struct.pack("<IIIIII", 1, 2, 3, 8, 26, 28) + b"ab\x00x\x00", "GG_RECV_MSG80", "HTML part"),
    (S2C, 0x2E, struct.pack("<IIIIII", 1, 2, 3, 8, 26, 28) + b"\xff\x00x\x00", "GG_RECV_MSG80", "UTF-8"),
    (C2S, 0x2D, struct.pack("<IIIII", 1, 2, 8, 20, 20) + b"x", "GG_SEND_MSG80", "offsets out of range"),
    (S2C, 0x05, b"\x02\x00\x00\x00", "GG_SEND_MSG_ACK", "at least 12"),
    (C2S, 0x46, b"", "GG_RECV_MSG_ACK", "at least 4"),
    (S2C, 0x59, b"\x01", "GG_TYPING_NOTIFY", "at least 6"),
]


@pytest.mark.parametrize("direction,kind,body,name,reason", MALFORMED, ids=[f"{m[3]}:{m[4]}" for m in MALFORMED])
def test_bad_bodies_are_malformed_with_a_reason(direction, kind, body, name, reason):
    """A known type whose body does not decode raises MalformedPacket naming the packet and the fault."""
    with pytest.raises(MalformedPacket) as info:
        p.decode_packet(direction, kind, body)
    assert info.value.packet_name == name
    assert reason in str(info.value)


def test_plain_part_reads_undefined_cp1250_bytes_as_question_marks():
    """The five bytes CP1250 leaves undefined read as '?', as libgadu's table has them."""
    body = struct.pack("<IIIIII", 1, 2, 3, 8, 24, 24 + 4) + b"a\x81\x98\x00"
    assert p.RecvMsg80.decode(body).plain == "a??"


def test_our_side_limits_are_typed_errors():
    """Too long a description or message, or a field out of range, is a LocalProtocolError (and ValueError)."""
    with pytest.raises(DescriptionTooLong) as info:
        p.NewStatus80(p.GG_STATUS_AVAIL_DESCR, description="ż" * 128).encode()
    assert info.value.size == 256 and info.value.limit == MAX_DESCRIPTION
    assert isinstance(info.value, ValueError)
    p.NewStatus80(p.GG_STATUS_AVAIL_DESCR, description="ż" * 127 + "a").encode()
    with pytest.raises(MessageTooLong):
        p.SendMsg80.from_text(1, 1, "x" * (MAX_MESSAGE + 1))
    assert p.SendMsg80.from_text(1, 1, "x" * MAX_MESSAGE).plain == "x" * MAX_MESSAGE
    with pytest.raises(LocalProtocolError, match="out of range"):
        p.Welcome(1 << 32).encode()
    with pytest.raises(LocalProtocolError, match="64 bytes"):
        p.Login80(1, 2, b"short").encode()
    with pytest.raises(LocalProtocolError, match="CP1250"):
        p.SendMsg80(1, 1, 8, "", "日本").encode()
    with pytest.raises(LocalProtocolError, match="NUL"):
        p.SendMsg80(1, 1, 8, "a\x00b", "ab").encode()
    with pytest.raises(LocalProtocolError, match="frame limit"):
        p.SendMsg80(1, 1, 8, "x" * MAX_FRAME, "x").encode()


def test_html_from_text_escapes_like_libgadu():
    """Text becomes the default span with & < > ' " escaped, \\n as <br>, \\r dropped (message.c)."""
    assert len(SPAN) == 75
    assert p.html_from_text("a<b>&'\"\r\nc") == SPAN + "a&lt;b&gt;&amp;&apos;&quot;<br>c</span>"
    assert p.html_from_text("") == ""


def test_plain_from_text_replaces_what_cp1250_lacks():
    """Polish letters survive in CP1250; characters outside it become '?'; a BOM is dropped."""
    assert p.plain_from_text("zażółć €") == "zażółć €"
    assert p.plain_from_text("日本 😀\ufeff!") == "?? ?!"


def test_text_from_html_reads_tags_and_entities_like_libgadu():
    """Tags go, <br> is a newline, known entities decode, others read '?' (message.c html_to_text)."""
    html = (
        '<span style="color:#ff0000">a&lt;b&gt;&amp;&quot;&apos;&nbsp;<br>'
        'c&euro;<b>d</b><img name="0123456789abcdef">'
    )
    assert p.text_from_html(html) == "a<b>&\"'\xa0\nc?d\xa0"


@given(st.text(alphabet=st.characters(blacklist_characters="\x00\r", blacklist_categories=("Cs",)), max_size=60))
def test_text_survives_a_message_round_trip(text):
    """Any text without NUL or CR comes back exactly from the HTML part of a built message."""
    message = p.SendMsg80.decode(p.SendMsg80.from_text(1, 1, text).encode()[8:])
    assert message.text == text
    assert p.message_text("", message.plain) == message.plain


def test_split_notify_reply_keeps_every_frame_under_the_limit():
    """232 contacts with 255-byte descriptions pass 65535 bytes: the reply is split, in order, none lost."""
    entries = [p.StatusEntry(1000 + i, p.GG_STATUS_AVAIL_DESCR, "d" * 255) for i in range(600)]
    assert len(p.NotifyReply80(tuple(entries[:232])).body()) > MAX_FRAME
    replies = p.split_notify_reply(entries)
    assert len(replies) == 3
    assert [e for r in replies for e in r.entries] == entries
    assert all(len(r.body()) <= MAX_FRAME for r in replies)
    assert p.split_notify_reply([]) == []
    small = p.split_notify_reply(entries[:10], max_body=(28 + 255) * 3)
    assert [len(r.entries) for r in small] == [3, 3, 3, 1]


def test_status_has_description():
    assert p.status_has_description(p.GG_STATUS_AVAIL_DESCR | p.GG_STATUS_FRIENDS_MASK)
    assert not p.status_has_description(p.GG_STATUS_AVAIL)
