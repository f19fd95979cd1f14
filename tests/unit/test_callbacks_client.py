"""legacy.callbacks.GGClient: what only this style promises, on the reference server and the scripted peer.

The tests call the client itself on the conformance driver's reactor thread: every callback is
called exactly once, never from inside the call that took it, with either a result or a typed
error; sends past the write limit are refused (back-pressure). What every variant does (login,
messages, contacts, keep-alive, the end) is the conformance suite's, which runs this client too.
"""
from __future__ import annotations

import logging
import queue
import socket
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from conformance.drivers.callbacks import CallbacksDriver
from conformance.peer import ScriptedPeer
from server_testing import USERS, running_server

from gadu import events as ev
from gadu import packets as pk
from gadu.errors import (
    CloseTimeout,
    ConnectionClosed,
    FrameTooLarge,
    LocalProtocolError,
    LoginRefused,
    LoginTimeout,
    RemoteProtocolError,
    TruncatedFrame,
    WriteBufferFull,
)
from legacy.callbacks import GGClient
from legacy.callbacks import client as callbacks_client

WAIT = 5.0
ECHO = 1000


@pytest.fixture
def server():
    with running_server() as thread:
        yield thread


@pytest.fixture
def address(server) -> Tuple[str, int]:
    return ("127.0.0.1", server.port)


@pytest.fixture
def driver() -> Iterator[CallbacksDriver]:
    instance = CallbacksDriver().start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def peer() -> Iterator[ScriptedPeer]:
    scripted = ScriptedPeer()
    try:
        yield scripted
    finally:
        scripted.close()


# --- through the driver, against the reference server ---------------------------------------------


# --- the callback API itself, on the driver's reactor thread ---------------------------------------


class Harness:
    """Runs calls on the driver's reactor thread and records every callback and handler call.

    Each record notes whether it happened while a call into the client was still in progress: a
    callback must never run from inside the call that took it.
    """

    def __init__(self, driver: CallbacksDriver) -> None:
        self.driver = driver
        self.records: queue.Queue[Tuple[str, Any, Optional[BaseException], bool]] = queue.Queue()
        self.inside = False
        self.clients: List[GGClient] = []
        #: Handler calls that collect() read past while waiting for callbacks.
        self.events: List[Any] = []

    def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def act() -> Any:
            self.inside = True
            try:
                return func(*args, **kwargs)
            finally:
                self.inside = False

        return self.driver.call(act)

    def callback(self, name: str) -> Callable[[Any, Optional[BaseException]], None]:
        def record(result: Any, error: Optional[BaseException]) -> None:
            self.records.put((name, result, error, self.inside))

        return record

    def client(self, address: Any, uin: int = 1001, password: str = "alice", *, log_packets: bool = False,
               **login_options: Any) -> GGClient:
        def make() -> GGClient:
            assert self.driver.reactor is not None
            client = GGClient(self.driver.reactor, log_packets=log_packets)
            client.on_event(lambda event: self.records.put(("event", event, None, self.inside)))
            self.clients.append(client)
            client.login(address, uin, password, self.callback("login"), **login_options)
            return client

        return self.run(make)

    def next(self, timeout: float = WAIT) -> Tuple[str, Any, Optional[BaseException]]:
        try:
            name, result, error, inside = self.records.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no callback within {timeout} s") from None
        assert not inside, f"{name} was called back from inside the call that took it"
        assert (result is None) != (error is None), f"{name} got both or neither of result and error"
        return name, result, error

    def expect(self, name: str) -> Tuple[Any, Optional[BaseException]]:
        got, result, error = self.next()
        assert got == name, f"expected {name}, got {got}: {result!r} {error!r}"
        return result, error

    def collect(self, *names: str) -> Dict[str, Tuple[Any, Optional[BaseException]]]:
        """The outcome of each named callback, in whatever order they come; events go to `events`."""
        outcomes: Dict[str, Tuple[Any, Optional[BaseException]]] = {}
        while set(outcomes) != set(names):
            name, result, error = self.next()
            if name == "event":
                self.events.append(result)
                continue
            assert name in names and name not in outcomes, f"unexpected or repeated callback {name}"
            outcomes[name] = (result, error)
        return outcomes

    def assert_quiet(self) -> None:
        """Nothing more was called back, after two full passes of the reactor."""
        self.run(lambda: None)
        self.run(lambda: None)
        assert self.records.empty(), f"unexpected callbacks: {list(self.records.queue)}"

    def close(self) -> None:
        for client in self.clients:
            self.driver.call(client.abort)


@pytest.fixture
def harness(driver) -> Iterator[Harness]:
    instance = Harness(driver)
    try:
        yield instance
    finally:
        instance.close()


def logged_in(harness: Harness, peer: ScriptedPeer, **options: Any):
    client = harness.client(peer.address, **options)
    wire = peer.accept()
    wire.accept_login()
    result, error = harness.expect("login")
    assert result == ev.LoginOk() and error is None
    return client, wire


def test_callbacks_come_later_and_exactly_once(harness, address):
    """Each request's callback is called once with its answer, after the call returned."""
    client = harness.client(address)
    assert harness.expect("login") == (ev.LoginOk(), None)
    seq = harness.run(client.send_message, ECHO, "raz", harness.callback("ack"))
    harness.run(client.change_status, pk.GG_STATUS_BUSY_DESCR, "zajęty", harness.callback("status"))
    harness.run(client.send_contacts, [1002, 1003], harness.callback("notify"))
    harness.run(client.ping, harness.callback("pong"))
    outcomes = harness.collect("ack", "status", "notify", "pong")
    assert outcomes["ack"] == (ev.MessageAck(ECHO, seq, pk.GG_ACK_DELIVERED), None)
    assert outcomes["status"] == (True, None)
    assert outcomes["notify"] == (True, None)
    assert outcomes["pong"] == (ev.Pong(), None)
    harness.run(client.ping, harness.callback("sync"))
    harness.collect("sync")
    # The echo is unsolicited: it went to the handler, and nothing else did.
    assert [type(e) for e in harness.events] == [ev.MessageReceived]
    harness.assert_quiet()


def test_answers_without_a_callback_go_to_the_handlers(harness, address):
    """A message sent without a callback has its ack delivered to the handlers, and likewise a pong."""
    client = harness.client(address)
    harness.expect("login")
    seq = harness.run(client.send_message, ECHO, "bez callbacku")
    harness.run(client.ping)
    events = [harness.expect("event")[0] for _ in range(3)]
    assert ev.MessageAck(ECHO, seq, pk.GG_ACK_DELIVERED) in events
    assert ev.Pong() in events


def test_pongs_answer_pings_in_order(harness, peer):
    """With pings with and without callbacks in flight, each pong goes to the oldest ping."""
    client, wire = logged_in(harness, peer)
    harness.run(client.ping, harness.callback("first"))
    harness.run(client.ping)
    harness.run(client.ping)
    harness.run(client.ping, harness.callback("fourth"))
    for _ in range(4):
        wire.expect(pk.Ping)
    wire.send_packets(pk.Pong())
    assert harness.expect("first") == (ev.Pong(), None)
    for _ in range(2):
        wire.send_packets(pk.Pong())
        assert harness.expect("event") == (ev.Pong(), None)
    wire.send_packets(pk.Pong())
    assert harness.expect("fourth") == (ev.Pong(), None)
    wire.send_packets(pk.Pong())  # answers nothing we sent: the handlers see it
    assert harness.expect("event") == (ev.Pong(), None)


def test_refused_login_calls_back_with_login_refused(harness, address):
    client = harness.client(address, 1001, "wrong")
    _, error = harness.expect("login")
    assert isinstance(error, LoginRefused) and "1001" in str(error)
    closed, _ = harness.expect("event")
    assert closed == client.closed and closed.clean


def test_login_timeout_calls_back_with_login_timeout(harness, peer):
    """No verdict in time: LoginTimeout to the callback, the socket closed, then an unclean Closed."""
    client = harness.client(peer.address, login_timeout=0.1)
    wire = peer.accept()
    wire.welcome()  # reads the GG_LOGIN80 and never answers it
    _, error = harness.expect("login")
    assert isinstance(error, LoginTimeout) and isinstance(error, TimeoutError)
    closed, _ = harness.expect("event")
    assert not closed.clean and "login timed out" in closed.reason
    wire.expect_eof()
    assert harness.run(lambda: client.closed) == closed


def test_connect_refused_calls_back_with_the_os_error(harness):
    """Nothing listening: the socket's own error goes to the login callback, and a Closed follows."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()
    harness.client(free)
    _, error = harness.expect("login")
    assert isinstance(error, ConnectionRefusedError)
    closed, _ = harness.expect("event")
    assert not closed.clean and closed.reason.startswith(f"cannot connect to 127.0.0.1:{free[1]}")


def test_abort_fails_every_pending_callback_once(harness, peer):
    """abort() closes at once; pending acks and pongs get ConnectionClosed; one Closed goes to the handlers."""
    client, wire = logged_in(harness, peer)
    harness.run(client.send_message, 1002, "nigdy", harness.callback("ack"))
    harness.run(client.ping, harness.callback("pong"))
    wire.expect(pk.SendMsg80)
    wire.expect(pk.Ping)
    harness.run(client.abort)
    outcomes = harness.collect("ack", "pong")
    for _, error in outcomes.values():
        assert isinstance(error, ConnectionClosed)
        assert error.closed == ev.Closed(False, "the connection was aborted locally")
    # The answers first, then the one Closed for the handlers.
    assert harness.events == []
    assert harness.expect("event") == (error.closed, None)
    wire.expect_eof()
    harness.run(client.abort)
    harness.assert_quiet()


@pytest.mark.parametrize(
    ("wire_bytes", "then_close", "error_class", "phrase"),
    [
        (pk.GG_RECV_MSG80.to_bytes(4, "little") + b"\xff\xff\xff\xff", False, FrameTooLarge, "announces"),
        (pk.Welcome(seed=1).encode(), False, RemoteProtocolError, "not allowed in state CONNECTED"),
        (pk.Status80(pk.StatusEntry(1002, pk.GG_STATUS_AVAIL)).encode()[:-2], True, TruncatedFrame, "mid-packet"),
    ],
    ids=["4GiB-length", "packet-out-of-state", "truncated"],
)
def test_protocol_error_closes_and_reports(harness, peer, wire_bytes, then_close, error_class, phrase):
    """Bad input from the server closes the socket; pending callbacks get ConnectionClosed caused by the
    core's error, and Closed carries that error's message."""
    client, wire = logged_in(harness, peer)
    harness.run(client.send_message, 1002, "czekam", harness.callback("ack"))
    wire.expect(pk.SendMsg80)
    wire.send(wire_bytes)
    if then_close:
        wire.sock.shutdown(socket.SHUT_WR)
    _, error = harness.collect("ack")["ack"]
    assert isinstance(error, ConnectionClosed) and isinstance(error.__cause__, error_class)
    closed = error.closed
    assert not closed.clean and closed.reason == str(error.__cause__) and phrase in closed.reason
    assert harness.expect("event") == (closed, None)
    if not then_close:
        wire.expect_eof()
    with pytest.raises(ConnectionClosed):
        harness.run(client.ping)


def test_logoff_waits_for_the_close(harness, peer):
    """logoff calls back with the clean Closed once the server closes the connection."""
    client, wire = logged_in(harness, peer)
    harness.run(client.logoff, "pa", harness.callback("logoff"))
    status = wire.expect(pk.NewStatus80)
    assert (status.status, status.description) == (pk.GG_STATUS_NOT_AVAIL_DESCR, "pa")
    wire.send_packets(pk.DisconnectAck())
    wire.close()
    closed, error = harness.expect("logoff")
    assert error is None and closed.clean
    assert harness.expect("event") == (closed, None)


def test_logoff_timeout_when_the_server_never_closes(harness, peer):
    """A server that never closes after the logoff: CloseTimeout, an unclean Closed, the socket closed."""
    client, wire = logged_in(harness, peer, close_timeout=0.1)
    harness.run(client.logoff, "", harness.callback("logoff"))
    assert wire.expect(pk.NewStatus80).status == pk.GG_STATUS_NOT_AVAIL
    _, error = harness.expect("logoff")
    assert isinstance(error, CloseTimeout)
    closed, _ = harness.expect("event")
    assert not closed.clean and "did not close" in closed.reason
    wire.expect_eof()


def test_misuse_raises_at_once_and_takes_no_callback(harness, peer):
    """Errors known at call time are raised (typed), and the callback given is never called."""
    client = harness.run(GGClient, harness.driver.reactor)
    with pytest.raises(LocalProtocolError):
        harness.run(client.send_message, 1002, "za wcześnie", harness.callback("early"))
    with pytest.raises(ValueError, match="unknown hash type"):
        harness.run(client.login, peer.address, 1001, "alice", harness.callback("x"), hash_type="md5")
    with pytest.raises(ValueError, match="login_timeout"):
        harness.run(client.login, peer.address, 1001, "alice", harness.callback("x"), login_timeout=0)
    connecting = harness.client(peer.address)
    with pytest.raises(RuntimeError, match="already logged in"):
        harness.run(connecting.login, peer.address, 1001, "alice", harness.callback("again"))
    wire = peer.accept()
    with pytest.raises(LocalProtocolError, match="CONNECTING"):
        harness.run(connecting.ping, harness.callback("too soon"))
    wire.accept_login()
    harness.expect("login")
    with pytest.raises(LocalProtocolError, match="send_logoff"):
        harness.run(connecting.change_status, pk.GG_STATUS_NOT_AVAIL, "", harness.callback("offline"))
    harness.assert_quiet()


def test_write_buffer_is_bounded(harness, peer, monkeypatch):
    """Against a server that does not read, sends are refused with WriteBufferFull, not buffered forever."""
    limit = 256 * 1024  # gadu.limits.WRITE_LIMIT is 4 MiB; the rule is the same, the test faster
    monkeypatch.setattr(callbacks_client, "WRITE_LIMIT", limit)
    client, _ = logged_in(harness, peer)
    contacts = list(range(100000, 120000))
    with pytest.raises(WriteBufferFull, match=str(limit)):
        for _ in range(400):
            harness.run(client.send_contacts, contacts)
    queued = harness.run(lambda: len(client._outbuf))
    assert queued < 2 * limit  # the limit, and at most the one send that crossed it


def test_handler_errors_are_reported_and_the_client_goes_on(harness, address, caplog):
    """A handler that raises is logged by the reactor; later events still arrive."""
    client = harness.client(address)
    harness.expect("login")

    def broken(event: Any) -> None:
        raise RuntimeError("handler bug")

    harness.run(client.on_event, broken)
    harness.run(client.send_message, ECHO, "echo")
    assert isinstance(harness.expect("event")[0], (ev.MessageAck, ev.MessageReceived))
    assert isinstance(harness.expect("event")[0], (ev.MessageAck, ev.MessageReceived))
    harness.run(client.remove_handler, broken)
    assert any("exception in callback" in r.getMessage() and r.exc_info[0] is RuntimeError for r in caplog.records)


def test_packet_log(harness, address, caplog):
    """log_packets logs every packet both ways on gadu.client.packets, with the login hash zeroed."""
    caplog.set_level(logging.INFO, logger="gadu.client.packets")
    client = harness.client(address, 1001, USERS[1001], log_packets=True)
    harness.expect("login")
    harness.run(client.logoff, "", harness.callback("logoff"))
    harness.collect("logoff")
    lines = [r.getMessage() for r in caplog.records if r.name == "gadu.client.packets"]
    assert any(line.startswith("callbacks uin=1001 in GG_WELCOME len=4") for line in lines)
    login = next(line for line in lines if " out GG_LOGIN80 " in line)
    assert "(hash zeroed)" in login
    assert any(" in GG_LOGIN80_OK " in line for line in lines)
    assert any(" out GG_NEW_STATUS80 " in line for line in lines)


def test_sends_from_inside_a_handler_go_out_with_the_receipt_and_call_back(harness, address):
    """A handler that answers each echo with a status change: the frames written while the events are
    dispatched leave together after them (issue 13), and each send's callback still comes, once."""
    client = harness.client(address)
    harness.expect("login")

    def answer(event: Any) -> None:
        if type(event) is ev.MessageReceived:
            client.change_status(pk.GG_STATUS_BUSY, "", harness.callback("status"))
            client.send_message(ECHO, "again", harness.callback("second ack"))

    harness.run(client.on_event, answer)
    seq = harness.run(client.send_message, ECHO, "first", harness.callback("ack"))
    outcomes = harness.collect("ack", "status", "second ack")
    assert outcomes["ack"] == (ev.MessageAck(ECHO, seq, pk.GG_ACK_DELIVERED), None)
    assert outcomes["status"] == (True, None)
    assert outcomes["second ack"][0].status == pk.GG_ACK_DELIVERED and outcomes["second ack"][1] is None


def test_an_event_goes_to_the_handlers_there_were_when_it_came(harness, peer):
    """A handler added or removed while an event is handed out changes who gets the next event only."""
    client, wire = logged_in(harness, peer)
    seen: List[Tuple[str, Any]] = []

    def late(event: Any) -> None:
        seen.append(("late", event))

    def first(event: Any) -> None:
        seen.append(("first", event))
        client.remove_handler(first)
        client.on_event(late)

    harness.run(client.on_event, first)
    wire.send_packets(pk.Status80(pk.StatusEntry(1002, pk.GG_STATUS_AVAIL)),
                      pk.Status80(pk.StatusEntry(1003, pk.GG_STATUS_BUSY)))
    for _ in range(2):
        assert harness.expect("event")[0].uin in (1002, 1003)
    harness.run(lambda: None)  # the reactor has finished handing out the second event
    assert [(name, event.uin) for name, event in seen] == [("first", 1002), ("late", 1003)]
