"""Handles (a callback scheduled on the loop) and the per-thread record of the running loop.

A Handle is what `call_soon` puts in the ready queue; a TimerHandle is what `call_at` puts in the timer
heap. Both are as small as asyncio's: `__slots__`, and a `_run` that does one thing.
"""
from __future__ import annotations

import contextvars
import functools
import reprlib
import threading
from typing import Any, Callable, List, Optional, Tuple

__all__ = ["Handle", "TimerHandle", "format_callback", "get_running_loop"]

_copy_context = contextvars.copy_context


class Handle:
    """A callback with its arguments and its contextvars context, waiting in the loop's ready queue."""

    __slots__ = ("_args", "_callback", "_cancelled", "_context", "_loop", "_source_traceback")

    def __init__(
        self,
        callback: Callable[..., Any],
        args: Tuple[Any, ...],
        loop: Any,
        context: Optional[contextvars.Context] = None,
    ) -> None:
        # asyncio runs every callback in a copy of the context current when it was scheduled, so that a
        # contextvar set inside one callback (or task) does not leak into the others.
        self._context = _copy_context() if context is None else context
        self._loop = loop
        self._callback = callback
        self._args = args
        self._cancelled = False
        # Filled by the debug mode's handles only (debug.py): where this callback was scheduled.
        self._source_traceback: Optional[List[Any]] = None

    def cancel(self) -> None:
        """Do not run the callback; the loop drops the handle when it reaches it."""
        if not self._cancelled:
            self._cancelled = True
            # Let go of the callback and its arguments now: a cancelled timer may sit in the heap for long.
            self._callback = None  # type: ignore[assignment]  # nothing calls a cancelled handle
            self._args = None  # type: ignore[assignment]

    def cancelled(self) -> bool:
        return self._cancelled

    def get_context(self) -> contextvars.Context:
        return self._context

    def _run(self) -> None:
        try:
            if self._args:
                self._context.run(self._callback, *self._args)
            else:  # readers and most callbacks: no tuple to build for the star call
                self._context.run(self._callback)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._report(exc)

    def _report(self, exc: BaseException) -> None:
        # Off the hot path: an exception escaping a callback goes to the loop's handler; the loop goes on.
        context = {
            "message": f"Exception in callback {format_callback(self._callback, self._args)}",
            "exception": exc,
            "handle": self,
        }
        if self._source_traceback:
            context["source_traceback"] = self._source_traceback
        self._loop.call_exception_handler(context)

    def _repr_info(self) -> List[str]:
        info = [type(self).__name__]
        if self._cancelled:
            info.append("cancelled")
        else:
            info.append(format_callback(self._callback, self._args))
        if self._source_traceback:
            frame = self._source_traceback[-1]
            info.append(f"created at {frame[0]}:{frame[1]}")
        return info

    def __repr__(self) -> str:
        return "<{}>".format(" ".join(self._repr_info()))


class TimerHandle(Handle):
    """A Handle due at a time on the loop's clock (`loop.time()`); it sits in the timer heap until then."""

    __slots__ = ("_scheduled", "_when")

    def __init__(
        self,
        when: float,
        callback: Callable[..., Any],
        args: Tuple[Any, ...],
        loop: Any,
        context: Optional[contextvars.Context] = None,
    ) -> None:
        Handle.__init__(self, callback, args, loop, context)
        self._when = when
        # True while the handle is in the loop's heap: only then does a cancel count towards compaction.
        self._scheduled = False

    def when(self) -> float:
        """The time, on the loop's clock, at which the callback is due."""
        return self._when

    def __lt__(self, other: TimerHandle) -> bool:
        # Reached only for equal deadlines (the heap holds (when, handle) pairs): never less, as in asyncio.
        return self._when < other._when

    def cancel(self) -> None:
        if not self._cancelled and self._scheduled:
            self._loop._timer_handle_cancelled(self)
        Handle.cancel(self)

    def _repr_info(self) -> List[str]:
        info = Handle._repr_info(self)
        info.insert(1, f"when={self._when}")
        return info


# Describing a callback for logs and reprs: a name a person recognises, never the whole object.

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40


def format_callback(callback: Any, args: Optional[Tuple[Any, ...]] = (), *, source: bool = True) -> str:
    """`name(arg, ...)`, and with `source` the defining file and line when the callback is a function."""
    if isinstance(callback, functools.partial):
        return format_callback(callback.func, callback.args + tuple(args or ()), source=source)
    func = getattr(callback, "__func__", callback)
    name = getattr(callback, "__qualname__", None) or getattr(callback, "__name__", None) or repr(callback)
    text = "{}({})".format(name, ", ".join(_short.repr(arg) for arg in args or ()))
    code = getattr(func, "__code__", None)
    if source and code is not None:
        text += f" at {code.co_filename}:{code.co_firstlineno}"
    return text


# Which loop runs in this thread: set by run_forever, read by every helper that needs "the" loop.

class _RunningLoop(threading.local):
    loop: Any = None


_running = _RunningLoop()


def get_running_loop() -> Any:
    """The loop running in this thread; RuntimeError when there is none."""
    loop = _running.loop
    if loop is None:
        raise RuntimeError("no running event loop")
    return loop


def _get_running_loop() -> Any:
    """The loop running in this thread, or None."""
    return _running.loop


def _set_running_loop(loop: Any) -> None:
    _running.loop = loop
