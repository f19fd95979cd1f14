"""Future: the promise of a result or an exception, and the object a coroutine waits on.

`yield from future` (or `await future`) suspends the coroutine until the Future is done: `__iter__`
yields the Future itself to the Task driving the coroutine, which resumes it when the result is there.
Done-callbacks always run later, from the loop, never inside `set_result`.
"""
from __future__ import annotations

import contextvars
import reprlib
from typing import Any, Callable, Dict, Generator, List, Optional, Tuple

from . import debug
from .events import format_callback, get_running_loop
from .exceptions import CancelledError, InvalidStateError

__all__ = ["Future", "isfuture"]

# States are identities (compared with `is`): a Future moves from PENDING to one of the other two, once.
_PENDING = "PENDING"
_CANCELLED = "CANCELLED"
_FINISHED = "FINISHED"

_copy_context = contextvars.copy_context


def isfuture(obj: Any) -> bool:
    """True for a Future of this loop, or any object that follows asyncio's Future protocol."""
    # Asked of the class first, so that the Future class itself (whose slot is a descriptor) is no future.
    return hasattr(type(obj), "_asyncio_future_blocking") and obj._asyncio_future_blocking is not None


class Future:
    """A result that is not there yet; bound to one loop, whose `call_soon` runs its done-callbacks."""

    __slots__ = (
        "_asyncio_future_blocking",
        "_callbacks",
        "_cancel_message",
        "_cancelled_exc",
        "_exception",
        "_exception_tb",
        "_log_traceback",
        "_loop",
        "_result",
        "_source_traceback",
        "_state",
    )

    def __init__(self, *, loop: Any = None) -> None:
        # True while an exception is set and nobody has looked at it: __del__ then reports it. Set first,
        # so that __del__ finds it even when finding the loop below fails.
        self._log_traceback = False
        self._loop = get_running_loop() if loop is None else loop
        self._state = _PENDING
        self._result: Any = None
        self._exception: Optional[BaseException] = None
        self._exception_tb: Any = None
        self._callbacks: List[Tuple[Callable[[Any], Any], contextvars.Context]] = []
        self._cancel_message: Optional[str] = None
        self._cancelled_exc: Optional[CancelledError] = None
        # The name asyncio gives it, because it is the protocol a Task recognises a future by: set to
        # True by __iter__ just before the Future yields itself to the Task.
        self._asyncio_future_blocking = False
        self._source_traceback = debug.extract_stack() if self._loop._debug else None

    def get_loop(self) -> Any:
        return self._loop

    # The state.

    def done(self) -> bool:
        return self._state is not _PENDING

    def cancelled(self) -> bool:
        return self._state is _CANCELLED

    def result(self) -> Any:
        """The result; raises the exception set instead, CancelledError, or InvalidStateError if not done."""
        if self._state is _FINISHED:
            self._log_traceback = False
            if self._exception is not None:
                # Raised with the traceback it had when set, so that calling result() twice does not
                # grow the traceback (asyncio does the same since 3.11).
                raise self._exception.with_traceback(self._exception_tb)
            return self._result
        if self._state is _CANCELLED:
            raise self._make_cancelled_error()
        raise InvalidStateError("Result is not ready.")

    def exception(self) -> Optional[BaseException]:
        """The exception set (None after a result); CancelledError or InvalidStateError as result()."""
        if self._state is _FINISHED:
            self._log_traceback = False
            return self._exception
        if self._state is _CANCELLED:
            raise self._make_cancelled_error()
        raise InvalidStateError("Exception is not set.")

    def set_result(self, result: Any) -> None:
        if self._state is not _PENDING:
            raise InvalidStateError(f"{self._state}: {self!r}")
        self._result = result
        self._state = _FINISHED
        self._schedule_callbacks()

    def set_exception(self, exception: Any) -> None:
        if self._state is not _PENDING:
            raise InvalidStateError(f"{self._state}: {self!r}")
        if isinstance(exception, type):
            exception = exception()
        if isinstance(exception, StopIteration):
            # A StopIteration raised out of a generator would end it silently (PEP 479): wrap it, as
            # asyncio 3.13 does (3.8 to 3.12 raised TypeError instead).
            wrapped = RuntimeError(
                "StopIteration interacts badly with generators and cannot be raised into a Future"
            )
            wrapped.__cause__ = exception
            wrapped.__context__ = exception
            exception = wrapped
        self._exception = exception
        self._exception_tb = exception.__traceback__
        self._state = _FINISHED
        self._log_traceback = True
        self._schedule_callbacks()

    def cancel(self, msg: Optional[str] = None) -> bool:
        """Cancel the Future if it is pending; True if it is now cancelled by this call."""
        self._log_traceback = False
        if self._state is not _PENDING:
            return False
        self._state = _CANCELLED
        self._cancel_message = msg
        self._schedule_callbacks()
        return True

    def _make_cancelled_error(self) -> CancelledError:
        # A Task keeps the CancelledError its coroutine raised, so that awaiting the task re-raises that
        # same exception (with its message and context) rather than a fresh one.
        if self._cancelled_exc is not None:
            exc = self._cancelled_exc
            self._cancelled_exc = None
            return exc
        if self._cancel_message is None:
            return CancelledError()
        return CancelledError(self._cancel_message)

    # Done-callbacks.

    def add_done_callback(self, fn: Callable[[Any], Any], *, context: Optional[contextvars.Context] = None) -> None:
        """Call `fn(self)` from the loop once the Future is done (soon, if it already is)."""
        self._callbacks.append((fn, _copy_context() if context is None else context))
        if self._state is not _PENDING:
            self._schedule_callbacks()

    def remove_done_callback(self, fn: Callable[[Any], Any]) -> int:
        """Forget every registration of `fn`; return how many there were."""
        kept = [(f, ctx) for f, ctx in self._callbacks if f != fn]
        removed = len(self._callbacks) - len(kept)
        if removed:
            self._callbacks[:] = kept
        return removed

    def _schedule_callbacks(self) -> None:
        # The one place done-callbacks are started: through the loop's ready queue, never inline, so that
        # set_result() returns before any callback runs and every callback runs in a pass of its own loop.
        callbacks = self._callbacks
        if not callbacks:
            return
        self._callbacks = []
        call_soon = self._loop.call_soon
        for fn, context in callbacks:
            call_soon(fn, self, context=context)

    # Waiting: `yield from future` in a generator coroutine, `await future` in a native one.

    def __iter__(self) -> Generator[Any, None, Any]:
        if self._state is _PENDING:
            self._asyncio_future_blocking = True
            yield self  # The Task driving us resumes this generator when we are done.
        if self._state is _PENDING:
            raise RuntimeError("await wasn't used with future")
        return self.result()

    __await__ = __iter__

    # Reporting.

    def __repr__(self) -> str:
        info = [self._state.lower()]
        if self._state is _FINISHED:
            if self._exception is not None:
                info.append(f"exception={self._exception!r}")
            else:
                info.append(f"result={reprlib.repr(self._result)}")
        if self._callbacks:
            info.append("cb=[{}]".format(", ".join(format_callback(fn, (), source=False) for fn, _ in self._callbacks)))
        if self._source_traceback:
            frame = self._source_traceback[-1]
            info.append(f"created at {frame[0]}:{frame[1]}")
        return "<{} {}>".format(type(self).__name__, " ".join(info))

    def __del__(self) -> None:
        if not self._log_traceback:
            return
        # An exception was set and nobody ever asked for it: the error would vanish without a trace.
        context: Dict[str, Any] = {
            "message": f"{type(self).__name__} exception was never retrieved",
            "exception": self._exception,
            "future": self,
        }
        if self._source_traceback:
            context["source_traceback"] = self._source_traceback
        self._loop.call_exception_handler(context)
