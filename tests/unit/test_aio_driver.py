"""The "aio" conformance driver (tests/conformance/drivers/aio.py) against the reference server in a
thread: the blocking test interface, its translation of the client's idiom, and what it leaves behind."""
from __future__ import annotations

import gc
import os
import socket
import threading
import time
import warnings

import pytest
from conformance.drivers.aio import AioDriver

from gadu import events as ev
from gadu import packets as pk
from gadu.errors import MessageTooLong
from gadu.server import ServerThread
from gadu.server_config import ECHO_UIN, ServerConfig

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

USERS = {1001: "alice", 1002: "bob", 1003: "carol"}
ALICE, BOB = 1001, 1002


@pytest.fixture
def server():
    thread = ServerThread(ServerConfig(users=dict(USERS), port=0)).start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def driver():
    running = AioDriver().start()
    try:
        yield running
    finally:
        running.stop()


def address(server):
    return ("127.0.0.1", server.port)


def logged_in(driver, server, uin, **options):
    session = driver.open(address(server), uin, USERS[uin], **options)
    session.wait(ev.LoginOk)
    return session


def test_the_driver_is_registered_under_its_variant_name():
    from conformance.drivers import driver_class

    assert driver_class("aio") is AioDriver and AioDriver.name == "aio"


@pytest.mark.parametrize("hash_type", ["sha1", "gg32"])
def test_login_with_either_hash(driver, server, hash_type):
    session = logged_in(driver, server, ALICE, hash_type=hash_type)
    assert session.seen[0] == ev.LoginOk()


def test_wrong_password_is_login_failed_then_a_clean_close(driver, server):
    session = driver.open(address(server), ALICE, "not-alice")
    session.wait(ev.LoginFailed)
    assert session.wait(ev.Closed).clean
    assert [type(e) for e in session.seen] == [ev.LoginFailed, ev.Closed]


def test_login_timeout_on_a_silent_listener_is_login_failed_then_closed(driver):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        session = driver.open(listener.getsockname(), ALICE, "alice", login_timeout=0.2)
        session.wait(ev.LoginFailed, timeout=3)
        closed = session.wait(ev.Closed, timeout=3)
        assert not closed.clean and "no login verdict" in closed.reason


def test_echo_round_trip_and_the_ack_carries_the_seq(driver, server):
    session = logged_in(driver, server, ALICE)
    seq = session.send_message(ECHO_UIN, "cześć")
    assert session.wait(ev.MessageAck) == ev.MessageAck(ECHO_UIN, seq, pk.GG_ACK_DELIVERED)
    echoed = session.wait(ev.MessageReceived)
    assert (echoed.sender, echoed.seq, echoed.text) == (ECHO_UIN, seq, "cześć")


def test_errors_of_the_client_reach_the_test_thread(driver, server):
    session = logged_in(driver, server, ALICE)
    with pytest.raises(MessageTooLong):
        session.send_message(BOB, "x" * 2000)


def test_a_second_session_sees_a_status_change_and_typing(driver, server):
    alice = logged_in(driver, server, ALICE)
    bob = logged_in(driver, server, BOB)
    bob.notify([ALICE])
    bob.wait(ev.ContactsReply)
    alice.change_status(pk.GG_STATUS_BUSY_DESCR, "zajęta")
    seen = bob.wait(ev.StatusChanged, lambda e: e.status == pk.GG_STATUS_BUSY_DESCR)
    assert (seen.uin, seen.description) == (ALICE, "zajęta")
    alice.typing(BOB, 4)
    assert bob.wait(ev.Typing) == ev.Typing(ALICE, 4)


def test_a_list_over_400_contacts(driver, server):
    logged_in(driver, server, BOB)
    alice = logged_in(driver, server, ALICE)
    alice.notify([*range(7000, 7420), BOB])
    assert [e.uin for e in alice.wait(ev.ContactsReply).entries] == [BOB]
    alice.add_contact(1003)
    alice.remove_contact(1003)
    alice.ping()
    alice.wait(ev.Pong)
    assert sorted(server.call(lambda: list(server.server.online[ALICE].contacts))) == sorted([*range(7000, 7420), BOB])


def test_pings_come_on_the_interval(driver, server):
    session = logged_in(driver, server, ALICE, ping_interval=0.05)
    started = time.monotonic()
    for _ in range(3):
        session.wait(ev.Pong, timeout=2)
    assert time.monotonic() - started >= 0.1, "three pongs came faster than the ping interval allows"


def test_logoff_ends_with_a_clean_closed(driver, server):
    session = logged_in(driver, server, ALICE)
    session.logoff("pa")
    assert session.wait(ev.Closed) == ev.Closed(True, "the connection closed as expected")
    with pytest.raises(ConnectionError):
        session.ping()


def test_the_server_going_away_ends_with_an_unclean_closed(driver, server):
    session = logged_in(driver, server, ALICE)
    server.stop()
    closed = session.wait(ev.Closed)
    assert not closed.clean and closed.reason == "the server closed the connection"


def test_nothing_is_left_behind(server):
    def open_fds():
        return set(os.listdir("/proc/self/fd"))

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        refused = probe.getsockname()
    gc.collect()
    fds, threads = open_fds(), set(threading.enumerate())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        driver = AioDriver().start()
        try:
            ended = logged_in(driver, server, ALICE, ping_interval=0.05)
            ended.logoff()
            ended.wait(ev.Closed)
            logged_in(driver, server, BOB)  # still open when the driver stops
            driver.open(refused, 1003, "carol").wait(ev.Closed)  # refused
        finally:
            driver.stop()
        gc.collect()
    assert open_fds() - fds == set()
    assert set(threading.enumerate()) - threads == set()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
