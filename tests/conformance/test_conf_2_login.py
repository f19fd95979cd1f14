"""2.x Login: hashes, verdicts, timeouts.

protocol.html 1.3; docs/protocol.md#packets and docs/protocol.md#minimal-server.
"""
from __future__ import annotations

import socket
import struct

from gadu import events as ev
from gadu import packets as pk
from gadu.hashing import GG_LOGIN_HASH_GG32, GG_LOGIN_HASH_SHA1, login_hash_field

from .helpers import SEED, logged_in_on_server, recv_msg
from .results import case


@case("2.1", "SHA1 login", "A SHA1 login with the right password is accepted by the reference server.")
def test_sha1_login(driver, server_address):
    logged_in_on_server(driver, server_address, 1001, "alice", hash_type="sha1")


@case("2.2", "GG32 login", "A GG32 login with the right password is accepted by the reference server.")
def test_gg32_login(driver, server_address):
    logged_in_on_server(driver, server_address, 1002, "bob", hash_type="gg32")


@case("2.3", "Wrong password", "A wrong password gives LoginFailed and then a clean Closed: the server "
      "drops the connection (protocol.html 1.3).")
def test_wrong_password(driver, server_address):
    session = driver.open(server_address, 1001, "not-alice")
    session.wait(ev.LoginFailed)
    assert session.wait(ev.Closed).clean
    assert not [e for e in session.seen if isinstance(e, ev.LoginOk)]


@case("2.4", "Unknown uin", "A uin the server does not know is refused like a wrong password.")
def test_unknown_uin(driver, server_address):
    session = driver.open(server_address, 424242, "whatever")
    session.wait(ev.LoginFailed)
    session.wait(ev.Closed)


@case("2.5", "SHA1 hash on the wire", "GG_LOGIN80 carries hash type 2 and SHA1(password + seed) padded "
      "to 64 bytes (protocol.html 1.3).")
def test_sha1_hash_bytes(driver, peer):
    driver.open(peer.address, 1001, "zażółć", hash_type="sha1")
    login = peer.accept().welcome(seed=0xDEADBEEF)
    assert login.hash_type == GG_LOGIN_HASH_SHA1
    assert login.login_hash == login_hash_field(GG_LOGIN_HASH_SHA1, "zażółć".encode(), 0xDEADBEEF)


@case("2.6", "GG32 hash on the wire", "GG_LOGIN80 carries hash type 1 and gg_login_hash(password, seed) "
      "padded to 64 bytes.")
def test_gg32_hash_bytes(driver, peer):
    driver.open(peer.address, 1001, "alice", hash_type="gg32")
    login = peer.accept().welcome(seed=0x01020304)
    assert login.hash_type == GG_LOGIN_HASH_GG32
    assert login.login_hash == login_hash_field(GG_LOGIN_HASH_GG32, b"alice", 0x01020304)


@case("2.7", "Initial status without description", "Logging in without a description sends status "
      "GG_STATUS_AVAIL (0x02) and an empty description, as libgadu does.")
def test_initial_status_plain(driver, peer):
    driver.open(peer.address, 1001, "alice")
    login = peer.accept().welcome()
    assert (login.status, login.description) == (pk.GG_STATUS_AVAIL, "")


@case("2.8", "Initial status with description", "Logging in with a description sends "
      "GG_STATUS_AVAIL_DESCR (0x04) and the description in UTF-8.")
def test_initial_status_described(driver, peer):
    driver.open(peer.address, 1001, "alice", status=pk.GG_STATUS_AVAIL_DESCR, description="jestem ☕")
    login = peer.accept().welcome()
    assert (login.status, login.description) == (pk.GG_STATUS_AVAIL_DESCR, "jestem ☕")


@case("2.9", "Features and flags as libgadu", "GG_LOGIN80 announces features 0x2737 and flags 0x00800001 "
      "(docs/protocol.md#gg_login80-exactly), so servers treat us as libgadu.")
def test_features_and_flags(driver, peer):
    driver.open(peer.address, 1001, "alice")
    login = peer.accept().welcome()
    assert (login.features, login.flags) == (0x2737, 0x00800001)


@case("2.10", "No verdict: login timeout", "A server that never answers GG_LOGIN80 is given up on after the "
      "login timeout: Closed (not clean) and the socket closed (libgadu has no timeout of its own).")
def test_login_timeout_after_login(driver, peer):
    session = driver.open(peer.address, 1001, "alice", login_timeout=0.3)
    wire = peer.accept()
    wire.welcome()
    closed = session.wait(ev.Closed, timeout=3)
    assert not closed.clean
    wire.expect_eof(timeout=3)
    assert not [e for e in session.seen if isinstance(e, ev.LoginOk)]


@case("2.11", "No WELCOME: login timeout", "A server that accepts TCP but never sends GG_WELCOME is given "
      "up on after the login timeout.")
def test_login_timeout_without_welcome(driver, peer):
    session = driver.open(peer.address, 1001, "alice", login_timeout=0.3)
    wire = peer.accept()
    assert not session.wait(ev.Closed, timeout=3).clean
    assert wire.expect_eof(timeout=3) == []


@case("2.12", "GG_LOGIN_FAILED refuses too", "GG_LOGIN_FAILED (0x09) is a refusal like GG_LOGIN80_FAILED "
      "(what a server sends when features lack 0x40).")
def test_login_failed_0x09(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome()
    wire.send_packets(pk.LoginFailed())
    session.wait(ev.LoginFailed)
    wire.close()
    session.wait(ev.Closed)


@case("2.13", "Nothing before WELCOME", "The client speaks only after GG_WELCOME: it has no seed before it.")
def test_silent_before_welcome(driver, peer):
    driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    assert wire.quiet_for(0.2) == []
    wire.welcome()


@case("2.14", "Close before the verdict", "A server that closes after reading GG_LOGIN80 ends the session "
      "with a Closed that is not clean and no LoginOk (libgadu: ECONNRESET).")
def test_close_before_verdict(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome()
    wire.close()
    assert not session.wait(ev.Closed).clean
    assert not [e for e in session.seen if isinstance(e, ev.LoginOk)]


@case("2.15", "LOGIN80_OK payload ignored", "GG_LOGIN80_OK with an empty payload is a success "
      "(libgadu ignores the payload).")
def test_login_ok_empty_payload(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome()
    wire.send(struct.pack("<II", pk.GG_LOGIN80_OK, 0))
    session.wait(ev.LoginOk)


@case("2.16", "Message before login is an error", "GG_RECV_MSG80 before the login verdict is illegal in "
      "that state: the connection ends with an error, the message is not delivered.")
def test_message_before_login(driver, peer):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome()
    wire.send_packets(recv_msg("too early"))
    assert not session.wait(ev.Closed).clean
    assert not [e for e in session.seen if isinstance(e, ev.MessageReceived)]


@case("2.17", "Connection refused", "Connecting to a port nobody listens on ends in Closed (not clean) "
      "with a reason, never a hang.")
def test_connection_refused(driver):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    address = probe.getsockname()
    probe.close()
    session = driver.open(address, 1001, "alice")
    assert not session.wait(ev.Closed).clean


@case("2.18", "Login timer stops at login", "After LoginOk the login timeout no longer applies: the "
      "session outlives it.")
def test_login_timer_cancelled(driver, peer):
    session = driver.open(peer.address, 1001, "alice", login_timeout=0.2)
    wire = peer.accept()
    wire.accept_login(SEED)
    session.wait(ev.LoginOk)
    assert wire.quiet_for(0.5) == []
    assert not wire.eof
    wire.send_packets(recv_msg("still logged in"))
    assert session.wait(ev.MessageReceived).text == "still logged in"
