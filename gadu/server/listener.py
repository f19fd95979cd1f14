"""The reference server's listening socket: accept, hand each socket to the loop, stop without leaks.

asyncio's create_server cannot be stopped safely while accepts are in flight: a socket accepted just
before Server.close() fails in its transport's constructor (`assert self._sockets is not None`) and
stays open until the garbage collector finds it. Here every accepted socket is adopted by a task
this module owns (`loop.connect_accepted_socket`, public API, so uvloop serves too), and `close()`
waits for those tasks, so that when it returns every accepted socket belongs to a protocol.
Loops without add_reader (Windows' proactor) accept with `loop.sock_accept` in a task instead.
Cancelling that task could drop a socket accepted in the same instant, so close() wakes it with a
connection of its own instead: what was accepted before that connection is adopted, nothing is lost.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from typing import Callable, Optional, Set

__all__ = ["ACCEPT_BATCH", "ACCEPT_PAUSE", "Listener"]

log = logging.getLogger("gadu.server")

#: Connections accepted per readiness event, so that a burst of connects cannot starve the loop.
ACCEPT_BATCH = 100
#: Seconds without accepting after the process runs out of file descriptors (asyncio does the same).
ACCEPT_PAUSE = 1.0
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class Listener:
    """One listening TCP socket on the running loop; each accepted connection gets a new protocol."""

    def __init__(self, protocol_factory: Callable[[], asyncio.BaseProtocol], host: str, port: int,
                 backlog: int) -> None:
        self._factory = protocol_factory
        self._loop = asyncio.get_running_loop()
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        self._sock: Optional[socket.socket] = socket.socket(family, kind, proto)
        try:
            if os.name == "posix":  # elsewhere SO_REUSEADDR lets another process take the port
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind(address)
            self._sock.listen(backlog)
            self._sock.setblocking(False)
        except BaseException:
            self._sock.close()
            raise
        self.port: int = self._sock.getsockname()[1]
        self._adopting: Set[asyncio.Task[None]] = set()
        self._resume: Optional[asyncio.TimerHandle] = None
        self._accepting: Optional[asyncio.Task[None]] = None
        self._waker_address: object = None
        try:
            self._loop.add_reader(self._sock.fileno(), self._accept)
        except NotImplementedError:
            self._accepting = self._loop.create_task(self._accept_forever())

    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            if self._sock is None:
                return
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                log.warning("cannot accept: %s; accepting again in %g s", exc.strerror, ACCEPT_PAUSE)
                self._loop.remove_reader(self._sock.fileno())
                self._resume = self._loop.call_later(ACCEPT_PAUSE, self._accept_again)
                return
            self._adopt_soon(conn)

    async def _accept_forever(self) -> None:
        assert self._sock is not None
        while True:
            try:
                conn, address = await self._loop.sock_accept(self._sock)
            except (ConnectionAbortedError, InterruptedError):
                continue
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                log.warning("cannot accept: %s; accepting again in %g s", exc.strerror, ACCEPT_PAUSE)
                await asyncio.sleep(ACCEPT_PAUSE)
                continue
            if address == self._waker_address:  # close() is waiting: everything before it is adopted
                conn.close()
                return
            self._adopt_soon(conn)

    async def _wake_and_end_accepting(self, task: asyncio.Task[None]) -> None:
        assert self._sock is not None
        host, port = self._sock.getsockname()[:2]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if self._sock.family == socket.AF_INET else "::1"
        waker = socket.socket(self._sock.family, socket.SOCK_STREAM)
        try:
            waker.setblocking(False)
            waker.bind((host, 0))
            self._waker_address = waker.getsockname()
            await self._loop.sock_connect(waker, (host, port))
            await task
        finally:
            waker.close()

    def _adopt_soon(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        task = self._loop.create_task(self._adopt(conn))
        self._adopting.add(task)
        task.add_done_callback(self._adopting.discard)

    def _accept_again(self) -> None:
        self._resume = None
        if self._sock is not None:
            self._loop.add_reader(self._sock.fileno(), self._accept)

    async def _adopt(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError as exc:  # the peer went away before its transport existed
            log.info("connection lost while being accepted: %s", exc)
            conn.close()

    async def close(self) -> None:
        """Stop accepting and close the listening socket; return once every accepted socket has its
        protocol (connection_made has run), so that the caller can close them all."""
        if self._sock is not None:
            if self._accepting is not None and not self._accepting.done():
                await self._wake_and_end_accepting(self._accepting)
            elif self._resume is not None:
                self._resume.cancel()
            else:
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        while self._adopting:
            # Discarded here too: gather() of finished tasks may return before their done callbacks
            # run (3.13), and waiting for those callbacks would spin without ever yielding.
            adopting = list(self._adopting)
            await asyncio.gather(*adopting, return_exceptions=True)
            self._adopting.difference_update(adopting)
