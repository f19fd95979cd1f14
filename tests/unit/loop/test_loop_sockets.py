"""modern.loop's sock_* calls on 127.0.0.1: the at-once path, the would-block path, errors and cancellation.

A cancelled call must leave no reader or writer behind (loop.remove_reader/remove_writer then return
False) and must not have consumed what it was waiting for.
"""
from __future__ import annotations

import os
import select
import socket
import struct

import pytest

from modern.loop import coroutine, new_event_loop, sleep, wait_for
from modern.loop import sockets as loop_sockets

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

#: Upper bound of every wait in this file; reached only when something is broken.
TIMEOUT = 5.0


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
    """Let the loop turn `n` times: long enough for any ready callback or selector event to be handled."""
    for _ in range(n):
        yield from sleep(0)


@coroutine
def wait_until(predicate):
    """Turn the loop until `predicate()` holds (bounded by the caller's wait_for)."""
    while not predicate():
        yield from sleep(0)


@pytest.fixture
def pair():
    """Two connected non-blocking TCP sockets on loopback, with small kernel buffers so that sends block."""
    # Set before the handshake: shrinking a receive window later stalls the sender on window probes.
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        a = socket.socket()
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        a.connect(listener.getsockname())
        b, _ = listener.accept()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def wait_readable(sock):
    assert select.select([sock], [], [], TIMEOUT)[0], "the socket never became readable"


# sock_recv

def test_recv_returns_a_done_future_when_data_is_already_there(loop, pair):
    """Tried at once: with bytes waiting, the future is done on return and no reader was registered."""
    a, b = pair
    b.send(b"ready")
    wait_readable(a)
    fut = loop_sockets.sock_recv(loop, a, 100)
    assert fut.done() and fut.result() == b"ready"
    assert loop.remove_reader(a.fileno()) is False


def test_recv_waits_for_data_then_removes_its_reader(loop, pair):
    """Would block: the future completes once the peer sends, and its reader is gone afterwards."""
    a, b = pair
    fut = loop.sock_recv(a, 100)
    run(loop, passes(3))
    assert not fut.done()
    b.send(b"later")
    assert run(loop, fut) == b"later"
    run(loop, passes(1))
    assert loop.remove_reader(a.fileno()) is False


def test_recv_returns_empty_bytes_at_eof(loop, pair):
    a, b = pair
    fut = loop.sock_recv(a, 100)
    b.shutdown(socket.SHUT_WR)
    assert run(loop, fut) == b""


def test_cancelled_recv_removes_its_reader_and_leaves_the_data(loop, pair):
    """Cancellation unregisters the reader; bytes that arrive later are still there for the next call."""
    a, b = pair
    fut = loop.sock_recv(a, 100)
    run(loop, passes(2))
    fut.cancel()
    run(loop, passes(2))
    assert loop.remove_reader(a.fileno()) is False
    b.send(b"kept")
    wait_readable(a)
    run(loop, passes(3))
    assert run(loop, loop.sock_recv(a, 100)) == b"kept"


def test_a_recv_started_right_after_a_cancel_keeps_its_reader(loop, pair):
    """The cancelled call's clean-up runs later; it must not remove the reader a newer call registered."""
    a, b = pair
    first = loop.sock_recv(a, 100)
    first.cancel()
    second = loop.sock_recv(a, 100)
    run(loop, passes(2))
    b.send(b"for the second")
    assert run(loop, second, timeout=1.0) == b"for the second"


def test_a_task_cancelled_in_recv_leaves_no_reader(loop, pair):
    a, _ = pair

    @coroutine
    def reader():
        return (yield from loop.sock_recv(a, 100))

    task = loop.create_task(reader())
    run(loop, passes(2))
    task.cancel()
    run(loop, passes(3))
    assert task.cancelled()
    assert loop.remove_reader(a.fileno()) is False


def test_recv_from_a_reset_connection_raises_connection_reset(loop, pair):
    a, b = pair
    fut = loop.sock_recv(a, 100)
    run(loop, passes(1))
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    b.close()
    with pytest.raises(ConnectionResetError):
        run(loop, fut)


def test_blocking_sockets_are_refused_with_a_clear_error(loop):
    with socket.socket() as sock:
        with pytest.raises(ValueError, match="non-blocking"):
            loop_sockets.sock_recv(loop, sock, 10)
        with pytest.raises(ValueError, match="non-blocking"):
            loop_sockets.sock_sendall(loop, sock, b"x")
        with pytest.raises(ValueError, match="non-blocking"):
            loop_sockets.sock_accept(loop, sock)


# sock_recv_into

def test_recv_into_both_paths(loop, pair):
    """Into the caller's buffer: at once when data waits, else when it arrives; the count is returned."""
    a, b = pair
    buf = bytearray(16)
    b.send(b"abc")
    wait_readable(a)
    fut = loop_sockets.sock_recv_into(loop, a, buf)
    assert fut.done() and fut.result() == 3 and buf[:3] == b"abc"
    fut = loop.sock_recv_into(a, memoryview(buf)[4:])
    run(loop, passes(2))
    assert not fut.done()
    b.send(b"defg")
    assert run(loop, fut) == 4
    assert bytes(buf[4:8]) == b"defg"


def test_cancelled_recv_into_removes_its_reader(loop, pair):
    a, _ = pair
    fut = loop.sock_recv_into(a, bytearray(8))
    fut.cancel()
    run(loop, passes(2))
    assert loop.remove_reader(a.fileno()) is False


# sock_sendall

def _drain(sock, expected):
    """Read `expected` bytes from the blocking side, with a bound on the wait."""
    sock.settimeout(TIMEOUT)
    chunks, total = [], 0
    while total < expected:
        chunk = sock.recv(65536)
        assert chunk, "EOF before every byte arrived"
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def test_sendall_sends_small_data_at_once(loop, pair):
    a, b = pair
    fut = loop_sockets.sock_sendall(loop, a, b"hello")
    assert fut.done() and fut.result() is None
    assert loop.remove_writer(a.fileno()) is False
    assert _drain(b, 5) == b"hello"


def test_sendall_waits_for_a_slow_reader_and_sends_every_byte(loop, pair):
    """More than the kernel takes: the rest goes out, in order, as the peer reads."""
    a, b = pair
    data = bytes(range(256)) * 4096  # 1 MiB
    fut = loop.sock_sendall(a, data)
    run(loop, passes(3))
    assert not fut.done(), "1 MiB cannot fit in 4 KiB socket buffers"
    received = bytearray()

    def peer_reads():
        try:
            received.extend(b.recv(65536))
        except BlockingIOError:
            pass

    loop.add_reader(b.fileno(), peer_reads)
    try:
        run(loop, fut)
        run(loop, wait_until(lambda: len(received) == len(data)))
    finally:
        loop.remove_reader(b.fileno())
    assert received == data
    assert loop.remove_writer(a.fileno()) is False


def test_sendall_counts_bytes_of_any_buffer_format(loop, pair):
    a, b = pair
    data = memoryview(struct.pack("<4I", 1, 2, 3, 4)).cast("I")
    run(loop, loop.sock_sendall(a, data))
    assert _drain(b, 16) == struct.pack("<4I", 1, 2, 3, 4)


def test_cancelled_sendall_removes_its_writer(loop, pair):
    a, _ = pair
    fut = loop.sock_sendall(a, b"x" * (1 << 20))
    assert not fut.done()
    fut.cancel()
    run(loop, passes(2))
    assert loop.remove_writer(a.fileno()) is False


def test_sendall_to_a_reset_peer_fails(loop, pair):
    a, b = pair
    fut = loop.sock_sendall(a, b"x" * (1 << 20))
    b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    b.close()
    with pytest.raises((ConnectionResetError, BrokenPipeError)):
        run(loop, fut)


# sock_connect

def test_connect_to_a_listener(loop, listener):
    with socket.socket() as sock:
        sock.setblocking(False)
        assert run(loop, loop.sock_connect(sock, listener.getsockname())) is None
        assert sock.getpeername() == listener.getsockname()
        assert loop.remove_writer(sock.fileno()) is False
        listener.setblocking(True)
        listener.settimeout(TIMEOUT)
        conn, _ = listener.accept()
        conn.close()


def test_connect_refused_raises_connection_refused(loop):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        address = closed.getsockname()
    with socket.socket() as sock:
        sock.setblocking(False)
        with pytest.raises(ConnectionRefusedError, match=r"Connect call failed|refused"):
            run(loop, loop.sock_connect(sock, address))
        assert loop.remove_writer(sock.fileno()) is False


def test_cancelled_connect_removes_its_writer(loop):
    """A listener with a full backlog drops the SYN, so this connect stays pending until cancelled."""
    with socket.socket() as full, socket.socket() as first, socket.socket() as sock:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        first.settimeout(TIMEOUT)
        first.connect(full.getsockname())
        sock.setblocking(False)
        fut = loop.sock_connect(sock, full.getsockname())
        run(loop, passes(3))
        assert not fut.done()
        fut.cancel()
        run(loop, passes(2))
        assert loop.remove_writer(sock.fileno()) is False


# sock_accept

def test_accept_waits_for_a_client_and_returns_a_non_blocking_connection(loop, listener):
    fut = loop.sock_accept(listener)
    run(loop, passes(2))
    assert not fut.done()
    with socket.create_connection(listener.getsockname(), timeout=TIMEOUT) as client:
        conn, address = run(loop, fut)
        with conn:
            assert address == client.getsockname()
            assert conn.gettimeout() == 0.0
    run(loop, passes(1))
    assert loop.remove_reader(listener.fileno()) is False


def test_cancelled_accept_removes_its_reader_and_takes_no_connection(loop, listener):
    """The connection that arrives after the cancel is still in the backlog for the next accept."""
    fut = loop.sock_accept(listener)
    fut.cancel()
    run(loop, passes(2))
    assert loop.remove_reader(listener.fileno()) is False
    with socket.create_connection(listener.getsockname(), timeout=TIMEOUT) as client:
        conn, address = run(loop, loop.sock_accept(listener))
        conn.close()
        assert address == client.getsockname()


def test_one_pass_of_the_loop_cannot_hand_a_cancelled_accept_a_connection(loop, listener):
    """Client waiting and future cancelled in the same pass: the retry sees the cancel before accept()."""
    fut = loop.sock_accept(listener)
    with socket.create_connection(listener.getsockname(), timeout=TIMEOUT) as client:
        wait_readable(listener)
        fut.cancel()
        run(loop, passes(2))
        conn, address = listener.accept()
        conn.close()
        assert address == client.getsockname()
