"""1.x Framing: any split, any glue, and the frame limit (protocol.html 1.1; libgadu's 65535 limit)."""
from __future__ import annotations

import struct

from gadu import events as ev
from gadu import packets as pk
from gadu.hashing import GG_LOGIN_HASH_SHA1, login_hash_field

from .helpers import SEED, logged_in_on_peer, recv_msg
from .results import case


@case("1.1", "WELCOME split byte by byte", "A GG_WELCOME arriving one byte per write still gets GG_LOGIN80 "
      "(TCP has no message boundaries; libgadu handles 1-byte writes).")
def test_welcome_split_at_every_byte(driver, peer):
    driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.send_split(pk.Welcome(seed=SEED).encode())
    login = wire.expect(pk.Login80)
    assert login.uin == 1001


@case("1.2", "LOGIN80_OK split byte by byte", "The login verdict split at every byte boundary still "
      "yields LoginOk.")
def test_login_ok_split(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome()
    wire.send_split(pk.Login80Ok().encode())
    session.wait(ev.LoginOk)


@case("1.3", "RECV_MSG80 split byte by byte", "A message split at every byte boundary arrives whole, once.")
def test_message_split(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_split(recv_msg("podzielona wiadomość").encode())
    message = session.wait(ev.MessageReceived)
    assert message.text == "podzielona wiadomość"


@case("1.4", "Many packets in one write", "Packets glued into one TCP write are all delivered, in order.")
def test_glued_packets(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome()
    entry = pk.StatusEntry(1002, pk.GG_STATUS_AVAIL_DESCR, "hej")
    wire.send_packets(pk.Login80Ok(), pk.Status80(entry), recv_msg("one", seq=1), recv_msg("two", seq=2),
                      pk.Pong())
    session.wait(ev.LoginOk)
    assert session.wait(ev.StatusChanged).description == "hej"
    first = session.wait(ev.MessageReceived)
    second = session.wait(ev.MessageReceived)
    assert (first.text, second.text) == ("one", "two")
    session.wait(ev.Pong)


@case("1.5", "Length above 65535 refused", "A header announcing more than 65535 bytes ends the connection "
      "with an error (libgadu: ERANGE), without waiting for the body.")
def test_oversized_length(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_header(pk.GG_RECV_MSG80, 65536)
    closed = session.wait(ev.Closed)
    assert not closed.clean
    assert "65536" in closed.reason or "limit" in closed.reason
    wire.expect_eof()


@case("1.6", "4 GiB length refused at the header", "A length field of 0xFFFFFFFF is rejected as soon as "
      "the header is complete; nothing of the body is awaited or buffered.")
def test_four_gib_length(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send(struct.pack("<II", pk.GG_RECV_MSG80, 0xFFFFFFFF) + b"x" * 100)
    closed = session.wait(ev.Closed)
    assert not closed.clean
    wire.expect_eof()


@case("1.7", "Close mid-header", "A stream that ends inside a header is a truncated packet: Closed, not clean.")
def test_close_mid_header(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send(pk.Pong().encode()[:5])
    wire.close()
    closed = session.wait(ev.Closed)
    assert not closed.clean


@case("1.8", "Close mid-body", "A stream that ends inside a body is a truncated packet: Closed, not clean.")
def test_close_mid_body(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    frame = recv_msg("never finished").encode()
    wire.send(frame[: len(frame) // 2])
    wire.close()
    closed = session.wait(ev.Closed)
    assert not closed.clean
    assert not [e for e in session.drain() if isinstance(e, ev.MessageReceived)]


@case("1.9", "Unknown packet types ignored", "A packet of an unknown type after login is skipped and the "
      "session goes on (libgadu ignores unknown types).")
def test_unknown_type_ignored(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send(struct.pack("<II", 0x7777, 3) + b"abc")
    wire.send_packets(recv_msg("after unknown"))
    assert session.wait(ev.MessageReceived).text == "after unknown"


@case("1.10", "Long WELCOME accepted", "A GG_WELCOME longer than 4 bytes is accepted; the seed is its first "
      "4 bytes (libgadu accepts longer payloads).")
def test_long_welcome(driver, peer):
    driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.send(struct.pack("<III", pk.GG_WELCOME, 8, SEED) + b"\0\0\0\0")
    login = wire.expect(pk.Login80)
    assert login.login_hash == login_hash_field(GG_LOGIN_HASH_SHA1, b"alice", SEED)


@case("1.11", "Short WELCOME refused", "A GG_WELCOME shorter than 4 bytes cannot carry a seed: the "
      "connection fails (libgadu: CONN_FAILED INVALID) and no login is sent.")
def test_short_welcome(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.send(struct.pack("<II", pk.GG_WELCOME, 2) + b"\1\2")
    closed = session.wait(ev.Closed)
    assert not closed.clean
    assert wire.expect_eof() == []


@case("1.12", "A 65535-byte frame is allowed", "The limit is inclusive: a frame of exactly 65535 bytes of "
      "an unknown type is read and skipped, and the session goes on.")
def test_frame_at_the_limit(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send(struct.pack("<II", 0x7778, 65535) + b"\xaa" * 65535)
    wire.send_packets(recv_msg("still here"))
    assert session.wait(ev.MessageReceived).text == "still here"


@case("1.13", "Empty bodies", "Packets with an empty body (GG_PONG) are complete at their header.")
def test_empty_body(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_split(pk.Pong().encode() + pk.Pong().encode())
    session.wait(ev.Pong)
    session.wait(ev.Pong)


@case("1.14", "Garbage instead of WELCOME", "Bytes that are not GG (here an HTTP reply) end the connection "
      "with an error instead of a hang.")
def test_garbage_before_welcome(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    closed = session.wait(ev.Closed)
    assert not closed.clean
    wire.expect_eof()


@case("1.15", "LOGIN80 is 140 bytes", "Without a description GG_LOGIN80 has the 140-byte body libgadu "
      "sends (docs/protocol.md#packets), and its header length matches its body.")
def test_login_frame_size(driver, peer):
    driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    login = wire.welcome()
    assert len(login.body()) == 140


@case("1.16", "Glued with the handshake", "WELCOME and LOGIN80_OK in one write (a server that answers "
      "before reading) still log in.")
def test_welcome_and_ok_glued(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.send_packets(pk.Welcome(seed=SEED), pk.Login80Ok())
    session.wait(ev.LoginOk)
    wire.expect(pk.Login80)
