"""The yield-from client through its two conformance drivers ("yieldfrom", "yieldfrom@asyncio").

The blocking test interface of tests/conformance/drivers/base.py, against the reference server on
127.0.0.1: each case waits for events with a deadline, and the last one counts what is left behind.
"""
from __future__ import annotations

import gc
import os
import socket
import threading
import time
import warnings
from typing import Any, Iterator

import pytest
from conformance.drivers.yieldfrom import YieldFromDriver, YieldFromOnAsyncioDriver
from server_testing import running_server

from gadu import events as ev
from gadu import packets as pk
from gadu.server_config import ECHO_UIN

USERS = {2001: "ala", 2002: "ola", 2003: "ela", 2004: "iza", 2005: "ula", 2006: "zoja"}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with running_server(users=dict(USERS)) as running:
        yield running


@pytest.fixture(params=[YieldFromDriver, YieldFromOnAsyncioDriver], ids=lambda cls: cls.name)
def driver(request) -> Iterator[Any]:
    instance = request.param().start()
    try:
        yield instance
    finally:
        instance.stop()


def address(server: Any) -> Any:
    return ("127.0.0.1", server.port)


def logged_in(driver: Any, server: Any, uin: int, **options: Any) -> Any:
    session = driver.open(address(server), uin, USERS[uin], **options)
    session.wait(ev.LoginOk)
    return session


@pytest.mark.parametrize("hash_type", ["sha1", "gg32"])
def test_login(driver, server, hash_type):
    """Both hashes log in through the driver; the session then ends when aborted."""
    session = logged_in(driver, server, 2001, hash_type=hash_type)
    session.abort()
    assert not session.wait(ev.Closed).clean


def test_wrong_password(driver, server):
    """A wrong password: LoginFailed, then the server's close, clean."""
    session = driver.open(address(server), 2001, "nie-ala")
    session.wait(ev.LoginFailed)
    assert session.wait(ev.Closed).clean


def test_login_timeout_against_a_silent_socket(driver):
    """A listening socket that never speaks: LoginFailed after the timeout, then Closed with the reason."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        session = driver.open(silent.getsockname(), 2001, "ala", login_timeout=0.1)
        session.wait(ev.LoginFailed)
        closed = session.wait(ev.Closed)
    assert not closed.clean and "login timed out" in closed.reason


def test_echo_round_trip_and_ack(driver, server):
    """The seq send_message returns is the seq of the ack; the echo contact sends the text back."""
    session = logged_in(driver, server, 2002)
    seq = session.send_message(ECHO_UIN, "Zażółć gęślą jaźń")
    ack = session.wait(ev.MessageAck)
    assert (ack.recipient, ack.seq, ack.status) == (ECHO_UIN, seq, pk.GG_ACK_DELIVERED)
    echoed = session.wait(ev.MessageReceived)
    assert (echoed.sender, echoed.text) == (ECHO_UIN, "Zażółć gęślą jaźń")


def test_status_change_seen_by_a_second_session(driver, server):
    """A described status change of one session reaches a second session that lists it."""
    watcher = logged_in(driver, server, 2003)
    contact = logged_in(driver, server, 2004)
    watcher.notify([2004])
    watcher.wait(ev.ContactsReply)
    contact.change_status(pk.GG_STATUS_BUSY_DESCR, "zaraz wracam")
    change = watcher.wait(ev.StatusChanged, lambda e: e.status == pk.GG_STATUS_BUSY_DESCR)
    assert (change.uin, change.description) == (2004, "zaraz wracam")


def test_contact_list_over_400(driver, server):
    """A list of 901 contacts reaches the server whole (NOTIFY_FIRST chunks and a NOTIFY_LAST); then one
    contact is removed and one added."""
    session = logged_in(driver, server, 2005)
    session.notify([ECHO_UIN, *range(300000, 300900)])
    reply = session.wait(ev.ContactsReply)
    assert [entry.uin for entry in reply.entries] == [ECHO_UIN]
    assert server.call(lambda: len(server.server.online[2005].contacts)) == 901
    session.remove_contact(ECHO_UIN)
    session.add_contact(2006)
    session.ping()
    session.wait(ev.Pong)  # everything before the ping has been handled by the server
    contacts = server.call(lambda: set(server.server.online[2005].contacts))
    assert len(contacts) == 901 and ECHO_UIN not in contacts and 2006 in contacts


def test_typing(driver, server):
    """A typing notification reaches the other session."""
    alice = logged_in(driver, server, 2001)
    bob = logged_in(driver, server, 2002)
    alice.typing(2002, 12)
    assert bob.wait(ev.Typing) == ev.Typing(2001, 12)


def test_ping_interval(driver, server):
    """With a ping interval the client pings by itself: pongs keep coming, never faster than the interval."""
    interval = 0.05
    started = time.monotonic()
    session = logged_in(driver, server, 2003, ping_interval=interval)
    for _ in range(3):
        session.wait(ev.Pong)
    assert time.monotonic() - started >= 2.5 * interval


def test_logoff_gives_a_clean_closed(driver, server):
    """A logoff with a description ends in the server's close: Closed(clean=True)."""
    session = logged_in(driver, server, 2004)
    session.logoff("dobranoc")
    assert session.wait(ev.Closed).clean


def test_server_side_close(driver):
    """A server that goes away while logged in gives Closed(clean=False)."""
    with running_server(users=dict(USERS)) as own:
        session = logged_in(driver, own, 2006)
    assert not session.wait(ev.Closed).clean


def test_dropped_for_a_newer_login(driver, server):
    """The server drops an older session of a uin that logs in again: Disconnecting, then a clean Closed."""
    first = logged_in(driver, server, 2006)
    logged_in(driver, server, 2006)
    first.wait(ev.Disconnecting)
    assert first.wait(ev.Closed).clean


@pytest.mark.parametrize("cls", [YieldFromDriver, YieldFromOnAsyncioDriver], ids=lambda cls: cls.name)
def test_nothing_left_behind(cls, server):
    """Sessions ended every way, then the driver stopped: no fd, no thread, no ResourceWarning left."""
    gc.collect()
    fds = set(os.listdir("/proc/self/fd"))
    threads = set(threading.enumerate())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        driver = cls().start()
        running = set(os.listdir("/proc/self/fd"))  # the loop's own: its selector and wake-up pipe
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(1)
            timed_out = driver.open(silent.getsockname(), 2001, "ala", login_timeout=0.05)
            timed_out.wait(ev.Closed)
        refused = driver.open(address(server), 2001, "nie-ala")
        refused.wait(ev.Closed)
        session = logged_in(driver, server, 2002, ping_interval=0.02)
        session.wait(ev.Pong)
        session.logoff()
        session.wait(ev.Closed)
        # The server closed first; Closed comes once the client's socket is closed too.
        assert set(os.listdir("/proc/self/fd")) - running == set()
        driver.stop()
        gc.collect()
    assert set(os.listdir("/proc/self/fd")) - fds == set()
    assert set(threading.enumerate()) - threads == set()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
