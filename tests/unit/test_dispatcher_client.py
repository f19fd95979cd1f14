"""What only the asynchat client promises, on its own run() loop against a raw loopback peer:
terminators never above the frame limit, the unsent limit, handler errors, any timer source. What
every variant does (login, messages, contacts, keep-alive, the end) is the conformance suite's,
which runs this client as "dispatcher" and "dispatcher@asyncio"."""
from __future__ import annotations

import logging
import socket
import time
from typing import Any, Callable, Dict, List, Tuple

import pytest

from gadu import events as ev
from gadu import packets as pk
from gadu.errors import WriteBufferFull
from gadu.framing import FrameParser
from gadu.limits import MAX_FRAME
from legacy.dispatcher import GaduClient, Timers, run
from legacy.dispatcher import client as client_module

ALICE, BOB, CAROL = 1001, 1002, 1003
WAIT = 5.0


# --- fixtures ----------------------------------------------------------------------------------------

# --- on the client's own loop, against a raw peer --------------------------------------------------

class Recorder(GaduClient):
    """A GaduClient that keeps every event its handlers are given, in order."""

    def __init__(self, *args: Any, **options: Any) -> None:
        self.events: List[Any] = []
        self.terminators: List[int] = []
        super().__init__(*args, **options)

    def set_terminator(self, term: Any) -> None:
        self.terminators.append(term)
        super().set_terminator(term)

    def on_login_ok(self) -> None:
        self.events.append(ev.LoginOk())

    def on_login_failed(self, reason: str) -> None:
        self.events.append(ev.LoginFailed())

    def on_message(self, event: ev.MessageReceived) -> None:
        self.events.append(event)

    def on_pong(self) -> None:
        self.events.append(ev.Pong())

    def on_disconnect(self, closed: ev.Closed) -> None:
        self.events.append(closed)


def pump(socket_map: Dict[int, Any], timers: Timers, done: Callable[[], bool], use_poll: bool = True) -> None:
    """Run the client's loop until `done()`, for at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    run(socket_map, timers, timeout=0.05, use_poll=use_poll,
        until=lambda: done() or time.monotonic() > deadline)
    assert done(), "the loop did not get there in time"


@pytest.fixture
def listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        yield sock


def login_on_raw_peer(listener: socket.socket, use_poll: bool = True,
                      **options: Any) -> Tuple[Recorder, socket.socket, Dict[int, Any], Timers]:
    """A Recorder logged in to a peer played by the test: WELCOME, read GG_LOGIN80, LOGIN80_OK."""
    socket_map: Dict[int, Any] = {}
    timers = Timers()
    client = Recorder(ALICE, "alice", map=socket_map, timers=timers, **options)
    client.connect_to(listener.getsockname())
    listener.settimeout(WAIT)
    wire, _ = listener.accept()
    wire.sendall(pk.Welcome(seed=0x1234).encode())
    wire.setblocking(False)  # read what has come while the client's loop runs in this thread
    parser = FrameParser(pk.Direction.CLIENT_TO_SERVER)
    received: List[pk.Packet] = []

    def login_arrived() -> bool:
        try:
            received.extend(parser.feed(wire.recv(65536)))
        except BlockingIOError:
            pass
        return any(isinstance(p, pk.Login80) for p in received)

    pump(socket_map, timers, login_arrived, use_poll)
    wire.settimeout(WAIT)
    wire.sendall(pk.Login80Ok().encode())
    pump(socket_map, timers, lambda: ev.LoginOk() in client.events, use_poll)
    return client, wire, socket_map, timers


@pytest.mark.parametrize("use_poll", [True, False], ids=["poll", "select"])
def test_run_serves_the_client_with_poll_or_select(listener, use_poll):
    """run() logs in and reads a message on either of asyncore's pollers."""
    client, wire, socket_map, timers = login_on_raw_peer(listener, use_poll)
    with wire:
        sent = pk.SendMsg80.from_text(ALICE, 9, "przez select i poll")
        wire.sendall(pk.RecvMsg80.from_send(sent, BOB, 1_700_000_000).encode())
        pump(socket_map, timers, lambda: any(isinstance(e, ev.MessageReceived) for e in client.events), use_poll)
        client.close()
    assert client.events[-1] == ev.Closed(clean=False, reason=client_module.LOCAL_CLOSE)
    assert socket_map == {}


def test_a_4_gib_length_is_refused_at_the_header_and_never_a_terminator(listener):
    """The header goes through gadu before asynchat is told the body length: FrameTooLarge, no buffering."""
    client, wire, socket_map, timers = login_on_raw_peer(listener)
    with wire:
        wire.sendall(pk.HEADER.pack(pk.GG_RECV_MSG80, 0xFFFFFFFF) + b"x" * 100)
        pump(socket_map, timers, lambda: client.is_closed)
    closed = client.events[-1]
    assert not closed.clean and "4294967295" in closed.reason
    assert max(client.terminators) <= MAX_FRAME
    assert socket_map == {}


def test_a_frame_read_one_byte_at_a_time_and_empty_bodies(listener):
    """Header and body terminators work with one-byte reads; a zero-length body is complete at its header."""
    client, wire, socket_map, timers = login_on_raw_peer(listener)
    client.ac_in_buffer_size = 1  # asynchat's recv() size: every byte is a read of its own
    sent = pk.SendMsg80.from_text(ALICE, 3, "bajt po bajcie")
    with wire:
        wire.sendall(pk.Pong().encode() + pk.RecvMsg80.from_send(sent, BOB, 1_700_000_000).encode()
                     + pk.Pong().encode())
        pump(socket_map, timers, lambda: len(client.events) == 4)
        client.close()
    assert [type(e).__name__ for e in client.events[1:4]] == ["Pong", "MessageReceived", "Pong"]
    assert client.events[2].text == "bajt po bajcie"


def test_a_server_that_does_not_read_is_given_up_at_the_unsent_limit(listener, monkeypatch):
    """What the kernel will not take is counted; past WRITE_LIMIT the connection closes, it does not grow."""
    monkeypatch.setattr(client_module, "WRITE_LIMIT", 64 * 1024)
    client, wire, socket_map, _ = login_on_raw_peer(listener)
    with wire:
        with pytest.raises(WriteBufferFull, match="stopped reading"):
            for _ in range(100_000):  # the kernel's buffers fill long before this
                client.send_message(BOB, "x" * 1900)
    closed = client.events[-1]
    assert not closed.clean and "not reading" in closed.reason
    assert socket_map == {}


def test_packet_log_shows_both_directions_with_the_hash_hidden(listener, caplog):
    caplog.set_level(logging.INFO, logger="gadu.client.packets")
    client, wire, _, _ = login_on_raw_peer(listener, log_packets=True)
    with wire:
        client.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "gadu.client.packets"]
    assert any(" out GG_LOGIN80 (hash zeroed) " in line for line in lines)
    assert any(" in GG_WELCOME " in line for line in lines)
    assert any(" in GG_LOGIN80_OK " in line for line in lines)


def test_an_error_in_a_handler_closes_the_connection_with_a_reason(listener, caplog):
    """asyncore's handle_error: the exception is logged and the session ends, nothing is left open."""
    class Broken(Recorder):
        def on_message(self, event: ev.MessageReceived) -> None:
            raise ValueError("handler bug")

    socket_map: Dict[int, Any] = {}
    timers = Timers()
    client = Broken(ALICE, "alice", map=socket_map, timers=timers)
    client.connect_to(listener.getsockname())
    listener.settimeout(WAIT)
    wire, _ = listener.accept()
    with wire:
        sent = pk.SendMsg80.from_text(ALICE, 3, "boom")
        wire.sendall(pk.Welcome(seed=1).encode() + pk.Login80Ok().encode()
                     + pk.RecvMsg80.from_send(sent, BOB, 1_700_000_000).encode())
        with caplog.at_level(logging.ERROR, logger="legacy.dispatcher"):
            pump(socket_map, timers, lambda: client.is_closed)
    closed = client.events[-1]
    assert not closed.clean and "ValueError" in closed.reason and "handler bug" in closed.reason
    assert any("handler bug" in (r.exc_text or "") for r in caplog.records)
    assert socket_map == {}


def test_bad_options_are_refused_before_a_socket_exists():
    socket_map: Dict[int, Any] = {}
    with pytest.raises(ValueError, match="login_timeout"):
        GaduClient(ALICE, "alice", map=socket_map, timers=Timers(), login_timeout=0)
    with pytest.raises(ValueError, match="ping_interval"):
        GaduClient(ALICE, "alice", map=socket_map, timers=Timers(), ping_interval=-1)
    with pytest.raises(ValueError):
        GaduClient(ALICE, "pass\x00word", map=socket_map, timers=Timers())
    assert socket_map == {}


def test_any_timer_source_with_a_two_argument_call_later_will_do(listener):
    """The client asks its timer source for call_later(delay, callback) and cancel(), nothing more."""
    class MinimalSource:
        def __init__(self, timers: Timers) -> None:
            self.timers = timers

        def call_later(self, delay: float, callback: Callable[[], None]) -> Any:
            return self.timers.call_later(delay, callback)

    socket_map: Dict[int, Any] = {}
    timers = Timers()
    client = Recorder(ALICE, "alice", map=socket_map, timers=MinimalSource(timers), login_timeout=0.05)
    client.connect_to(listener.getsockname())
    pump(socket_map, timers, lambda: client.is_closed)
    reason = "login timed out: no login verdict from the server within 0.05 s"
    assert client.events == [ev.LoginFailed(), ev.Closed(False, reason)]
