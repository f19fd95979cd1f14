"""The property the frame fuzzers check, the input format they share, and the corpus seeds.

An input is one control byte and a byte stream. The control byte picks the direction (bit 0), the
parser's frame limit (bits 1-2: MAX_FRAME, 0, 24 or 300, so that oversized lengths are cheap to
reach) and how the stream is cut into reads (bits 3-7: 0 whole, k pieces of k bytes).
check_stream(data) feeds the stream to a FrameParser and holds it to a plain reference splitter,
then to the state machine that reads that direction (a ClientConnection, or a ServerSession whose
seed and password the corpus's GG_LOGIN80 matches), read whole and in pieces: the same events.
"""
from __future__ import annotations

import struct
from typing import Dict, List, Optional, Tuple, Type

from fuzz_adapter import (
    GG_LOGIN_HASH_SHA1,
    HEADER_SIZE,
    MAX_FRAME,
    FrameTooLarge,
    LocalProtocolError,
    MalformedPacket,
    ProtocolError,
    RemoteProtocolError,
    TruncatedFrame,
    client_receive,
    closing_event,
    decode,
    ev,
    is_closed,
    login_hash_field,
    new_client,
    new_parser,
    new_server,
    parser_buffered,
    parser_eof,
    parser_feed,
    pk,
    server_receive,
    ss,
)

__all__ = ["FRAME_LIMITS", "check_stream", "control_byte", "encoder_frames", "reference_split", "seed_inputs"]

FRAME_LIMITS = (MAX_FRAME, 0, 24, 300)
#: The account and seed of the sessions the streams are read by; the corpus's login matches them.
UIN, PASSWORD, SEED = 1001, "ala ma kota", 0x12345678
_HEADER = struct.Struct("<II")
_DIRECTIONS = (pk.Direction.SERVER_TO_CLIENT, pk.Direction.CLIENT_TO_SERVER)


def control_byte(direction: pk.Direction, limit_index: int = 0, chunk: int = 0) -> int:
    return _DIRECTIONS.index(direction) | limit_index << 1 | chunk << 3


def reference_split(
    direction: pk.Direction, max_frame: int, stream: bytes
) -> Tuple[List[pk.Packet], Optional[Type[ProtocolError]], int]:
    """What the stream should give, read whole and naively: (packets before the first fault, the
    fault's error class or None, bytes left over after the last whole frame)."""
    packets: List[pk.Packet] = []
    pos = 0
    while len(stream) - pos >= HEADER_SIZE:
        kind, length = _HEADER.unpack_from(stream, pos)
        if length > max_frame:
            return packets, FrameTooLarge, 0
        if pos + HEADER_SIZE + length > len(stream):
            break
        try:
            packets.append(decode(direction, kind, stream[pos + HEADER_SIZE : pos + HEADER_SIZE + length]))
        except MalformedPacket:
            return packets, MalformedPacket, 0
        pos += HEADER_SIZE + length
    return packets, None, len(stream) - pos


def _check_reencodes(direction: pk.Direction, packet: pk.Packet) -> None:
    """A decoded packet encodes again (the server relays what it decoded) and decodes to itself."""
    if isinstance(packet, pk.Unknown):
        return
    frame = packet.encode()
    assert decode(direction, packet.TYPE, frame[HEADER_SIZE:]) == packet, packet


def _read_as_session(direction: pk.Direction, pieces: List[bytes]) -> Tuple[list, Optional[type], bytes]:
    """(events, the error's class or None, the bytes answered) of the stream's reader, then its EOF.
    The reader stops at the end of the session, as its owner closes the socket there."""
    if direction is pk.Direction.SERVER_TO_CLIENT:
        conn, receive = new_client(UIN, PASSWORD, clock=lambda: 0.0), client_receive
    else:
        conn, _ = new_server({UIN: PASSWORD.encode()}.get, SEED)
        receive = server_receive
    events: list = []
    answers = b""
    for piece in [*pieces, b""]:
        got, error, answer = receive(conn, piece)
        events += got
        answers += answer
        closed = closing_event(got)
        assert ss.ConnectionClosed not in map(type, got[:-1]) and ev.Closed not in map(type, got[:-1]), got
        if error is not None:
            assert isinstance(error, RemoteProtocolError), repr(error)
            assert closed is not None and not closed.clean and closed.reason == str(error), closed
        if is_closed(conn):
            # The one way out: a closing event ends the session (a refused login's LoginRejected says it alone).
            assert closed is not None or isinstance(got[-1:][0] if got else None, ss.LoginRejected), got
            try:
                receive(conn, b"\x00" * HEADER_SIZE)
            except LocalProtocolError:
                pass
            else:
                raise AssertionError("a session that ended took more bytes")
            return events, None if error is None else type(error), answers
        assert closed is None, "a closing event, and the session still open"
    raise AssertionError("EOF left the connection open")


def check_stream(data: bytes) -> None:
    """Any bytes either decode or raise a typed RemoteProtocolError, the packets that came whole
    before the fault are all delivered, and the parser never holds more than one frame."""
    if not data:
        return
    direction = _DIRECTIONS[data[0] & 1]
    max_frame = FRAME_LIMITS[data[0] >> 1 & 3]
    chunk = data[0] >> 3
    stream = bytes(data[1:])
    pieces = [stream[i : i + chunk] for i in range(0, len(stream), chunk)] if chunk else [stream]

    parser = new_parser(direction, max_frame)
    got: List[pk.Packet] = []
    error: Optional[ProtocolError] = None
    for piece in pieces:
        packets, error = parser_feed(parser, piece)
        got.extend(packets)
        assert parser_buffered(parser) <= HEADER_SIZE + max_frame
        if error is not None:
            assert isinstance(error, RemoteProtocolError), repr(error)
            assert list(error.packets) == packets, "the good packets of the failing read were not kept"
            break

    expected, expected_error, leftover = reference_split(direction, max_frame, stream)
    assert got == expected, "packets lost, invented or reordered"
    for packet in got:
        _check_reencodes(direction, packet)
    if expected_error is not None:
        assert type(error) is expected_error, (error, expected_error)
    else:
        assert error is None, repr(error)
        try:
            parser_eof(parser)
        except TruncatedFrame:
            assert leftover, "TruncatedFrame at a frame boundary"
        else:
            assert not leftover, f"{leftover} bytes of an unfinished frame vanished at EOF"
    # A broken or finished stream stays unusable, with a typed error.
    if error is not None:
        packets, again = parser_feed(parser, bytes(HEADER_SIZE))
        assert not packets and isinstance(again, RemoteProtocolError), "a broken parser accepted more bytes"

    whole = _read_as_session(direction, [stream])
    if chunk:
        split = _read_as_session(direction, pieces)
        assert split == whole, (split, whole)


def encoder_frames() -> Dict[pk.Direction, List[Tuple[str, bytes]]]:
    """Real frames from our encoders, one of each packet the project speaks, in each direction."""
    entry = pk.StatusEntry(1001, pk.GG_STATUS_AVAIL_DESCR, "zażółć gęślą jaźń", features=0x2737)
    message = pk.SendMsg80.from_text(1002, 1400000000, "Cześć <b>&</b>\ndruga linia 😀")
    s2c = [
        ("welcome", pk.Welcome(SEED).encode()),
        ("login80-ok", pk.Login80Ok().encode()),
        ("login80-failed", pk.Login80Failed().encode()),
        ("login-failed", pk.LoginFailed().encode()),
        ("status80", pk.Status80(entry).encode()),
        ("notify-reply80", pk.NotifyReply80((entry, pk.StatusEntry(1003, pk.GG_STATUS_BUSY))).encode()),
        ("recv-msg80", pk.RecvMsg80.from_send(message, 1001, 1400000001).encode()),
        ("send-msg-ack", pk.SendMsgAck(pk.GG_ACK_DELIVERED, 1002, 1400000000).encode()),
        ("typing", pk.TypingNotify(3, 1001).encode()),
        ("pong", pk.Pong().encode()),
        ("disconnecting", pk.Disconnecting().encode()),
        ("disconnect-ack", pk.DisconnectAck().encode()),
        ("unknown", pk.Unknown(0x99, b"\x01\x02\x03").encode()),
    ]
    c2s = [
        ("login80", pk.Login80(UIN, GG_LOGIN_HASH_SHA1, login_hash_field(GG_LOGIN_HASH_SHA1, PASSWORD.encode(), SEED),
                               pk.GG_STATUS_AVAIL_DESCR, description="jestem").encode()),
        ("new-status80", pk.NewStatus80(pk.GG_STATUS_BUSY_DESCR, description="zaraz wracam").encode()),
        ("notify-first", pk.NotifyFirst(tuple(pk.NotifyEntry(uin) for uin in range(2000, 2004))).encode()),
        ("notify-last", pk.NotifyLast((pk.NotifyEntry(1002, pk.GG_USER_BLOCKED),)).encode()),
        ("list-empty", pk.ListEmpty().encode()),
        ("add-notify", pk.AddNotify(1002).encode()),
        ("remove-notify", pk.RemoveNotify(1002).encode()),
        ("send-msg80", message.encode()),
        ("recv-msg-ack", pk.RecvMsgAck(1400000001).encode()),
        ("typing", pk.TypingNotify(0, 1002).encode()),
        ("ping", pk.Ping().encode()),
        ("logoff", pk.NewStatus80(pk.GG_STATUS_NOT_AVAIL_DESCR, description="pa").encode()),
    ]
    return {pk.Direction.SERVER_TO_CLIENT: s2c, pk.Direction.CLIENT_TO_SERVER: c2s}


def seed_inputs() -> Dict[str, bytes]:
    """The encoder-made seeds of the committed corpus, by file name: each frame alone, each
    direction's whole session read whole and in 7-byte pieces, and a cut, an oversized and a
    malformed variant of it."""
    seeds: Dict[str, bytes] = {}
    for direction, frames in encoder_frames().items():
        tag = "s2c" if direction is pk.Direction.SERVER_TO_CLIENT else "c2s"
        for name, frame in frames:
            seeds[f"seed-{tag}-{name}"] = bytes([control_byte(direction)]) + frame
        session = b"".join(frame for _, frame in frames)
        seeds[f"seed-{tag}-session"] = bytes([control_byte(direction)]) + session
        seeds[f"seed-{tag}-session-split7"] = bytes([control_byte(direction, chunk=7)]) + session
        seeds[f"seed-{tag}-session-cut"] = bytes([control_byte(direction, chunk=5)]) + session[:-3]
        seeds[f"seed-{tag}-oversized"] = (
            bytes([control_byte(direction, limit_index=3)]) + frames[0][1] + _HEADER.pack(0x2E, 301)
        )
        message, offset = (frames[6][1], 16) if tag == "s2c" else (frames[7][1], 12)
        # offset_plain pointed past the end of the body (its two high bytes set).
        at = HEADER_SIZE + offset + 2
        broken = message[:at] + b"\xff\xff" + message[at + 2 :]
        seeds[f"seed-{tag}-malformed"] = bytes([control_byte(direction, chunk=3)]) + frames[0][1] + broken
    return seeds
