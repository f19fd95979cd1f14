"""6.x Disconnects and bad input: every way a connection ends gives one Closed.

docs/protocol.md#minimal-server and docs/protocol.md#misbehaviour.
"""
from __future__ import annotations

import time

import pytest

from gadu import events as ev
from gadu import packets as pk
from gadu.errors import LocalProtocolError

from .helpers import logged_in_on_peer, logged_in_on_server, recv_msg
from .results import case


@case("6.1", "Logoff sends NOT_AVAIL", "A logoff without description sends GG_NEW_STATUS80 with "
      "GG_STATUS_NOT_AVAIL (0x01).")
def test_logoff_plain(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.logoff()
    status = wire.expect(pk.NewStatus80)
    assert (status.status, status.description) == (pk.GG_STATUS_NOT_AVAIL, "")


@case("6.2", "Logoff with description", "A logoff with a description sends GG_STATUS_NOT_AVAIL_DESCR "
      "(0x15) and the description.")
def test_logoff_described(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.logoff("do jutra")
    status = wire.expect(pk.NewStatus80)
    assert (status.status, status.description) == (pk.GG_STATUS_NOT_AVAIL_DESCR, "do jutra")


@case("6.3", "Close after logoff is clean", "After a logoff the server's close is expected: Closed is clean "
      "(libgadu: DISCONNECT_ACK).")
def test_close_after_logoff(driver, server_address):
    session = logged_in_on_server(driver, server_address)
    session.logoff("koniec")
    assert session.wait(ev.Closed).clean


@case("6.4", "Server closes while connected", "A server that closes a logged-in connection ends it with a "
      "Closed that is not clean (libgadu: ECONNRESET).")
def test_server_close(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.close()
    assert not session.wait(ev.Closed).clean


@case("6.5", "Connection reset", "A TCP reset while logged in ends the session with a Closed that is not clean.")
def test_reset(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.reset()
    assert not session.wait(ev.Closed).clean


@case("6.6", "GG_DISCONNECTING", "GG_DISCONNECTING announces the end (libgadu: GG_EVENT_DISCONNECT); the "
      "close that follows is clean.")
def test_disconnecting(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_packets(pk.Disconnecting())
    session.wait(ev.Disconnecting)
    wire.close()
    assert session.wait(ev.Closed).clean


@case("6.7", "DISCONNECT_ACK after logoff", "GG_DISCONNECT_ACK after a logoff is accepted and the close is clean.")
def test_disconnect_ack(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.logoff()
    wire.expect(pk.NewStatus80)
    wire.send_packets(pk.DisconnectAck())
    wire.close()
    assert session.wait(ev.Closed).clean


@case("6.8", "Abort closes the socket", "Aborting a session closes its socket at once (the server sees "
      "end of stream) and reports Closed.")
def test_abort(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.abort()
    wire.expect_eof()
    session.wait(ev.Closed)


@case("6.9", "One Closed only", "However a connection ends, Closed is reported exactly once.")
def test_closed_once(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.logoff()
    wire.expect(pk.NewStatus80)
    wire.reset()
    session.wait(ev.Closed)
    time.sleep(0.1)  # time for a second, wrong Closed to arrive
    assert not [e for e in session.drain() if isinstance(e, ev.Closed)]


@case("6.10", "No sends after the end", "Sending on a closed session is refused with a typed error, not "
      "written to a dead socket.")
def test_send_after_close(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.close()
    session.wait(ev.Closed)
    with pytest.raises((LocalProtocolError, ConnectionError)):
        session.send_message(1002, "za późno")


@case("6.11", "Garbage while connected", "Bytes that do not parse as GG end the connection with an error "
      "that says so; nothing is delivered from them.")
def test_garbage_connected(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send(b"\xff" * 64)
    closed = session.wait(ev.Closed)
    assert not closed.clean and closed.reason
    wire.expect_eof()


@case("6.12", "Truncated packet", "A packet cut short by the end of the stream is reported as truncated.")
def test_truncated(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send(recv_msg("ucięta").encode()[:-3])
    wire.close()
    closed = session.wait(ev.Closed)
    assert not closed.clean
    assert "mid-packet" in closed.reason or "truncated" in closed.reason.lower()


@case("6.13", "Stalled server", "A server that stops mid-packet does not block the client: other calls "
      "still work and an abort ends it.")
def test_stall(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send(recv_msg("zawieszona").encode()[:20])
    session.ping()
    wire.expect(pk.Ping)
    session.abort()
    session.wait(ev.Closed)
    wire.expect_eof()


@case("6.14", "Malformed known packet", "A GG_SEND_MSG_ACK too short for its fields is a malformed packet: "
      "the connection ends with an error naming it.")
def test_malformed_ack(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send(b"\x05\x00\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00")
    closed = session.wait(ev.Closed)
    assert not closed.clean and "ACK" in closed.reason.upper()


@case("6.15", "Refused login then close is clean", "After a refused login the server's close is expected: "
      "Closed is clean.")
def test_refused_then_close(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome()
    wire.send_packets(pk.Login80Failed())
    session.wait(ev.LoginFailed)
    wire.close()
    assert session.wait(ev.Closed).clean


@case("6.16", "Bad description from the server", "A GG_STATUS80 whose description is not UTF-8 is a "
      "malformed packet, not a crash.")
def test_bad_utf8_status(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    entry = pk.StatusEntry(1002, pk.GG_STATUS_AVAIL_DESCR, "x").encode_entry()
    body = entry[:-5] + b"\x01\x00\x00\x00\xff"
    wire.send(pk.HEADER.pack(pk.GG_STATUS80, len(body)) + body)
    assert not session.wait(ev.Closed).clean


@case("6.17", "Good packets before bad bytes", "Packets that arrive whole in the same read as bad bytes are "
      "delivered (and receipted) before the connection ends: bad input loses nothing that came in good form.")
def test_good_before_bad(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send(recv_msg("przed śmieciami", seq=77).encode() + b"\xff" * 16)
    assert session.wait(ev.MessageReceived).text == "przed śmieciami"
    assert wire.expect(pk.RecvMsgAck).seq == 77
    assert not session.wait(ev.Closed).clean
