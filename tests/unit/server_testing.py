"""Helpers for the reference server's tests: a server in a thread, and a blocking test client.

`GGClient` is gadu's ClientConnection on a plain loopback socket: every wait reads until an event
matches or a deadline passes, and every socket is closed. `raw_connection` gives a bare socket for
the bad-input cases. Nothing here sleeps for a fixed time.
"""
from __future__ import annotations

import contextlib
import socket
import time
from typing import Any, Callable, Iterator, List, Optional, Type, TypeVar

from gadu import events as ev
from gadu.client import ClientConnection
from gadu.framing import FrameParser
from gadu.packets import GG_RECV_MSG_ACK, HEADER, Direction
from gadu.server import ServerThread
from gadu.server.config import ServerConfig

__all__ = ["TIMEOUT", "USERS", "GGClient", "raw_connection", "read_until_closed", "running_server"]

#: Deadline of every wait; generous, since a wait returns as soon as its event arrives.
TIMEOUT = 5.0
USERS = {1001: "alice", 1002: "bob", 1003: "carol", 1004: "zażółć-hasło"}
_E = TypeVar("_E")


@contextlib.contextmanager
def running_server(**options: Any) -> Iterator[ServerThread]:
    """A reference server on a free loopback port, in a thread, stopped afterwards."""
    options.setdefault("users", dict(USERS))
    options.setdefault("port", 0)
    with ServerThread(ServerConfig(**options)) as server:
        yield server


class GGClient:
    """gadu.client.ClientConnection over a blocking loopback socket, for tests."""

    def __init__(self, port: int, uin: int, password: str, rcvbuf: int = 0, confirm_messages: bool = True,
                 **options: Any) -> None:
        self.uin = uin
        self.conn = ClientConnection(uin, password, **options)
        self.events: List[Any] = []
        self.closed = False
        #: False drops the GG_RECV_MSG_ACKs the connection answers by itself, from the very first read
        #: (an offline message can arrive in the same read as GG_LOGIN80_OK), to play a client that
        #: loses messages before confirming them.
        self.confirm_messages = confirm_messages
        self.sock = socket.socket()
        if rcvbuf:  # a small receive window makes the server buffer sooner (set before connecting)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        # Without it, an automatic receipt followed by our next request waits out Nagle (~40 ms).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(TIMEOUT)
        try:
            self.sock.connect(("127.0.0.1", port))
        except BaseException:
            self.sock.close()
            raise

    @classmethod
    def logged_in(cls, port: int, uin: int, password: Optional[str] = None, **options: Any) -> GGClient:
        client = cls(port, uin, USERS[uin] if password is None else password, **options)
        try:
            client.wait(ev.LoginOk)
        except BaseException:
            client.close()
            raise
        return client

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _pump(self, deadline: float) -> bool:
        """Read once (until the deadline); feed the connection; False when nothing came in time."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.closed:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
        self.events.extend(self.conn.receive_data(data))
        outgoing = self.conn.data_to_send()
        if outgoing and not self.confirm_messages:
            frames = FrameParser(Direction.CLIENT_TO_SERVER).feed_frames(outgoing)
            outgoing = b"".join(HEADER.pack(kind, len(body)) + bytes(body)
                                for kind, body in frames if kind != GG_RECV_MSG_ACK)
        if outgoing and not self.closed:
            self.sock.sendall(outgoing)
        return True

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = TIMEOUT, what: str = "") -> Any:
        """Remove and return the first event (received or yet to come) that satisfies predicate."""
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if predicate(event):
                    return self.events.pop(index)
            if not self._pump(deadline):
                raise AssertionError(f"uin {self.uin}: no {what or 'matching event'} within {timeout} s; "
                                     f"had {self.events}, closed={self.closed}")

    def wait(self, kind: Type[_E], timeout: float = TIMEOUT, **fields: Any) -> _E:
        """The first event of this class whose given fields have the given values."""
        return self.wait_for(
            lambda e: isinstance(e, kind) and all(getattr(e, k) == v for k, v in fields.items()),
            timeout, what=f"{kind.__name__} {fields}",
        )

    def sync(self) -> None:
        """Ping and wait for the pong: everything the server wrote to us before it has arrived."""
        self.send(self.conn.send_ping())
        self.wait(ev.Pong)

    def drain(self) -> List[Any]:
        """sync(), then hand over and forget every event received so far."""
        self.sync()
        events, self.events = self.events, []
        return events

    def message(self, recipient: int, text: str, **options: Any) -> int:
        data, seq = self.conn.send_message(recipient, text, **options)
        self.send(data)
        return seq

    def wait_closed(self, timeout: float = TIMEOUT) -> ev.Closed:
        return self.wait(ev.Closed, timeout)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> GGClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def raw_connection(port: int) -> Iterator[socket.socket]:
    """A bare loopback socket to the server (it sends GG_WELCOME first), closed afterwards."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    try:
        yield sock
    finally:
        sock.close()


def read_until_closed(sock: socket.socket, timeout: float = TIMEOUT, limit: int = 1 << 20) -> bytes:
    """Everything the server sends until it closes the connection; fails past the deadline."""
    deadline = time.monotonic() + timeout
    received = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"the server did not close the connection within {timeout} s")
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return bytes(received)
        if not data:
            return bytes(received)
        received += data
        assert len(received) <= limit, "the server kept sending"
