"""Trigger: wake an asyncore loop from another thread and have it run a call (Medusa's select_trigger).

asyncore only wakes for sockets, so other threads reach it through one: a socketpair whose reading
end sits in the map. `pull_trigger(thunk)` queues the call and writes a byte; the loop thread reads
the byte and runs every queued call. Nothing else here is thread-safe, nor needs to be.
"""
from __future__ import annotations

import collections
import logging
import socket
import threading
from typing import Any, Callable, Deque, Dict, Optional

from compat import asyncore

__all__ = ["Trigger"]

_log = logging.getLogger("legacy.dispatcher")


class Trigger(asyncore.dispatcher):
    """A dispatcher in `map` that runs, on the loop's thread, the calls other threads hand it."""

    def __init__(self, map: Dict[int, Any]) -> None:
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        self._writer: Optional[socket.socket] = writer
        self._lock = threading.Lock()  # a pull racing close() must not write to a closed socket
        self._thunks: Deque[Callable[[], Any]] = collections.deque()  # append/popleft are atomic
        super().__init__(reader, map)

    def pull_trigger(self, thunk: Optional[Callable[[], Any]] = None) -> None:
        """From any thread: run `thunk()` on the loop's thread soon (or just wake the loop)."""
        with self._lock:
            if self._writer is None:
                raise RuntimeError("the trigger is closed: its loop has stopped")
            if thunk is not None:
                self._thunks.append(thunk)
            try:
                self._writer.send(b"x")
            except BlockingIOError:
                pass  # the pipe is full of wake-ups the loop has not read yet: it will wake anyway

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_connect(self) -> None:
        pass  # a socketpair is connected from the start

    def handle_read(self) -> None:
        try:
            self.recv(4096)
        except BlockingIOError:
            pass
        thunks = self._thunks
        while thunks:
            thunk = thunks.popleft()
            try:
                thunk()
            except Exception:
                # One caller's failure must not stop the calls queued behind it.
                _log.exception("a call handed to the asyncore loop failed: %r", thunk)

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        super().close()
