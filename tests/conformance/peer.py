"""The scripted peer: a fake GG server that a case drives byte by byte from the test thread.

It can send any bytes at any pace (every packet split at every byte boundary, many glued into one
write, a 4 GiB length, a stream closed mid-packet, garbage), stall, or reset; it reads what the
client sends with gadu's own parser. Blocking sockets with timeouts: nothing here can hang a test.
"""
from __future__ import annotations

import socket
import struct
import time
from typing import List, Optional, Tuple, Type, TypeVar

from gadu import packets as pk
from gadu.framing import FrameParser

__all__ = ["PeerConnection", "ScriptedPeer"]

WAIT = 5.0
_P = TypeVar("_P")


class PeerConnection:
    """One accepted client connection, seen from the server's side of the wire."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.parser = FrameParser(pk.Direction.CLIENT_TO_SERVER)
        self.received: List[object] = []
        self._pending: List[object] = []
        self.eof = False

    # Sending.
    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_packets(self, *packets: pk.Packet) -> None:
        """Every packet glued into one write."""
        self.sock.sendall(b"".join(p.encode() for p in packets))

    def send_split(self, data: bytes, step: int = 1, pause: float = 0.0005) -> None:
        """`data` in writes of `step` bytes; the pause keeps TCP from gluing them back together."""
        for start in range(0, len(data), step):
            self.sock.sendall(data[start:start + step])
            if pause:
                time.sleep(pause)

    def send_header(self, packet_type: int, length: int) -> None:
        """A bare header announcing `length` bytes (up to 4 GiB - 1), with no body behind it."""
        self.sock.sendall(struct.pack("<II", packet_type, length))

    # Receiving.
    def _read_more(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        for packet in self.parser.feed(data):
            self.received.append(packet)
            self._pending.append(packet)
        return True

    def expect(self, kind: Type[_P], timeout: float = WAIT) -> _P:
        """The next packet of `kind` the client sends; packets of other kinds are kept for later."""
        deadline = time.monotonic() + timeout
        while True:
            for index, packet in enumerate(self._pending):
                if isinstance(packet, kind):
                    del self._pending[index]
                    return packet
            if self.eof:
                raise AssertionError(f"the client closed before sending {kind.__name__}; got "
                                     f"{[type(p).__name__ for p in self.received]}")
            if not self._read_more(deadline):
                if self.eof:
                    continue
                raise AssertionError(f"no {kind.__name__} from the client within {timeout} s; got "
                                     f"{[type(p).__name__ for p in self.received]}")

    def pending(self) -> List[object]:
        pending, self._pending = self._pending, []
        return pending

    def expect_eof(self, timeout: float = WAIT) -> List[object]:
        """Wait until the client closes; returns the packets that came before the close."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._read_more(deadline) and not self.eof:
                raise AssertionError(f"the client did not close within {timeout} s")
        return self.pending()

    def quiet_for(self, seconds: float) -> List[object]:
        """Read for `seconds` and return whatever arrived (used to show that nothing is sent)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.eof:
            self._read_more(deadline)
        return self.pending()

    # The usual opening.
    def welcome(self, seed: int = 0x1234ABCD) -> pk.Login80:
        self.send_packets(pk.Welcome(seed=seed))
        return self.expect(pk.Login80)

    def accept_login(self, seed: int = 0x1234ABCD) -> pk.Login80:
        login = self.welcome(seed)
        self.send_packets(pk.Login80Ok())
        return login

    # Ending.
    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def reset(self) -> None:
        """Close with RST instead of FIN (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()


class ScriptedPeer:
    """Listens on 127.0.0.1; `accept()` hands over each client connection as a PeerConnection."""

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.address: Tuple[str, int] = self.listener.getsockname()
        self.connections: List[PeerConnection] = []

    def accept(self, timeout: float = WAIT) -> PeerConnection:
        self.listener.settimeout(timeout)
        try:
            sock, _ = self.listener.accept()
        except socket.timeout:
            raise AssertionError(f"no client connected to the scripted peer within {timeout} s") from None
        connection = PeerConnection(sock)
        self.connections.append(connection)
        return connection

    def close(self) -> None:
        for connection in self.connections:
            connection.close()
        self.listener.close()


def find(packets: List[object], kind: Type[_P]) -> Optional[_P]:
    for packet in packets:
        if isinstance(packet, kind):
            return packet
    return None
