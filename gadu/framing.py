"""FrameParser: the incremental, bounded splitter of a GG byte stream into packets.

The parser never holds more than one header plus one body of at most `max_frame` bytes: a larger
length raises FrameTooLarge as soon as its header is complete.
"""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

from .errors import FrameTooLarge, ProtocolError, RemoteProtocolError, TruncatedFrame
from .limits import HEADER_SIZE, MAX_FRAME
from .packets import HEADER, Direction, Packet, decode_packet

__all__ = ["FrameParser"]

_unpack_header = HEADER.unpack_from


class FrameParser:
    """Bytes in any split or glue, whole frames out.

    Complete frames inside one chunk are sliced straight out of it; only an unfinished tail is
    copied into the buffer, so no byte is copied more than twice whatever the split.
    After a ProtocolError the stream is unusable and every later call raises RemoteProtocolError.
    """

    __slots__ = ("_broken", "_buffer", "_length", "_type", "direction", "max_frame")

    def __init__(self, direction: Direction, max_frame: int = MAX_FRAME) -> None:
        if not 0 <= max_frame <= 0xFFFFFFFF:
            raise ValueError(f"max_frame must fit in the 32-bit length field, got {max_frame}")
        self.direction = direction
        self.max_frame = max_frame
        self._buffer = bytearray()
        self._type = 0
        self._length = -1  # the pending frame's body length, once its header is complete
        self._broken: Optional[ProtocolError] = None

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished frame held back (never above 8 + max_frame)."""
        return len(self._buffer)

    def feed(self, data: Union[bytes, bytearray, memoryview]) -> List[Packet]:
        """The packets completed by `data`, decoded for this parser's direction."""
        packets, error = self.feed_until_error(data)
        if error is not None:
            raise error
        return packets

    def feed_until_error(
        self, data: Union[bytes, bytearray, memoryview]
    ) -> Tuple[List[Packet], Optional[ProtocolError]]:
        """(packets, error): what `data` completes up to the first bad byte or body, and that error
        (None if there was none; its `packets` are the same good ones). For state machines that must
        act on the good packets before they give up on the stream."""
        direction = self.direction
        error: Optional[ProtocolError] = None
        try:
            frames = self.feed_frames(data)
        except ProtocolError as exc:
            frames, error = list(exc.frames), exc
        packets = []
        try:
            for kind, body in frames:
                packets.append(decode_packet(direction, kind, body))
        except ProtocolError as exc:
            error = exc
            if self._broken is None:
                # The frames after the bad one left the buffer with it: going on would lose them.
                self._broken = exc
                self._buffer = bytearray()
        if error is not None:
            error.packets = tuple(packets)
        return packets, error

    def feed_frames(self, data: Union[bytes, bytearray, memoryview]) -> List[Tuple[int, bytes]]:
        """The (type, body) frames completed by `data`, not decoded."""
        if self._broken is not None:
            raise RemoteProtocolError(f"the stream is unusable after an earlier error: {self._broken}")
        if type(data) is not bytes:
            data = bytes(data)
        frames: List[Tuple[int, bytes]] = []
        try:
            self._split(data, frames)
        except ProtocolError as exc:
            self._broken = exc
            self._buffer = bytearray()
            exc.frames = tuple(frames)  # the frames completed before the bad one are still good
            raise
        return frames

    def feed_eof(self) -> None:
        """The peer closed the stream; raises TruncatedFrame if a frame was left unfinished."""
        if self._broken is not None:
            raise RemoteProtocolError(f"the stream is unusable after an earlier error: {self._broken}")
        if self._buffer:
            expected = HEADER_SIZE + self._length if self._length >= 0 else 0
            error = TruncatedFrame(len(self._buffer), expected)
            self._broken = error
            self._buffer = bytearray()
            raise error

    def _too_large(self, kind: int, length: int) -> FrameTooLarge:
        return FrameTooLarge(kind, length, self.max_frame)

    def _split(self, data: bytes, frames: List[Tuple[int, bytes]]) -> None:
        """Append the frames `data` completes to `frames` (the caller keeps them if a later one is bad)."""
        pos = 0
        end = len(data)
        buffer = self._buffer
        if buffer:
            pos = self._complete_pending(data, frames)
            if buffer:
                return  # data ran out inside the pending frame
        limit = self.max_frame
        while end - pos >= HEADER_SIZE:
            kind, length = _unpack_header(data, pos)
            if length > limit:
                raise self._too_large(kind, length)
            stop = pos + HEADER_SIZE + length
            if stop > end:
                self._type, self._length = kind, length
                break
            frames.append((kind, data[pos + HEADER_SIZE : stop]))
            pos = stop
        else:
            self._length = -1
        if pos < end:
            buffer += data[pos:]

    def _complete_pending(self, data: bytes, frames: List[Tuple[int, bytes]]) -> int:
        """Move just enough of `data` into the buffer to finish its frame; return the bytes taken."""
        buffer = self._buffer
        taken = 0
        if self._length < 0:
            taken = min(HEADER_SIZE - len(buffer), len(data))
            buffer += data[:taken]
            if len(buffer) < HEADER_SIZE:
                return taken
            kind, length = _unpack_header(buffer)
            if length > self.max_frame:
                raise self._too_large(kind, length)
            self._type, self._length = kind, length
        more = min(HEADER_SIZE + self._length - len(buffer), len(data) - taken)
        buffer += data[taken : taken + more]
        taken += more
        if len(buffer) == HEADER_SIZE + self._length:
            frames.append((self._type, bytes(buffer[HEADER_SIZE:])))
            del buffer[:]
            self._length = -1
        return taken
