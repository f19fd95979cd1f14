"""EventLoop: a ready queue, a heap of timers and a selector, turned by `_run_once` until stopped.

Read top to bottom: scheduling callbacks, watching file descriptors, running (run_forever,
run_until_complete, stop, close), the one pass `_run_once`, errors, then the socket and transport
methods, which only hand over to sockets.py and transports.py. `run()` is asyncio.run's counterpart.
"""
from __future__ import annotations

import heapq
import selectors
import socket
import threading
import time
import traceback
import warnings
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from .coroutines import iscoroutine
from .debug import (
    CallbackRun,
    DebugHandle,
    DebugTimerHandle,
    PassRecord,
    debug_from_environment,
    logger,
    traced_handle_types,
)
from .events import Handle, TimerHandle, _get_running_loop, _set_running_loop
from .futures import Future, isfuture
from .tasks import Task, all_tasks, ensure_future, gather

__all__ = ["MAXIMUM_SELECT_TIMEOUT", "EventLoop", "new_event_loop", "run"]

#: select() never blocks longer than this, whatever the next timer says (asyncio's value: one day).
MAXIMUM_SELECT_TIMEOUT = 24 * 3600

#: The timer heap is compacted only when it holds at least this many handles ...
_MIN_SCHEDULED_TIMER_HANDLES = 100
#: ... and more than this fraction of them are cancelled (asyncio's numbers).
_MIN_CANCELLED_TIMER_HANDLES_FRACTION = 0.5

_EVENT_READ = selectors.EVENT_READ
_EVENT_WRITE = selectors.EVENT_WRITE
_heappop = heapq.heappop
_heappush = heapq.heappush
_perf_counter = time.perf_counter


class EventLoop:
    """A from-scratch event loop with asyncio's API (PEP 3156), for generator and native coroutines."""

    def __init__(self, selector: Optional[selectors.BaseSelector] = None, debug: Optional[bool] = None) -> None:
        # Closed until fully built, so that __del__ of a half-built loop has nothing to release.
        self._closed = True
        self._selector = selectors.DefaultSelector() if selector is None else selector
        # Callbacks to run in the next pass, oldest first; Handles only.
        self._ready: Deque[Handle] = deque()
        # Timers as (when, handle). Distinct deadlines compare as floats, in C; equal ones fall through
        # to TimerHandle.__lt__, which compares deadlines only, as asyncio's heap of TimerHandles does.
        # So ties come out in the order asyncio's heap gives them (not first-in first-out: that order
        # depends on the heap's history, and asyncio leaves it undefined), and traces match asyncio's.
        self._scheduled: List[Tuple[float, TimerHandle]] = []
        self._timer_cancelled_count = 0
        self._clock_resolution = time.get_clock_info("monotonic").resolution
        self._stopping = False
        self._thread_id: Optional[int] = None
        self._exception_handler: Optional[Callable[[Any, Dict[str, Any]], Any]] = None
        self._trace: Optional[Callable[[PassRecord], Any]] = None
        self._trace_passes = 0
        self._current_task: Optional[Task] = None
        self._current_handle: Optional[Handle] = None
        self._tasks: set = set()
        #: A callback running longer than this many seconds is logged in debug mode.
        self.slow_callback_duration = 0.1
        self.set_debug(debug_from_environment() if debug is None else debug)
        self._make_self_pipe()
        self._closed = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} running={self.is_running()} closed={self._closed} debug={self._debug}>"

    # Scheduling callbacks.

    def time(self) -> float:
        """The loop's clock: time.monotonic()."""
        return time.monotonic()

    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> Handle:
        """Run `callback(*args)` in the next pass, after the callbacks already waiting."""
        if self._closed:
            raise RuntimeError("Event loop is closed")
        handle = self._handle_type(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> TimerHandle:
        """Run `callback(*args)` after `delay` seconds (or soon after, never before)."""
        if delay is None:
            raise TypeError("delay must not be None")
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> TimerHandle:
        """Run `callback(*args)` when `self.time()` reaches `when`."""
        if self._closed:
            raise RuntimeError("Event loop is closed")
        if when is None:
            raise TypeError("when cannot be None")
        timer = self._timer_type(when, callback, args, self, context)
        _heappush(self._scheduled, (when, timer))
        timer._scheduled = True
        return timer

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> Handle:
        """call_soon from any thread: also wakes the loop if it is blocked in select."""
        # deque.append is atomic, so only the wake-up needs care: one byte on the self-pipe.
        handle = self.call_soon(callback, *args, context=context)
        self._write_to_self()
        return handle

    def _timer_handle_cancelled(self, handle: TimerHandle) -> None:
        # Called by TimerHandle.cancel: the handle stays in the heap until _run_once drops it.
        if handle._scheduled:
            self._timer_cancelled_count += 1

    def _make_self_pipe(self) -> None:
        # A socketpair registered like any reader: another thread writes a byte to wake up select().
        self._ssock, self._csock = socket.socketpair()
        self._ssock.setblocking(False)
        self._csock.setblocking(False)
        self._selector.register(self._ssock.fileno(), _EVENT_READ, (Handle(self._read_from_self, (), self), None))

    def _read_from_self(self) -> None:
        while True:
            try:
                if not self._ssock.recv(4096):
                    break
            except InterruptedError:
                continue
            except BlockingIOError:
                break

    def _write_to_self(self) -> None:
        csock = self._csock
        if csock is None:
            return
        try:
            csock.send(b"\0")
        except OSError:
            # The buffer is full (the loop will wake up anyway) or the loop is closing.
            pass

    # Watching file descriptors. The selector's key.data is the map fd -> (reader, writer).

    def add_reader(self, fd: Any, callback: Callable[..., Any], *args: Any) -> Handle:
        """Call `callback(*args)` whenever `fd` (an int or an object with fileno()) is readable."""
        return self._add_watcher(fd, _EVENT_READ, callback, args)

    def add_writer(self, fd: Any, callback: Callable[..., Any], *args: Any) -> Handle:
        """Call `callback(*args)` whenever `fd` (an int or an object with fileno()) is writable."""
        return self._add_watcher(fd, _EVENT_WRITE, callback, args)

    def remove_reader(self, fd: Any) -> bool:
        """Stop watching `fd` for reading; True if it was watched."""
        return self._remove_watcher(fd, _EVENT_READ)

    def remove_writer(self, fd: Any) -> bool:
        """Stop watching `fd` for writing; True if it was watched."""
        return self._remove_watcher(fd, _EVENT_WRITE)

    def _add_watcher(self, fd: Any, event: int, callback: Callable[..., Any], args: Tuple[Any, ...]) -> Handle:
        if self._closed:
            raise RuntimeError("Event loop is closed")
        handle = self._handle_type(callback, args, self, None)
        try:
            key = self._selector.get_key(fd)
        except KeyError:
            reader, writer = (handle, None) if event == _EVENT_READ else (None, handle)
            self._selector.register(fd, event, (reader, writer))
            return handle
        reader, writer = key.data
        if event == _EVENT_READ:
            old, reader = reader, handle
        else:
            old, writer = writer, handle
        self._selector.modify(fd, key.events | event, (reader, writer))
        if old is not None:
            old.cancel()
        return handle

    def _remove_watcher(self, fd: Any, event: int) -> bool:
        if self._closed:
            return False
        try:
            key = self._selector.get_key(fd)
        except KeyError:
            return False
        reader, writer = key.data
        if event == _EVENT_READ:
            old, reader = reader, None
        else:
            old, writer = writer, None
        mask = key.events & ~event
        if mask:
            self._selector.modify(fd, mask, (reader, writer))
        else:
            self._selector.unregister(fd)
        if old is None:
            return False
        old.cancel()
        return True

    # Futures and tasks.

    def create_future(self) -> Future:
        return Future(loop=self)

    def create_task(self, coro: Any, *, name: Optional[str] = None, context: Any = None) -> Task:
        """Wrap a coroutine in a Task; its first step runs in the next pass."""
        if self._closed:
            raise RuntimeError("Event loop is closed")
        return Task(coro, loop=self, name=name, context=context)

    # Running.

    def run_forever(self) -> None:
        """Turn the loop until stop() is called."""
        self._check_runnable()
        self._thread_id = threading.get_ident()
        _set_running_loop(self)
        try:
            while True:
                self._run_once()
                if self._stopping:
                    break
        finally:
            self._stopping = False
            self._thread_id = None
            _set_running_loop(None)

    def run_until_complete(self, future: Any) -> Any:
        """Run until `future` (a Future, or a coroutine wrapped in a Task) is done; return its result."""
        self._check_runnable()
        new_task = not isfuture(future)
        future = ensure_future(future, loop=self)
        # The talk's version (docs/talk.md#slide-9) added a callback that raised a private _StopError, which unwound
        # _run_once and run_forever from inside a Handle. asyncio replaced that (3.5) with stop(): the
        # current pass finishes its callbacks, then run_forever returns. We do the same.
        future.add_done_callback(_run_until_complete_cb)
        try:
            self.run_forever()
        except BaseException:
            if new_task and future.done() and not future.cancelled():
                future.exception()  # The exception propagates from here; do not report it again.
            raise
        finally:
            future.remove_done_callback(_run_until_complete_cb)
        if not future.done():
            raise RuntimeError("Event loop stopped before Future completed.")
        return future.result()

    def stop(self) -> None:
        """Stop after the current pass (or after one pass, if the loop is not running yet)."""
        self._stopping = True

    def is_running(self) -> bool:
        return self._thread_id is not None

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Drop every pending callback and release the selector; a closed loop cannot run again."""
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self._closed:
            return
        if self._debug:
            logger.debug("Close %r", self)
        self._closed = True
        self._ready.clear()
        self._scheduled.clear()
        self._timer_cancelled_count = 0
        self._selector.unregister(self._ssock.fileno())
        self._ssock.close()
        self._csock.close()
        self._csock = None  # type: ignore[assignment]  # a closed loop wakes nobody
        self._selector.close()

    def __del__(self, _warn: Callable[..., Any] = warnings.warn) -> None:
        if not getattr(self, "_closed", True):
            _warn(f"unclosed event loop {self!r}", ResourceWarning, source=self)
            if not self.is_running():
                self.close()

    def _check_runnable(self) -> None:
        if self._closed:
            raise RuntimeError("Event loop is closed")
        if self.is_running():
            raise RuntimeError("This event loop is already running")
        if _get_running_loop() is not None:
            raise RuntimeError("Cannot run the event loop while another loop is running")

    # One pass: the talk's slide 10 (docs/talk.md#slide-10).

    def _run_once(self) -> None:
        ready = self._ready
        scheduled = self._scheduled
        trace = self._trace

        # 1. Cancelled timers are left in the heap (removing from the middle of a heap is costly) and
        # dropped here: from the top one by one, or all at once when they are most of the heap.
        if (
            len(scheduled) > _MIN_SCHEDULED_TIMER_HANDLES
            and self._timer_cancelled_count > len(scheduled) * _MIN_CANCELLED_TIMER_HANDLES_FRACTION
        ):
            live = []
            for entry in scheduled:
                if entry[1]._cancelled:
                    entry[1]._scheduled = False
                else:
                    live.append(entry)
            heapq.heapify(live)
            scheduled[:] = live
            self._timer_cancelled_count = 0
        else:
            while scheduled and scheduled[0][1]._cancelled:
                self._timer_cancelled_count -= 1
                _heappop(scheduled)[1]._scheduled = False

        # 2. How long may select block? Not at all if callbacks are waiting (or a stop is pending),
        # else until the nearest timer, else until a file descriptor is ready.
        if ready or self._stopping:
            timeout: Optional[float] = 0
        elif scheduled:
            timeout = min(max(0.0, scheduled[0][0] - self.time()), MAXIMUM_SELECT_TIMEOUT)
        else:
            timeout = None

        # 3. Wait for I/O; every ready file descriptor puts its reader and/or writer in the ready queue.
        if trace is not None:
            select_started = _perf_counter()
        event_list = self._selector.select(timeout)
        if trace is not None:
            select_time = _perf_counter() - select_started
        for key, mask in event_list:
            reader, writer = key.data
            if mask & _EVENT_READ and reader is not None:
                if reader._cancelled:
                    self.remove_reader(key.fileobj)
                else:
                    ready.append(reader)
            if mask & _EVENT_WRITE and writer is not None:
                if writer._cancelled:
                    self.remove_writer(key.fileobj)
                else:
                    ready.append(writer)
        after_io = len(ready)

        # 4. Every timer due (within the clock's resolution) moves from the heap to the ready queue.
        end_time = self.time() + self._clock_resolution
        while scheduled:
            if scheduled[0][0] >= end_time:
                break
            timer = _heappop(scheduled)[1]
            timer._scheduled = False
            if timer._cancelled:
                self._timer_cancelled_count -= 1
            else:
                ready.append(timer)

        # 5. Run the callbacks that are ready now, and only those: what they schedule waits for the next
        # pass, so that a callback rescheduling itself cannot starve I/O and timers.
        ntodo = len(ready)
        if trace is None and not self._debug:
            # Handle._run inlined: one Python frame less for every callback of every pass.
            for _ in range(ntodo):
                handle = ready.popleft()
                if handle._cancelled:
                    continue
                try:
                    if handle._args:
                        handle._context.run(handle._callback, *handle._args)
                    else:
                        handle._context.run(handle._callback)
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:
                    handle._report(exc)
        elif trace is None:
            for _ in range(ntodo):
                handle = ready.popleft()
                if handle._cancelled:
                    continue
                handle._run()
        else:
            # The same loop, timing each callback, for the trace hook (PassRecord).
            runs = []
            run_started = _perf_counter()
            for _ in range(ntodo):
                handle = ready.popleft()
                if handle._cancelled:
                    continue
                callback, args = handle._callback, handle._args  # a reader may cancel itself as it runs
                self._current_handle = handle
                started = _perf_counter()
                try:
                    handle._run()
                finally:
                    self._current_handle = None
                runs.append(CallbackRun(callback, args, handle, started, _perf_counter() - started))
            self._trace_passes += 1
            record = PassRecord(
                self._trace_passes, timeout, select_time, tuple(key.fd for key, _ in event_list),
                ntodo - after_io, tuple(run.callback for run in runs), _perf_counter() - run_started,
                select_started, tuple(runs),
            )
            try:
                trace(record)
            except Exception as exc:
                self.call_exception_handler({"message": "Exception in the trace hook", "exception": exc})

    # Debug mode and the trace hook (debug.py holds their machinery).

    def get_debug(self) -> bool:
        return self._debug

    def set_debug(self, enabled: bool) -> None:
        """In debug mode handles remember where they were scheduled and log callbacks that run slowly."""
        self._debug = bool(enabled)
        if self._debug:
            self._handle_type: type = DebugHandle
            self._timer_type: type = DebugTimerHandle
        else:
            self._handle_type = Handle
            self._timer_type = TimerHandle
        if self._trace is not None:
            self._handle_type, self._timer_type = traced_handle_types(self._debug)

    def set_trace(self, trace: Optional[Callable[[PassRecord], Any]]) -> None:
        """Call `trace(record)` after every pass with a PassRecord; None switches it off."""
        if trace is not None and not callable(trace):
            raise TypeError(f"A callable object or None is expected, got {trace!r}")
        self._trace = trace
        self._trace_passes = 0
        # While tracing, handles remember the line that scheduled them: set_debug picks their classes.
        self.set_debug(self._debug)

    def get_trace(self) -> Optional[Callable[[PassRecord], Any]]:
        return self._trace

    # Errors: an exception escaping a callback is reported here, and the loop goes on.

    def set_exception_handler(self, handler: Optional[Callable[[Any, Dict[str, Any]], Any]]) -> None:
        """Use `handler(loop, context)` for exceptions nobody caught; None restores the default."""
        if handler is not None and not callable(handler):
            raise TypeError(f"A callable object or None is expected, got {handler!r}")
        self._exception_handler = handler

    def get_exception_handler(self) -> Optional[Callable[[Any, Dict[str, Any]], Any]]:
        return self._exception_handler

    def default_exception_handler(self, context: Dict[str, Any]) -> None:
        """Log the context: its message, the exception with its traceback, and every other key."""
        message = context.get("message") or "Unhandled exception in event loop"
        exception = context.get("exception")
        exc_info: Any = (type(exception), exception, exception.__traceback__) if exception is not None else False
        if (
            "source_traceback" not in context
            and self._current_handle is not None
            and self._current_handle._source_traceback
        ):
            context["handle_traceback"] = self._current_handle._source_traceback
        lines = [message]
        for key in sorted(context):
            if key in ("message", "exception"):
                continue
            value = context[key]
            if key == "source_traceback":
                value = "Object created at (most recent call last):\n" + _format_stack(value)
            elif key == "handle_traceback":
                value = "Handle created at (most recent call last):\n" + _format_stack(value)
            else:
                value = repr(value)
            lines.append(f"{key}: {value}")
        logger.error("\n".join(lines), exc_info=exc_info)

    def call_exception_handler(self, context: Dict[str, Any]) -> None:
        """Hand `context` (message, exception, handle/future/task) to the handler; never raises."""
        if self._exception_handler is None:
            try:
                self.default_exception_handler(context)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException:
                logger.error("Exception in default exception handler", exc_info=True)
            return
        try:
            self._exception_handler(self, context)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            try:
                self.default_exception_handler(
                    {"message": "Unhandled error in exception handler", "exception": exc, "context": context}
                )
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException:
                logger.error("Exception in default exception handler", exc_info=True)

    # Sockets, transports and servers: the loop's methods of asyncio, done in sockets.py and transports.py.

    def sock_recv(self, sock: socket.socket, n: int) -> Any:
        from . import sockets

        return sockets.sock_recv(self, sock, n)

    def sock_recv_into(self, sock: socket.socket, buf: Any) -> Any:
        from . import sockets

        return sockets.sock_recv_into(self, sock, buf)

    def sock_sendall(self, sock: socket.socket, data: Any) -> Any:
        from . import sockets

        return sockets.sock_sendall(self, sock, data)

    def sock_connect(self, sock: socket.socket, address: Any) -> Any:
        from . import sockets

        return sockets.sock_connect(self, sock, address)

    def sock_accept(self, sock: socket.socket) -> Any:
        from . import sockets

        return sockets.sock_accept(self, sock)

    def create_connection(
        self, protocol_factory: Callable[[], Any], host: Optional[str] = None, port: Optional[int] = None,
        *, sock: Optional[socket.socket] = None,
    ) -> Any:
        from . import transports

        return transports.create_connection(self, protocol_factory, host, port, sock=sock)

    def create_server(
        self, protocol_factory: Callable[[], Any], host: Optional[str] = None, port: Optional[int] = None,
        *, sock: Optional[socket.socket] = None, backlog: int = 100, reuse_address: Optional[bool] = None,
    ) -> Any:
        from . import transports

        return transports.create_server(
            self, protocol_factory, host, port, sock=sock, backlog=backlog, reuse_address=reuse_address
        )


def _format_stack(stack: Any) -> str:
    return "".join(traceback.format_list(stack)).rstrip()


def _run_until_complete_cb(fut: Future) -> None:
    if not fut.cancelled():
        exc = fut.exception()
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            # The exception itself breaks out of run_forever; stopping would only delay it.
            return
    fut.get_loop().stop()


def new_event_loop(debug: Optional[bool] = None) -> EventLoop:
    """A new EventLoop on the default selector."""
    return EventLoop(debug=debug)


def run(coro: Any, *, debug: Optional[bool] = None) -> Any:
    """Run `coro` on a new loop until it is done, cancel the tasks it left behind, close the loop."""
    if _get_running_loop() is not None:
        raise RuntimeError("run() cannot be called from a running event loop")
    if not iscoroutine(coro):
        raise ValueError(f"a coroutine was expected, got {coro!r}")
    loop = new_event_loop(debug=debug)
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            _cancel_all_tasks(loop)
        finally:
            loop.close()


def _cancel_all_tasks(loop: EventLoop) -> None:
    leftovers = all_tasks(loop)
    if not leftovers:
        return
    for task in leftovers:
        task.cancel()
    loop.run_until_complete(gather(*leftovers, return_exceptions=True))
    for task in leftovers:
        if task.cancelled():
            continue
        if task.exception() is not None:
            loop.call_exception_handler(
                {"message": "unhandled exception during run() shutdown", "exception": task.exception(), "task": task}
            )

