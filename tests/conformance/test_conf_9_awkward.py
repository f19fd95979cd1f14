"""9.x A server that sends valid packets at awkward moments (docs/protocol.md#awkward-moments).

libgadu accepts these; every variant must end each within its timeouts with a one-line reason, lose
nothing the server sent whole, and never raise out of a send the application decided on in good faith.
"""
from __future__ import annotations

from gadu import events as ev
from gadu import packets as pk

from .helpers import SEED, logged_in_on_peer
from .results import case

#: A short close wait, so that a server that never closes is cut off well within the suite's waits.
CLOSE_WAIT = 0.5


@case("9.1", "GG_LOGIN_OK is a login", "GG_LOGIN_OK (0x0003) answering the login is a successful login, "
      "as libgadu 1.12 takes it.")
def test_login_ok(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome(SEED)
    wire.send_packets(pk.LoginOk())
    session.wait(ev.LoginOk)
    session.ping()
    wire.expect(pk.Ping)


@case("9.2", "GG_NEED_EMAIL is a login", "GG_NEED_EMAIL (0x0014) answering the login is a successful login, "
      "as libgadu 1.12 takes it.")
def test_need_email(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome(SEED)
    wire.send_packets(pk.NeedEmail())
    session.wait(ev.LoginOk)


@case("9.3", "GG_LOGIN_HASH_TYPE_INVALID fails at once", "GG_LOGIN_HASH_TYPE_INVALID (0x0016) fails the login "
      "at once (libgadu waits for its timeout); a server that then keeps the connection is cut off.")
def test_hash_type_invalid(driver, peer):
    session = driver.open(peer.address, 1001, "alice", login_timeout=30.0, close_timeout=CLOSE_WAIT)
    wire = peer.accept()
    wire.welcome(SEED)
    wire.send_packets(pk.LoginHashTypeInvalid())
    session.wait(ev.LoginFailed, timeout=2.0)  # far below the 30 s login timeout
    wire.expect_eof()
    assert not session.wait(ev.Closed).clean


@case("9.4", "GG_DISCONNECTING glued to the verdict", "GG_LOGIN80_OK and GG_DISCONNECTING in one segment, the "
      "server keeping the connection open: LoginOk, Disconnecting, a send decided on LoginOk raises nothing "
      "and reaches nobody, and the client closes after its close timeout.")
def test_disconnecting_glued_to_the_verdict(driver, peer):
    session = driver.open(peer.address, 1001, "alice", close_timeout=CLOSE_WAIT)
    wire = peer.accept()
    wire.welcome(SEED)
    wire.send(pk.Login80Ok().encode() + pk.Disconnecting().encode())
    session.wait(ev.LoginOk)
    session.notify([1002])  # decided on LoginOk: the server has ended the session meanwhile
    session.wait(ev.Disconnecting)
    closed = session.wait(ev.Closed)
    assert not closed.clean and "did not close" in closed.reason
    assert not [p for p in wire.expect_eof() if isinstance(p, (pk.NotifyLast, pk.ListEmpty))]


@case("9.5", "A server that announces the end and stays", "After GG_DISCONNECTING a server that keeps the "
      "connection open is cut off after the close timeout, with a reason.")
def test_disconnecting_then_silence(driver, peer):
    session, wire = logged_in_on_peer(driver, peer, close_timeout=CLOSE_WAIT)
    wire.send_packets(pk.Disconnecting())
    session.wait(ev.Disconnecting)
    closed = session.wait(ev.Closed)
    assert not closed.clean and "did not close" in closed.reason
    wire.expect_eof()


@case("9.6", "A verdict split with a PONG glued", "GG_LOGIN80_OK cut in two reads, the second glued to a GG_PONG "
      "and a message: every one is delivered.")
def test_split_verdict_with_pong(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome(SEED)
    verdict = pk.Login80Ok().encode()
    wire.send(verdict[:5])
    wire.send(verdict[5:] + pk.Pong().encode() + pk.RecvMsg80.from_send(pk.SendMsg80.from_text(1001, 3, "hej"),
                                                                      1002, 1400000000).encode())
    session.wait(ev.LoginOk)
    session.wait(ev.Pong)
    assert session.wait(ev.MessageReceived).text == "hej"


@case("9.7", "GG_DISCONNECT_ACK without a logoff", "GG_DISCONNECT_ACK while logged in, with no logoff to "
      "answer, is a packet the state does not allow: the session ends with that reason.")
def test_disconnect_ack_without_logoff(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_packets(pk.DisconnectAck())
    closed = session.wait(ev.Closed)
    assert not closed.clean and "GG_DISCONNECT_ACK" in closed.reason
    wire.expect_eof()
