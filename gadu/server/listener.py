"""The reference server's listening socket: accept, hand each socket to the loop, stop without leaks.

asyncio's create_server cannot be stopped safely while accepts are in flight: a socket accepted just
before Server.close() fails in its transport's constructor (`assert self._sockets is not None`) and
stays open until the garbage collector finds it. Here every accepted socket is adopted by a task
this module owns (`loop.connect_accepted_socket`, public API, so uvloop serves too), and `close()`
waits for those tasks, so that when it returns every accepted socket belongs to a protocol.
"""
from __future__ import annotations

import asyncio
import errno
import logging
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
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind(address)
            self._sock.listen(backlog)
            self._sock.setblocking(False)
        except BaseException:
            self._sock.close()
            raise
        self.port: int = self._sock.getsockname()[1]
        self._adopting: Set[asyncio.Task] = set()  # type: ignore[type-arg]
        self._resume: Optional[asyncio.TimerHandle] = None
        self._loop.add_reader(self._sock.fileno(), self._accept)

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
            if self._resume is not None:
                self._resume.cancel()
            else:
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        while self._adopting:
            await asyncio.gather(*self._adopting, return_exceptions=True)
