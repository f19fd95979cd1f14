"""Transports over sockets, and what makes them: create_connection, create_server and its Server.

A SocketTransport owns one connected non-blocking socket and one protocol. It reads when the selector
says so and hands the bytes to the protocol; it writes at once what the kernel takes, buffers the rest,
and pauses the protocol while that buffer is above its high-water mark. asyncio's _SelectorSocketTransport,
smaller. Name lookups here block (the loop has no thread pool): numeric addresses return at once.
"""
from __future__ import annotations

import errno
import os
import socket
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from .coroutines import coroutine
from .protocols import BufferedProtocol
from .sockets import sock_connect

__all__ = [
    "DEFAULT_HIGH_WATER",
    "DEFAULT_LOW_WATER",
    "MAX_RECV_SIZE",
    "Server",
    "SocketTransport",
    "create_connection",
    "create_server",
]

#: Bytes asked of recv() per read for a plain Protocol. asyncio asks for 256 KiB, but CPython allocates
#: the whole size before the call and shrinks it after; above glibc's mmap threshold (128 KiB) every
#: read then pays mmap + mremap + munmap and fresh page faults: about 9 us against 1 us for a 100-byte
#: recv on loopback (measured on 3.11). 64 KiB stays on the heap and is more than a read usually brings.
MAX_RECV_SIZE = 64 * 1024
#: asyncio's write-buffer marks: pause_writing() above the high one, resume_writing() at the low one.
DEFAULT_HIGH_WATER = 64 * 1024
DEFAULT_LOW_WATER = DEFAULT_HIGH_WATER // 4
#: After accept() ran out of descriptors or memory, wait this long before accepting again (as asyncio).
ACCEPT_RETRY_DELAY = 1.0

#: What a non-blocking call raises when it would have to wait: nothing is lost, try again when ready.
_TRY_AGAIN = (BlockingIOError, InterruptedError)
#: accept() failures that say "the process is out of something", not "this connection was bad".
_ACCEPT_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def _set_nodelay(sock: socket.socket) -> None:
    # Small request/response messages (GG packets, ping-pong) must not wait for Nagle's algorithm.
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def _check_write_data(data: Any) -> Union[bytes, bytearray, memoryview]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data argument must be a bytes-like object, not {type(data).__name__!r}")
    if isinstance(data, memoryview):
        # Lengths count bytes, as send() does, whatever the view's item format.
        return data.cast("B")
    return data


def _set_result_unless_cancelled(fut: Any, result: Any) -> None:
    if not fut.cancelled():
        fut.set_result(result)


class SocketTransport:
    """One connected stream socket, read into its protocol and written from a buffer."""

    __slots__ = (
        "_buffer",
        "_closing",
        "_conn_lost",
        "_eof",
        "_extra",
        "_high_water",
        "_loop",
        "_low_water",
        "_paused",
        "_protocol",
        "_protocol_paused",
        "_read_ready",
        "_server",
        "_sock",
        "_sock_fd",
    )

    def __init__(
        self,
        loop: Any,
        sock: socket.socket,
        protocol: Any,
        waiter: Any = None,
        extra: Optional[Dict[str, Any]] = None,
        server: Optional[Server] = None,
    ) -> None:
        self._loop = loop
        self._sock: socket.socket = sock
        self._sock_fd = sock.fileno()
        self._extra = {"socket": sock, "sockname": None, "peername": None}
        try:
            self._extra["sockname"] = sock.getsockname()
        except OSError:
            pass
        if extra is None or "peername" not in extra:
            try:
                self._extra["peername"] = sock.getpeername()
            except OSError:
                pass
        if extra:
            self._extra.update(extra)
        self._buffer = bytearray()
        self._conn_lost = 0
        self._closing = False
        self._eof = False
        self._paused = False
        self._protocol_paused = False
        self._high_water = DEFAULT_HIGH_WATER
        self._low_water = DEFAULT_LOW_WATER
        self._server = server
        if server is not None:
            server._attach()
        self.set_protocol(protocol)
        _set_nodelay(sock)
        # In this order, one callback each, as asyncio: the protocol learns of its transport before any
        # data_received, and whoever waits for the connection wakes after connection_made.
        loop.call_soon(protocol.connection_made, self)
        loop.call_soon(self._start_reading)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def __repr__(self) -> str:
        state = "closed" if self._sock is None else "closing" if self._closing else "open"
        return f"<SocketTransport fd={self._sock_fd} {state} reading={self.is_reading()} " \
               f"write_buffer={len(self._buffer)}>"

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """'socket', 'sockname' or 'peername' (None where the socket could not say), else `default`."""
        return self._extra.get(name, default)

    def get_protocol(self) -> Any:
        return self._protocol

    def set_protocol(self, protocol: Any) -> None:
        """Hand the connection to another protocol; a BufferedProtocol is read into its own buffer."""
        self._protocol = protocol
        if isinstance(protocol, BufferedProtocol):
            self._read_ready = self._read_into_protocol_buffer
        else:
            self._read_ready = self._read_bytes

    def is_closing(self) -> bool:
        return self._closing

    # Reading: the selector calls _read_ready; one recv per call, so one busy peer cannot starve others.

    def _start_reading(self) -> None:
        # Scheduled from __init__; connection_made may already have paused reading or closed us.
        if self.is_reading():
            self._loop.add_reader(self._sock_fd, self._read_ready)

    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def pause_reading(self) -> None:
        """Stop calling the protocol with data until resume_reading(); the kernel's buffer fills instead."""
        if not self.is_reading():
            return
        self._paused = True
        self._loop.remove_reader(self._sock_fd)

    def resume_reading(self) -> None:
        if self._closing or not self._paused:
            return
        self._paused = False
        self._loop.add_reader(self._sock_fd, self._read_ready)

    def _read_bytes(self) -> None:
        if self._conn_lost:
            return
        try:
            data = self._sock.recv(MAX_RECV_SIZE)
        except _TRY_AGAIN:
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal read error on socket transport")
            return
        if not data:
            self._read_eof()
            return
        try:
            self._protocol.data_received(data)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.data_received() call failed.")

    def _read_into_protocol_buffer(self) -> None:
        if self._conn_lost:
            return
        try:
            buf = self._protocol.get_buffer(-1)
            if not len(buf):
                raise RuntimeError("get_buffer() returned an empty buffer")
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.get_buffer() call failed.")
            return
        try:
            nbytes = self._sock.recv_into(buf)
        except _TRY_AGAIN:
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal read error on socket transport")
            return
        if not nbytes:
            self._read_eof()
            return
        try:
            self._protocol.buffer_updated(nbytes)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.buffer_updated() call failed.")

    def _read_eof(self) -> None:
        try:
            keep_open = self._protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
            return
        if keep_open:
            # Half-closed: nothing more will arrive, but the protocol may go on writing.
            self._loop.remove_reader(self._sock_fd)
        else:
            self.close()

    # Writing: send at once while nothing is queued; otherwise queue and let the writer drain the queue.

    def write(self, data: Union[bytes, bytearray, memoryview]) -> None:
        """Send `data` now if the kernel takes it, else buffer it; never blocks, never drops bytes."""
        if type(data) is not bytes:  # bytes, by far the most common, needs no check
            data = _check_write_data(data)
        if self._eof:
            raise RuntimeError("Cannot call write() after write_eof()")
        if not data or self._conn_lost:
            return
        if not self._buffer:
            try:
                sent = self._sock.send(data)
            except _TRY_AGAIN:
                sent = 0
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal write error on socket transport")
                return
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
            self._loop.add_writer(self._sock_fd, self._write_ready)
        self._buffer.extend(data)
        self._maybe_pause_protocol()

    def writelines(self, list_of_data: Iterable[Union[bytes, bytearray, memoryview]]) -> None:
        """Write the pieces as one: a single send() instead of one per piece."""
        self.write(b"".join(list_of_data))

    def _write_ready(self) -> None:
        if self._conn_lost:
            return
        try:
            sent = self._sock.send(self._buffer)
        except _TRY_AGAIN:
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.remove_writer(self._sock_fd)
            self._buffer.clear()
            self._fatal_error(exc, "Fatal write error on socket transport")
            return
        # Deleting from a bytearray's front moves a start offset, not the remaining bytes.
        del self._buffer[:sent]
        self._maybe_resume_protocol()
        if self._buffer:
            return
        self._loop.remove_writer(self._sock_fd)
        if self._closing:
            self._conn_lost += 1
            self._call_connection_lost(None)
        elif self._eof:
            self._sock.shutdown(socket.SHUT_WR)

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def get_write_buffer_limits(self) -> Tuple[int, int]:
        return self._low_water, self._high_water

    def set_write_buffer_limits(self, high: Optional[int] = None, low: Optional[int] = None) -> None:
        """Set the marks as asyncio does: high defaults to 64 KiB (or 4 * low), low to high // 4."""
        if high is None:
            high = DEFAULT_HIGH_WATER if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high_water = high
        self._low_water = low
        self._maybe_pause_protocol()

    def _maybe_pause_protocol(self) -> None:
        if len(self._buffer) <= self._high_water or self._protocol_paused:
            return
        self._protocol_paused = True
        self._call_protocol("pause_writing")

    def _maybe_resume_protocol(self) -> None:
        if self._protocol_paused and len(self._buffer) <= self._low_water:
            self._protocol_paused = False
            self._call_protocol("resume_writing")

    def _call_protocol(self, name: str) -> None:
        # A protocol's flow-control bug is reported, not allowed to break the write path that called it.
        try:
            getattr(self._protocol, name)()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler({
                "message": f"protocol.{name}() failed",
                "exception": exc,
                "transport": self,
                "protocol": self._protocol,
            })

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """Shut down the sending side once the buffer is flushed; the peer then reads EOF."""
        if self._closing or self._eof:
            return
        self._eof = True
        if not self._buffer:
            self._sock.shutdown(socket.SHUT_WR)

    # Ending: close flushes first, abort does not; either way connection_lost comes exactly once, last.

    def close(self) -> None:
        """Stop reading, flush what is buffered, then close the socket and call connection_lost(None)."""
        if self._closing:
            return
        self._closing = True
        self._loop.remove_reader(self._sock_fd)
        if not self._buffer:
            self._conn_lost += 1
            self._loop.call_soon(self._call_connection_lost, None)

    def abort(self) -> None:
        """Close now, dropping whatever is still buffered; connection_lost(None) follows."""
        self._force_close(None)

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        # A reset or a broken pipe is the network's news, not a bug: only other errors reach the handler.
        if not isinstance(exc, OSError):
            self._loop.call_exception_handler({
                "message": message,
                "exception": exc,
                "transport": self,
                "protocol": self._protocol,
            })
        self._force_close(exc)

    def _force_close(self, exc: Optional[BaseException]) -> None:
        if self._conn_lost:
            return
        if self._buffer:
            self._buffer.clear()
            self._loop.remove_writer(self._sock_fd)
        if not self._closing:
            self._closing = True
            self._loop.remove_reader(self._sock_fd)
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: Optional[BaseException]) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._sock.close()
            # Every path that touches the socket checks _conn_lost or _closing first, so the hot paths
            # need no None check; the reference goes so that a lost transport holds no fd.
            self._sock = None  # type: ignore[assignment]
            self._protocol = None
            self._loop = None
            server = self._server
            if server is not None:
                server._detach()
                self._server = None


# Connecting: resolve, try each address in turn, then wrap the socket that connected.

@coroutine
def create_connection(
    loop: Any,
    protocol_factory: Callable[[], Any],
    host: Optional[str] = None,
    port: Optional[int] = None,
    *,
    sock: Optional[socket.socket] = None,
) -> Any:
    """Connect to (host, port), or wrap an already connected `sock`: returns (transport, protocol)."""
    if sock is not None:
        if host is not None or port is not None:
            raise ValueError("host/port and sock can not be specified at the same time")
        if sock.type != socket.SOCK_STREAM:
            raise ValueError(f"A Stream Socket was expected, got {sock!r}")
        sock.setblocking(False)
    else:
        if host is None and port is None:
            raise ValueError("host and port was not specified and no sock specified")
        sock = yield from _connect_first(loop, host, port)
    try:
        protocol = protocol_factory()
    except BaseException:
        sock.close()
        raise
    waiter = loop.create_future()
    transport = SocketTransport(loop, sock, protocol, waiter)
    try:
        yield from waiter
    except BaseException:
        transport.close()
        raise
    return transport, protocol


@coroutine
def _connect_first(loop: Any, host: Optional[str], port: Optional[int]) -> Any:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise OSError("getaddrinfo() returned empty list")
    errors: List[OSError] = []
    for family, type_, proto, _, address in infos:
        sock = socket.socket(family, type_, proto)
        try:
            sock.setblocking(False)
            yield from sock_connect(loop, sock, address)
        except OSError as exc:
            sock.close()
            errors.append(exc)
        except BaseException:
            sock.close()
            raise
        else:
            return sock
    if len(errors) == 1 or all(str(exc) == str(errors[0]) for exc in errors):
        raise errors[0]
    raise OSError("Multiple exceptions: " + ", ".join(str(exc) for exc in errors))


# Serving: listening sockets whose reader accepts connections and gives each a transport.

class Server:
    """Listening sockets and the connections they accepted; close() stops accepting new ones."""

    def __init__(
        self, loop: Any, sockets: List[socket.socket], protocol_factory: Callable[[], Any], backlog: int
    ) -> None:
        self._loop = loop
        self._sockets: Optional[List[socket.socket]] = sockets
        self._protocol_factory = protocol_factory
        self._backlog = backlog
        self._active_count = 0
        # wait_closed() futures; None once closed with every accepted connection gone.
        self._waiters: Optional[List[Any]] = []
        self._serving = False
        self._retry_handle: Any = None

    def __repr__(self) -> str:
        return f"<Server sockets={self.sockets!r}>"

    def get_loop(self) -> Any:
        return self._loop

    @property
    def sockets(self) -> Tuple[socket.socket, ...]:
        """The listening sockets; empty once closed."""
        return () if self._sockets is None else tuple(self._sockets)

    def is_serving(self) -> bool:
        return self._serving

    def _start_serving(self) -> None:
        self._retry_handle = None
        if self._serving or self._sockets is None:
            return
        self._serving = True
        for listener in self._sockets:
            listener.listen(self._backlog)
            self._loop.add_reader(listener.fileno(), self._accept_connections, listener)

    def _stop_serving(self) -> None:
        if self._serving:
            self._serving = False
            for listener in self._sockets or ():
                self._loop.remove_reader(listener.fileno())

    def _accept_connections(self, listener: socket.socket) -> None:
        # Up to a backlog's worth per wake-up: a burst of clients is taken in one pass, not one per pass.
        for _ in range(self._backlog):
            try:
                conn, address = listener.accept()
            except _TRY_AGAIN:
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in _ACCEPT_RESOURCE_ERRORS:
                    raise
                # The backlog stays readable, so the reader would spin: step back and try again later.
                self._loop.call_exception_handler({
                    "message": "socket.accept() out of system resource",
                    "exception": exc,
                    "socket": listener,
                })
                self._stop_serving()
                self._retry_handle = self._loop.call_later(ACCEPT_RETRY_DELAY, self._start_serving)
                return
            self._accepted(conn, address)

    def _accepted(self, conn: socket.socket, address: Any) -> None:
        try:
            conn.setblocking(False)
            SocketTransport(self._loop, conn, self._protocol_factory(), extra={"peername": address}, server=self)
        except (SystemExit, KeyboardInterrupt):
            conn.close()
            raise
        except BaseException as exc:
            conn.close()
            self._loop.call_exception_handler({
                "message": "Error in protocol_factory() or transport creation",
                "exception": exc,
                "socket": conn,
            })

    def _attach(self) -> None:
        self._active_count += 1

    def _detach(self) -> None:
        self._active_count -= 1
        if self._active_count == 0 and self._sockets is None:
            self._wake_waiters()

    def _wake_waiters(self) -> None:
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def close(self) -> None:
        """Stop listening and close the listening sockets; accepted connections stay open."""
        if self._sockets is None:
            return
        self._stop_serving()
        if self._retry_handle is not None:
            self._retry_handle.cancel()
            self._retry_handle = None
        sockets, self._sockets = self._sockets, None
        for listener in sockets:
            listener.close()
        if self._active_count == 0:
            self._wake_waiters()

    @coroutine
    def wait_closed(self) -> Any:
        """Wait until close() has been called and every accepted connection has ended (as asyncio 3.12+)."""
        if self._waiters is None:
            return
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        yield from waiter

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()
        await self.wait_closed()


@coroutine
def create_server(
    loop: Any,
    protocol_factory: Callable[[], Any],
    host: Union[str, Iterable[str], None] = None,
    port: Optional[int] = None,
    *,
    sock: Optional[socket.socket] = None,
    backlog: int = 100,
    reuse_address: Optional[bool] = None,
) -> Any:
    """Listen on (host, port) (host None or '' means every interface), or on `sock`: returns a Server."""
    if sock is not None:
        if host is not None or port is not None:
            raise ValueError("host/port and sock can not be specified at the same time")
        if sock.type != socket.SOCK_STREAM:
            raise ValueError(f"A Stream Socket was expected, got {sock!r}")
        sockets = [sock]
    else:
        sockets = _bind(host, port, reuse_address)
    for listener in sockets:
        listener.setblocking(False)
    server = Server(loop, sockets, protocol_factory, backlog)
    server._start_serving()
    # One pass of the loop before returning, as asyncio's sleep(0) there: a bare yield in a task.
    yield
    return server


def _bind(
    host: Union[str, Iterable[str], None], port: Optional[int], reuse_address: Optional[bool]
) -> List[socket.socket]:
    if reuse_address is None:
        # Lets a restarted server bind while the old one's connections sit in TIME_WAIT (asyncio's default).
        reuse_address = os.name == "posix" and sys.platform != "cygwin"
    hosts: List[Optional[str]] = [None] if host in (None, "") else [host] if isinstance(host, str) else list(host)
    infos: Dict[Tuple[Any, ...], None] = {}
    for name in hosts:
        for info in socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE):
            infos[info] = None
    sockets: List[socket.socket] = []
    try:
        for family, type_, proto, _, address in infos:
            try:
                listener = socket.socket(family, type_, proto)
            except OSError:
                # An address family this host does not support (IPv6 switched off): serve on the others.
                continue
            sockets.append(listener)
            if reuse_address:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
            if family == socket.AF_INET6:
                # Otherwise the IPv6 socket also claims the IPv4 port the AF_INET socket is about to bind.
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, True)
            try:
                listener.bind(address)
            except OSError as exc:
                raise OSError(exc.errno, f"error while attempting to bind on address {address!r}: "
                                         f"{(exc.strerror or '').lower()}") from None
    except BaseException:
        for listener in sockets:
            listener.close()
        raise
    if not sockets:
        raise OSError(f"could not create a listening socket for any address of {hosts!r}")
    return sockets
