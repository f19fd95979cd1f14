"""Reference server: the limits on what one client can make it hold, and failed-login throttling.

Each limit is a ServerConfig field with a `gg-workbench serve` flag (gadu.server.config.LIMITS); past
it the client is refused or closed with one log line, and everyone else carries on.
"""
from __future__ import annotations

import logging
import socket
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


def test_connections_past_the_pending_login_cap_are_refused_and_a_login_frees_a_place(caplog):
    caplog.set_level(logging.WARNING, logger="gadu.server")
    with running_server(max_pending_logins=3) as server:
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) for _ in range(3)]
        try:
            for sock in held:
                assert sock.recv(64), "GG_WELCOME"
            with raw_connection(server.port) as extra:
                assert read_until_closed(extra) == b"", "refused before GG_WELCOME"
            assert any("3 connections have not logged in, the cap is 3" in r.getMessage() for r in caplog.records)
            held.pop().close()
            wait_until(lambda: pending(server) == 2, "two pending")
            with GGClient.logged_in(server.port, ALICE):
                assert pending(server) == 2, "logged in: no longer pending"
                with raw_connection(server.port) as another:
                    assert another.recv(64), "admitted: a place was free"
        finally:
            for sock in held:
                sock.close()


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
