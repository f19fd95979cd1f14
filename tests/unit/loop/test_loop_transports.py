"""modern.loop's socket transport, create_connection and create_server, on 127.0.0.1.

The peer is usually a plain socket the test controls: it does not read until told to, which is how a
slow reader fills the transport's buffer and makes flow control kick in.
"""
from __future__ import annotations

import os
import select
import socket
import struct

import pytest

from modern.loop import coroutine, new_event_loop, sleep, wait_for
from modern.loop.protocols import BufferedProtocol, Protocol
from modern.loop.transports import DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER, MAX_RECV_SIZE

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

#: Upper bound of every wait in this file; reached only when something is broken.
TIMEOUT = 5.0
MIB = bytes(range(256)) * 4096


def _open_fds():
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


@pytest.fixture
def loop():
    """A fresh loop that records what reaches its exception handler; no descriptor may outlive the test."""
    before = _open_fds()
    loop = new_event_loop()
    loop.reported = []
    loop.set_exception_handler(lambda _, context: loop.reported.append(context))
    yield loop
    loop.close()
    assert _open_fds() == before, "the test left file descriptors open"


def run(loop, awaitable, timeout=TIMEOUT):
    return loop.run_until_complete(wait_for(awaitable, timeout))


@coroutine
def passes(n):
    """Let the loop turn `n` times: long enough for any ready callback or selector event to be handled."""
    for _ in range(n):
        yield from sleep(0)


@coroutine
def wait_until(predicate):
    """Turn the loop until `predicate()` holds (bounded by the caller's wait_for)."""
    while not predicate():
        yield from sleep(0)


class Recorder(Protocol):
    """Notes every callback in order; runs of data_received are noted once."""

    def __init__(self, loop, keep_open_on_eof=False):
        self.events = []
        self.received = bytearray()
        self.chunks = []
        self.transport = None
        self.lost = loop.create_future()
        self.keep_open_on_eof = keep_open_on_eof
        self.buffer_at = {}

    def connection_made(self, transport):
        self.transport = transport
        self.events.append("made")

    def data_received(self, data):
        if self.events[-1] != "data":
            self.events.append("data")
        self.received += data
        self.chunks.append(len(data))

    def eof_received(self):
        self.events.append("eof")
        return self.keep_open_on_eof

    def pause_writing(self):
        self.events.append("pause")
        self.buffer_at["pause"] = self.transport.get_write_buffer_size()

    def resume_writing(self):
        self.events.append("resume")
        self.buffer_at["resume"] = self.transport.get_write_buffer_size()

    def connection_lost(self, exc):
        self.events.append("lost")
        self.lost.set_result(exc)


class PeerReader:
    """The peer starts reading, on the loop, when the test says so; it collects bytes until EOF."""

    def __init__(self, loop, sock):
        self.loop = loop
        self.sock = sock
        self.data = bytearray()
        self.eof = False
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._readable)

    def _readable(self):
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionResetError:
            chunk = b""
        if chunk:
            self.data += chunk
        else:
            self.eof = True
            self.loop.remove_reader(self.sock.fileno())


@pytest.fixture
def listener():
    """A plain listening socket; its small receive buffer (inherited by accepted peers) fills quickly."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(TIMEOUT)
    yield sock
    sock.close()


@pytest.fixture
def peers():
    """Peer sockets to close at the end of the test (before the loop's descriptor check)."""
    opened = []
    yield opened
    for sock in opened:
        sock.close()


def open_transport(loop, listener, peers, protocol_factory, sndbuf=4096, rcvbuf=None):
    """A connected socket handed to create_connection(sock=...); returns (transport, protocol, peer)."""
    sock = socket.socket()
    # Set before the handshake: shrinking a buffer of a live connection stalls it on window probes.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(TIMEOUT)
    sock.connect(listener.getsockname())
    peer, _ = listener.accept()
    peers.append(peer)
    transport, protocol = run(loop, loop.create_connection(protocol_factory, sock=sock))
    return transport, protocol, peer


def read_until_eof(sock):
    sock.settimeout(TIMEOUT)
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "eof"
        data += chunk


def reset(sock):
    """Close with RST instead of FIN: SO_LINGER on, with a zero timeout."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# Connecting and the order of the protocol's callbacks.

def test_create_server_and_create_connection_round_trip(loop):
    """An echo server and a client: the client gets its bytes back, then both sides see connection_lost."""
    server_protocols = []

    class Echo(Protocol):
        def connection_made(self, transport):
            self.transport = transport
            server_protocols.append(self)

        def data_received(self, data):
            self.transport.write(data)

    @coroutine
    def main():
        server = yield from loop.create_server(Echo, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()
        transport, client = yield from loop.create_connection(lambda: Recorder(loop), host, port)
        assert client.events == ["made"], "connection_made comes before create_connection returns"
        transport.write(b"hello, ")
        transport.writelines([b"wor", bytearray(b"ld")])
        yield from wait_until(lambda: client.received == b"hello, world")
        transport.close()
        assert (yield from client.lost) is None
        server.close()
        yield from server.wait_closed()
        return client, server

    client, server = run(loop, main())
    assert client.events == ["made", "data", "lost"]
    assert len(server_protocols) == 1
    assert server.sockets == () and not server.is_serving()
    assert loop.reported == []


def test_extra_info_names_the_socket_and_both_ends(loop, listener, peers):
    transport, _, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    sock = transport.get_extra_info("socket")
    assert isinstance(sock, socket.socket)
    assert transport.get_extra_info("peername") == peer.getsockname()
    assert transport.get_extra_info("sockname") == peer.getpeername()
    assert transport.get_extra_info("no such thing", "default") == "default"
    transport.close()
    run(loop, transport.get_protocol().lost)
    assert sock.fileno() == -1, "the transport closes its socket"


def test_the_transport_keeps_its_state_in_slots(loop, listener, peers):
    """The hot path touches only slots: no per-instance dict."""
    transport, protocol, _ = open_transport(loop, listener, peers, lambda: Recorder(loop))
    assert not hasattr(transport, "__dict__")
    transport.close()
    run(loop, protocol.lost)


def test_connection_refused(loop):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        host, port = closed.getsockname()
    with pytest.raises(ConnectionRefusedError):
        run(loop, loop.create_connection(lambda: Recorder(loop), host, port))


def test_create_connection_arguments_are_checked(loop):
    with socket.socket() as sock:
        with pytest.raises(ValueError, match="can not be specified at the same time"):
            run(loop, loop.create_connection(Protocol, "127.0.0.1", 1, sock=sock))
    with pytest.raises(ValueError, match="no sock specified"):
        run(loop, loop.create_connection(Protocol))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(ValueError, match="Stream Socket was expected"):
            run(loop, loop.create_connection(Protocol, sock=udp))


def test_a_failing_protocol_factory_leaves_no_socket_open(loop, listener):
    def factory():
        raise LookupError("no protocol today")

    host, port = listener.getsockname()
    with pytest.raises(LookupError):
        run(loop, loop.create_connection(factory, host, port))
    conn, _ = listener.accept()
    with conn:
        assert read_until_eof(conn)[0] == b""


def test_cancelling_a_pending_connect_closes_its_socket(loop):
    """A full backlog drops the SYN, so the connect waits; cancelling it must close the new socket."""
    with socket.socket() as full, socket.socket() as first:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        first.settimeout(TIMEOUT)
        first.connect(full.getsockname())
        host, port = full.getsockname()
        task = loop.create_task(loop.create_connection(Protocol, host, port))
        run(loop, passes(3))
        assert not task.done()
        task.cancel()
        run(loop, passes(3))
        assert task.cancelled()


# Writing, and flow control under a slow reader.

def test_write_sends_at_once_when_nothing_is_buffered(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    transport.write(b"at once")
    assert transport.get_write_buffer_size() == 0
    peer.settimeout(TIMEOUT)
    assert peer.recv(100) == b"at once"
    transport.close()
    run(loop, protocol.lost)


def test_a_slow_reader_makes_the_transport_buffer_and_pause_then_resume_the_protocol(loop, listener, peers):
    """pause_writing() once the buffer passes 64 KiB, resume_writing() once it drains to 16 KiB, in order."""
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    assert transport.get_write_buffer_limits() == (DEFAULT_LOW_WATER, DEFAULT_HIGH_WATER) == (16384, 65536)
    transport.write(MIB)
    assert protocol.events == ["made", "pause"], "pause_writing() is called from inside write()"
    assert protocol.buffer_at["pause"] > DEFAULT_HIGH_WATER
    assert 0 < transport.get_write_buffer_size() < len(MIB)
    transport.write(b"and more")
    assert protocol.events.count("pause") == 1
    reader = PeerReader(loop, peer)
    run(loop, wait_until(lambda: "resume" in protocol.events))
    assert protocol.buffer_at["resume"] <= DEFAULT_LOW_WATER
    run(loop, wait_until(lambda: len(reader.data) == len(MIB) + 8))
    assert reader.data == MIB + b"and more"
    assert transport.get_write_buffer_size() == 0
    assert protocol.events == ["made", "pause", "resume"]
    loop.remove_reader(peer.fileno())
    transport.close()
    run(loop, protocol.lost)


def test_lowering_the_high_water_mark_pauses_at_once(loop, listener, peers):
    transport, protocol, _ = open_transport(loop, listener, peers, lambda: Recorder(loop))
    transport.set_write_buffer_limits(high=4 * len(MIB))
    transport.write(MIB)
    assert protocol.events == ["made"]
    transport.set_write_buffer_limits(high=1000)
    assert transport.get_write_buffer_limits() == (250, 1000)
    assert protocol.events == ["made", "pause"]
    transport.abort()
    run(loop, protocol.lost)


def test_write_buffer_limits_are_checked(loop, listener, peers):
    transport, protocol, _ = open_transport(loop, listener, peers, lambda: Recorder(loop))
    transport.set_write_buffer_limits(low=100)
    assert transport.get_write_buffer_limits() == (100, 400)
    with pytest.raises(ValueError, match="must be >="):
        transport.set_write_buffer_limits(high=10, low=20)
    with pytest.raises(ValueError, match="must be >="):
        transport.set_write_buffer_limits(high=10, low=-1)
    transport.close()
    run(loop, protocol.lost)


def test_write_refuses_text_and_writing_after_write_eof(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    with pytest.raises(TypeError, match="bytes-like"):
        transport.write("text")
    assert transport.can_write_eof()
    transport.write(b"last words")
    transport.write_eof()
    with pytest.raises(RuntimeError, match="write_eof"):
        transport.write(b"more")
    assert read_until_eof(peer) == (b"last words", "eof")
    transport.close()
    run(loop, protocol.lost)


def test_write_eof_waits_for_the_buffer_to_flush(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    transport.write(MIB)
    transport.write_eof()
    reader = PeerReader(loop, peer)
    run(loop, wait_until(lambda: reader.eof))
    assert reader.data == MIB
    transport.close()
    run(loop, protocol.lost)


# Reading: pausing, EOF, and the size of each read.

def test_pause_reading_holds_data_back_until_resume_reading(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    assert transport.is_reading()
    transport.pause_reading()
    transport.pause_reading()
    assert not transport.is_reading()
    peer.sendall(b"held back")
    assert select.select([transport.get_extra_info("socket")], [], [], TIMEOUT)[0]
    run(loop, passes(3))
    assert protocol.received == b""
    transport.resume_reading()
    transport.resume_reading()
    assert transport.is_reading()
    run(loop, wait_until(lambda: protocol.received == b"held back"))
    transport.close()
    assert not transport.is_reading()
    run(loop, protocol.lost)


def test_each_read_asks_for_at_most_max_recv_size(loop, listener, peers):
    """With far more than 64 KiB waiting in the kernel, data_received still gets at most 64 KiB a call."""
    transport, protocol, peer = open_transport(
        loop, listener, peers, lambda: Recorder(loop), rcvbuf=1 << 20
    )
    transport.pause_reading()
    peer.setblocking(False)
    sent = 0
    while sent < 4 * MAX_RECV_SIZE:
        try:
            sent += peer.send(MIB[: 4 * MAX_RECV_SIZE - sent])
        except BlockingIOError:
            break
    transport.resume_reading()
    run(loop, wait_until(lambda: len(protocol.received) == sent))
    assert sent > MAX_RECV_SIZE
    assert max(protocol.chunks) == MAX_RECV_SIZE
    transport.close()
    run(loop, protocol.lost)


def test_peer_eof_calls_eof_received_then_closes(loop, listener, peers):
    """eof_received() returning a false value: the transport closes itself, connection_lost(None)."""
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    peer.sendall(b"bye")
    peer.shutdown(socket.SHUT_WR)
    assert run(loop, protocol.lost) is None
    assert protocol.events == ["made", "data", "eof", "lost"]
    assert transport.is_closing()
    assert read_until_eof(peer) == (b"", "eof")


def test_eof_received_returning_true_keeps_the_writing_side_open(loop, listener, peers):
    transport, protocol, peer = open_transport(
        loop, listener, peers, lambda: Recorder(loop, keep_open_on_eof=True)
    )
    peer.shutdown(socket.SHUT_WR)
    run(loop, wait_until(lambda: "eof" in protocol.events))
    run(loop, passes(3))
    assert not transport.is_closing()
    transport.write(b"a reply after your EOF")
    transport.close()
    assert run(loop, protocol.lost) is None
    assert read_until_eof(peer) == (b"a reply after your EOF", "eof")


# Ending: close, abort, and a peer that resets.

def test_close_flushes_the_buffer_before_connection_lost(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    transport.write(MIB)
    transport.close()
    transport.close()
    assert transport.is_closing()
    run(loop, passes(3))
    assert not protocol.lost.done(), "connection_lost waits until the buffer is flushed"
    reader = PeerReader(loop, peer)
    assert run(loop, protocol.lost) is None
    run(loop, wait_until(lambda: reader.eof))
    assert reader.data == MIB
    assert protocol.events == ["made", "pause", "resume", "lost"]


def test_abort_drops_the_buffer(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    transport.write(MIB)
    transport.abort()
    assert transport.get_write_buffer_size() == 0
    assert run(loop, protocol.lost) is None
    data, _ = read_until_eof(peer)
    assert len(data) < len(MIB)
    assert protocol.events == ["made", "pause", "lost"]


def test_close_with_nothing_buffered_calls_connection_lost_once(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    transport.close()
    transport.abort()
    assert run(loop, protocol.lost) is None
    run(loop, passes(2))
    assert protocol.events == ["made", "lost"]
    transport.write(b"after the end")
    assert read_until_eof(peer) == (b"", "eof")


def test_a_peer_reset_reaches_connection_lost_and_not_the_exception_handler(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Recorder(loop))
    reset(peer)
    exc = run(loop, protocol.lost)
    assert isinstance(exc, ConnectionResetError)
    assert transport.is_closing()
    assert loop.reported == []


def test_a_failing_data_received_is_reported_and_ends_the_connection(loop, listener, peers):
    class Broken(Recorder):
        def data_received(self, data):
            raise ZeroDivisionError("protocol bug")

    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Broken(loop))
    peer.sendall(b"x")
    exc = run(loop, protocol.lost)
    assert isinstance(exc, ZeroDivisionError)
    assert [c["message"] for c in loop.reported] == ["Fatal error: protocol.data_received() call failed."]
    assert loop.reported[0]["transport"] is transport


# BufferedProtocol: the transport receives into the protocol's own buffer.

class Collector(BufferedProtocol):
    def __init__(self, loop, size=1000):
        self.view = memoryview(bytearray(size))
        self.received = bytearray()
        self.hints = []
        self.updates = []
        self.eof = False
        self.lost = loop.create_future()

    def connection_made(self, transport):
        self.transport = transport

    def get_buffer(self, sizehint):
        self.hints.append(sizehint)
        return self.view

    def buffer_updated(self, nbytes):
        self.updates.append(nbytes)
        self.received += self.view[:nbytes]

    def eof_received(self):
        self.eof = True

    def connection_lost(self, exc):
        self.lost.set_result(exc)


def test_a_buffered_protocol_receives_into_its_own_buffer(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Collector(loop))
    data = MIB[:100_000]
    peer.sendall(data)
    peer.shutdown(socket.SHUT_WR)
    assert run(loop, protocol.lost) is None
    assert protocol.received == data
    assert protocol.eof and transport.is_closing()
    assert set(protocol.hints) == {-1}
    assert max(protocol.updates) <= 1000 and sum(protocol.updates) == len(data)


def test_a_buffered_protocol_that_lends_an_empty_buffer_ends_the_connection(loop, listener, peers):
    transport, protocol, peer = open_transport(loop, listener, peers, lambda: Collector(loop, size=0))
    peer.sendall(b"x")
    exc = run(loop, protocol.lost)
    assert isinstance(exc, RuntimeError) and "empty buffer" in str(exc)
    assert transport.get_extra_info("socket").fileno() == -1
    assert [c["message"] for c in loop.reported] == ["Fatal error: protocol.get_buffer() call failed."]


# Servers.

def test_a_server_takes_a_burst_of_clients(loop):
    made = []

    class Counting(Protocol):
        def connection_made(self, transport):
            made.append(transport)
            transport.close()

    server = run(loop, loop.create_server(Counting, "127.0.0.1", 0))
    clients = [socket.create_connection(server.sockets[0].getsockname(), timeout=TIMEOUT) for _ in range(20)]
    try:
        run(loop, wait_until(lambda: len(made) == 20))
        assert all(read_until_eof(client) == (b"", "eof") for client in clients)
    finally:
        for client in clients:
            client.close()
    server.close()
    run(loop, server.wait_closed())


def test_wait_closed_waits_for_the_accepted_connections(loop):
    """As asyncio 3.12+: close() stops listening, wait_closed() returns once every connection has ended."""
    accepted = []

    class Keep(Protocol):
        def connection_made(self, transport):
            accepted.append(transport)

    server = run(loop, loop.create_server(Keep, "127.0.0.1", 0))
    address = server.sockets[0].getsockname()
    with socket.create_connection(address, timeout=TIMEOUT):
        run(loop, wait_until(lambda: accepted))
        server.close()
        assert not server.is_serving()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(address, timeout=TIMEOUT).close()
        waiting = loop.create_task(server.wait_closed())
        run(loop, passes(3))
        assert not waiting.done()
        accepted[0].close()
        run(loop, waiting)


def test_a_server_on_a_given_socket_and_as_an_async_context_manager(loop):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))

    async def main():
        server = await loop.create_server(Protocol, sock=sock)
        async with server:
            assert server.sockets == (sock,)
            assert server.is_serving()
        return server

    server = run(loop, main())
    assert sock.fileno() == -1 and not server.is_serving()


def test_binding_a_port_in_use_is_a_clear_error(loop):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        host, port = taken.getsockname()
        with pytest.raises(OSError, match="error while attempting to bind on address"):
            run(loop, loop.create_server(Protocol, host, port))


def test_a_failing_server_protocol_factory_is_reported_and_the_server_goes_on(loop):
    calls = []

    def factory():
        calls.append(1)
        if len(calls) == 1:
            raise LookupError("first one fails")
        return Recorder(loop)

    server = run(loop, loop.create_server(factory, "127.0.0.1", 0))
    address = server.sockets[0].getsockname()
    with socket.create_connection(address, timeout=TIMEOUT) as first:
        assert run_blocking_read(loop, first) == b""
    assert [c["message"] for c in loop.reported] == ["Error in protocol_factory() or transport creation"]
    with socket.create_connection(address, timeout=TIMEOUT) as second:
        run(loop, wait_until(lambda: len(calls) == 2))
        second.sendall(b"ok")
    server.close()
    run(loop, server.wait_closed())


def run_blocking_read(loop, sock):
    """Turn the loop until `sock` has something (or EOF) to read, then read it."""
    run(loop, wait_until(lambda: select.select([sock], [], [], 0)[0]))
    sock.settimeout(TIMEOUT)
    return sock.recv(100)
