"""A small reactor on `selectors`, hand-rolled the way callback code of the asyncore era did it.

File descriptors watched for reading and writing, timers on a heap, a deque of ready callbacks, and a
socketpair that lets another thread wake the reactor up. No futures, no coroutines, no protocol:
callbacks in, callbacks out. Only call_soon_threadsafe may be called from another thread.
"""
from __future__ import annotations

import collections
import heapq
import itertools
import logging
import selectors
import socket
import time
import warnings
from typing import Any, Callable, Deque, List, Optional, Tuple

__all__ = ["MAXIMUM_SELECT_TIMEOUT", "Handle", "Reactor", "ReactorClosed", "Timer"]

log = logging.getLogger("legacy.callbacks.reactor")

#: select() never blocks longer than a day: epoll and kqueue reject larger timeouts on some systems.
MAXIMUM_SELECT_TIMEOUT = 24 * 3600
#: Cancelled timers stay in the heap (removing from its middle is costly) until they are this many
#: and more than half of it; then the heap is rebuilt without them.
_MIN_CANCELLED_TIMERS = 100

_EVENT_READ = selectors.EVENT_READ
_EVENT_WRITE = selectors.EVENT_WRITE
_monotonic = time.monotonic
_heappop = heapq.heappop
_heappush = heapq.heappush


class ReactorClosed(RuntimeError):
    """The reactor was closed: it takes no more callbacks and cannot run again."""


class Handle:
    """A callback and its arguments, waiting in the ready deque (or registered for a file descriptor)."""

    __slots__ = ("args", "callback", "cancelled")

    def __init__(self, callback: Callable[..., Any], args: Tuple[Any, ...]) -> None:
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run the callback; the reactor drops the handle when it reaches it."""
        self.cancelled = True

    def __repr__(self) -> str:
        state = " cancelled" if self.cancelled else ""
        return f"<{type(self).__name__} {getattr(self.callback, '__qualname__', self.callback)!r}{state}>"


class Timer(Handle):
    """A callback due at `when` (on the reactor's time() clock), waiting in the timer heap."""

    __slots__ = ("_reactor", "when")

    def __init__(self, when: float, callback: Callable[..., Any], args: Tuple[Any, ...], reactor: Reactor) -> None:
        super().__init__(callback, args)
        self.when = when
        # Set while the timer sits in the heap, so that a cancel can be counted for the lazy cleanup.
        self._reactor: Optional[Reactor] = reactor

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            if self._reactor is not None:
                self._reactor._cancelled_timers += 1


class Reactor:
    """One thread's event loop: run() turns it until stop(); close() releases the selector and socketpair."""

    def __init__(self, selector: Optional[selectors.BaseSelector] = None) -> None:
        self._closed = True  # until everything below exists, for __del__
        self._selector = selector if selector is not None else selectors.DefaultSelector()
        self._ready: Deque[Handle] = collections.deque()
        #: Heap of (when, order, Timer): tuples compare in C, and `order` keeps equal times first-in first-out.
        self._timers: List[Tuple[float, int, Timer]] = []
        self._order = itertools.count()
        self._cancelled_timers = 0
        self._stopping = False
        self._running = False
        self._clock_resolution = time.get_clock_info("monotonic").resolution
        # The self-pipe trick: another thread writes a byte to wake select() up.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r.fileno(), _EVENT_READ, (Handle(self._drain_wakeups, ()), None))
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self._running else "idle"
        return f"<Reactor {state} ready={len(self._ready)} timers={len(self._timers)}>"

    def time(self) -> float:
        """The reactor's clock (monotonic seconds); call_at takes times on it."""
        return _monotonic()

    # --- scheduling ------------------------------------------------------------------------------

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run `callback(*args)` in the next pass, after the callbacks already scheduled."""
        if self._closed:
            raise ReactorClosed("the reactor is closed")
        handle = Handle(callback, args)
        self._ready.append(handle)
        return handle

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` once, `delay` seconds from now; cancel() the Timer to call it off."""
        return self.call_at(_monotonic() + delay, callback, *args)

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` once, when time() reaches `when`."""
        if self._closed:
            raise ReactorClosed("the reactor is closed")
        timer = Timer(when, callback, args, self)
        _heappush(self._timers, (when, next(self._order), timer))
        return timer

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> Handle:
        """call_soon from any thread: queue the callback, then wake select() through the socketpair.

        A callback handed in while the reactor closes is dropped (nothing would run it).
        """
        if self._closed:
            raise ReactorClosed("the reactor is closed")
        handle = Handle(callback, args)
        self._ready.append(handle)  # deque.append is atomic: no lock needed
        try:
            self._wake_w.send(b"\0")
        except OSError:
            # Full (the reactor has wake-ups pending anyway) or closed under us.
            pass
        return handle

    def _drain_wakeups(self) -> None:
        while True:
            try:
                if not self._wake_r.recv(4096):
                    return
            except InterruptedError:
                continue
            except BlockingIOError:
                return

    # --- file descriptors ------------------------------------------------------------------------
    # key.data is (reader, writer): the Handle to run when the fd is readable, and when it is writable.

    def add_reader(self, fd: Any, callback: Callable[..., Any], *args: Any) -> Handle:
        """Call `callback(*args)` whenever `fd` (an int or an object with fileno()) is readable."""
        return self._watch(fd, _EVENT_READ, Handle(callback, args))

    def add_writer(self, fd: Any, callback: Callable[..., Any], *args: Any) -> Handle:
        """Call `callback(*args)` whenever `fd` (an int or an object with fileno()) is writable."""
        return self._watch(fd, _EVENT_WRITE, Handle(callback, args))

    def remove_reader(self, fd: Any) -> bool:
        """Stop watching `fd` for reading; True if it was watched."""
        return self._unwatch(fd, _EVENT_READ)

    def remove_writer(self, fd: Any) -> bool:
        """Stop watching `fd` for writing; True if it was watched."""
        return self._unwatch(fd, _EVENT_WRITE)

    def _watch(self, fd: Any, event: int, handle: Handle) -> Handle:
        if self._closed:
            raise ReactorClosed("the reactor is closed")
        try:
            key = self._selector.get_key(fd)
        except KeyError:
            self._selector.register(fd, event, (handle, None) if event == _EVENT_READ else (None, handle))
            return handle
        reader, writer = key.data
        if event == _EVENT_READ:
            old, reader = reader, handle
        else:
            old, writer = writer, handle
        self._selector.modify(fd, key.events | event, (reader, writer))
        if old is not None:
            old.cancel()  # it may already sit in the ready deque for this pass
        return handle

    def _unwatch(self, fd: Any, event: int) -> bool:
        if self._closed:
            return False
        try:
            key = self._selector.get_key(fd)
        except (KeyError, ValueError):
            return False
        reader, writer = key.data
        if event == _EVENT_READ:
            old, reader = reader, None
        else:
            old, writer = writer, None
        if old is None:
            return False
        mask = key.events & ~event
        if mask:
            self._selector.modify(fd, mask, (reader, writer))
        else:
            self._selector.unregister(fd)
        old.cancel()
        return True

    # --- running ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Turn the reactor until stop() (a stop before run() still lets one pass happen)."""
        if self._closed:
            raise ReactorClosed("the reactor is closed")
        if self._running:
            raise RuntimeError("the reactor is already running")
        self._running = True
        try:
            while True:
                self._run_once()
                if self._stopping:
                    break
        finally:
            self._stopping = False
            self._running = False

    def stop(self) -> None:
        """Return from run() after the current pass. From another thread: call_soon_threadsafe(reactor.stop)."""
        self._stopping = True

    def is_running(self) -> bool:
        return self._running

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Drop every callback and timer, close the selector and the socketpair. File descriptors that
        callers registered stay open: they belong to the callers."""
        if self._running:
            raise RuntimeError("cannot close a running reactor; stop() it first")
        if self._closed:
            return
        self._closed = True
        self._ready.clear()
        self._timers.clear()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> Reactor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self, _warn: Callable[..., Any] = warnings.warn) -> None:
        if not getattr(self, "_closed", True):
            _warn(f"unclosed reactor {self!r}", ResourceWarning, source=self)

    def handle_error(self, handle: Any, exc: BaseException) -> None:
        """An exception escaped a callback: log it, and go on (override to do otherwise)."""
        log.error("exception in callback %r", handle, exc_info=(type(exc), exc, exc.__traceback__))

    def _run_once(self) -> None:
        ready = self._ready
        timers = self._timers

        if self._cancelled_timers > _MIN_CANCELLED_TIMERS and self._cancelled_timers * 2 > len(timers):
            live = []
            for entry in timers:
                if entry[2].cancelled:
                    entry[2]._reactor = None
                else:
                    live.append(entry)
            heapq.heapify(live)
            timers[:] = live
            self._cancelled_timers = 0
        else:
            while timers and timers[0][2].cancelled:
                self._cancelled_timers -= 1
                _heappop(timers)[2]._reactor = None

        # Block in select() only when nothing is ready, and never past the nearest timer.
        if ready or self._stopping:
            timeout: Optional[float] = 0
        elif timers:
            timeout = min(max(0.0, timers[0][0] - _monotonic()), MAXIMUM_SELECT_TIMEOUT)
        else:
            timeout = None

        for key, mask in self._selector.select(timeout):
            reader, writer = key.data
            if mask & _EVENT_READ and reader is not None:
                ready.append(reader)
            if mask & _EVENT_WRITE and writer is not None:
                ready.append(writer)

        if timers:
            end = _monotonic() + self._clock_resolution
            while timers and timers[0][0] < end:
                timer = _heappop(timers)[2]
                timer._reactor = None
                if timer.cancelled:
                    self._cancelled_timers -= 1
                else:
                    ready.append(timer)

        # Only what is ready now: a callback that schedules another cannot starve I/O and timers.
        for _ in range(len(ready)):
            handle = ready.popleft()
            if handle.cancelled:
                continue
            try:
                handle.callback(*handle.args)
            except Exception as exc:
                self.handle_error(handle, exc)
