"""8.x Resources: after a session ends and its loop stops, nothing of it is left behind.

Each case runs the variant's driver itself (not the fixture) so it can count file descriptors and
threads before the driver starts and after it stops.
"""
from __future__ import annotations

import gc
import os
import threading
import time
import warnings

from gadu import events as ev
from gadu import packets as pk

from .drivers import driver_class
from .helpers import SEED, logged_in_on_server
from .results import case


def open_fds():
    return set(os.listdir("/proc/self/fd"))


class Tracked:
    """Runs one driver and records what it leaves: fds, threads, ResourceWarnings."""

    def __init__(self, variant):
        gc.collect()
        self.fds = open_fds()
        self.threads = set(threading.enumerate())
        self.catcher = warnings.catch_warnings(record=True)
        self.warnings = self.catcher.__enter__()
        warnings.simplefilter("always", ResourceWarning)
        self.driver = driver_class(variant)().start()

    def finish(self, server=None):
        self.driver.stop()
        if server is not None:
            server_idle(server)
        gc.collect()
        self.catcher.__exit__(None, None, None)
        leaked_fds = open_fds() - self.fds
        leaked_threads = set(threading.enumerate()) - self.threads
        resource_warnings = [str(w.message) for w in self.warnings if issubclass(w.category, ResourceWarning)]
        return leaked_fds, leaked_threads, resource_warnings


def server_idle(server, timeout=5.0):
    """The reference server runs in this process: its side of each connection is an fd here too, and
    it closes that fd only when it has read the client's close. Wait for that before counting."""
    deadline = time.monotonic() + timeout
    while server.server.connections and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not server.server.connections, "the server still holds connections"


def assert_nothing_left(tracked, server=None):
    fds, threads, resource_warnings = tracked.finish(server)
    assert not fds, f"file descriptors left open: {sorted(fds)}"
    assert not threads, f"threads left running: {[t.name for t in threads]}"
    assert not resource_warnings, resource_warnings


@case("8.1", "Nothing left after logoff", "A session that logs off and whose loop stops leaves no file "
      "descriptor, no thread and no ResourceWarning.")
def test_after_logoff(variant, server, server_address):
    tracked = Tracked(variant)
    session = logged_in_on_server(tracked.driver, server_address)
    session.logoff()
    session.wait(ev.Closed)
    assert_nothing_left(tracked, server)


@case("8.2", "Nothing left after abort", "An aborted session leaves nothing behind.")
def test_after_abort(variant, server, server_address):
    tracked = Tracked(variant)
    session = logged_in_on_server(tracked.driver, server_address)
    session.abort()
    session.wait(ev.Closed)
    assert_nothing_left(tracked, server)


@case("8.3", "Nothing left after a protocol error", "A session ended by garbage from the server leaves "
      "nothing behind.")
def test_after_protocol_error(variant, peer):
    tracked = Tracked(variant)
    session = tracked.driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.send(b"\xff" * 32)
    session.wait(ev.Closed)
    wire.close()
    assert_nothing_left(tracked)


@case("8.4", "Nothing left after a login timeout", "A session given up on by the login timeout leaves "
      "nothing behind (its timer included).")
def test_after_login_timeout(variant, peer):
    tracked = Tracked(variant)
    session = tracked.driver.open(peer.address, 1001, "alice", login_timeout=0.2)
    wire = peer.accept()
    session.wait(ev.Closed, timeout=3)
    wire.close()
    assert_nothing_left(tracked)


@case("8.5", "Nothing left after 200 sessions", "200 sessions that log in and log off leave nothing behind.")
def test_after_many(variant, server, server_address):
    from .helpers import MANY_BASE

    tracked = Tracked(variant)
    sessions = [tracked.driver.open(server_address, MANY_BASE + n, f"pw{MANY_BASE + n}") for n in range(200)]
    for session in sessions:
        session.wait(ev.LoginOk, timeout=20)
    for session in sessions:
        session.logoff()
    for session in sessions:
        session.wait(ev.Closed, timeout=20)
    assert_nothing_left(tracked, server)


@case("8.6", "Nothing left when the loop stops first", "Stopping the loop with sessions still open closes "
      "them; nothing is left behind.")
def test_stop_with_open_sessions(variant, server, server_address):
    tracked = Tracked(variant)
    for n in range(3):
        logged_in_on_server(tracked.driver, server_address, 1001 + n, ["alice", "bob", "carol"][n])
    assert_nothing_left(tracked, server)


@case("8.7", "Nothing left after a refused connection", "A connection that was refused leaves nothing behind.")
def test_after_refused(variant):
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    address = probe.getsockname()
    probe.close()
    tracked = Tracked(variant)
    session = tracked.driver.open(address, 1001, "alice")
    session.wait(ev.Closed)
    assert_nothing_left(tracked)


@case("8.8", "Nothing left with keep-alive on", "A session with a running keep-alive timer that ends leaves "
      "nothing behind (the timer is cancelled).")
def test_after_keepalive(variant, peer):
    tracked = Tracked(variant)
    session = tracked.driver.open(peer.address, 1001, "alice", ping_interval=0.05)
    wire = peer.accept()
    wire.accept_login(SEED)
    session.wait(ev.LoginOk)
    wire.expect(pk.Ping)
    wire.close()
    session.wait(ev.Closed)
    assert_nothing_left(tracked)
