"""Reference server: the limits on what one client can make it hold, and failed-login throttling.

Each limit is a ServerConfig field with a `gg-workbench serve` flag (gadu.server.config.LIMITS); past
it the client is refused, closed or (past --max-pending-logins) made to wait, with one log line,
and everyone else carries on.
"""
from __future__ import annotations

import logging
import socket
import struct
import threading
import time

import pytest
from server_testing import TIMEOUT, GGClient, raw_connection, read_until_closed, running_server

from gadu import events as ev
from gadu.server.config import LIMITS, ConfigError, ServerConfig
from gadu.server.login_throttle import LoginThrottle
from workbench import cli, serve

ALICE, BOB = 1001, 1002


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_counts_failures_in_a_window_and_lets_the_uin_try_again_after_it():
    clock = Clock()
    throttle = LoginThrottle(3, 60.0, clock)
    verdicts = []
    for _ in range(3):
        verdicts.append(throttle.failed(ALICE))
        clock.now += 10
    assert verdicts == [False, False, True]  # at 1000, 1010, 1020
    assert not throttle.allows(ALICE) and throttle.allows(BOB)
    assert throttle.retry_after(ALICE) == 30.0  # now 1030: the first failure leaves at 1060
    clock.now = 1059.9
    assert not throttle.allows(ALICE)
    clock.now = 1060.0
    assert throttle.allows(ALICE)
    assert throttle.failed(ALICE), "with the two later failures still in the window, one more throttles"


def test_throttle_forgets_failures_at_a_successful_login_and_keeps_no_empty_entries():
    clock = Clock()
    throttle = LoginThrottle(3, 10.0, clock)
    throttle.failed(ALICE)
    throttle.failed(ALICE)
    throttle.succeeded(ALICE)
    assert [throttle.failed(ALICE) for _ in range(3)] == [False, False, True]
    clock.now += 10
    assert throttle.allows(ALICE)
    assert throttle._recent == {}


def attempt(port: int, uin: int, password: str) -> type:
    with GGClient(port, uin, password) as client:
        return type(client.wait_for(lambda e: isinstance(e, (ev.LoginOk, ev.LoginFailed)), what="a verdict"))


def test_failed_logins_throttle_the_uin_even_for_its_owner_and_the_log_says_so(caplog):
    caplog.set_level(logging.DEBUG, logger="gadu.server")
    with running_server(login_failures=3, login_failure_window=60.0) as server:
        assert [attempt(server.port, ALICE, "zgaduję") for _ in range(3)] == [ev.LoginFailed] * 3
        throttled = [r for r in caplog.records if "throttled: 3 failed logins" in r.getMessage()]
        assert len(throttled) == 1 and throttled[0].levelno == logging.WARNING
        caplog.clear()
        assert attempt(server.port, ALICE, "alice") is ev.LoginFailed, "the owner waits out the window too"
        assert attempt(server.port, ALICE, "zgaduję") is ev.LoginFailed
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert warnings == [], "a throttled attempt is not checked, so it is no new failure"
        assert attempt(server.port, BOB, "bob") is ev.LoginOk, "other uins are not affected"


def test_unknown_uins_are_not_tracked():
    with running_server(login_failures=2) as server:
        for uin in range(50000, 50010):
            assert attempt(server.port, uin, "x") is ev.LoginFailed
        assert server.call(lambda: len(server.server.login_throttle._recent)) == 0


def pending(server) -> int:
    return server.call(lambda: server.server.pending_logins)


def wait_until(predicate, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, f"not {what} within {TIMEOUT} s"
        time.sleep(0.01)


def waiting(server) -> int:
    return server.call(lambda: len(server.server._waiting))


def welcomed(sock: socket.socket) -> bool:
    """Whether GG_WELCOME (or anything) has come, without waiting for it."""
    sock.setblocking(False)
    try:
        return bool(sock.recv(64, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def test_past_the_pending_login_cap_connections_wait_for_a_place_in_arrival_order(caplog):
    caplog.set_level(logging.INFO, logger="gadu.server")
    with running_server(max_pending_logins=2) as server:
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) for _ in range(2)]
        try:
            for sock in held:
                assert sock.recv(64), "GG_WELCOME"
            with raw_connection(server.port) as first, raw_connection(server.port) as second:
                wait_until(lambda: waiting(server) == 2, "two waiting")
                assert not welcomed(first) and not welcomed(second), "no GG_WELCOME while waiting"
                assert any("waits for a place: 2 connections have not logged in, the cap is 2" in r.getMessage()
                           for r in caplog.records)
                held.pop(0).close()
                assert first.recv(64), "the longest-waiting gets the place that came free"
                assert waiting(server) == 1 and not welcomed(second)
                assert pending(server) == 2
            wait_until(lambda: waiting(server) == 0 and pending(server) == 1, "the gone ones forgotten")
        finally:
            for sock in held:
                sock.close()


def test_a_client_that_waited_for_a_place_logs_in_and_frees_it():
    with running_server(max_pending_logins=1) as server:
        with raw_connection(server.port) as held:
            assert held.recv(64), "GG_WELCOME"
            alice = GGClient(server.port, ALICE, "alice")
            with alice:
                wait_until(lambda: waiting(server) == 1, "alice waiting")
                held.close()
                alice.wait(ev.LoginOk)
                assert pending(server) == 0 and waiting(server) == 0


def test_a_waiting_connection_logs_in_within_the_timeout_from_its_accept_and_may_not_speak_first(caplog):
    caplog.set_level(logging.WARNING, logger="gadu.server")
    with running_server(max_pending_logins=1, login_timeout=30.0) as server:
        with raw_connection(server.port) as held, raw_connection(server.port) as patient, \
                raw_connection(server.port) as hasty:
            assert held.recv(64), "GG_WELCOME"
            wait_until(lambda: waiting(server) == 2, "two waiting")
            hasty.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert read_until_closed(hasty) == b"", "spoke before GG_WELCOME: closed, nothing sent"
            held.close()
            assert patient.recv(64), "admitted: GG_WELCOME"
            timers = server.call(lambda: [(c.session.get_timer() or 0) - c.accepted_at
                                          for c in server.server._not_logged_in])
            assert timers == [pytest.approx(30.0)], "the login timeout counts from the accept, not the admission"
    messages = [r.getMessage() for r in caplog.records]
    assert any("the client sent data before GG_WELCOME" in m for m in messages), messages


def test_a_connection_reset_in_the_accept_queue_takes_no_place(caplog):
    caplog.set_level(logging.DEBUG, logger="gadu.server")
    with running_server(max_pending_logins=1) as server:
        stalled, release = threading.Event(), threading.Event()

        def stall() -> None:
            stalled.set()
            release.wait(TIMEOUT)

        blocker = threading.Thread(target=server.call, args=(stall,))
        blocker.start()
        try:
            assert stalled.wait(TIMEOUT), "the server's loop did not stall"
            gone = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
            gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            gone.close()  # a reset while it sits in the accept queue
        finally:
            release.set()
            blocker.join(TIMEOUT)
        with GGClient.logged_in(server.port, ALICE):
            pass
    messages = [r.getMessage() for r in caplog.records]
    assert any("reset before it was accepted" in m for m in messages), messages
    assert not any("waits for a place" in m for m in messages), "the reset connection held the one place"


def test_the_contact_limit_comes_from_the_config(caplog):
    caplog.set_level(logging.WARNING, logger="gadu.server")
    with running_server(max_contacts=5) as server, GGClient.logged_in(server.port, ALICE) as alice:
        alice.send(alice.conn.send_contacts(range(2000, 2005)))
        alice.sync()
        alice.send(alice.conn.send_add_contact(3000))
        alice.wait_closed()
    assert any("contact list longer than 5 entries" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("limit", LIMITS, ids=[limit.name for limit in LIMITS])
def test_every_limit_has_a_serve_flag_that_sets_it(limit):
    default = getattr(ServerConfig(), limit.name)
    value = default * 2 + (1 if limit.name == "max_unconfirmed" else 0)
    args = cli.build_parser().parse_args(["serve", limit.flag, str(value)])
    assert getattr(serve.build_config(args), limit.name) == value
    assert getattr(serve.build_config(cli.build_parser().parse_args(["serve"])), limit.name) == default


@pytest.mark.parametrize("options,message", [
    ({"max_pending_logins": 0}, "max pending logins"),
    ({"login_failures": 0}, "login failures"),
    ({"login_failure_window": 0}, "login failure window"),
    ({"max_contacts": 0}, "max contacts"),
    ({"listen_backlog": 0}, "listen backlog"),
    ({"mailbox_size": 10, "max_unconfirmed": 10}, "must exceed the mailbox size"),
])
def test_config_refuses_limits_that_cannot_work(options, message):
    with pytest.raises(ConfigError, match=message):
        ServerConfig(**options)


@pytest.mark.parametrize("text", ["0", "off"])
def test_idle_timeout_can_be_turned_off_from_the_command_line(text):
    args = cli.build_parser().parse_args(["serve", "--idle-timeout", text])
    assert serve.build_config(args).idle_timeout is None
