"""compat: the modules it hands out really work: an asynchat echo round trip on 127.0.0.1."""
from __future__ import annotations

import socket
import time

from compat_echo import EchoServer

from compat import asynchat, asyncore

#: Upper bound on loop passes; each pass waits at most POLL_TIMEOUT, so nothing can hang.
MAX_PASSES = 2000
POLL_TIMEOUT = 0.05


class LineClient(asynchat.async_chat):
    def __init__(self, address, socket_map, lines):
        super().__init__(map=socket_map)
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.connect(address)
        self.set_terminator(b"\n")
        self.received = []
        self.buffer = []
        for line in lines:
            self.push(line + b"\n")

    def collect_incoming_data(self, data):
        self.buffer.append(data)

    def found_terminator(self):
        self.received.append(b"".join(self.buffer))
        self.buffer = []


def test_asynchat_round_trip_with_an_explicit_map():
    """Three lines out and three echoes back, using only a private socket map."""
    socket_map = {}
    server = EchoServer(socket_map)
    lines = [b"hello", b"za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87", b"x" * 10000]
    client = LineClient(server.socket.getsockname(), socket_map, lines)
    try:
        for _ in range(MAX_PASSES):
            if len(client.received) == len(lines):
                break
            asyncore.loop(timeout=POLL_TIMEOUT, map=socket_map, count=1)
        assert client.received == [b"echo:" + line for line in lines]
        assert not set(asyncore.socket_map) & set(socket_map), "the global map was used"
    finally:
        asyncore.close_all(map=socket_map)
    assert socket_map == {}


def test_the_dispatcher_notices_the_peer_closing():
    socket_map = {}
    server = EchoServer(socket_map)
    closed = []

    class Quitter(LineClient):
        def handle_close(self):
            closed.append(time.monotonic())
            self.close()

    client = Quitter(server.socket.getsockname(), socket_map, [b"bye"])
    try:
        for _ in range(MAX_PASSES):
            if client.received:
                break
            asyncore.loop(timeout=POLL_TIMEOUT, map=socket_map, count=1)
        for channel in server.channels:
            channel.close()
        for _ in range(MAX_PASSES):
            if closed:
                break
            asyncore.loop(timeout=POLL_TIMEOUT, map=socket_map, count=1)
        assert client.received == [b"echo:bye"]
        assert closed, "handle_close was never called after the server closed"
    finally:
        asyncore.close_all(map=socket_map)
