"""modern.yieldfrom.GGClient used directly, as its users would: yield-from coroutines on one loop.

Every test runs twice, on modern.loop and on asyncio, with the very same client: the reference server
in a thread on 127.0.0.1 for the end-to-end cases, and a small scripted peer written on the loop's own
sock_* calls for the bad-input cases. No test sleeps: each waits for an event under a deadline.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, Iterator

import pytest
from server_testing import running_server

import modern.loop
from compat import coroutine
from gadu import events as ev
from gadu import packets as pk
from gadu.client import ClientState
from gadu.errors import ConnectionClosed, DescriptionTooLong, LocalProtocolError, LoginRefused, LoginTimeout
from gadu.server_config import ECHO_UIN
from modern.yieldfrom import GGClient

USERS = {1001: "alice", 1002: "bob", 1003: "carol", 1004: "dave", 1005: "eve", 1006: "frank"}
#: The deadline of one test's whole coroutine.
DEADLINE = 5.0


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with running_server(users=dict(USERS)) as running:
        yield running


@pytest.fixture(params=["modern.loop", "asyncio"])
def loop(request) -> Iterator[Any]:
    loop = modern.loop.new_event_loop() if request.param == "modern.loop" else asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


def run(loop: Any, coro: Any) -> Any:
    """Run one test coroutine to its end, cancelled (and so failed) past the deadline."""
    task = loop.create_task(coro)
    guard = loop.call_later(DEADLINE, task.cancel)
    try:
        return loop.run_until_complete(task)
    finally:
        guard.cancel()


@coroutine
def logged_in(loop: Any, port: int, uin: int, **options: Any) -> Any:
    client = GGClient(loop, **options)
    yield from client.connect("127.0.0.1", port)
    yield from client.login(uin, USERS[uin])
    return client


@coroutine
def next_of(client: GGClient, kind: Any) -> Any:
    """The next event of `kind`, skipping others."""
    while True:
        event = yield from client.next_event()
        if isinstance(event, kind):
            return event
        assert not isinstance(event, ev.Closed), f"closed while waiting for {kind.__name__}: {event}"


@coroutine
def close(client: GGClient) -> Any:
    client.abort()
    return (yield from client.wait_closed())


@pytest.mark.parametrize("hash_type,uin", [("sha1", 1001), ("gg32", 1002)])
def test_login_is_accepted_with_either_hash(loop, server, hash_type, uin):
    """login() returns True for the right password, with the SHA1 and the GG32 hash."""
    @coroutine
    def main():
        client = GGClient(loop)
        yield from client.connect("127.0.0.1", server.port)
        yield from client.login(uin, USERS[uin], hash_type=hash_type)
        state = client.state
        yield from close(client)
        return state

    assert run(loop, main()).name == "CONNECTED"


def test_wrong_password_is_refused_then_closed_cleanly(loop, server):
    """A refused login raises LoginRefused; the server's close that follows is a clean Closed, and the last event."""
    @coroutine
    def main():
        client = GGClient(loop)
        yield from client.connect("127.0.0.1", server.port)
        with pytest.raises(LoginRefused, match="uin 1001"):
            yield from client.login(1001, "not-alice")
        closed = yield from client.next_event()
        with pytest.raises(ConnectionClosed):
            yield from client.next_event()
        return closed

    closed = run(loop, main())
    assert isinstance(closed, ev.Closed) and closed.clean


def test_login_timeout_against_a_silent_server(loop):
    """No verdict within the login timeout: LoginTimeout, the socket closed, a Closed that says why."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)

    @coroutine
    def main():
        client = GGClient(loop)
        yield from client.connect(*silent.getsockname())
        with pytest.raises(LoginTimeout, match="login timed out"):
            yield from client.login(1001, "alice", login_timeout=0.1)
        return (yield from client.next_event())

    try:
        closed = run(loop, main())
        accepted, _ = silent.accept()
        with accepted:
            accepted.settimeout(DEADLINE)
            assert accepted.recv(100) == b""  # the client sent nothing (no WELCOME, no seed) and closed
    finally:
        silent.close()
    assert not closed.clean and "login timed out" in closed.reason


def test_message_round_trip_with_its_ack(loop, server):
    """send_message returns the seq on the wire; wait_ack(seq) gets that seq's ack; the echo comes back."""
    @coroutine
    def main():
        client = yield from logged_in(loop, server.port, 1003)
        seq = client.send_message(ECHO_UIN, "zażółć gęślą jaźń")
        ack = yield from client.wait_ack(seq)
        echoed = yield from next_of(client, ev.MessageReceived)
        yield from close(client)
        return seq, ack, echoed

    seq, ack, echoed = run(loop, main())
    assert ack == ev.MessageAck(ECHO_UIN, seq, pk.GG_ACK_DELIVERED)
    assert (echoed.sender, echoed.text) == (ECHO_UIN, "zażółć gęślą jaźń")


def test_hundred_messages_pipelined_then_acks_collected(loop, server):
    """100 sends go out before any ack is awaited; each wait_ack then gets the ack of its own seq."""
    @coroutine
    def main():
        client = yield from logged_in(loop, server.port, 1004)
        seqs = [client.send_message(ECHO_UIN, f"nr {n}") for n in range(100)]
        acks = []
        for seq in reversed(seqs):  # in any order: each ack is matched by its seq
            acks.append((yield from client.wait_ack(seq)))
        texts = []
        while len(texts) < 100:
            texts.append((yield from next_of(client, ev.MessageReceived)).text)
        yield from close(client)
        return seqs, acks, texts

    seqs, acks, texts = run(loop, main())
    assert len(set(seqs)) == 100
    assert [ack.seq for ack in acks] == list(reversed(seqs))
    assert {ack.status for ack in acks} == {pk.GG_ACK_DELIVERED}
    assert texts == [f"nr {n}" for n in range(100)]


def test_an_ack_is_claimed_once(loop, server):
    """wait_ack refuses a seq that was never sent, or whose ack was already taken, with a KeyError."""
    @coroutine
    def main():
        client = yield from logged_in(loop, server.port, 1005)
        seq = client.send_message(ECHO_UIN, "raz")
        yield from client.wait_ack(seq)
        with pytest.raises(KeyError):
            yield from client.wait_ack(seq)
        with pytest.raises(KeyError):
            yield from client.wait_ack(seq + 1000)
        yield from close(client)

    run(loop, main())


def test_status_change_seen_by_a_watcher(loop, server):
    """A status with a description reaches a second client that lists the first."""
    @coroutine
    def main():
        watcher = yield from logged_in(loop, server.port, 1001)
        contact = yield from logged_in(loop, server.port, 1002)
        yield from watcher.send_contacts([1002])
        yield from next_of(watcher, ev.ContactsReply)
        yield from contact.change_status(pk.GG_STATUS_BUSY_DESCR, "na spotkaniu")
        while True:
            change = yield from next_of(watcher, ev.StatusChanged)
            if change.status == pk.GG_STATUS_BUSY_DESCR:
                break
        yield from close(watcher)
        yield from close(contact)
        return change

    assert run(loop, main()) == ev.StatusChanged(1002, pk.GG_STATUS_BUSY_DESCR, "na spotkaniu")


def test_a_long_contact_list_reaches_the_server_whole(loop, server):
    """1000 contacts go out in NOTIFY_FIRST chunks and a NOTIFY_LAST: the server holds all 1000."""
    contacts = [ECHO_UIN, *range(200000, 200999)]

    @coroutine
    def main():
        client = yield from logged_in(loop, server.port, 1006)
        yield from client.send_contacts(contacts)
        reply = yield from next_of(client, ev.ContactsReply)
        held = server.call(lambda: len(server.server.online[1006].contacts))
        yield from close(client)
        return reply, held

    reply, held = run(loop, main())
    assert held == 1000
    assert [entry.uin for entry in reply.entries] == [ECHO_UIN]


def test_typing_reaches_the_recipient(loop, server):
    """A typing notification arrives at the other client with the sender's uin and the length."""
    @coroutine
    def main():
        alice = yield from logged_in(loop, server.port, 1001)
        bob = yield from logged_in(loop, server.port, 1002)
        alice.send_typing(1002, 7)
        typing = yield from next_of(bob, ev.Typing)
        yield from close(alice)
        yield from close(bob)
        return typing

    assert run(loop, main()) == ev.Typing(1001, 7)


def test_keepalive_pings_on_its_interval(loop, server):
    """With ping_interval set, pings go out on their own once logged in; never more often than the interval."""
    interval = 0.05

    @coroutine
    def main():
        started = loop.time()
        client = yield from logged_in(loop, server.port, 1003, ping_interval=interval)
        for _ in range(3):
            yield from next_of(client, ev.Pong)
        elapsed = loop.time() - started
        yield from close(client)
        return elapsed

    elapsed = run(loop, main())
    # Timers never fire early: the third pong answers a ping sent three intervals after the login.
    assert elapsed >= 2.5 * interval


def test_logoff_ends_with_a_clean_close_and_no_more_sends(loop, server):
    """logoff() gives the Closed of the server's close, clean; a send afterwards is refused with a typed error."""
    @coroutine
    def main():
        client = yield from logged_in(loop, server.port, 1004, ping_interval=0.05)
        closed = yield from client.logoff("do jutra")
        last = yield from next_of(client, ev.Closed)
        with pytest.raises(ConnectionClosed):
            client.send_message(ECHO_UIN, "za późno")
        return closed, last

    closed, last = run(loop, main())
    assert closed.clean and last is closed


def test_second_login_of_the_same_uin_drops_the_first(loop, server):
    """The server drops an older connection of a uin that logs in again: GG_DISCONNECTING, then a clean Closed."""
    @coroutine
    def main():
        first = yield from logged_in(loop, server.port, 1005)
        second = yield from logged_in(loop, server.port, 1005)
        events = [(yield from first.next_event()), (yield from first.next_event())]
        yield from close(second)
        return events

    disconnecting, closed = run(loop, main())
    assert disconnecting == ev.Disconnecting()
    assert isinstance(closed, ev.Closed) and closed.clean


def test_bad_arguments_raise_before_anything_is_sent(loop, server):
    """An unknown hash type, or a description over the limit, is refused on our side with a typed error."""
    @coroutine
    def main():
        client = GGClient(loop)
        yield from client.connect("127.0.0.1", server.port)
        with pytest.raises(ValueError, match="hash type"):
            yield from client.login(1006, "frank", hash_type="md5")
        yield from client.login(1006, "frank", hash_type="gg32")
        with pytest.raises(DescriptionTooLong):
            client.change_status(pk.GG_STATUS_AVAIL_DESCR, "ż" * 128)
        with pytest.raises(LocalProtocolError):
            client.change_status(pk.GG_STATUS_NOT_AVAIL)
        yield from close(client)

    run(loop, main())


def test_connection_refused_is_an_error_and_a_closed(loop):
    """connect() to a port nobody listens on raises, and the Closed event says why."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    address = probe.getsockname()
    probe.close()

    @coroutine
    def main():
        client = GGClient(loop)
        with pytest.raises(OSError):
            yield from client.connect(*address)
        return (yield from client.next_event())

    closed = run(loop, main())
    assert not closed.clean and "could not connect" in closed.reason


# A scripted peer on the loop's own sock_* calls, for what the reference server never sends.

@coroutine
def scripted(loop: Any, script: Any, client: GGClient) -> Any:
    """Run `script(sock)` as the server of one connection from `client`; returns the Closed event."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    try:
        accepting = loop.create_task(_accept(loop, listener))
        yield from client.connect(*listener.getsockname())
        sock = yield from accepting
    finally:
        listener.close()
    with sock:
        result = yield from script(sock)
        closed = yield from client.wait_closed()
    return closed, result


@coroutine
def _accept(loop: Any, listener: socket.socket) -> Any:
    sock, _ = yield from loop.sock_accept(listener)
    sock.setblocking(False)
    return sock


@coroutine
def read_until_eof(loop: Any, sock: socket.socket) -> Any:
    data = b""
    while True:
        try:
            chunk = yield from loop.sock_recv(sock, 65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


@pytest.mark.parametrize("garbage,reason", [
    (pk.HEADER.pack(pk.GG_RECV_MSG80, 0xFFFFFFFF), "limit"),
    (b"\x05\x00\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00", "GG_SEND_MSG_ACK"),
])
def test_protocol_error_closes_the_socket_and_says_why(loop, garbage, reason):
    """A 4 GiB length, or a packet too short for its fields, ends the connection: Closed(clean=False, the error)."""
    client = GGClient(loop)

    @coroutine
    def script(sock):
        yield from loop.sock_sendall(sock, pk.Welcome(seed=1).encode())
        login_future = loop.create_task(client.login(1001, "alice"))
        yield from loop.sock_recv(sock, 65536)
        yield from loop.sock_sendall(sock, pk.Login80Ok().encode())
        yield from login_future
        assert client.state is ClientState.CONNECTED
        yield from loop.sock_sendall(sock, garbage)
        return (yield from read_until_eof(loop, sock))

    closed, _ = run(loop, scripted(loop, script, client))
    assert not closed.clean and reason in closed.reason


def test_welcome_before_login_waits_for_login(loop):
    """Bytes that arrive before login() wait, unread: login() then answers the WELCOME they carry."""
    client = GGClient(loop)

    @coroutine
    def script(sock):
        yield from loop.sock_sendall(sock, pk.Welcome(seed=7).encode())
        for _ in range(1000):  # until the client's loop has read the WELCOME, with nobody logged in
            if client._early:
                break
            yield from _pass(loop)
        assert client._early
        login = loop.create_task(client.login(1001, "alice"))
        data = yield from loop.sock_recv(sock, 65536)
        yield from loop.sock_sendall(sock, pk.Login80Ok().encode())
        yield from login
        state = client.state
        client.abort()
        return data, state

    _, (data, state) = run(loop, scripted(loop, script, client))
    assert state is ClientState.CONNECTED
    assert pk.HEADER.unpack_from(data)[0] == pk.GG_LOGIN80


@coroutine
def _pass(loop: Any) -> Any:
    future = loop.create_future()
    loop.call_soon(future.set_result, None)
    yield from future


def test_a_full_event_queue_pauses_reading_and_loses_nothing(loop, server):
    """With room for 2 pending events the client stops reading from the socket (flow control, not an
    unbounded queue), reads again once they are taken, and all 50 pongs arrive."""
    @coroutine
    def main():
        client = yield from logged_in(loop, server.port, 1006, event_backlog=2)
        transport = client._transport
        for _ in range(50):
            client.ping()
        while len(client._events) < 2:
            yield from _pass(loop)
        paused = not transport.is_reading()
        pongs = 0
        while pongs < 50:
            pongs += isinstance((yield from client.next_event()), ev.Pong)
        resumed = transport.is_reading()
        yield from close(client)
        return paused, pongs, resumed

    assert run(loop, main()) == (True, 50, True)


def test_packet_log_shows_both_directions_without_the_hash(loop, server, caplog):
    """log_packets logs every packet in and out on gadu.client.packets; the login hash is zeroed."""
    caplog.set_level(logging.INFO, logger="gadu.client.packets")

    @coroutine
    def main():
        client = yield from logged_in(loop, server.port, 1001, log_packets=True, label="alice")
        yield from client.ping()
        yield from next_of(client, ev.Pong)
        yield from close(client)

    run(loop, main())
    lines = [r.getMessage() for r in caplog.records if r.name == "gadu.client.packets"]
    assert any(line.startswith("alice in GG_WELCOME") for line in lines)
    assert any(line.startswith("alice out GG_LOGIN80 (hash zeroed)") for line in lines)
    assert any(line.startswith("alice out GG_PING") for line in lines)
    assert any(line.startswith("alice in GG_PONG") for line in lines)
