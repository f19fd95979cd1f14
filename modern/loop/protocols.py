"""Protocols: the application's side of a connection, called by a transport (PEP 3156, asyncio's shapes).

A protocol never reads or writes a socket; its transport calls it when bytes arrive, when the peer
closes, and when the write buffer fills or drains. These classes only name the callbacks and do nothing.
"""
from __future__ import annotations

from typing import Any, Optional

__all__ = ["BaseProtocol", "BufferedProtocol", "Protocol"]


class BaseProtocol:
    """The callbacks every protocol has: the connection's start and end, and write flow control."""

    __slots__ = ()

    def connection_made(self, transport: Any) -> None:
        """Called once, before any data, with the transport that now belongs to this protocol."""

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        """Called once, last: `exc` is None after a normal close or EOF, else the error that ended it."""

    def pause_writing(self) -> None:
        """The transport's write buffer passed its high-water mark: stop writing until resume_writing."""

    def resume_writing(self) -> None:
        """The transport's write buffer drained to its low-water mark: writing may go on."""


class Protocol(BaseProtocol):
    """A stream protocol that receives each chunk of bytes as a new bytes object."""

    __slots__ = ()

    def data_received(self, data: bytes) -> None:
        """Some bytes arrived; a message may be split across calls or several may come in one."""

    def eof_received(self) -> Optional[bool]:
        """The peer will send no more. Return a true value to keep writing; otherwise the transport closes."""
        return None


class BufferedProtocol(BaseProtocol):
    """A stream protocol that lends the transport its own buffer to receive into, so no bytes are allocated."""

    __slots__ = ()

    def get_buffer(self, sizehint: int) -> Any:
        """Return a writable buffer (bytearray, memoryview) of at least one byte; `sizehint` may be -1."""
        raise NotImplementedError

    def buffer_updated(self, nbytes: int) -> None:
        """The first `nbytes` bytes of the buffer last returned by get_buffer now hold new data."""
        raise NotImplementedError

    def eof_received(self) -> Optional[bool]:
        """As Protocol.eof_received."""
        return None
