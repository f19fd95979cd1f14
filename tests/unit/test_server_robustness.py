"""Reference server over loopback: bad input, slow readers, the connection cap, the login timeout,
and the packet log. A bad connection is closed with one log line; everyone else carries on."""
from __future__ import annotations

import logging
import re
import select
import socket
import struct
import time

import pytest
from server_testing import TIMEOUT, GGClient, raw_connection, read_until_closed, running_server

from gadu import events as ev
from gadu import packets as p
from gadu.framing import FrameParser
from gadu.hashing import GG_LOGIN_HASH_SHA1, login_hash_field
from gadu.server import READ_BUFFER_SIZE

ALICE, BOB, ECHO = 1001, 1002, 1000
S2C = p.Direction.SERVER_TO_CLIENT


def login_frame(uin: int = ALICE, password: bytes = b"alice", seed: int = 0) -> bytes:
    return p.Login80(uin, GG_LOGIN_HASH_SHA1, login_hash_field(GG_LOGIN_HASH_SHA1, password, seed)).encode()


def read_welcome(sock: socket.socket) -> p.Welcome:
    parser = FrameParser(S2C)
    packets = []
    while not packets:
        data = sock.recv(64)
        assert data, "closed before GG_WELCOME"
        packets = parser.feed(data)
    assert isinstance(packets[0], p.Welcome)
    return packets[0]


def warnings_about(caplog, sock: socket.socket):
    """The server's WARNING lines about the connection of this client socket."""
    peer = re.compile(rf"127\.0\.0\.1:{sock.getsockname()[1]}\b")
    return [r.getMessage() for r in caplog.records
            if r.name == "gadu.server" and r.levelno >= logging.WARNING and peer.search(r.getMessage())]


@pytest.fixture
def server():
    with running_server() as running:
        yield running


def _garbage(sock):
    sock.sendall(b"GET / HTTP/1.1\r\nHost: gg\r\n\r\n")


def _oversize(sock):
    sock.sendall(struct.pack("<II", p.GG_SEND_MSG80, 65536))


def _four_gib(sock):
    sock.sendall(struct.pack("<II", p.GG_LOGIN80, 0xFFFFFFFF) + b"x" * 100)


def _truncated(sock):
    sock.sendall(login_frame()[:50])
    sock.shutdown(socket.SHUT_WR)


def _message_before_login(sock):
    sock.sendall(p.SendMsg80.from_text(BOB, 1, "hej").encode())


def _ping_before_login(sock):
    sock.sendall(p.Ping().encode())


def _malformed_login(sock):
    sock.sendall(struct.pack("<II", p.GG_LOGIN80, 10) + bytes(10))


def _login_before_welcome(sock):
    # Sent at once, without reading the seed: the hash cannot match, the login is refused.
    sock.sendall(login_frame(seed=0x12345678))


BAD_INPUT = {
    "garbage": (_garbage, "above the 65535-byte limit"),
    "oversize length": (_oversize, "announces a 65536-byte body"),
    "4 GiB length": (_four_gib, "announces a 4294967295-byte body"),
    "truncated packet": (_truncated, "closed mid-packet"),
    "message before login": (_message_before_login, "GG_SEND_MSG80 from the client is not allowed"),
    "ping before login": (_ping_before_login, "GG_PING from the client is not allowed"),
    "malformed login": (_malformed_login, "malformed GG_LOGIN80"),
    "login before welcome": (_login_before_welcome, "login failed for uin 1001: wrong password"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_closes_that_connection_with_one_log_line(server, caplog, case):
    caplog.set_level(logging.INFO, logger="gadu.server")
    send_bad, expected = BAD_INPUT[case]
    with GGClient.logged_in(server.port, ALICE) as bystander, raw_connection(server.port) as sock:
        if case != "login before welcome":
            read_welcome(sock)
        send_bad(sock)
        read_until_closed(sock)
        lines = warnings_about(caplog, sock)
        assert len(lines) == 1, lines
        assert expected in lines[0]
        bystander.sync()  # untouched
        with GGClient.logged_in(server.port, BOB) as bob:  # and the server still takes logins
            seq = bob.message(ALICE, "dalej działa")
            assert bystander.wait(ev.MessageReceived, seq=seq).text == "dalej działa"


BAD_STATUS = struct.pack("<III", p.GG_STATUS_AVAIL_DESCR, 0, 2) + b"\xff\xfe"


@pytest.mark.parametrize("bad", [
    pytest.param(login_frame(), id="second login"),
    pytest.param(struct.pack("<II", p.GG_NEW_STATUS80, len(BAD_STATUS)) + BAD_STATUS, id="status not UTF-8"),
])
def test_bad_input_after_login_closes_the_connection_and_watchers_see_it_go(server, caplog, bad):
    caplog.set_level(logging.INFO, logger="gadu.server")
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        bob.send(bob.conn.send_contacts([ALICE]))
        bob.wait(ev.ContactsReply)
        alice.send(bad)
        read_until_closed(alice.sock)
        assert len(warnings_about(caplog, alice.sock)) == 1
        assert bob.wait(ev.StatusChanged, uin=ALICE).status == p.GG_STATUS_NOT_AVAIL


def test_a_client_that_does_not_read_is_flow_controlled_and_loses_nothing():
    """It floods echo requests and reads nothing: the server stops reading it instead of buffering."""
    high_water = 32 * 1024
    text = "x" * 1900
    with running_server(write_high_water=high_water, write_limit=16 * 1024 * 1024) as server, \
            GGClient.logged_in(server.port, ALICE, features=p.GG8_FEATURES & ~p.GG_FEATURE_MSG_ACK) as alice:
        sock = alice.sock
        sock.setblocking(False)
        transport = server.call(lambda: server.server.online[ALICE].transport)
        sent, pending = 0, b""
        while True:
            assert sent < 50000, "the server never pushed back"
            if not pending:
                pending = alice.conn.send_message(ECHO, text)[0]
            if select.select([], [sock], [], 0.1)[1]:
                try:
                    pending = pending[sock.send(pending):]
                except BlockingIOError:
                    continue
                sent += not pending
            elif not server.call(transport.is_reading):
                break  # our socket is full and the server has stopped reading it
        queued = server.call(transport.get_write_buffer_size)
        # At most the high-water mark plus the answers to one read's worth of requests.
        assert queued <= high_water + 2 * READ_BUFFER_SIZE + 4096
        # Now read everything; the last request may be half-written: finish it as the server resumes.
        expected = sent + (1 if pending else 0)
        received = 0
        while received < expected:
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], TIMEOUT)
            assert readable or writable, f"stalled after {received} of {expected} echoes"
            if writable:
                pending = pending[sock.send(pending):]
            if readable:
                data = sock.recv(1 << 16)
                assert data, "the server closed the connection"
                echoes = [e for e in alice.conn.receive_data(data) if isinstance(e, ev.MessageReceived)]
                assert all(e.text == text for e in echoes)
                received += len(echoes)
        sock.setblocking(True)
        alice.sync()


def test_a_slow_reader_is_disconnected_past_the_write_limit_with_a_log_line(caplog):
    caplog.set_level(logging.INFO, logger="gadu.server")
    limit = 256 * 1024
    with running_server(write_high_water=16 * 1024, write_limit=limit) as server, \
            GGClient.logged_in(server.port, ALICE) as alice:
        bob = socket.socket()
        bob.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        with bob:
            bob.settimeout(TIMEOUT)
            bob.connect(("127.0.0.1", server.port))
            seed = read_welcome(bob).seed
            bob.sendall(login_frame(BOB, b"bob", seed))
            parser, logged_in = FrameParser(S2C), False
            while not logged_in:  # read up to GG_LOGIN80_OK, then never again
                data = bob.recv(8)
                assert data, "the server closed Bob's connection during the login"
                logged_in = any(isinstance(packet, p.Login80Ok) for packet in parser.feed(data))
            # Bob reads nothing more; Alice writes to him until the server gives up on him.
            status, sent = p.GG_ACK_DELIVERED, 0
            while status == p.GG_ACK_DELIVERED:
                assert sent < 10000, "the server kept buffering for a reader that does not read"
                seq = alice.message(BOB, "ż" * 1900)
                status = alice.wait(ev.MessageAck, seq=seq).status
                sent += 1
            assert status == p.GG_ACK_QUEUED, "once Bob is dropped his messages wait offline"
            lines = warnings_about(caplog, bob)
            assert len(lines) == 1 and "not reading" in lines[0], lines
        alice.sync()


def test_connections_past_the_cap_are_refused_with_a_log_line(caplog):
    caplog.set_level(logging.INFO, logger="gadu.server")
    with running_server(max_connections=2) as server, raw_connection(server.port) as first, \
            raw_connection(server.port) as second:
        read_welcome(first)
        read_welcome(second)
        with raw_connection(server.port) as third:
            assert read_until_closed(third) == b"", "no GG_WELCOME past the cap"
            assert "the cap is 2" in warnings_about(caplog, third)[0]
        first.close()
        # The server hears of the close asynchronously: retry (bounded) until a slot is free.
        deadline = time.monotonic() + TIMEOUT
        while True:
            with raw_connection(server.port) as fourth:
                if fourth.recv(64):
                    break
            assert time.monotonic() < deadline, "the closed connection never freed its slot"


def test_a_connection_that_never_logs_in_is_closed_after_the_login_timeout(caplog):
    caplog.set_level(logging.INFO, logger="gadu.server")
    with running_server(login_timeout=0.2) as server, GGClient.logged_in(server.port, ALICE) as alice, \
            raw_connection(server.port) as idle:
        read_welcome(idle)
        assert read_until_closed(idle) == b""
        assert "no login within 0.2 s" in warnings_about(caplog, idle)[0]
        alice.sync()  # logged in before the idle one timed out: not affected


def test_a_client_silent_after_its_messages_is_closed_after_the_idle_timeout(caplog):
    """Reads while logged in do not re-arm the timer (the deadline only moves later); the one armed at
    login still ends a client that goes silent, long before the login timeout would have."""
    caplog.set_level(logging.INFO, logger="gadu.server")
    with running_server(login_timeout=3 * TIMEOUT, idle_timeout=0.3) as server, \
            raw_connection(server.port) as quiet:
        quiet.sendall(login_frame(seed=read_welcome(quiet).seed))
        quiet.sendall(p.SendMsg80.from_text(ECHO, 7, "hej").encode())  # a hot read, then silence
        quiet.sendall(p.RecvMsgAck(7).encode())
        frames = FrameParser(S2C).feed(read_until_closed(quiet))
        assert [type(frame) for frame in frames] == [p.Login80Ok, p.SendMsgAck, p.RecvMsg80]
        assert "nothing received for 0.3 s" in warnings_about(caplog, quiet)[0]


def test_packet_log_has_one_line_per_packet_and_never_the_hash(caplog):
    caplog.set_level(logging.INFO, logger="gadu.server.packets")
    with running_server(log_packets=True) as server:
        with GGClient.logged_in(server.port, ALICE) as alice:
            seq = alice.message(ECHO, "zażółć")
            alice.wait(ev.MessageAck, seq=seq)
            alice.wait(ev.MessageReceived, sender=ECHO)
        lines = [r.getMessage() for r in caplog.records if r.name == "gadu.server.packets"]
    summary = [line.split(" len=")[0].split(" ", 1)[1].replace("uin=1001 ", "") for line in lines]
    assert summary[:6] == [
        "out GG_WELCOME",
        "in GG_LOGIN80 (hash zeroed)",
        "out GG_LOGIN80_OK",
        "in GG_SEND_MSG80",
        "out GG_SEND_MSG_ACK",
        "out GG_RECV_MSG80",
    ]
    seed = struct.unpack("<I", bytes.fromhex(lines[0].rsplit(" ", 1)[1]))[0]
    digest = login_hash_field(GG_LOGIN_HASH_SHA1, b"alice", seed)[:20].hex()
    assert not [line for line in lines if digest in line or b"alice".hex() in line]
    assert "zażółć".encode().hex() in lines[3]


def test_a_message_before_garbage_in_the_same_read_is_still_routed():
    """Bad bytes drop the connection, but a message that came whole before them is delivered: bad
    input loses nothing that arrived in good form. (No ack: the sender's session ended with its error.)"""
    with running_server() as server, GGClient.logged_in(server.port, BOB) as bob:
        alice = GGClient.logged_in(server.port, ALICE)
        try:
            data, seq = alice.conn.send_message(BOB, "zanim przyszły śmieci")
            alice.send(data + b"\xff" * 16)
            assert bob.wait(ev.MessageReceived, seq=seq).text == "zanim przyszły śmieci"
            assert not alice.wait(ev.Closed).clean
        finally:
            alice.close()
