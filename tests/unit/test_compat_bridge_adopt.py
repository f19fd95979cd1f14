"""compat.bridge on code that was never written for it: asyncore's default map, a vendored copy's map,
`loop()` in place of asyncore.loop, and writes made outside the handlers without bridge.sync().
"""
from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
import threading

import pytest
from compat_echo import EchoChannel, EchoServer, run_on_selector_loop

from compat import asynchat, asyncore, bridge
from compat.bridge import AsyncioBridge, BridgeMap, BridgeUnsupported

WAIT = 5.0


@pytest.fixture
def default_map():
    """asyncore's own socket_map, empty before and after the test."""
    assert not asyncore.socket_map, "a test left dispatchers in asyncore.socket_map"
    original = asyncore.socket_map
    yield original
    asyncore.close_all(ignore_all=True)
    assert asyncore.socket_map is original


def read_lines(sock, count):
    sock.settimeout(WAIT)
    data = b""
    while data.count(b"\n") < count:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    return data.splitlines()


def test_adopting_the_default_map_serves_dispatchers_made_before_and_after(default_map):
    server = EchoServer(None)  # created the usual way: no map=, so on asyncore.socket_map
    port = server.socket.getsockname()[1]
    assert default_map[server._fileno] is server

    async def main():
        with bridge.adopt() as adopted:
            assert asyncore.socket_map is adopted.map and server._map is adopted.map
            # The hooked subclass looks like the class it stands in for.
            assert isinstance(server, EchoServer) and type(server).__name__ == "EchoServer"
            assert repr(server).startswith("<compat_echo.EchoServer listening")
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"hello\n" + b"y" * 50000 + b"\n")
            lines = [await asyncio.wait_for(reader.readline(), WAIT) for _ in range(2)]
            channel = server.channels[0]
            assert channel._map is adopted.map  # created after adoption, with map=None
            writer.close()
            return lines, channel

    lines, channel = run_on_selector_loop(main())
    assert lines == [b"echo:hello\n", b"echo:" + b"y" * 50000 + b"\n"]
    # Given back: the module attribute, each dispatcher's _map and class, every live dispatcher.
    assert asyncore.socket_map is default_map
    assert server._map is default_map and channel._map is default_map
    assert type(server) is EchoServer and type(channel) is EchoChannel
    assert default_map[server._fileno] is server
    assert default_map.get(channel._fileno) is channel


def test_a_vendored_copy_of_asyncore_is_adopted_through_its_own_module():
    spec = importlib.util.spec_from_file_location("vendored_asyncore", asyncore.__file__)
    vendored = importlib.util.module_from_spec(spec)
    with pytest.warns(DeprecationWarning) if sys.version_info[:2] in ((3, 10), (3, 11)) else _nothing():
        spec.loader.exec_module(vendored)
    assert vendored.dispatcher is not asyncore.dispatcher

    class Echo(vendored.dispatcher):
        def handle_read(self):
            data = self.recv(100)
            if data:
                self.send(b"vendored:" + data)

    ours, theirs = socket.socketpair()
    with ours, theirs:
        echo = Echo(ours)
        assert vendored.socket_map[echo._fileno] is echo
        undo = bridge.install(vendored)
        try:
            theirs.sendall(b"ping")
            vendored.loop(timeout=0.01, count=20)  # the drop-in, installed on the copy
        finally:
            undo()
        theirs.settimeout(WAIT)
        assert theirs.recv(100) == b"vendored:ping"
        assert vendored.socket_map[echo._fileno] is echo and type(echo) is Echo
        echo.close()
    assert vendored.loop.__module__ == "vendored_asyncore"


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_loop_returns_when_the_map_empties(default_map):
    ours, theirs = socket.socketpair()
    closed = []

    class OneShot(asyncore.dispatcher):
        def handle_read(self):
            self.recv(10)
            closed.append(True)
            self.close()

        def writable(self):
            return False

    with theirs:
        OneShot(ours)
        theirs.sendall(b"x")
        bridge.loop(timeout=WAIT)  # count=None: until the map is empty
    assert closed == [True] and not asyncore.socket_map


def test_loop_with_count_returns_after_that_many_passes(default_map):
    ours, theirs = socket.socketpair()
    reads = []

    class Reader(asyncore.dispatcher):
        def handle_read(self):
            reads.append(self.recv(1))

        def writable(self):
            return False

    with theirs:
        reader = Reader(ours)
        theirs.sendall(b"abcdef")
        bridge.loop(timeout=WAIT, count=3)  # each pass handles one readable event: one byte
        assert reads == [b"a", b"b", b"c"]
        bridge.loop(timeout=0.001, count=2)
        assert reads == [b"a", b"b", b"c", b"d", b"e"]
        assert asyncore.socket_map[reader._fileno] is reader and isinstance(asyncore.socket_map, dict)
        assert not isinstance(asyncore.socket_map, BridgeMap)
        reader.close()


def test_loop_inside_a_running_asyncio_loop_is_a_clear_error(default_map):
    ours, theirs = socket.socketpair()
    with theirs:
        dispatcher = asyncore.dispatcher(ours)

        async def main():
            with pytest.raises(RuntimeError, match="adopt"):
                bridge.loop(timeout=0.01, count=1)

        run_on_selector_loop(main())
        dispatcher.close()


def test_install_replaces_asyncore_loop_and_undoes_it():
    original = asyncore.loop
    undo = bridge.install()
    try:
        assert asyncore.loop is not original
        assert asyncore.loop.__doc__ == bridge.loop.__doc__
    finally:
        undo()
    assert asyncore.loop is original


class Client(asynchat.async_chat):
    """A line client whose pushes come from outside its handlers."""

    def __init__(self, address, want, done):
        super().__init__()
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.connect(address)
        self.set_terminator(b"\n")
        self.buffer, self.lines, self.want, self.done = [], [], want, done

    def collect_incoming_data(self, data):
        self.buffer.append(data)

    def found_terminator(self):
        self.lines.append(b"".join(self.buffer))
        self.buffer = []
        if len(self.lines) == self.want and not self.done.done():
            self.done.set_result(self.lines)


def test_push_from_a_task_a_timer_and_another_thread_needs_no_sync(default_map):
    async def main():
        loop = asyncio.get_running_loop()
        with bridge.adopt():
            server = EchoServer(None)
            done = loop.create_future()
            client = Client(server.socket.getsockname(), 4, done)
            await asyncio.sleep(0)
            client.push(b"from a task\n")
            loop.call_later(0.001, client.push_with_producer, _Producer([b"from ", b"a timer\n"]))
            pusher = threading.Thread(target=loop.call_soon_threadsafe, args=(client.push, b"from a thread\n"))
            pusher.start()
            pusher.join()
            await asyncio.sleep(0.01)
            client.send(b"from send()\n")
            lines = await asyncio.wait_for(done, WAIT)
            server.close()
            client.close_when_done()  # queued behind nothing: closes on the next pass, with no sync()
            await asyncio.wait_for(_until(lambda: client.socket is None or client._fileno is None), WAIT)
            return lines

    lines = run_on_selector_loop(main())
    assert sorted(lines) == sorted([b"echo:from a task", b"echo:from a timer", b"echo:from a thread",
                                    b"echo:from send()"])


class _Producer:
    def __init__(self, parts):
        self.parts = list(parts)

    def more(self):
        return self.parts.pop(0) if self.parts else b""


async def _until(predicate):
    while not predicate():
        await asyncio.sleep(0.001)


def test_a_handler_that_raises_goes_to_handle_error_and_the_loop_goes_on(default_map):
    ours, theirs = socket.socketpair()
    seen = []

    class Faulty(asyncore.dispatcher):
        def handle_read(self):
            data = self.recv(1)
            if data == b"!":
                raise ValueError("bad byte")
            seen.append(data)
            if data == b"b":
                self.close()

        def handle_error(self):
            seen.append(sys.exc_info()[0].__name__)

        def writable(self):
            return False

    with theirs:
        Faulty(ours)
        theirs.sendall(b"a!b")
        bridge.loop(timeout=WAIT)
    assert seen == [b"a", "ValueError", b"b"]


def test_exit_now_ends_loop_as_under_asyncore(default_map):
    ours, theirs = socket.socketpair()

    class Quitter(asyncore.dispatcher):
        def handle_read(self):
            raise asyncore.ExitNow("done")

        def writable(self):
            return False

    with theirs:
        quitter = Quitter(ours)
        theirs.sendall(b"x")
        with pytest.raises(asyncore.ExitNow):
            bridge.loop(timeout=WAIT)
        assert asyncore.socket_map is not None and asyncore.socket_map[quitter._fileno] is quitter
        quitter.close()


def test_a_socket_closed_behind_the_bridges_back_leaves_the_selector(default_map):
    ours, theirs = socket.socketpair()
    closes = []

    class Victim(asyncore.dispatcher):
        def handle_close(self):
            closes.append(True)
            self.close()

        def writable(self):
            return False

    async def main():
        with bridge.adopt() as adopted:
            victim = Victim(ours)
            fd = victim._fileno
            await asyncio.sleep(0)
            assert fd in adopted._readers
            victim.socket.close()  # not victim.close(): the map and the selector still hold fd
            await adopted.serve(timeout=0.01, count=3)
            assert fd not in adopted._readers and fd not in adopted.map
            assert fd not in asyncio.get_running_loop()._selector.get_map()

    with theirs:
        run_on_selector_loop(main())
    assert closes == [True]


def test_the_drop_in_recovers_from_a_dead_descriptor_in_select():
    # select() raises EBADF for a closed descriptor on every call; the drop-in's selector drops it once.
    from compat.bridge_hooks import RecoveringSelector

    dead = []
    selector = RecoveringSelector(dead.append)
    ours, theirs = socket.socketpair()
    with theirs:
        fd = ours.fileno()
        selector.register(fd, 1)
        ours.close()
        assert selector.drop_dead() == [fd]
        assert dead == [fd] and not selector.get_map()
    selector.close()


# The Proactor loop exists on Windows only; elsewhere the test is not defined at all, because CI on Linux
# allows no skipped test (the GitHub workflow runs it on Windows).
if sys.platform == "win32":

    def test_the_proactor_loop_is_refused_and_the_selector_loop_works():
        proactor = asyncio.ProactorEventLoop()
        try:
            with pytest.raises(BridgeUnsupported, match="WindowsSelectorEventLoopPolicy"):
                AsyncioBridge(proactor)
        finally:
            proactor.close()
        selector_loop = asyncio.SelectorEventLoop()
        try:
            assert len(AsyncioBridge(selector_loop)) == 0
        finally:
            selector_loop.close()


def test_existing_channels_keep_working_through_adopt_and_release(default_map):
    """Give the map back mid-conversation: plain asyncore.loop carries on where the bridge stopped."""
    server = EchoServer(None)
    client = socket.create_connection(server.socket.getsockname())
    with client:
        client.sendall(b"one\n")

        async def bridged():
            with bridge.adopt():
                await asyncio.wait_for(_until(lambda: server.channels and server.channels[0].buffer == []
                                              and not server.channels[0].producer_fifo and _readable(client)),
                                       WAIT)

        run_on_selector_loop(bridged())
        assert read_lines(client, 1) == [b"echo:one"]
        client.sendall(b"two\n")
        channel = server.channels[0]
        assert isinstance(channel, EchoChannel)
        for _ in range(100):
            asyncore.loop(timeout=0.01, count=1)  # asyncore's own loop, on the map given back
            if _readable(client):
                break
        assert read_lines(client, 1) == [b"echo:two"]


def _readable(sock):
    import select

    return bool(select.select([sock], [], [], 0)[0])


def test_loop_on_a_map_already_adopted_runs_on_that_bridges_loop(default_map):
    ours, theirs = socket.socketpair()
    reads = []

    class Reader(asyncore.dispatcher):
        def handle_read(self):
            reads.append((self.recv(10), asyncio.get_running_loop()))

        def writable(self):
            return False

    event_loop = asyncio.SelectorEventLoop()
    try:
        with theirs, bridge.adopt(loop=event_loop) as adopted:
            reader = Reader(ours)  # map=None: the adopted map
            assert adopted.map[reader._fileno] is reader
            theirs.sendall(b"hi")
            bridge.loop(timeout=WAIT, count=1)
            assert reads == [(b"hi", event_loop)]
            reader.close()
    finally:
        event_loop.close()
    assert asyncore.socket_map is default_map and not default_map


def test_what_escapes_handle_error_ends_loop_as_under_asyncore(default_map):
    ours, theirs = socket.socketpair()

    class Strict(asyncore.dispatcher):
        def handle_read(self):
            raise ValueError("from handle_read")

        def handle_error(self):
            raise  # what handle_read raised, as CPython's own test handlers do

        def writable(self):
            return False

    with theirs:
        strict = Strict(ours)
        theirs.sendall(b"x")
        with pytest.raises(ValueError, match="from handle_read"):
            bridge.loop(timeout=WAIT)
        assert asyncore.socket_map[strict._fileno] is strict
        strict.close()
