"""modern.yieldfrom.GGClient used directly, as its users would: yield-from coroutines on one loop.

What only this style promises (wait_ack, next_event's flow control, the errors its coroutines raise,
bytes read before login()); what every variant does is the conformance suite's.

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
from gadu.errors import DescriptionTooLong, LocalProtocolError, LoginTimeout
from gadu.server.config import ECHO_UIN
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
