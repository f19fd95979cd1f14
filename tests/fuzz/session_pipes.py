"""The in-memory wire of the session state-machine test: one direction of a TCP stream, with the
bookkeeping that says which bytes came whole before the first fault."""
from __future__ import annotations

import math
from typing import Dict, Tuple


class Pipe:
    """Bytes one side wrote and the other has not read yet, then maybe an EOF.

    Offsets count bytes from the start of the stream. `fault_at` is where the first fault was put
    (garbage, a forged packet, a cut): every message that ended at or before it must arrive.
    """

    def __init__(self) -> None:
        self.pending = bytearray()
        self.written = 0
        self.closed = False  # the writer hung up: an EOF follows the pending bytes
        self.done = False  # the reader has seen the EOF or a protocol error and reads no more
        self.fault_at = math.inf
        self.garbage = False  # bytes not made by our encoders went in: they may forge packets
        self.messages: Dict[int, Tuple[int, str]] = {}  # seq -> (offset of the frame's end, text)

    @property
    def fed(self) -> int:
        """Bytes handed to the reader so far."""
        return self.written - len(self.pending)

    def write(self, data: bytes) -> None:
        assert not self.closed, "a write after the writer hung up"
        self.pending += data
        self.written += len(data)

    def write_message(self, seq: int, text: str, data: bytes) -> None:
        self.write(data)
        self.messages[seq] = (self.written, text)

    def write_fault(self, data: bytes, garbage: bool) -> None:
        self.fault_at = min(self.fault_at, self.written)
        self.garbage = self.garbage or garbage
        self.write(data)

    def cut(self, size: int) -> None:
        """The connection dies with the last `size` unread bytes still on the way: they never arrive."""
        size = min(size, len(self.pending))
        self.written -= size
        del self.pending[len(self.pending) - size :]
        self.fault_at = min(self.fault_at, self.written)
        self.closed = True

    def take(self, size: int) -> bytes:
        """The next read: up to `size` bytes, or b"" (EOF) once the pending bytes are out and the writer hung up."""
        data = bytes(self.pending[:size])
        del self.pending[:size]
        return data

    @property
    def readable(self) -> bool:
        return not self.done and (bool(self.pending) or self.closed)

    def due(self) -> Dict[int, str]:
        """The messages every byte of which the reader has been handed before the first fault."""
        horizon = min(self.fed, self.fault_at)
        return {seq: text for seq, (end, text) in self.messages.items() if end <= horizon}
