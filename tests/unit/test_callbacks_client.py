"""legacy.callbacks.GGClient: end to end against the reference server, and on the scripted peer.

The first half goes through the conformance driver (tests/conformance/drivers/callbacks.py) and the
session API the suite uses. The second half calls the client itself on the driver's reactor thread,
to check what only this style promises: every callback is called exactly once, never from inside
the call that took it, with either a result or a typed error.
"""
from __future__ import annotations

import gc
import logging
import os
import queue
import socket
import threading
import time
import warnings
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
from gadu.limits import WRITE_LIMIT
from legacy.callbacks import GGClient

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


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll a condition another thread makes true (the server's bookkeeping), up to a deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.005)


# --- through the driver, against the reference server ---------------------------------------------


@pytest.mark.parametrize("hash_type", ["sha1", "gg32"])
def test_login_with_each_hash_then_logoff(driver, address, hash_type):
    """Both GG_LOGIN80 hashes log in; a logoff ends with a clean Closed once the server closes."""
    session = driver.open(address, 1002, "bob", hash_type=hash_type)
    session.wait(ev.LoginOk)
    session.logoff()
    closed = session.wait(ev.Closed)
    assert closed.clean, closed.reason


def test_wrong_password(driver, address):
    """A refused login is LoginFailed, then the clean Closed of the server's close."""
    session = driver.open(address, 1001, "not alice")
    session.wait(ev.LoginFailed)
    assert session.wait(ev.Closed).clean
    assert not any(isinstance(e, ev.LoginOk) for e in session.drain())


def test_login_timeout_against_a_silent_listener(driver):
    """A server that accepts TCP and says nothing: LoginFailed after login_timeout, then an unclean Closed."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        session = driver.open(silent.getsockname(), 1001, "alice", login_timeout=0.2)
        session.wait(ev.LoginFailed)
        closed = session.wait(ev.Closed)
    assert not closed.clean
    assert "login timed out" in closed.reason and "0.2 s" in closed.reason


def test_message_round_trip_with_the_echo_contact(driver, address):
    """The seq send_message returns is the one the ack carries; the echo comes back as a message."""
    session = driver.open(address, 1001, "alice")
    session.wait(ev.LoginOk)
    text = "zażółć gęślą jaźń <b>"
    seqs = [session.send_message(ECHO, f"{text} {n}") for n in range(3)]
    assert len(set(seqs)) == 3
    for seq in seqs:
        ack = session.wait(ev.MessageAck, lambda e, seq=seq: e.seq == seq)
        assert (ack.recipient, ack.status) == (ECHO, pk.GG_ACK_DELIVERED)
    echoed = [session.wait(ev.MessageReceived).text for _ in seqs]
    assert echoed == [f"{text} {n}" for n in range(3)]


def test_status_change_seen_by_a_second_session(driver, address):
    """A status with a description reaches a watcher that lists the user."""
    contact = driver.open(address, 1002, "bob")
    contact.wait(ev.LoginOk)
    watcher = driver.open(address, 1001, "alice")
    watcher.wait(ev.LoginOk)
    watcher.notify([1002])
    reply = watcher.wait(ev.ContactsReply)
    assert [e.uin for e in reply.entries] == [1002]
    contact.change_status(pk.GG_STATUS_BUSY_DESCR, "na spotkaniu")
    change = watcher.wait(ev.StatusChanged, lambda e: e.status == pk.GG_STATUS_BUSY_DESCR)
    assert (change.uin, change.description) == (1002, "na spotkaniu")


def test_contact_list_over_400_entries(driver, address, server):
    """A list of 450 goes out in NOTIFY_FIRST/NOTIFY_LAST chunks; the server holds all of it and answers."""
    contact = driver.open(address, 1002, "bob")
    contact.wait(ev.LoginOk)
    session = driver.open(address, 1001, "alice")
    session.wait(ev.LoginOk)
    contacts = [1002, *range(70000, 70449)]
    session.notify(contacts)
    reply = session.wait(ev.ContactsReply)
    assert [e.uin for e in reply.entries] == [1002]
    held = server.call(lambda: sorted(server.server.online[1001].contacts))
    assert held == sorted(contacts)


def test_add_and_remove_contact(driver, address, server):
    """add_contact and remove_contact change the list the server holds."""
    session = driver.open(address, 1001, "alice")
    session.wait(ev.LoginOk)
    session.add_contact(1003)
    session.add_contact(1004)
    session.remove_contact(1003)
    session.ping()
    session.wait(ev.Pong)  # the server has handled everything sent before the ping
    assert server.call(lambda: dict(server.server.online[1001].contacts)) == {1004: pk.GG_USER_NORMAL}


def test_typing_notification(driver, address):
    """typing() reaches the recipient as a Typing event with our uin and the length."""
    receiver = driver.open(address, 1002, "bob")
    receiver.wait(ev.LoginOk)
    sender = driver.open(address, 1001, "alice")
    sender.wait(ev.LoginOk)
    sender.typing(1002, 7)
    sender.typing(1002, 0)
    assert receiver.wait(ev.Typing) == ev.Typing(1001, 7)
    assert receiver.wait(ev.Typing) == ev.Typing(1001, 0)


def test_keepalive_pings_on_the_interval(driver, address):
    """With ping_interval the client pings by itself once logged in; each pong is an event."""
    session = driver.open(address, 1001, "alice", ping_interval=0.05)
    session.wait(ev.LoginOk)
    started = time.monotonic()
    for _ in range(3):
        session.wait(ev.Pong)
    # Three pings on a 0.05 s timer cannot all have gone out in less than 0.15 s.
    assert time.monotonic() - started >= 0.1


def test_logoff_with_description_is_seen_and_closes_clean(driver, address):
    """logoff("...") goes NOT_AVAIL_DESCR with the description; the session ends with a clean Closed."""
    watcher = driver.open(address, 1002, "bob")
    watcher.wait(ev.LoginOk)
    session = driver.open(address, 1001, "alice")
    session.wait(ev.LoginOk)
    watcher.notify([1001])
    watcher.wait(ev.ContactsReply)
    session.logoff("do jutra")
    assert session.wait(ev.Closed).clean
    gone = watcher.wait(ev.StatusChanged, lambda e: e.uin == 1001)
    assert (gone.status, gone.description) == (pk.GG_STATUS_NOT_AVAIL_DESCR, "do jutra")


def test_server_side_close_gives_closed(driver, address, server):
    """The server dropping a logged-in client is an unclean Closed with the core's reason."""
    session = driver.open(address, 1001, "alice")
    session.wait(ev.LoginOk)
    server.call(lambda: server.server.online[1001].close())
    closed = session.wait(ev.Closed)
    assert closed == ev.Closed(False, "the server closed the connection")


def test_reset_gives_closed(driver, peer):
    """A reset (RST) is an unclean Closed that names the socket error."""
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.accept_login()
    session.wait(ev.LoginOk)
    wire.reset()
    closed = session.wait(ev.Closed)
    assert not closed.clean and "reset" in closed.reason.lower()


def test_no_leaked_fds_threads_or_resource_warnings(server, address):
    """A whole driver run (logins, messages, a logoff, an abort, a refusal) leaves no fd, thread or warning."""
    fds_before = len(os.listdir("/proc/self/fd"))
    threads_before = threading.active_count()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        driver = CallbacksDriver().start()
        try:
            first = driver.open(address, 1001, "alice", ping_interval=0.05)
            second = driver.open(address, 1002, "bob")
            refused = driver.open(address, 1003, "wrong")
            first.wait(ev.LoginOk)
            second.wait(ev.LoginOk)
            refused.wait(ev.LoginFailed)
            first.send_message(1002, "hej")
            second.wait(ev.MessageReceived)
            first.logoff()
            first.wait(ev.Closed)
            second.abort()
            second.wait(ev.Closed)
        finally:
            driver.stop()
        wait_until(lambda: server.call(lambda: server.server.connections) == 0, "the server saw every close")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert threading.active_count() == threads_before


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


def test_write_buffer_is_bounded(harness, peer):
    """Against a server that does not read, sends are refused with WriteBufferFull, not buffered forever."""
    client, _ = logged_in(harness, peer)
    contacts = list(range(100000, 120000))
    with pytest.raises(WriteBufferFull):
        for _ in range(400):
            harness.run(client.send_contacts, contacts)
    queued = harness.run(lambda: len(client._outbuf))
    assert queued < 2 * WRITE_LIMIT  # the limit, and at most the one send that crossed it


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
