"""modern.loop's streams: readexactly however the bytes are split, EOF, flow control, drain, and servers.

The frame reader below is the shape the GG client uses: a fixed header that says how long the body is.
"""
from __future__ import annotations

import os
import pickle
import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modern.loop import coroutine, gather, new_event_loop, sleep, wait_for
from modern.loop.streams import (
    IncompleteReadError,
    StreamReader,
    open_connection,
    start_server,
)

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

#: Upper bound of every wait in this file; reached only when something is broken.
TIMEOUT = 5.0
MIB = bytes(range(256)) * 4096
BODIES = [b"", b"x", b"hello", bytes(range(13)), b"\x00" * 4]
WIRE = b"".join(struct.pack("<I", len(body)) + body for body in BODIES)


def _open_fds():
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


@pytest.fixture
def loop():
    """A fresh loop; afterwards no file descriptor opened during the test may still be open."""
    before = _open_fds()
    loop = new_event_loop()
    yield loop
    loop.close()
    assert _open_fds() == before, "the test left file descriptors open"


def run(loop, awaitable, timeout=TIMEOUT):
    return loop.run_until_complete(wait_for(awaitable, timeout))


@coroutine
def passes(n):
    for _ in range(n):
        yield from sleep(0)


@coroutine
def wait_until(predicate):
    """Turn the loop until `predicate()` holds (bounded by the caller's wait_for)."""
    while not predicate():
        yield from sleep(0)


@coroutine
def together(*awaitables):
    """gather() from inside the loop (gather needs a running loop to wrap coroutines in tasks)."""
    return (yield from gather(*awaitables))


@coroutine
def read_frames(reader):
    """Length-prefixed frames until a clean EOF between frames."""
    frames = []
    while True:
        try:
            header = yield from reader.readexactly(4)
        except IncompleteReadError as exc:
            assert exc.partial == b"", "EOF inside a header"
            return frames
        (length,) = struct.unpack("<I", header)
        frames.append((yield from reader.readexactly(length)))


@coroutine
def feed(reader, chunks):
    """Each chunk in a later pass of the loop, then EOF: the reader waits between chunks."""
    for chunk in chunks:
        yield from sleep(0)
        reader.feed_data(chunk)
    yield from sleep(0)
    reader.feed_eof()


def frames_from(loop, chunks):
    reader = StreamReader(loop=loop)
    return run(loop, together(read_frames(reader), feed(reader, chunks)))[0]


# readexactly, however the packets are split.

@pytest.mark.parametrize("cut", range(1, len(WIRE)))
def test_readexactly_with_the_stream_split_at_every_byte_boundary(loop, cut):
    """Split in two at each position: the same frames come out."""
    assert frames_from(loop, [WIRE[:cut], WIRE[cut:]]) == BODIES


def test_readexactly_with_every_byte_in_its_own_packet(loop):
    assert frames_from(loop, [WIRE[i:i + 1] for i in range(len(WIRE))]) == BODIES


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=1, max_value=len(WIRE)), max_size=len(WIRE)))
def test_readexactly_with_any_split_and_glue(cuts):
    """Any number of cuts anywhere (glued packets included): the same frames come out."""
    points = sorted(set(c for c in cuts if c < len(WIRE)))
    chunks = [WIRE[a:b] for a, b in zip([0, *points], [*points, len(WIRE)])]
    loop = new_event_loop()
    try:
        assert frames_from(loop, chunks) == BODIES
    finally:
        loop.close()


def test_eof_before_n_bytes_raises_incomplete_read_with_what_did_arrive(loop):
    reader = StreamReader(loop=loop)
    reader.feed_data(b"abc")
    reader.feed_eof()
    with pytest.raises(IncompleteReadError) as caught:
        run(loop, reader.readexactly(5))
    error = caught.value
    assert (error.partial, error.expected) == (b"abc", 5)
    assert isinstance(error, EOFError)
    assert str(error) == "3 bytes read on a total of 5 expected bytes"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.partial, copy.expected) == (b"abc", 5)
    assert reader.at_eof()


def test_eof_while_waiting_in_readexactly(loop):
    reader = StreamReader(loop=loop)

    @coroutine
    def late_eof():
        yield from sleep(0)
        reader.feed_data(b"12")
        yield from sleep(0)
        reader.feed_eof()

    with pytest.raises(IncompleteReadError) as caught:
        run(loop, together(reader.readexactly(4), late_eof()))
    assert caught.value.partial == b"12"


def test_readexactly_arguments(loop):
    reader = StreamReader(loop=loop)
    assert run(loop, reader.readexactly(0)) == b""
    with pytest.raises(ValueError, match="less than zero"):
        run(loop, reader.readexactly(-1))
    with pytest.raises(ValueError, match="Limit"):
        StreamReader(limit=0)


# read, at_eof, errors, misuse.

def test_read_returns_what_is_there_up_to_n(loop):
    reader = StreamReader(loop=loop)
    reader.feed_data(b"hello world")
    assert run(loop, reader.read(5)) == b"hello"
    assert run(loop, reader.read(100)) == b" world"
    assert not reader.at_eof()
    reader.feed_eof()
    assert reader.at_eof()
    assert run(loop, reader.read(100)) == b""
    assert run(loop, reader.read(0)) == b""


def test_read_without_a_size_reads_until_eof(loop):
    reader = StreamReader(limit=4, loop=loop)
    assert run(loop, together(reader.read(), feed(reader, [b"one ", b"two ", b"three"])))[0] == b"one two three"


def test_two_coroutines_may_not_wait_on_one_reader(loop):
    reader = StreamReader(loop=loop)
    first = loop.create_task(reader.readexactly(1))
    run(loop, passes(1))
    with pytest.raises(RuntimeError, match="already waiting"):
        run(loop, reader.read(1))
    reader.feed_data(b"!")
    assert run(loop, first) == b"!"


def test_set_exception_reaches_the_waiting_reader_and_every_later_read(loop):
    reader = StreamReader(loop=loop)
    waiting = loop.create_task(reader.readexactly(10))
    run(loop, passes(1))
    reader.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError, match="gone"):
        run(loop, waiting)
    with pytest.raises(ConnectionResetError):
        run(loop, reader.read(1))
    assert isinstance(reader.exception(), ConnectionResetError)


def test_feed_data_after_feed_eof_is_an_error():
    reader = StreamReader()
    reader.feed_eof()
    with pytest.raises(RuntimeError, match="after feed_eof"):
        reader.feed_data(b"late")


# Over sockets: open_connection, flow control, drain.

@pytest.fixture
def listener():
    """A plain listening socket; its small receive buffer (inherited by accepted peers) fills quickly."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(TIMEOUT)
    yield sock
    sock.close()


@pytest.fixture
def peers():
    opened = []
    yield opened
    for sock in opened:
        sock.close()


def connect(loop, listener, peers, limit=2 ** 16, small_send_buffer=False):
    """open_connection on a prepared socket: returns (reader, writer, peer)."""
    sock = socket.socket()
    if small_send_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sock.settimeout(TIMEOUT)
    sock.connect(listener.getsockname())
    peer, _ = listener.accept()
    peer.setblocking(False)
    peers.append(peer)

    @coroutine
    def opened():
        return (yield from open_connection(sock=sock, limit=limit))

    reader, writer = run(loop, opened())
    return reader, writer, peer


def close(loop, writer):
    writer.close()
    run(loop, writer.wait_closed())


def test_open_connection_reads_and_writes(loop, listener, peers):
    reader, writer, peer = connect(loop, listener, peers)
    assert writer.get_extra_info("peername") == peer.getsockname()
    writer.write(b"ping")
    assert run(loop, loop.sock_recv(peer, 100)) == b"ping"
    run(loop, loop.sock_sendall(peer, b"pong"))
    assert run(loop, reader.readexactly(4)) == b"pong"
    peer.shutdown(socket.SHUT_WR)
    assert run(loop, reader.read()) == b""
    assert reader.at_eof()
    close(loop, writer)
    assert writer.is_closing()


def test_the_reader_pauses_its_transport_past_the_limit_and_resumes_when_read(loop, listener, peers):
    reader, writer, peer = connect(loop, listener, peers, limit=1024)
    transport = writer.transport
    run(loop, loop.sock_sendall(peer, MIB[:8192]))
    run(loop, wait_until(lambda: not transport.is_reading()))
    assert run(loop, reader.readexactly(8192)) == MIB[:8192]
    assert transport.is_reading()
    close(loop, writer)


def test_readexactly_of_more_than_the_limit_does_not_stall_a_paused_transport(loop, listener, peers):
    reader, writer, peer = connect(loop, listener, peers, limit=1024)
    sending = loop.sock_sendall(peer, MIB[:500_000])
    assert run(loop, reader.readexactly(500_000)) == MIB[:500_000]
    run(loop, sending)
    close(loop, writer)


def test_drain_waits_for_a_slow_reader(loop, listener, peers):
    """Over the high-water mark drain() waits; once the peer reads, it returns and every byte arrives."""
    _, writer, peer = connect(loop, listener, peers, small_send_buffer=True)
    writer.write(b"small")
    run(loop, writer.drain())
    writer.write(MIB)

    @coroutine
    def drained():
        yield from writer.drain()
        return writer.transport.get_write_buffer_size()

    draining = loop.create_task(drained())
    run(loop, passes(3))
    assert not draining.done(), "the peer is not reading, so the buffer stays over the mark"
    received = bytearray()

    @coroutine
    def peer_reads():
        while len(received) < len(MIB) + 5:
            received.extend((yield from loop.sock_recv(peer, 65536)))

    run(loop, together(draining, peer_reads()))
    assert draining.result() <= 16 * 1024
    assert received == b"small" + MIB
    close(loop, writer)


def test_drain_after_close_raises_connection_reset(loop, listener, peers):
    _, writer, _ = connect(loop, listener, peers)
    writer.close()
    with pytest.raises(ConnectionResetError, match="Connection lost"):
        run(loop, writer.drain())
    run(loop, writer.wait_closed())


def test_a_waiting_drain_fails_when_the_peer_resets(loop, listener, peers):
    reader, writer, peer = connect(loop, listener, peers, small_send_buffer=True)
    writer.write(MIB)
    draining = loop.create_task(writer.drain())
    run(loop, passes(3))
    assert not draining.done()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()
    with pytest.raises(ConnectionResetError):
        run(loop, draining)
    with pytest.raises(ConnectionResetError):
        run(loop, reader.read(1))
    with pytest.raises(ConnectionResetError):
        run(loop, writer.wait_closed())


# start_server: the handler is a coroutine, run as a task per client.

def test_start_server_and_open_connection_exchange_frames(loop):
    """The server answers each length-prefixed frame with the frame reversed."""

    @coroutine
    def handle(reader, writer):
        for body in (yield from read_frames(reader)):
            writer.write(struct.pack("<I", len(body)) + body[::-1])
            yield from writer.drain()
        writer.close()

    @coroutine
    def main():
        server = yield from start_server(handle, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()
        reader, writer = yield from open_connection(host, port)
        writer.write(WIRE)
        writer.write_eof()
        frames = yield from read_frames(reader)
        writer.close()
        yield from writer.wait_closed()
        server.close()
        yield from server.wait_closed()
        return frames

    assert run(loop, main()) == [body[::-1] for body in BODIES]


def test_start_server_with_a_plain_callback(loop):
    seen = []

    def greet(reader, writer):
        seen.append(writer.get_extra_info("peername"))
        writer.write(b"hi")
        writer.close()

    @coroutine
    def main():
        server = yield from start_server(greet, "127.0.0.1", 0)
        reader, writer = yield from open_connection(*server.sockets[0].getsockname())
        greeting = yield from reader.read()
        writer.close()
        yield from writer.wait_closed()
        server.close()
        yield from server.wait_closed()
        return greeting, writer.get_extra_info("sockname")

    greeting, sockname = run(loop, main())
    assert greeting == b"hi"
    assert seen == [sockname]
