"""Run asyncore dispatchers and asynchat channels inside an asyncio event loop.

The first step of a piece-by-piece migration: the legacy code stays as it is, but its socket map is
served by asyncio's selector (`loop.add_reader`/`add_writer`) instead of `asyncore.loop()`, so new
asyncio code and old dispatchers share one loop and one thread. General, not tied to any protocol.

How readable()/writable() stay in step with the selector: asyncore asks every dispatcher on every
pass, which is what makes it slow with many idle sockets. The bridge asks one dispatcher again after
each event it handles for that dispatcher, asks all of them when `sync()` is called, and learns of
dispatchers joining or leaving through its map (`AsyncioBridge.map`, a dict that reports changes).
Code that changes a dispatcher's wishes from outside its handlers (an asyncio task calling `push()`)
calls `bridge.sync(dispatcher)` afterwards, or schedules the call through `bridge.call_soon`/`call_later`,
which sync for it.
"""
from __future__ import annotations

import asyncio
import socket
from typing import Any, Callable, Dict, Optional, Set

from compat.sources import load

__all__ = ["AsyncioBridge", "BridgeMap", "BridgeUnsupported"]

asyncore = load("asyncore")


class BridgeUnsupported(RuntimeError):
    """The asyncio loop cannot watch file descriptors (the Proactor loop on Windows, for one)."""


class BridgeMap(Dict[int, Any]):
    """A socket map that tells its bridge when a dispatcher joins or leaves.

    asyncore's `add_channel` does `map[fd] = self` and `del_channel` does `del map[fd]` before the
    socket is closed, so the bridge drops the fd from the selector while it is still valid.
    """

    def __init__(self, bridge: AsyncioBridge) -> None:
        super().__init__()
        self._bridge = bridge

    def __setitem__(self, fd: int, dispatcher: Any) -> None:
        if fd in self:
            self._bridge._forget(fd)
        super().__setitem__(fd, dispatcher)
        self._bridge._watch(fd, dispatcher)

    def __delitem__(self, fd: int) -> None:
        self._bridge._forget(fd)
        super().__delitem__(fd)

    def pop(self, fd: int, *default: Any) -> Any:
        if fd in self:
            self._bridge._forget(fd)
        return super().pop(fd, *default)

    def clear(self) -> None:
        for fd in list(self):
            self._bridge._forget(fd)
        super().clear()


class AsyncioBridge:
    """Serves an asyncore socket map from an asyncio loop's selector.

    Create dispatchers with `map=bridge.map`, then run the asyncio loop as usual. Without a `loop`
    argument it takes the running loop. `close_all()` closes every dispatcher of the map, as
    `asyncore.close_all(map)` would.
    """

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self.loop = loop if loop is not None else asyncio.get_running_loop()
        _check_loop_can_watch_fds(self.loop)
        self.map = BridgeMap(self)
        self._readers: Set[int] = set()
        self._writers: Set[int] = set()

    # Dispatchers joining and leaving (called by BridgeMap).

    def _watch(self, fd: int, dispatcher: Any) -> None:
        # add_channel runs inside dispatcher.__init__: readable() may not work before it returns.
        self.loop.call_soon(self._after_event, fd, dispatcher)

    def _forget(self, fd: int) -> None:
        if fd in self._readers:
            self.loop.remove_reader(fd)
            self._readers.discard(fd)
        if fd in self._writers:
            self.loop.remove_writer(fd)
            self._writers.discard(fd)

    # Keeping the selector in step with readable()/writable().

    def _update(self, fd: int, dispatcher: Any) -> None:
        wants_read = bool(dispatcher.readable())
        # As in asyncore.poll2: a listening socket is never watched for writing.
        wants_write = bool(dispatcher.writable()) and not dispatcher.accepting
        if wants_read and fd not in self._readers:
            self.loop.add_reader(fd, self._on_readable, fd)
            self._readers.add(fd)
        elif not wants_read and fd in self._readers:
            self.loop.remove_reader(fd)
            self._readers.discard(fd)
        if wants_write and fd not in self._writers:
            self.loop.add_writer(fd, self._on_writable, fd)
            self._writers.add(fd)
        elif not wants_write and fd in self._writers:
            self.loop.remove_writer(fd)
            self._writers.discard(fd)

    def sync(self, dispatcher: Any = None) -> None:
        """Ask one dispatcher (or all) again what it wants to wait for."""
        if dispatcher is not None:
            fd = dispatcher._fileno
            if fd is not None and self.map.get(fd) is dispatcher:
                self._update(fd, dispatcher)
            return
        for fd, each in list(self.map.items()):
            self._update(fd, each)

    def _on_readable(self, fd: int) -> None:
        dispatcher = self.map.get(fd)
        if dispatcher is None:
            return
        asyncore.read(dispatcher)
        self._after_event(fd, dispatcher)

    def _on_writable(self, fd: int) -> None:
        dispatcher = self.map.get(fd)
        if dispatcher is None:
            return
        asyncore.write(dispatcher)
        self._after_event(fd, dispatcher)

    def _after_event(self, fd: int, dispatcher: Any) -> None:
        # The handler may have closed it, or replaced it with another dispatcher on the same fd.
        if self.map.get(fd) is dispatcher:
            self._update(fd, dispatcher)

    # Timers: asyncore has none, so legacy code ran its own between passes; here asyncio's serve.

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> asyncio.Handle:
        """Run `callback(*args)` on the loop, then bring every dispatcher's wishes up to date."""
        return self.loop.call_soon(self._run_and_sync, callback, args)

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        """`loop.call_later`, followed by a `sync()` of every dispatcher."""
        return self.loop.call_later(delay, self._run_and_sync, callback, args)

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> asyncio.Handle:
        """From another thread: run `callback(*args)` on the loop's thread, then sync."""
        return self.loop.call_soon_threadsafe(self._run_and_sync, callback, args)

    def _run_and_sync(self, callback: Callable[..., Any], args: tuple) -> None:
        try:
            callback(*args)
        finally:
            self.sync()

    def close_all(self) -> None:
        """Close every dispatcher in the map; the selector forgets each fd before its socket closes."""
        for dispatcher in list(self.map.values()):
            dispatcher.close()
        self.map.clear()

    def __len__(self) -> int:
        return len(self.map)


def _check_loop_can_watch_fds(loop: asyncio.AbstractEventLoop) -> None:
    probe, other = socket.socketpair()
    try:
        try:
            loop.add_reader(probe.fileno(), lambda: None)
        except NotImplementedError:
            raise BridgeUnsupported(
                f"{type(loop).__name__} cannot watch sockets with add_reader/add_writer, which the "
                "asyncore bridge needs; use a selector-based loop (asyncio.SelectorEventLoop, the "
                "default on Unix; on Windows set asyncio.WindowsSelectorEventLoopPolicy())"
            ) from None
        loop.remove_reader(probe.fileno())
    finally:
        probe.close()
        other.close()
