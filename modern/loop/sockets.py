"""Socket calls as futures: sock_recv, sock_recv_into, sock_sendall, sock_connect, sock_accept.

Each tries its system call at once; only when that would block does it register a reader or writer that
retries the call when the selector says the socket is ready. The reader or writer goes away when the
future is done, whether by a result, an error or a cancellation. The loop's methods of the same names
call these; the sockets must be non-blocking.
"""
from __future__ import annotations

import socket
from typing import Any, Callable, Tuple

__all__ = ["sock_accept", "sock_connect", "sock_recv", "sock_recv_into", "sock_sendall"]

#: What a non-blocking call raises when it would have to wait: nothing is lost, try again when ready.
_TRY_AGAIN = (BlockingIOError, InterruptedError)


def _check_nonblocking(sock: socket.socket) -> None:
    # A blocking socket would stall the whole loop inside the "try at once" call: refuse it up front.
    if sock.gettimeout() != 0:
        raise ValueError(f"the socket must be non-blocking (call setblocking(False) first): {sock!r}")


def _retry_when_readable(loop: Any, fd: int, fut: Any, retry: Callable[..., None], *args: Any) -> None:
    handle = loop.add_reader(fd, retry, fut, *args)
    # Added before the caller can await the future, so it runs before the waiting task wakes up. The
    # check: if a newer call on this fd has replaced our reader (which cancels our handle), keep it.
    fut.add_done_callback(lambda _: handle.cancelled() or loop.remove_reader(fd))


def _retry_when_writable(loop: Any, fd: int, fut: Any, retry: Callable[..., None], *args: Any) -> None:
    handle = loop.add_writer(fd, retry, fut, *args)
    fut.add_done_callback(lambda _: handle.cancelled() or loop.remove_writer(fd))


# Receiving: the first case the talk's echo server needs (docs/talk.md#slide-12).

def sock_recv(loop: Any, sock: socket.socket, nbytes: int) -> Any:
    """A future of up to `nbytes` bytes from `sock`; b'' means the peer closed its side."""
    _check_nonblocking(sock)
    fut = loop.create_future()
    try:
        data = sock.recv(nbytes)
    except _TRY_AGAIN:
        _retry_when_readable(loop, sock.fileno(), fut, _recv_ready, sock, nbytes)
    except OSError as exc:
        fut.set_exception(exc)
    else:
        fut.set_result(data)
    return fut


def _recv_ready(fut: Any, sock: socket.socket, nbytes: int) -> None:
    if fut.done():
        # Cancelled, and its done-callback that removes this reader has not run yet.
        return
    try:
        data = sock.recv(nbytes)
    except _TRY_AGAIN:
        return
    except Exception as exc:
        fut.set_exception(exc)
    else:
        fut.set_result(data)


def sock_recv_into(loop: Any, sock: socket.socket, buf: Any) -> Any:
    """A future of how many bytes were received into the writable buffer `buf`; 0 means EOF."""
    _check_nonblocking(sock)
    fut = loop.create_future()
    try:
        nbytes = sock.recv_into(buf)
    except _TRY_AGAIN:
        _retry_when_readable(loop, sock.fileno(), fut, _recv_into_ready, sock, buf)
    except OSError as exc:
        fut.set_exception(exc)
    else:
        fut.set_result(nbytes)
    return fut


def _recv_into_ready(fut: Any, sock: socket.socket, buf: Any) -> None:
    if fut.done():
        return
    try:
        nbytes = sock.recv_into(buf)
    except _TRY_AGAIN:
        return
    except Exception as exc:
        fut.set_exception(exc)
    else:
        fut.set_result(nbytes)


# Sending: the kernel may take only part of the data, so the writer keeps a position.

class _Unsent:
    """What sock_sendall still has to send: a byte view of the data and how much of it went out."""

    __slots__ = ("sent", "view")

    def __init__(self, view: memoryview, sent: int) -> None:
        self.view = view
        self.sent = sent


def sock_sendall(loop: Any, sock: socket.socket, data: Any) -> Any:
    """A future that is done (with None) once every byte of `data` has been handed to the kernel."""
    _check_nonblocking(sock)
    fut = loop.create_future()
    # Counted in bytes, whatever the buffer's item format, because send() counts bytes.
    view = memoryview(data).cast("B")
    try:
        sent = sock.send(view)
    except _TRY_AGAIN:
        sent = 0
    except OSError as exc:
        fut.set_exception(exc)
        return fut
    if sent == len(view):
        fut.set_result(None)
    else:
        _retry_when_writable(loop, sock.fileno(), fut, _sendall_ready, sock, _Unsent(view, sent))
    return fut


def _sendall_ready(fut: Any, sock: socket.socket, unsent: _Unsent) -> None:
    if fut.done():
        return
    try:
        unsent.sent += sock.send(unsent.view[unsent.sent:])
    except _TRY_AGAIN:
        return
    except Exception as exc:
        fut.set_exception(exc)
        return
    if unsent.sent == len(unsent.view):
        fut.set_result(None)


# Connecting: a non-blocking connect() says EINPROGRESS; the socket turns writable when it is decided.

def sock_connect(loop: Any, sock: socket.socket, address: Any) -> Any:
    """A future done when `sock` is connected to `address` (already resolved: no name lookup here)."""
    _check_nonblocking(sock)
    fut = loop.create_future()
    try:
        sock.connect(address)
    except _TRY_AGAIN:
        _retry_when_writable(loop, sock.fileno(), fut, _connect_ready, sock, address)
    except OSError as exc:
        fut.set_exception(exc)
    else:
        fut.set_result(None)
    return fut


def _connect_ready(fut: Any, sock: socket.socket, address: Any) -> None:
    if fut.done():
        return
    try:
        # Writable means decided, not succeeded: the outcome is in SO_ERROR.
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise OSError(error, f"Connect call failed {address}")
    except _TRY_AGAIN:
        return
    except Exception as exc:
        fut.set_exception(exc)
    else:
        fut.set_result(None)


# Accepting: the listening socket turns readable when a connection waits in its backlog.

def sock_accept(loop: Any, sock: socket.socket) -> Any:
    """A future of `(connection, address)`; the new connection is already non-blocking."""
    _check_nonblocking(sock)
    fut = loop.create_future()
    try:
        conn, address = sock.accept()
    except _TRY_AGAIN:
        _retry_when_readable(loop, sock.fileno(), fut, _accept_ready, sock)
    except OSError as exc:
        fut.set_exception(exc)
    else:
        conn.setblocking(False)
        fut.set_result((conn, address))
    return fut


def _accept_ready(fut: Any, sock: socket.socket) -> None:
    # Checked before accept(), so a cancelled future never takes a connection that nobody would close.
    if fut.done():
        return
    try:
        accepted: Tuple[socket.socket, Any] = sock.accept()
    except _TRY_AGAIN:
        return
    except Exception as exc:
        fut.set_exception(exc)
        return
    accepted[0].setblocking(False)
    fut.set_result(accepted)
