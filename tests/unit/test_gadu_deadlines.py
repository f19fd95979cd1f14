"""The deadlines of the sans-I/O state machines: get_timer() says when, handle_timer(now) acts.

Time is a fake clock here: no test sleeps. What the four clients do with these deadlines (arm one
timer of their loop) is checked for every variant by the conformance suite (2.x, 5.x, 6.x).
"""
from __future__ import annotations

import pytest
from core_testing import ended_with

from gadu import events as ev
from gadu import packets as p
from gadu.client import ClientConnection, ClientState
from gadu.errors import CloseTimeout, LocalProtocolError, LoginTimeout
from gadu.framing import FrameParser
from gadu.hashing import GG_LOGIN_HASH_SHA1, login_hash_field
from gadu.limits import CLOSE_TIMEOUT, LOGIN_TIMEOUT, SERVER_IDLE_TIMEOUT, SERVER_LOGIN_TIMEOUT
from gadu.server_session import ConnectionClosed, ServerSession, ServerState


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def logged_in(clock: Clock, **options) -> ClientConnection:
    conn = ClientConnection(1001, "alice", monotonic=clock, **options)
    conn.receive_data(p.Welcome(7).encode())
    conn.data_to_send()
    conn.receive_data(p.Login80Ok().encode())
    return conn


def sent(conn: ClientConnection):
    return FrameParser(p.Direction.CLIENT_TO_SERVER).feed(conn.data_to_send())


def test_the_login_deadline_runs_from_creation_and_ends_the_session_with_login_timeout():
    clock = Clock()
    conn = ClientConnection(1001, "alice", monotonic=clock)
    assert conn.get_timer() == 1000.0 + LOGIN_TIMEOUT
    assert conn.handle_timer(1000.0 + LOGIN_TIMEOUT - 0.001) == []  # early: nothing yet
    error = ended_with(conn.handle_timer(1000.0 + LOGIN_TIMEOUT), LoginTimeout)
    assert isinstance(error, TimeoutError) and "30 s" in str(error)
    assert conn.state is ClientState.CLOSED and conn.get_timer() is None


def test_the_login_deadline_covers_the_verdict_after_welcome():
    clock = Clock()
    conn = ClientConnection(1001, "alice", monotonic=clock, login_timeout=2.0)
    clock.now += 1.5
    conn.receive_data(p.Welcome(7).encode())
    assert conn.get_timer() == 1002.0  # WELCOME does not restart it
    ended_with(conn.handle_timer(1002.0), LoginTimeout)


def test_no_keep_alive_by_default_as_libgadu():
    conn = logged_in(Clock())
    assert conn.get_timer() is None and conn.handle_timer(10**9) == []


def test_the_keep_alive_pings_every_interval_once_logged_in():
    clock = Clock()
    conn = logged_in(clock, ping_interval=60.0)
    assert conn.get_timer() == 1060.0
    assert conn.handle_timer(1060.0) == []
    assert sent(conn) == [p.Ping()] and conn.pings_sent == 1
    assert conn.get_timer() == 1120.0


def test_a_late_wake_up_sends_one_ping_not_a_burst():
    clock = Clock()
    conn = logged_in(clock, ping_interval=1.0)
    conn.handle_timer(1500.0)
    assert sent(conn) == [p.Ping()]
    assert conn.get_timer() == 1501.0


@pytest.mark.parametrize("end", ["logoff", "refusal", "disconnecting"])
def test_every_end_waits_close_timeout_for_the_server_then_ends_with_close_timeout(end):
    clock = Clock()
    if end == "refusal":
        conn = ClientConnection(1001, "alice", monotonic=clock, ping_interval=1.0)
        conn.receive_data(p.Welcome(7).encode())
        conn.data_to_send()
        assert conn.receive_data(p.LoginFailed().encode()) == [ev.LoginFailed()]
    else:
        conn = logged_in(clock, ping_interval=1.0)
        clock.now += 0.5
        if end == "logoff":
            conn.send_logoff()
        else:
            assert conn.receive_data(p.Disconnecting().encode()) == [ev.Disconnecting()]
    assert conn.state is ClientState.DISCONNECTING
    assert conn.get_timer() == clock.now + CLOSE_TIMEOUT  # the keep-alive is over
    assert conn.handle_timer(clock.now + CLOSE_TIMEOUT - 0.01) == []
    error = ended_with(conn.handle_timer(clock.now + CLOSE_TIMEOUT), CloseTimeout)
    assert isinstance(error, TimeoutError) and "did not close" in str(error)
    assert conn.data_to_send() == b""  # no ping went out while waiting


def test_a_disconnecting_after_our_logoff_does_not_extend_the_wait():
    clock = Clock()
    conn = logged_in(clock)
    conn.send_logoff()
    clock.now += 3
    conn.receive_data(p.Disconnecting().encode())
    assert conn.get_timer() == 1000.0 + CLOSE_TIMEOUT


def test_the_server_closing_in_time_is_clean_and_clears_the_deadline():
    conn = logged_in(Clock())
    conn.send_logoff()
    (closed,) = conn.receive_data(b"")
    assert closed.clean and closed.error is None and conn.get_timer() is None


def test_sends_after_the_server_announced_the_end_are_dropped():
    """GG_LOGIN80_OK and GG_DISCONNECTING in one read: a send the application decides on LoginOk
    finds the state DISCONNECTING; it is dropped (b""), not refused (docs/protocol.md)."""
    conn = ClientConnection(1001, "alice")
    conn.receive_data(p.Welcome(7).encode())
    conn.data_to_send()
    assert conn.receive_data(p.Login80Ok().encode() + p.Disconnecting().encode()) == [
        ev.LoginOk(), ev.Disconnecting()]
    assert conn.send_contacts([1002]) == b""
    data, seq = conn.send_message(1002, "hej")
    assert data == b"" and seq > 0
    assert conn.send_logoff() == b""
    conn.receive_data(b"")
    assert conn.send_ping() == b""  # after the server's close too


def test_sends_after_our_own_logoff_stay_refused():
    conn = logged_in(Clock())
    conn.send_logoff()
    with pytest.raises(LocalProtocolError):
        conn.send_ping()
    conn.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        conn.send_ping()


def test_bad_timeouts_are_refused():
    for options in ({"login_timeout": 0}, {"ping_interval": -1}, {"close_timeout": 0}):
        with pytest.raises(ValueError):
            ClientConnection(1001, "alice", **options)


# --- the server session --------------------------------------------------------------------------


def login80(seed: int) -> p.Login80:
    return p.Login80(1001, GG_LOGIN_HASH_SHA1, login_hash_field(GG_LOGIN_HASH_SHA1, b"alice", seed))


def test_a_server_session_must_see_a_login_within_its_limit():
    clock = Clock()
    session = ServerSession({1001: b"alice"}.get, monotonic=clock)
    assert session.get_timer() is None  # nothing runs before start()
    session.start()
    assert session.get_timer() == 1000.0 + SERVER_LOGIN_TIMEOUT
    assert session.handle_timer(1000.0) == []
    (closed,) = session.handle_timer(1000.0 + SERVER_LOGIN_TIMEOUT)
    assert closed == ConnectionClosed(False, f"no login within {SERVER_LOGIN_TIMEOUT:g} s")
    assert session.state is ServerState.CLOSED


def test_a_server_session_started_late_counts_its_login_limit_from_the_given_time():
    clock = Clock()
    session = ServerSession({1001: b"alice"}.get, monotonic=clock, login_timeout=2.0)
    clock.now += 1.5  # the owner let the connection wait for a place
    session.start(since=1000.0)
    assert session.get_timer() == 1002.0
    (closed,) = session.handle_timer(1002.0)
    assert closed == ConnectionClosed(False, "no login within 2 s")


def test_a_silent_logged_in_client_is_dropped_after_the_idle_limit():
    clock = Clock()
    session = ServerSession({1001: b"alice"}.get, seed=5, monotonic=clock, login_timeout=1.0)
    session.start()
    session.receive_data(login80(5).encode())
    assert session.get_timer() == 1000.0 + SERVER_IDLE_TIMEOUT
    clock.now += 100
    session.receive_data(p.Ping().encode())  # anything from the client counts
    assert session.get_timer() == 1100.0 + SERVER_IDLE_TIMEOUT
    assert session.handle_timer(1000.0 + SERVER_IDLE_TIMEOUT) == []
    (closed,) = session.handle_timer(1100.0 + SERVER_IDLE_TIMEOUT)
    assert not closed.clean and "nothing received" in closed.reason


def test_the_idle_limit_can_be_off():
    session = ServerSession({1001: b"alice"}.get, seed=5, idle_timeout=None)
    session.start()
    session.receive_data(login80(5).encode())
    assert session.get_timer() is None


# --- a server that speaks at awkward moments (docs/protocol.md#awkward-moments) -----------------


@pytest.mark.parametrize("verdict", [p.LoginOk(), p.NeedEmail()], ids=lambda v: v.NAME)
def test_login_ok_and_need_email_are_a_successful_login_as_in_libgadu(verdict):
    clock = Clock()
    conn = ClientConnection(1001, "alice", monotonic=clock, ping_interval=60.0)
    conn.receive_data(p.Welcome(7).encode())
    assert conn.receive_data(verdict.encode()) == [ev.LoginOk()]
    assert conn.state is ClientState.CONNECTED and conn.get_timer() == 1060.0


def test_hash_type_invalid_fails_the_login_at_once_with_that_reason():
    clock = Clock()
    conn = ClientConnection(1001, "alice", monotonic=clock)
    conn.receive_data(p.Welcome(7).encode())
    clock.now += 1
    (failed,) = conn.receive_data(p.LoginHashTypeInvalid().encode())
    assert isinstance(failed, ev.LoginFailed) and "hash type" in failed.reason
    assert conn.state is ClientState.DISCONNECTING and conn.get_timer() == 1001.0 + CLOSE_TIMEOUT


def test_a_verdict_glued_to_disconnecting_and_split_anywhere_loses_nothing():
    """GG_LOGIN80_OK, GG_PONG and GG_DISCONNECTING in one stream, cut at every byte: the same events."""
    stream = p.Login80Ok().encode() + p.Pong().encode() + p.Disconnecting().encode()
    for cut in range(len(stream) + 1):
        conn = ClientConnection(1001, "alice")
        conn.receive_data(p.Welcome(7).encode())
        events = [e for part in (stream[:cut], stream[cut:]) if part for e in conn.receive_data(part)]
        assert events == [ev.LoginOk(), ev.Pong(), ev.Disconnecting()], cut
