"""Reference server: start and stop on asyncio's loop and on uvloop, without leaving a socket open.

Connections accepted just before stop() used to stay open (asyncio's Server.close() races with
accepts in flight); each round here connects a burst and stops at once, and every client must see
its connection closed.
"""
from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Callable

import pytest
from server_testing import TIMEOUT, USERS, GGClient

from gadu import events as ev
from gadu import packets as p
from gadu.server import ServerThread
from gadu.server.config import ServerConfig
from gadu.server.listener import Listener

ALICE, BOB, CAROL = 1001, 1002, 1003


ROOT = Path(__file__).resolve().parents[2]


class _LoopWithoutReaders(asyncio.SelectorEventLoop):
    """asyncio's loop refusing add_reader to the listener, as Windows' proactor loop does: the
    listener accepts with sock_accept in a task instead. (The loop's own sock_* methods still use
    add_reader inside on 3.8, so only the listener's calls are refused.)"""

    def add_reader(self, fd, callback, *args):  # type: ignore[no-untyped-def]
        if isinstance(getattr(callback, "__self__", None), Listener):
            raise NotImplementedError
        return super().add_reader(fd, callback, *args)


@pytest.fixture(params=["asyncio", "uvloop", "no-add_reader"])
def loop_factory(request, pytestconfig) -> Callable[[], object]:
    """The server's loop: asyncio's, uvloop (in the test extra wherever it installs), and a loop
    without add_reader."""
    if request.param == "asyncio":
        return asyncio.new_event_loop
    if request.param == "no-add_reader":
        return _LoopWithoutReaders
    try:
        import uvloop
    except ImportError:
        # tests/conftest.py found by path: `import conftest` could find another conftest.
        plugin = pytestconfig.pluginmanager.get_plugin(str(ROOT / "tests" / "conftest.py"))
        plugin.require(False, "uvloop", "pip install uvloop (the project's test extra installs it)")
    return uvloop.new_event_loop


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def closed_by_server(sock: socket.socket) -> bool:
    """Read until EOF; False if the server kept the connection open past the deadline."""
    sock.settimeout(TIMEOUT)
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return False
    except ConnectionResetError:
        pass
    return True


def test_messages_and_the_offline_queue_work_on_the_loop(loop_factory, tmp_path):
    config = ServerConfig(users=dict(USERS), port=0, state_path=str(tmp_path / "state.db"))
    with ServerThread(config, loop_factory=loop_factory) as server:
        with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
            seq = alice.message(BOB, "na żywo")
            assert bob.wait(ev.MessageReceived, sender=ALICE).text == "na żywo"
            assert alice.wait(ev.MessageAck, seq=seq).status == p.GG_ACK_DELIVERED
            seq = alice.message(CAROL, "z kolejki")
            assert alice.wait(ev.MessageAck, seq=seq).status == p.GG_ACK_QUEUED
    config = ServerConfig(users=dict(USERS), port=0, state_path=str(tmp_path / "state.db"))
    with ServerThread(config, loop_factory=loop_factory) as server, GGClient.logged_in(server.port, CAROL) as carol:
        assert carol.wait(ev.MessageReceived, sender=ALICE).text == "z kolejki"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_stop_right_after_a_burst_of_connects_leaves_no_socket_open(loop_factory):
    baseline = open_fds()
    for _ in range(10):
        server = ServerThread(ServerConfig(users=dict(USERS), port=0), loop_factory=loop_factory).start()
        clients = []
        try:
            clients.extend(socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) for _ in range(20))
            server.stop()
            still_open = sum(not closed_by_server(sock) for sock in clients)
        finally:
            for sock in clients:
                sock.close()
        assert still_open == 0
    assert open_fds() == baseline
