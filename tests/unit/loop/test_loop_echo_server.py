"""The echo server from the talk (docs/talk.md#slide-12), on modern.loop's raw socket calls, with `yield from`.

One coroutine accepts on a non-blocking listening socket and starts a task per client; each client task
receives up to 4096 bytes at a time and sends them back, until it receives nothing. Clients run on the
same loop, and in threads with plain blocking sockets as peers that know nothing of the loop.
"""
from __future__ import annotations

import os
import socket
import threading

import pytest

from modern.loop import coroutine, gather, new_event_loop, sleep, wait_for

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

#: Upper bound of every wait in this file; reached only when something is broken.
TIMEOUT = 5.0


# The talk's server (docs/talk.md#slide-12).

@coroutine
def echo_server(loop, listener, client_tasks):
    """Accept forever; one task per client."""
    while True:
        client, _ = yield from loop.sock_accept(listener)
        client_tasks.append(loop.create_task(echo_client(loop, client)))


@coroutine
def echo_client(loop, client):
    """Send back what arrives, until the peer closes its side."""
    with client:
        while True:
            data = yield from loop.sock_recv(client, 4096)
            if not data:
                break
            yield from loop.sock_sendall(client, data)


# Around it: a loop, a listening socket, and a way to stop the server.

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


@pytest.fixture
def listener():
    sock = socket.socket()
    # Accepted sockets inherit it on Linux: without it Nagle's algorithm and delayed ACKs stall the
    # server's last small segment of each echo for tens of milliseconds.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def run(loop, awaitable, timeout=TIMEOUT):
    return loop.run_until_complete(wait_for(awaitable, timeout))


@coroutine
def stop(server_task, client_tasks):
    """Cancel the accept loop, then wait for every client task (each ends when its peer has closed)."""
    server_task.cancel()
    yield from gather(server_task, return_exceptions=True)
    yield from gather(*client_tasks)


def message(client, number):
    """Different sizes, some above 4096 so that the server needs several recv calls for one message."""
    size = 1 + (client * 7919 + number * 104729) % 20000
    return bytes([(client + number) % 256]) * size


# The tests.

def test_echo_to_several_clients_on_the_same_loop(loop, listener):
    """Eight concurrent clients, twenty messages each: every client gets back exactly what it sent."""
    client_tasks = []

    @coroutine
    def client(number):
        sock = socket.socket()
        with sock:
            sock.setblocking(False)
            yield from loop.sock_connect(sock, listener.getsockname())
            echoed = []
            for i in range(20):
                data = message(number, i)
                yield from loop.sock_sendall(sock, data)
                got = bytearray()
                while len(got) < len(data):
                    chunk = yield from loop.sock_recv(sock, 65536)
                    assert chunk, "the server closed early"
                    got += chunk
                echoed.append(bytes(got) == data)
            return echoed

    @coroutine
    def all_clients():
        return (yield from gather(*(client(n) for n in range(8))))

    server_task = loop.create_task(echo_server(loop, listener, client_tasks))
    results = run(loop, all_clients())
    assert results == [[True] * 20] * 8
    run(loop, stop(server_task, client_tasks))
    assert server_task.cancelled()
    assert len(client_tasks) == 8


def test_echo_to_blocking_clients_in_threads(loop, listener):
    """Peers that know nothing of the loop: plain blocking sockets, each in its own thread."""
    client_tasks = []
    finished = loop.create_future()
    outcomes = {}
    lock = threading.Lock()
    count = 5

    def blocking_client(number):
        try:
            with socket.create_connection(listener.getsockname(), timeout=TIMEOUT) as sock:
                data = b"".join(message(number, i) for i in range(5))
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                got = bytearray()
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                outcome = bytes(got) == data
        except Exception as exc:
            outcome = exc
        with lock:
            outcomes[number] = outcome
            if len(outcomes) == count:
                loop.call_soon_threadsafe(finished.set_result, None)

    server_task = loop.create_task(echo_server(loop, listener, client_tasks))
    threads = [threading.Thread(target=blocking_client, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        run(loop, finished)
    finally:
        for thread in threads:
            thread.join(TIMEOUT)
    assert outcomes == {n: True for n in range(count)}
    run(loop, stop(server_task, client_tasks))


def test_a_client_that_closes_at_once_ends_its_task(loop, listener):
    """Reading nothing is the end: the client task returns and closes its socket."""
    client_tasks = []
    server_task = loop.create_task(echo_server(loop, listener, client_tasks))
    with socket.create_connection(listener.getsockname(), timeout=TIMEOUT):
        pass

    @coroutine
    def first_task_done():
        while not client_tasks:
            yield from sleep(0)
        yield from client_tasks[0]

    run(loop, first_task_done())
    assert client_tasks[0].done() and client_tasks[0].result() is None
    run(loop, stop(server_task, client_tasks))


def test_the_echo_server_runs_under_await_too(loop, listener):
    """The same generator coroutines awaited from async def code: `coroutine` makes them both."""
    client_tasks = []

    async def main():
        server_task = loop.create_task(echo_server(loop, listener, client_tasks))
        sock = socket.socket()
        with sock:
            sock.setblocking(False)
            await loop.sock_connect(sock, listener.getsockname())
            await loop.sock_sendall(sock, b"ping")
            reply = await loop.sock_recv(sock, 4096)
        await stop(server_task, client_tasks)
        return reply

    assert run(loop, main()) == b"ping"
