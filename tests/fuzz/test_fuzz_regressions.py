"""Bugs the fuzzers found in gadu/, each pinned by the smallest input that showed it."""
from __future__ import annotations

from fuzz_adapter import MalformedPacket, RemoteProtocolError, new_parser, parser_eof, parser_feed, pk


def test_a_malformed_packet_leaves_the_parser_broken():
    """A malformed body used to leave the parser usable: the frames glued behind the bad one had
    already left its buffer, so a caller that went on lost them silently. Found by check_stream."""
    parser = new_parser(pk.Direction.SERVER_TO_CLIENT)
    bad_welcome = b"\x01\x00\x00\x00\x02\x00\x00\x00\x00\x00"
    packets, error = parser_feed(parser, pk.Pong().encode() + bad_welcome + pk.Pong().encode() + b"\x07\x00")
    assert packets == [pk.Pong()] and isinstance(error, MalformedPacket)
    packets, error = parser_feed(parser, b"\x00\x00\x00\x00\x00\x00")
    assert packets == [] and isinstance(error, RemoteProtocolError) and "earlier error" in str(error)
    try:
        parser_eof(parser)
    except RemoteProtocolError as exc:
        assert "earlier error" in str(exc)
    else:
        raise AssertionError("feed_eof after a malformed packet did not raise")
