"""Streams: read exactly N bytes and write-then-drain, on top of a transport and a protocol.

A StreamReader buffers what its protocol feeds it and lets coroutines wait for it; a StreamWriter writes
through the transport and, in drain(), waits while the transport's buffer is over its high-water mark.
open_connection and start_server wire the two to a socket. asyncio's streams, without lines or SSL.
"""
from __future__ import annotations

import collections
import inspect
import socket
from typing import Any, Callable, Deque, Iterable, List, Optional, Union

from .coroutines import coroutine
from .events import get_running_loop
from .protocols import Protocol
from .transports import create_connection, create_server

__all__ = [
    "DEFAULT_LIMIT",
    "IncompleteReadError",
    "StreamReader",
    "StreamReaderProtocol",
    "StreamWriter",
    "open_connection",
    "start_server",
]

#: A StreamReader pauses its transport when it holds more than twice this and resumes at this (asyncio's).
DEFAULT_LIMIT = 64 * 1024


class IncompleteReadError(EOFError):
    """EOF came before readexactly() had its bytes: `partial` is what did arrive, `expected` what was asked."""

    def __init__(self, partial: bytes, expected: Optional[int]) -> None:
        wanted = "undefined" if expected is None else repr(expected)
        super().__init__(f"{len(partial)} bytes read on a total of {wanted} expected bytes")
        self.partial = partial
        self.expected = expected

    def __reduce__(self) -> Any:
        return type(self), (self.partial, self.expected)


class StreamReader:
    """Bytes from a protocol, waited for by at most one coroutine at a time."""

    def __init__(self, limit: int = DEFAULT_LIMIT, loop: Any = None) -> None:
        if limit <= 0:
            raise ValueError("Limit cannot be <= 0")
        self._limit = limit
        self._loop = loop
        self._buffer = bytearray()
        self._eof = False
        self._waiter: Any = None
        self._exception: Optional[BaseException] = None
        self._transport: Any = None
        self._paused = False

    def __repr__(self) -> str:
        info = [f"{len(self._buffer)} bytes"]
        if self._eof:
            info.append("eof")
        if self._exception is not None:
            info.append(f"exception={self._exception!r}")
        if self._paused:
            info.append("paused")
        return f"<StreamReader {' '.join(info)}>"

    def exception(self) -> Optional[BaseException]:
        return self._exception

    def set_exception(self, exc: BaseException) -> None:
        """Every read from now on raises `exc`; a coroutine waiting for data gets it at once."""
        self._exception = exc
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.cancelled():
                waiter.set_exception(exc)

    def set_transport(self, transport: Any) -> None:
        if self._transport is not None:
            raise RuntimeError("the StreamReader already has a transport")
        self._transport = transport

    # Fed by the protocol.

    def _wakeup_waiter(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.cancelled():
                waiter.set_result(None)

    def feed_data(self, data: bytes) -> None:
        """Append `data`; past twice the limit, ask the transport to stop reading until it is consumed."""
        if self._eof:
            raise RuntimeError("feed_data() after feed_eof()")
        if not data:
            return
        self._buffer.extend(data)
        self._wakeup_waiter()
        if self._transport is not None and not self._paused and len(self._buffer) > 2 * self._limit:
            self._transport.pause_reading()
            self._paused = True

    def feed_eof(self) -> None:
        self._eof = True
        self._wakeup_waiter()

    def at_eof(self) -> bool:
        """True when the peer has closed and every byte it sent has been read."""
        return self._eof and not self._buffer

    # Read by coroutines.

    def _maybe_resume_transport(self) -> None:
        if self._paused and len(self._buffer) <= self._limit:
            self._paused = False
            self._transport.resume_reading()

    @coroutine
    def _wait_for_data(self, func_name: str) -> Any:
        if self._waiter is not None:
            raise RuntimeError(f"{func_name}() called while another coroutine is already waiting for incoming data")
        # A reader that waits for more than the limit would wait forever on a paused transport.
        if self._paused:
            self._paused = False
            self._transport.resume_reading()
        loop = self._loop if self._loop is not None else get_running_loop()
        self._waiter = loop.create_future()
        try:
            yield from self._waiter
        finally:
            self._waiter = None

    def _take(self, n: int) -> bytes:
        if len(self._buffer) <= n:
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(memoryview(self._buffer)[:n])
            del self._buffer[:n]
        self._maybe_resume_transport()
        return data

    @coroutine
    def read(self, n: int = -1) -> Any:
        """Up to `n` bytes as soon as any are there (b'' at EOF); with n < 0, everything until EOF."""
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        if n < 0:
            blocks: List[bytes] = []
            while True:
                block = yield from self.read(self._limit)
                if not block:
                    return b"".join(blocks)
                blocks.append(block)
        if not self._buffer and not self._eof:
            yield from self._wait_for_data("read")
        return self._take(n)

    @coroutine
    def readexactly(self, n: int) -> Any:
        """Exactly `n` bytes; IncompleteReadError (with what did arrive) if EOF comes first."""
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        while len(self._buffer) < n:
            if self._eof:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise IncompleteReadError(partial, n)
            yield from self._wait_for_data("readexactly")
        return self._take(n)


class StreamReaderProtocol(Protocol):
    """Feeds a StreamReader, and keeps the write flow-control state that StreamWriter.drain() waits on."""

    def __init__(
        self,
        stream_reader: StreamReader,
        client_connected_cb: Optional[Callable[[StreamReader, StreamWriter], Any]] = None,
        loop: Any = None,
    ) -> None:
        self._reader = stream_reader
        self._client_connected_cb = client_connected_cb
        self._loop = loop
        self._transport: Any = None
        self._closed: Any = None
        self._paused = False
        self._connection_lost = False
        self._drain_waiters: Deque[Any] = collections.deque()

    def connection_made(self, transport: Any) -> None:
        if self._loop is None:
            self._loop = get_running_loop()
        self._transport = transport
        self._closed = self._loop.create_future()
        self._reader.set_transport(transport)
        if self._client_connected_cb is not None:
            writer = StreamWriter(transport, self, self._reader, self._loop)
            result = self._client_connected_cb(self._reader, writer)
            if inspect.isawaitable(result) or inspect.isgenerator(result):
                self._loop.create_task(result)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if exc is None:
            self._reader.feed_eof()
            self._closed.set_result(None)
        else:
            self._reader.set_exception(exc)
            self._closed.set_exception(exc)
            # Retrieved here, so that nobody calling wait_closed() is not reported as a lost error.
            self._closed.exception()
        self._connection_lost = True
        for waiter in self._drain_waiters:
            if not waiter.done():
                if exc is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(exc)
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._reader.feed_data(data)

    def eof_received(self) -> bool:
        self._reader.feed_eof()
        # Keep the transport open: the writer may still have something to say (a half-close).
        return True

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)

    @coroutine
    def _drain_helper(self) -> Any:
        if self._connection_lost:
            raise ConnectionResetError("Connection lost")
        if not self._paused:
            return
        waiter = self._loop.create_future()
        self._drain_waiters.append(waiter)
        try:
            yield from waiter
        finally:
            self._drain_waiters.remove(waiter)

    @coroutine
    def _wait_closed(self) -> Any:
        yield from self._closed


class StreamWriter:
    """Writes through a transport; drain() is where a fast writer waits for a slow reader."""

    def __init__(
        self, transport: Any, protocol: StreamReaderProtocol, reader: Optional[StreamReader], loop: Any
    ) -> None:
        self._transport = transport
        self._protocol = protocol
        self._reader = reader
        self._loop = loop

    def __repr__(self) -> str:
        return f"<StreamWriter transport={self._transport!r}>"

    @property
    def transport(self) -> Any:
        return self._transport

    def write(self, data: Union[bytes, bytearray, memoryview]) -> None:
        self._transport.write(data)

    def writelines(self, data: Iterable[Union[bytes, bytearray, memoryview]]) -> None:
        self._transport.writelines(data)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self._transport.write_eof()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def close(self) -> None:
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    @coroutine
    def wait_closed(self) -> Any:
        """Wait until the connection is closed; raises the error that ended it, if one did."""
        yield from self._protocol._wait_closed()

    @coroutine
    def drain(self) -> Any:
        """Return at once unless the write buffer is over its high-water mark; then wait until it drains.

        Raises ConnectionResetError once the connection is lost, and the reader's error if it has one.
        """
        if self._reader is not None:
            exc = self._reader.exception()
            if exc is not None:
                raise exc
        if self._transport.is_closing():
            # Give connection_lost its turn first, so that drain after close raises rather than returns.
            # A bare yield is what sleep(0) does: the task steps again on the next pass.
            yield
        yield from self._protocol._drain_helper()


@coroutine
def open_connection(
    host: Optional[str] = None,
    port: Optional[int] = None,
    *,
    limit: int = DEFAULT_LIMIT,
    sock: Optional[socket.socket] = None,
) -> Any:
    """Connect on the running loop: returns (StreamReader, StreamWriter)."""
    loop = get_running_loop()
    reader = StreamReader(limit=limit, loop=loop)
    protocol = StreamReaderProtocol(reader, loop=loop)
    transport, _ = yield from create_connection(loop, lambda: protocol, host, port, sock=sock)
    return reader, StreamWriter(transport, protocol, reader, loop)


@coroutine
def start_server(
    client_connected_cb: Callable[[StreamReader, StreamWriter], Any],
    host: Optional[str] = None,
    port: Optional[int] = None,
    *,
    limit: int = DEFAULT_LIMIT,
    sock: Optional[socket.socket] = None,
    backlog: int = 100,
    reuse_address: Optional[bool] = None,
) -> Any:
    """Serve on the running loop; `client_connected_cb(reader, writer)` may be a coroutine (run as a task)."""
    loop = get_running_loop()

    def make_protocol() -> StreamReaderProtocol:
        return StreamReaderProtocol(StreamReader(limit=limit, loop=loop), client_connected_cb, loop=loop)

    server = yield from create_server(
        loop, make_protocol, host, port, sock=sock, backlog=backlog, reuse_address=reuse_address
    )
    return server
