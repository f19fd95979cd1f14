"""Debug mode and the trace hook: everything that watches the loop, kept apart from what runs it.

Debug mode swaps in handles that time themselves and remember where they were scheduled, and wraps
generator coroutines so that one never scheduled is reported. When it is off, none of this code runs.
The trace hook's record, PassRecord, is defined here too; the loop fills it only while a trace is set.
"""
from __future__ import annotations

import inspect
import logging
import os
import sys
import time
import traceback
from types import FrameType
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

from .events import Handle, TimerHandle, format_callback

__all__ = [
    "COROUTINE_DEBUG",
    "DEBUG_STACK_DEPTH",
    "DEBUG_VARIABLE",
    "CallbackRun",
    "CoroWrapper",
    "DebugHandle",
    "DebugTimerHandle",
    "PassRecord",
    "ScheduleSite",
    "TracedHandle",
    "TracedTimerHandle",
    "debug_from_environment",
    "extract_stack",
    "logger",
    "traced_handle_types",
]

#: The loop's logger: slow callbacks, exceptions nobody retrieved, coroutines nobody scheduled.
logger = logging.getLogger("modern.loop")

#: Set to 1 to start every loop in debug mode (the role PYTHONASYNCIODEBUG plays for asyncio).
DEBUG_VARIABLE = "GG_LOOP_DEBUG"

#: How many frames a source traceback keeps (asyncio keeps 10 too).
DEBUG_STACK_DEPTH = 10

#: This package's own module names start so; their frames are left out of "created at" tracebacks.
_OWN_MODULES = __name__.rpartition(".")[0] + "."


def debug_from_environment() -> bool:
    """True in Python's development mode (-X dev, PYTHONDEVMODE=1), as for asyncio, or when
    GG_LOOP_DEBUG is set to something other than empty or 0."""
    return sys.flags.dev_mode or os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


#: Read once at import, as asyncio reads its variable: `coroutine` decides at decoration time.
COROUTINE_DEBUG = debug_from_environment()


def extract_stack(frame: Optional[FrameType] = None) -> List[Any]:
    """The caller's stack, outermost first, starting at the first frame outside this package."""
    if frame is None:
        frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(_OWN_MODULES):
        frame = frame.f_back
    stack = traceback.StackSummary.extract(
        traceback.walk_stack(frame), limit=DEBUG_STACK_DEPTH, lookup_lines=False
    )
    stack.reverse()
    return stack


# Handles that time themselves: the loop creates these instead of Handle/TimerHandle in debug mode, so
# `_run_once` stays the same plain loop either way.

def _check_callback(callback: Any) -> None:
    # A coroutine passed where a callback belongs would be called, do nothing, and be lost.
    if inspect.iscoroutine(callback) or inspect.isgenerator(callback) or inspect.iscoroutinefunction(callback):
        raise TypeError(f"coroutines cannot be used as callbacks: {callback!r}; wrap them in a Task")
    if not callable(callback):
        raise TypeError(f"a callable object was expected, got {callback!r}")


def _timed_run(handle: Handle, run: Callable[[Handle], None]) -> None:
    loop = handle._loop
    loop._current_handle = handle
    started = time.perf_counter()
    try:
        run(handle)
    finally:
        loop._current_handle = None
    took = time.perf_counter() - started
    if took >= loop.slow_callback_duration:
        logger.warning("Executing %r took %.3f seconds", handle, took)


class DebugHandle(Handle):
    """A Handle that checks its callback, remembers where it was scheduled, and logs itself if slow."""

    __slots__ = ()

    def __init__(self, callback: Callable[..., Any], args: Tuple[Any, ...], loop: Any, context: Any = None):
        _check_callback(callback)
        Handle.__init__(self, callback, args, loop, context)
        self._source_traceback = extract_stack(sys._getframe(1))

    def _run(self) -> None:
        _timed_run(self, Handle._run)


class DebugTimerHandle(TimerHandle):
    """A TimerHandle that remembers where it was scheduled and logs itself when it runs too long."""

    __slots__ = ()

    def __init__(
        self, when: float, callback: Callable[..., Any], args: Tuple[Any, ...], loop: Any, context: Any = None
    ):
        _check_callback(callback)
        TimerHandle.__init__(self, when, callback, args, loop, context)
        self._source_traceback = extract_stack(sys._getframe(1))

    def _run(self) -> None:
        _timed_run(self, TimerHandle._run)


# Handles that say where they came from: the loop creates these while a trace is set, so that the trace can
# name the line that scheduled each callback. Nothing here runs otherwise.

#: How many frames outside this package a ScheduleSite keeps, innermost first.
SITE_STACK_DEPTH = 6


class ScheduleSite(NamedTuple):
    """Where and when a traced handle was made: the loop API that made it, and the code that called it."""

    #: The outermost function of this package on the way (`create_task`, `sock_recv`, `call_later`,
    #: `set_result` ...): the API the caller used, or the callback of the loop that scheduled it.
    api: str
    #: The pass being run when it was scheduled (0: before the first traced pass).
    pass_number: int
    #: time.perf_counter() when it was scheduled.
    time: float
    #: (filename, line, function) of the frames outside this package that led here, innermost first; empty
    #: when the loop itself scheduled it from inside a callback (a reader, a future's done callbacks).
    stack: Tuple[Tuple[str, int, str], ...]
    #: The file descriptor, for a reader or writer (add_reader, add_writer); else None.
    fd: Optional[int]
    #: "reader", "writer", "timer" or "soon".
    kind: str
    #: The handle whose callback was running when this one was scheduled, if any.
    parent: Any


#: Where a walk up from a scheduling call stops: the loop running a callback, not code that called the loop.
_LOOP_RUNNERS = ("_run_once", "_run")


def _schedule_site(loop: Any, frame: Optional[FrameType], kind: str) -> ScheduleSite:
    api, fd = "", None
    while frame is not None and frame.f_globals.get("__name__", "").startswith(_OWN_MODULES):
        code = frame.f_code
        if code.co_name in _LOOP_RUNNERS:
            break
        if code.co_name == "_add_watcher":
            watched: Any = frame.f_locals.get("fd")
            fd = watched if isinstance(watched, int) else watched.fileno()
            kind = "reader" if frame.f_locals.get("event") == 1 else "writer"
        if not code.co_name.startswith("__") or not api:
            api = code.co_name
        frame = frame.f_back
    stack: List[Tuple[str, int, str]] = []
    # Up to the loop that runs this code, if it runs in a callback: what lies beyond is the loop's caller.
    while frame is not None and len(stack) < SITE_STACK_DEPTH and not \
            frame.f_globals.get("__name__", "").startswith(_OWN_MODULES):
        stack.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return ScheduleSite(api, loop._trace_passes + 1 if loop.is_running() else loop._trace_passes,
                        time.perf_counter(), tuple(stack), fd, kind, loop._current_handle)


class TracedHandle(Handle):
    """A Handle that remembers its ScheduleSite, for the trace hook."""

    __slots__ = ("_site",)

    def __init__(self, callback: Callable[..., Any], args: Tuple[Any, ...], loop: Any, context: Any = None):
        Handle.__init__(self, callback, args, loop, context)
        self._site = _schedule_site(loop, sys._getframe(1), "soon")


class TracedTimerHandle(TimerHandle):
    """A TimerHandle that remembers its ScheduleSite, for the trace hook."""

    __slots__ = ("_site",)

    def __init__(
        self, when: float, callback: Callable[..., Any], args: Tuple[Any, ...], loop: Any, context: Any = None
    ):
        TimerHandle.__init__(self, when, callback, args, loop, context)
        self._site = _schedule_site(loop, sys._getframe(1), "timer")


class TracedDebugHandle(DebugHandle):
    """A DebugHandle that also remembers its ScheduleSite: debug mode and a trace at once."""

    __slots__ = ("_site",)

    def __init__(self, callback: Callable[..., Any], args: Tuple[Any, ...], loop: Any, context: Any = None):
        DebugHandle.__init__(self, callback, args, loop, context)
        self._site = _schedule_site(loop, sys._getframe(1), "soon")


class TracedDebugTimerHandle(DebugTimerHandle):
    """A DebugTimerHandle that also remembers its ScheduleSite."""

    __slots__ = ("_site",)

    def __init__(
        self, when: float, callback: Callable[..., Any], args: Tuple[Any, ...], loop: Any, context: Any = None
    ):
        DebugTimerHandle.__init__(self, when, callback, args, loop, context)
        self._site = _schedule_site(loop, sys._getframe(1), "timer")


def traced_handle_types(debug: bool) -> Tuple[type, type]:
    """The (handle, timer handle) classes a traced loop makes, with or without debug mode."""
    return (TracedDebugHandle, TracedDebugTimerHandle) if debug else (TracedHandle, TracedTimerHandle)


# The trace hook's record: one per pass of `_run_once`, built only while a trace is set.

class CallbackRun(NamedTuple):
    """One callback run by a traced pass: what it was, and when and how long it ran."""

    callback: Any
    args: Tuple[Any, ...]
    #: The handle (a TracedHandle carries its ScheduleSite as `_site`).
    handle: Any
    #: time.perf_counter() when it started.
    started: float
    duration: float


class PassRecord(NamedTuple):
    """What one turn of the loop did, in the order it did it."""

    #: Passes counted since the trace was set, from 1.
    number: int
    #: How long select was allowed to block: 0 when callbacks were ready, None for "until an fd is ready".
    timeout: Optional[float]
    #: Seconds spent inside select.
    select_time: float
    #: The file descriptors select reported ready (the loop's own wake-up socket included).
    fds: Tuple[int, ...]
    #: How many timers fell due in this pass and moved to the ready queue.
    timers_due: int
    #: The callbacks run in this pass, in order (cancelled handles are skipped and not listed).
    callbacks: Tuple[Any, ...]
    #: Seconds spent running them.
    callback_time: float
    #: time.perf_counter() when select was called.
    started: float = 0.0
    #: Each callback run, timed, in order (the same callbacks as `callbacks`).
    runs: Tuple[CallbackRun, ...] = ()

    def describe(self) -> str:
        """One line a person can read: `pass 3: select 0.000s (fds 5), 1 timer due, ran f(), g()`."""
        names = ", ".join(format_callback(cb, (), source=False) for cb in self.callbacks)
        fds = ", ".join(str(fd) for fd in self.fds) or "none"
        return (
            f"pass {self.number}: select {self.select_time:.6f}s (fds {fds}), "
            f"{self.timers_due} timer(s) due, ran {len(self.callbacks)} in {self.callback_time:.6f}s: {names}"
        )


# Coroutines never scheduled: a generator coroutine that nobody iterates does nothing, silently (native
# coroutines get Python's own "never awaited" warning). In debug mode `coroutine` wraps each one.

class CoroWrapper:
    """A generator coroutine that logs an error if it is garbage collected without having started."""

    def __init__(self, gen: Any, func: Any = None) -> None:
        self.gen = gen
        self.func = func
        self._source_traceback = extract_stack(sys._getframe(1))
        self.__name__ = getattr(gen, "__name__", None)
        self.__qualname__ = getattr(gen, "__qualname__", None)

    def __repr__(self) -> str:
        return f"<CoroWrapper {self.__qualname__} {inspect.getgeneratorstate(self.gen)}>"

    def __iter__(self) -> CoroWrapper:
        return self

    __await__ = __iter__

    def __next__(self) -> Any:
        return self.gen.send(None)

    def send(self, value: Any) -> Any:
        return self.gen.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        # `yield from` and `await` hand a non-generator the old (type, value, traceback) triple, which
        # generators refuse with a DeprecationWarning since 3.12: pass one exception instance on.
        exc = typ if val is None else val
        if isinstance(exc, type):
            exc = exc()
        if tb is not None:
            exc = exc.with_traceback(tb)
        return self.gen.throw(exc)

    def close(self) -> None:
        self.gen.close()

    @property
    def gi_frame(self) -> Any:
        return self.gen.gi_frame

    @property
    def gi_running(self) -> bool:
        return self.gen.gi_running

    @property
    def gi_code(self) -> Any:
        return self.gen.gi_code

    @property
    def gi_yieldfrom(self) -> Any:
        return self.gen.gi_yieldfrom

    def __del__(self) -> None:
        gen = getattr(self, "gen", None)
        if gen is None or inspect.getgeneratorstate(gen) != inspect.GEN_CREATED:
            return
        message = f"{self!r} was never yielded from"
        if self._source_traceback:
            created = "".join(traceback.format_list(self._source_traceback)).rstrip()
            message += f"\nCoroutine object created at (most recent call last):\n{created}"
        logger.error(message)
