"""The raw ceilings: the same 48-byte frames echoed, with no GG state machine, on each kind of loop.

asyncio Protocol (data_received), asyncio BufferedProtocol (recv_into one reused buffer), naive asyncio
streams (readexactly(8), readexactly(length), write + drain), a callback reactor on selectors
(legacy.callbacks.reactor), modern.loop's transport and uvloop, each with a plain Protocol (uvloop
only when installed). Each counts whole frames by their headers, as a real client must.
"""
from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any, Callable, List, Optional, Tuple, Union

import modern.loop
from gadu.packets import HEADER
from legacy.callbacks.reactor import Reactor

from .base import PHASE_GRACE, RAW_FRAME, CallbackVariant, Window
from .variants import _STOP_AFTER_ABORT, AioVariant, _gather

__all__ = [
    "READ_BUFFER_SIZE",
    "RawBufferedVariant",
    "RawModernLoopVariant",
    "RawProtocolVariant",
    "RawReactorVariant",
    "RawStreamsVariant",
    "RawUvloopVariant",
]

#: One read buffer per client process, reused by every connection (each read is consumed at once).
READ_BUFFER_SIZE = 64 * 1024

_unpack_header = HEADER.unpack_from
_Bytes = Union[bytes, bytearray, memoryview]


class _FrameCounter:
    """Counts the whole frames echoed back; an unfinished one waits in `tail` for the rest."""

    __slots__ = ()
    variant: Any
    window: Optional[Window]

    def _reset(self) -> None:
        self.window = None
        self.tail = b""
        self.want = self.got = 0

    def _feed(self, data: _Bytes) -> None:
        if self.tail:
            data, self.tail = self.tail + data, b""
        pos, end, frames = 0, len(data), 0
        while end - pos >= 8:
            stop = pos + 8 + _unpack_header(data, pos)[1]
            if stop > end:
                break
            pos = stop
            frames += 1
        if pos < end:
            self.tail = bytes(data[pos:])
        if frames:
            self.got += frames
            if self.got >= self.want:
                self.got = 0
                if self.window is None:
                    self.variant._pong()
                else:
                    self.variant._burst_done(self, self.want)

    def burst(self, depth: int) -> None:
        self.want = depth
        for _ in range(depth):
            self._send(RAW_FRAME)

    def ping(self) -> None:
        self.window = None
        self.want = 1
        self._send(RAW_FRAME)

    def _send(self, data: bytes) -> None:
        raise NotImplementedError


# --- protocols on asyncio, uvloop and modern.loop ----------------------------------------------------

class _RawConnection(_FrameCounter):
    transport: Any = None

    def __init__(self, variant: _LoopRawVariant) -> None:
        self.variant = variant
        self._reset()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.variant._opened(self)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.variant._failed(f"connection lost: {exc or 'closed by the server'}")

    def eof_received(self) -> bool:
        return False

    def _send(self, data: bytes) -> None:
        self.transport.write(data)


class _PlainConnection(_RawConnection, asyncio.Protocol):
    def data_received(self, data: bytes) -> None:
        self._feed(data)


class _BufferedConnection(_RawConnection, asyncio.BufferedProtocol):
    def get_buffer(self, sizehint: int) -> memoryview:
        return self.variant.read_view

    def buffer_updated(self, nbytes: int) -> None:
        self._feed(self.variant.read_view[:nbytes])


class _LoopRawVariant(CallbackVariant):
    """A raw ceiling on a loop with asyncio's API: create_connection as a task, run_forever until done."""

    family = "raw"
    connection_class: Any = _PlainConnection

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        super().__init__(address, route=route)
        self.read_view = memoryview(bytearray(READ_BUFFER_SIZE))
        self.loop = self._new_loop()
        self._connections: List[_RawConnection] = []

    def _new_loop(self) -> Any:
        return asyncio.new_event_loop()

    def _start_session(self) -> None:
        connection = self.connection_class(self)
        self._connections.append(connection)
        task = self.loop.create_task(self.loop.create_connection(lambda: connection, *self.address))
        task.add_done_callback(self._connect_done)

    def _connect_done(self, task: Any) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._failed(f"cannot connect: {task.exception()}")

    def _send_burst(self, session: _RawConnection, depth: int) -> None:
        session.burst(depth)

    def _send_ping(self, session: _RawConnection) -> None:
        session.ping()

    def _call_later(self, delay: float, callback: Callable[[], None]) -> Any:
        return self.loop.call_later(delay, callback)

    def _run_phase(self) -> None:
        self.loop.run_forever()

    def _stop_loop(self) -> None:
        self.loop.stop()

    def close(self) -> None:
        self.closing = True
        for connection in self._connections:
            if connection.transport is not None:
                connection.transport.abort()
        # connection_lost, and with it the socket's close, comes in the loop's next pass.
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        self.loop.close()


class RawProtocolVariant(_LoopRawVariant):
    name = "raw-protocol"
    connection_class = _PlainConnection


class RawBufferedVariant(_LoopRawVariant):
    name = "raw-buffered"
    connection_class = _BufferedConnection


class RawModernLoopVariant(_LoopRawVariant):
    """modern.loop's transport with a plain Protocol, as uvloop's row: its recv() asks for 64 KiB, which
    glibc serves from the heap, so data_received costs no more here than buffer_updated."""

    name = "raw-modern.loop"
    connection_class = _PlainConnection

    def _new_loop(self) -> Any:
        return modern.loop.new_event_loop(debug=False)


class RawUvloopVariant(_LoopRawVariant):
    name = "raw-uvloop"
    connection_class = _PlainConnection

    @classmethod
    def available(cls) -> Optional[str]:
        try:
            import uvloop  # noqa: F401
        except ImportError:
            return "not installed (pip install uvloop, or the [bench] extra)"
        return None

    def _new_loop(self) -> Any:
        import uvloop

        return uvloop.new_event_loop()


# --- the selectors reactor with plain non-blocking sockets ----------------------------------------------

class _ReactorConnection(_FrameCounter):
    __slots__ = ("got", "sock", "tail", "variant", "want", "window")

    def __init__(self, variant: RawReactorVariant, sock: socket.socket) -> None:
        self.variant = variant
        self.sock = sock
        self._reset()

    def readable(self) -> None:
        try:
            nbytes = self.sock.recv_into(self.variant.read_view)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.variant._failed(f"read failed: {exc}")
            return
        if not nbytes:
            self.variant._failed("the server closed the connection")
            return
        self._feed(self.variant.read_view[:nbytes])

    def _send(self, data: bytes) -> None:
        # 48 bytes into a socket whose buffer nothing else fills: the kernel takes them whole.
        try:
            sent = self.sock.send(data)
        except OSError as exc:
            self.variant._failed(f"write failed: {exc}")
            return
        if sent != len(data):
            self.variant._failed(f"the kernel took {sent} of {len(data)} bytes; the raw reactor does not buffer")


class RawReactorVariant(CallbackVariant):
    """Plain sockets on legacy.callbacks.reactor.Reactor (selectors, epoll here): the callback ceiling."""

    name = "raw-reactor"
    family = "raw"

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        super().__init__(address, route=route)
        self.read_view = memoryview(bytearray(READ_BUFFER_SIZE))
        self.reactor = Reactor()
        self._sockets: List[socket.socket] = []

    def _start_session(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sockets.append(sock)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect_ex(self.address)
        self.reactor.add_writer(sock, self._connected, _ReactorConnection(self, sock))

    def _connected(self, connection: _ReactorConnection) -> None:
        sock = connection.sock
        self.reactor.remove_writer(sock)
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            self._failed(f"cannot connect: {errno.errorcode.get(error, error)}")
            return
        self.reactor.add_reader(sock, connection.readable)
        self._opened(connection)

    def _send_burst(self, session: _ReactorConnection, depth: int) -> None:
        session.burst(depth)

    def _send_ping(self, session: _ReactorConnection) -> None:
        session.ping()

    def _call_later(self, delay: float, callback: Callable[[], None]) -> Any:
        return self.reactor.call_later(delay, callback)

    def _run_phase(self) -> None:
        self.reactor.run()

    def _stop_loop(self) -> None:
        self.reactor.stop()

    def close(self) -> None:
        self.closing = True
        for sock in self._sockets:
            self.reactor.remove_reader(sock)
            self.reactor.remove_writer(sock)
            sock.close()
        self.reactor.close()


# --- naive asyncio streams -----------------------------------------------------------------------------

class _StreamConnection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def exchange(self, depth: int) -> None:
        for _ in range(depth):
            self.writer.write(RAW_FRAME)
            await self.writer.drain()
        for _ in range(depth):
            header = await self.reader.readexactly(8)
            await self.reader.readexactly(_unpack_header(header)[1])

    def abort(self) -> None:
        self.writer.transport.abort()


class RawStreamsVariant(AioVariant):
    """open_connection, then per frame write + drain out and readexactly(8), readexactly(length) in."""

    name = "raw-streams"
    family = "raw"

    async def _open_one(self, uin: int) -> Any:
        reader, writer = await asyncio.open_connection(*self.address)
        connection = _StreamConnection(reader, writer)
        self.clients.append(connection)
        return connection

    async def _bursts(self, session: _StreamConnection, depth: int, window: Window) -> None:  # type: ignore[override]
        while True:
            await session.exchange(depth)
            window.count += depth
            if not window.open:
                return

    def ping_round(self, sessions: List[Any]) -> None:
        self._run([self._ping_all(sessions)], PHASE_GRACE)

    async def _ping_all(self, sessions: List[Any]) -> None:
        for session in sessions:
            session.writer.write(RAW_FRAME)
            await session.writer.drain()
        for session in sessions:
            header = await session.reader.readexactly(8)
            await session.reader.readexactly(_unpack_header(header)[1])

    def close(self) -> None:
        for session in self.clients:
            session.abort()
        try:
            self._run([_gather([session.writer.wait_closed() for session in self.clients])], _STOP_AFTER_ABORT)
        finally:
            self.loop.close()
