"""compat.bridge: asyncore dispatchers and asynchat channels served by an asyncio loop."""
from __future__ import annotations

import asyncio
import socket

import pytest
from compat_echo import EchoServer, run_on_selector_loop

from compat import asynchat, asyncore
from compat.bridge import AsyncioBridge, BridgeUnsupported

WAIT = 5.0


async def read_lines(reader, count):
    return [await asyncio.wait_for(reader.readline(), WAIT) for _ in range(count)]


def test_asynchat_server_answers_asyncio_clients():
    """A legacy server and new asyncio clients share one loop and one thread."""

    async def main():
        bridge = AsyncioBridge()
        server = EchoServer(bridge.map)
        port = server.socket.getsockname()[1]
        streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        for n, (_, writer) in enumerate(streams):
            writer.write(b"line %d\n" % n + b"x" * 50000 + b"\n")
        replies = [await read_lines(reader, 2) for reader, _ in streams]
        for _, writer in streams:
            writer.close()
        bridge.close_all()
        return replies

    replies = run_on_selector_loop(main())
    for n, lines in enumerate(replies):
        assert lines == [b"echo:line %d\n" % n, b"echo:" + b"x" * 50000 + b"\n"]


def test_asynchat_client_pushes_from_an_asyncio_task():
    """A push() made outside the channel's handlers is flushed after bridge.sync()."""

    class Client(asynchat.async_chat):
        def __init__(self, socket_map, address, done):
            super().__init__(map=socket_map)
            self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
            self.connect(address)
            self.set_terminator(b"\n")
            self.buffer = []
            self.lines = []
            self.done = done

        def collect_incoming_data(self, data):
            self.buffer.append(data)

        def found_terminator(self):
            self.lines.append(b"".join(self.buffer))
            self.buffer = []
            if len(self.lines) == 3 and not self.done.done():
                self.done.set_result(self.lines)

    async def main():
        loop = asyncio.get_running_loop()
        bridge = AsyncioBridge()
        server = EchoServer(bridge.map)
        done = loop.create_future()
        client = Client(bridge.map, server.socket.getsockname(), done)
        for word in (b"one", b"two", b"three"):
            await asyncio.sleep(0)
            client.push(word + b"\n")
            bridge.sync(client)
        lines = await asyncio.wait_for(done, WAIT)
        bridge.close_all()
        return lines

    assert run_on_selector_loop(main()) == [b"echo:one", b"echo:two", b"echo:three"]


def test_closed_dispatcher_leaves_the_selector_before_its_socket_closes():
    order = []

    async def main():
        loop = asyncio.get_running_loop()
        bridge = AsyncioBridge()
        server = EchoServer(bridge.map)
        fd = server._fileno
        await asyncio.sleep(0)
        assert fd in bridge._readers
        original = loop.remove_reader

        def spying_remove_reader(fileno):
            order.append(("remove_reader", fileno, server.socket.fileno()))
            return original(fileno)

        loop.remove_reader = spying_remove_reader
        try:
            server.close()
        finally:
            loop.remove_reader = original
        assert fd not in bridge.map and fd not in bridge._readers
        assert server.socket.fileno() == -1

    run_on_selector_loop(main())
    assert order and order[0][0] == "remove_reader"
    _, removed_fd, socket_fd_at_the_time = order[0]
    assert socket_fd_at_the_time == removed_fd, "the socket was already closed when the fd was removed"


def test_timers_run_on_the_asyncio_loop_and_resync():
    async def main():
        loop = asyncio.get_running_loop()
        bridge = AsyncioBridge()
        fired = loop.create_future()
        bridge.call_later(0.01, fired.set_result, "tick")
        return await asyncio.wait_for(fired, WAIT)

    assert run_on_selector_loop(main()) == "tick"


def test_loop_without_add_reader_is_a_clear_error():
    class ProactorLike(asyncio.AbstractEventLoop):
        def add_reader(self, fd, callback, *args):
            raise NotImplementedError

    with pytest.raises(BridgeUnsupported, match="add_reader/add_writer"):
        AsyncioBridge(ProactorLike())


def test_connection_refused_reaches_the_dispatcher():
    """A connect that fails is reported through the dispatcher's own handlers, as under asyncore."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    class Connector(asyncore.dispatcher):
        def __init__(self, socket_map, outcome):
            super().__init__(map=socket_map)
            self.outcome = outcome
            self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
            self.connect(("127.0.0.1", port))

        def handle_connect(self):
            self.outcome.set_result("connected")

        def handle_close(self):
            if not self.outcome.done():
                self.outcome.set_result("closed")
            self.close()

        def handle_error(self):
            if not self.outcome.done():
                self.outcome.set_result("error")
            self.close()

    async def main():
        bridge = AsyncioBridge()
        outcome = asyncio.get_running_loop().create_future()
        Connector(bridge.map, outcome)
        result = await asyncio.wait_for(outcome, WAIT)
        bridge.close_all()
        return result, len(bridge)

    result, left = run_on_selector_loop(main())
    assert result in ("closed", "error")
    assert left == 0
