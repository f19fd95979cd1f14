"""Task: a Future that drives a coroutine, one step per callback; and the helpers built on Tasks.

`Task._step` sends a value (or throws an exception) into the coroutine and looks at what it yields: a
Future gets `_wakeup` as its done-callback, a bare `yield` gives the loop one turn, anything else is an
error thrown back in. The helpers (sleep, gather, wait, wait_for, shield) follow asyncio 3.12.
"""
from __future__ import annotations

import contextvars
import inspect
import itertools
import types
from typing import Any, Dict, Generator, Iterable, List, Optional, Set, Tuple

from .coroutines import coroutine, iscoroutine
from .debug import CoroWrapper
from .events import get_running_loop
from .exceptions import CancelledError, InvalidStateError, TimeoutError
from .futures import _FINISHED, _PENDING, Future, isfuture

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "Task",
    "all_tasks",
    "current_task",
    "ensure_future",
    "gather",
    "shield",
    "sleep",
    "wait",
    "wait_for",
]

_task_numbers = itertools.count(1)


class Task(Future):
    """Runs a coroutine (generator-based or `async def`) on the loop; done when the coroutine returns."""

    __slots__ = ("_context", "_coro", "_fut_waiter", "_must_cancel", "_name", "_num_cancels_requested")

    def __init__(
        self,
        coro: Any,
        *,
        loop: Any = None,
        name: Optional[str] = None,
        context: Optional[contextvars.Context] = None,
    ) -> None:
        Future.__init__(self, loop=loop)
        if not iscoroutine(coro):
            raise TypeError(f"a coroutine was expected, got {coro!r}")
        self._coro = coro
        self._name = f"Task-{next(_task_numbers)}" if name is None else str(name)
        # The Future this task waits on, so that cancel() can cancel it too.
        self._fut_waiter: Optional[Future] = None
        # A cancel() that arrived while no Future was there to cancel: delivered on the next step.
        self._must_cancel = False
        self._num_cancels_requested = 0
        # The task's own context: every step runs in it, so contextvars set by the coroutine persist
        # from one step to the next and stay invisible to other tasks.
        self._context = contextvars.copy_context() if context is None else context
        self._loop.call_soon(self._step, context=self._context)
        # The loop holds pending tasks (strongly, unlike asyncio's WeakSet) until they finish.
        self._loop._tasks.add(self)

    # Public face (asyncio's Task API).

    def get_coro(self) -> Any:
        return self._coro

    def get_context(self) -> contextvars.Context:
        return self._context

    def get_name(self) -> str:
        return self._name

    def set_name(self, value: Any) -> None:
        self._name = str(value)

    def set_result(self, result: Any) -> None:
        raise RuntimeError("Task does not support set_result operation")

    def set_exception(self, exception: Any) -> None:
        raise RuntimeError("Task does not support set_exception operation")

    def cancel(self, msg: Optional[str] = None) -> bool:
        """Ask the coroutine to stop: CancelledError is thrown into it at the point where it waits.

        The coroutine may catch it and go on (then the task is not cancelled); each call counts as one
        request (`cancelling()`), which `uncancel()` takes back, as in asyncio 3.11+.
        """
        self._log_traceback = False
        if self._state is not _PENDING:
            return False
        self._num_cancels_requested += 1
        if self._fut_waiter is not None and self._fut_waiter.cancel(msg=msg):
            # The waiter's done-callback (our _wakeup) delivers the CancelledError. We keep _fut_waiter:
            # it may be a task that swallows the cancellation and must be cancelled again later.
            return True
        # No waiter to cancel (the task is about to step, or its waiter refused): deliver it ourselves.
        self._must_cancel = True
        self._cancel_message = msg
        return True

    def cancelling(self) -> int:
        """How many cancel() requests are pending (asyncio 3.11+)."""
        return self._num_cancels_requested

    def uncancel(self) -> int:
        """Take back one cancel() request; return how many are left (asyncio 3.11+, with 3.13's reset)."""
        if self._num_cancels_requested > 0:
            self._num_cancels_requested -= 1
            if self._num_cancels_requested == 0:
                self._must_cancel = False
        return self._num_cancels_requested

    # The engine: the talk's slides 16 and 17 (docs/talk.md#slide-16).

    def _step(self, exc: Optional[BaseException] = None) -> None:
        if self._state is not _PENDING:
            raise InvalidStateError(f"_step(): already done: {self!r}, {exc!r}")
        if self._must_cancel:
            if not isinstance(exc, CancelledError):
                exc = self._make_cancelled_error()
            self._must_cancel = False
        self._fut_waiter = None
        loop = self._loop
        if loop._current_task is not None:
            raise RuntimeError(f"Cannot enter into task {self!r} while another task {loop._current_task!r} runs.")
        loop._current_task = self
        try:
            # Native coroutines have no __next__: send(None) starts or resumes both kinds.
            result = self._coro.send(None) if exc is None else self._coro.throw(exc)
        except StopIteration as stop:
            if self._must_cancel:
                # cancel() came while the coroutine was running its last stretch: honour it.
                self._must_cancel = False
                Future.cancel(self, msg=self._cancel_message)
            else:
                Future.set_result(self, stop.value)
        except CancelledError as cancelled:
            # Kept so that awaiting this task re-raises the very exception the coroutine let out.
            self._cancelled_exc = cancelled
            Future.cancel(self)
        except (KeyboardInterrupt, SystemExit) as fatal:
            Future.set_exception(self, fatal)
            loop._tasks.discard(self)
            raise
        except BaseException as error:
            Future.set_exception(self, error)
        else:
            # Slide 17 (docs/talk.md#slide-17): what did the coroutine yield? A Future (from
            # Future.__iter__) means "wake me when you are done"; a bare `yield` means "let the others
            # run once"; anything else is a mistake.
            blocking = getattr(result, "_asyncio_future_blocking", None)
            if blocking is not None:
                if result.get_loop() is not loop:
                    bad = RuntimeError(f"Task {self!r} got Future {result!r} attached to a different loop")
                elif not blocking:
                    bad = RuntimeError(f"yield was used instead of yield from in task {self!r} with {result!r}")
                elif result is self:
                    bad = RuntimeError(f"Task cannot await on itself: {self!r}")
                else:
                    result._asyncio_future_blocking = False
                    result.add_done_callback(self._wakeup, context=self._context)
                    self._fut_waiter = result
                    if self._must_cancel and result.cancel(msg=self._cancel_message):
                        self._must_cancel = False
                    return
            elif result is None:
                loop.call_soon(self._step, context=self._context)
                return
            elif inspect.isgenerator(result) or isinstance(result, CoroWrapper):
                bad = RuntimeError(f"yield was used instead of yield from for generator in task {self!r}")
            else:
                bad = RuntimeError(f"Task got bad yield: {result!r}")
            # Thrown back into the coroutine on its next step, where it can be caught.
            loop.call_soon(self._step, bad, context=self._context)
            return
        finally:
            loop._current_task = None
        loop._tasks.discard(self)

    def _wakeup(self, future: Any) -> None:
        try:
            future.result()
        except BaseException as exc:
            # A cancellation of the awaited future arrives here too, and is thrown into the coroutine.
            self._step(exc)
        else:
            # No value passed: Future.__iter__ takes the result from the future itself.
            self._step()

    def __repr__(self) -> str:
        info = [self._state.lower()]
        if self._state is _PENDING and self._must_cancel:
            info[0] = "cancelling"
        info.append(f"name={self._name!r}")
        info.append("coro=<{}()>".format(getattr(self._coro, "__qualname__", None) or type(self._coro).__name__))
        if self._state is _FINISHED:
            if self._exception is not None:
                info.append(f"exception={self._exception!r}")
            else:
                info.append(f"result={self._result!r}")
        if self._fut_waiter is not None:
            info.append(f"wait_for={self._fut_waiter!r}")
        if self._source_traceback:
            frame = self._source_traceback[-1]
            info.append(f"created at {frame[0]}:{frame[1]}")
        return "<Task {}>".format(" ".join(info))


def current_task(loop: Any = None) -> Optional[Task]:
    """The task whose step is running now, or None (between steps, in a plain callback)."""
    if loop is None:
        loop = get_running_loop()
    return loop._current_task


def all_tasks(loop: Any = None) -> Set[Task]:
    """The loop's tasks that are not done yet."""
    if loop is None:
        loop = get_running_loop()
    return {task for task in list(loop._tasks) if not task.done()}


def ensure_future(coro_or_future: Any, *, loop: Any = None) -> Any:
    """A Future as is (checked to belong to `loop`); a coroutine or other awaitable wrapped in a Task."""
    if isfuture(coro_or_future):
        if loop is not None and loop is not coro_or_future.get_loop():
            raise ValueError("The future belongs to a different loop than the one specified as the loop argument")
        return coro_or_future
    if iscoroutine(coro_or_future):
        coro = coro_or_future
    elif inspect.isawaitable(coro_or_future):
        coro = _wrap_awaitable(coro_or_future)
    else:
        raise TypeError("A Future, a coroutine or an awaitable is required")
    if loop is None:
        loop = get_running_loop()
    return loop.create_task(coro)


@types.coroutine
def _wrap_awaitable(awaitable: Any) -> Generator[Any, None, Any]:
    return (yield from awaitable.__await__())


def _awaiting(awaitable: Any) -> Any:
    # What `yield from` needs: generators and native coroutines as they are (we are types.coroutine
    # functions, so both are allowed), anything else through its __await__.
    if type(awaitable) in (types.GeneratorType, types.CoroutineType):
        return awaitable
    return awaitable.__await__()


# Sleeping: a Future resolved by a timer.

def _set_result_unless_cancelled(fut: Future, result: Any) -> None:
    if not fut.cancelled():
        fut.set_result(result)


@types.coroutine
def _yield_once() -> Generator[None, None, None]:
    yield


@coroutine
def sleep(delay: float, result: Any = None) -> Generator[Any, None, Any]:
    """Return `result` after `delay` seconds; `sleep(0)` gives the other callbacks one turn of the loop."""
    if delay <= 0:
        yield from _yield_once()
        return result
    loop = get_running_loop()
    future = loop.create_future()
    timer = loop.call_later(delay, _set_result_unless_cancelled, future, result)
    try:
        return (yield from future)
    finally:
        timer.cancel()


# Gathering: one Future for many.

class _GatheringFuture(Future):
    """The Future gather returns: cancelling it cancels its children."""

    __slots__ = ("_cancel_requested", "_children")

    def __init__(self, children: List[Future], *, loop: Any) -> None:
        Future.__init__(self, loop=loop)
        self._children = children
        self._cancel_requested = False

    def cancel(self, msg: Optional[str] = None) -> bool:
        if self.done():
            return False
        cancelled_any = False
        for child in self._children:
            if child.cancel(msg=msg):
                cancelled_any = True
        if cancelled_any:
            # The children's results arrive later; the outer future must then end cancelled whatever
            # return_exceptions says (asyncio issue 32684).
            self._cancel_requested = True
        return cancelled_any


def gather(*aws: Any, return_exceptions: bool = False) -> Future:
    """A Future of the list of results of `aws`, in order.

    Without return_exceptions the first exception (or cancellation) of a child becomes the outer
    future's and the other children go on; with it, exceptions are returned in the list.
    """
    if not aws:
        empty = get_running_loop().create_future()
        empty.set_result([])
        return empty

    arg_to_fut: Dict[Any, Future] = {}
    children: List[Future] = []
    done_children: List[Future] = []
    finished = 0
    loop = None
    outer: Optional[_GatheringFuture] = None

    def _child_done(fut: Future) -> None:
        nonlocal finished
        finished += 1
        if outer is None or outer.done():
            if not fut.cancelled():
                fut.exception()  # Marks the exception retrieved: the outer future already reported one.
            return
        if not return_exceptions:
            if fut.cancelled():
                outer.set_exception(fut._make_cancelled_error())
                return
            exc = fut.exception()
            if exc is not None:
                outer.set_exception(exc)
                return
        if finished == len(arg_to_fut):
            results = []
            for child in children:
                if child.cancelled():
                    res: Any = CancelledError("" if child._cancel_message is None else child._cancel_message)
                else:
                    res = child.exception()
                    if res is None:
                        res = child.result()
                results.append(res)
            if outer._cancel_requested:
                outer.set_exception(fut._make_cancelled_error())
            else:
                outer.set_result(results)

    for arg in aws:
        if arg in arg_to_fut:
            fut = arg_to_fut[arg]  # The same awaitable twice is awaited once, reported twice.
        else:
            fut = ensure_future(arg, loop=loop)
            if loop is None:
                loop = fut.get_loop()
            arg_to_fut[arg] = fut
            if fut.done():
                done_children.append(fut)
            else:
                fut.add_done_callback(_child_done)
        children.append(fut)
    outer = _GatheringFuture(children, loop=loop)
    # Children already done are counted now, as asyncio 3.12 does (earlier versions scheduled callbacks).
    for fut in done_children:
        _child_done(fut)
    return outer


# Waiting with a limit.

FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"


def _release_waiter(waiter: Future, *args: Any) -> None:
    if not waiter.done():
        waiter.set_result(None)


@coroutine
def wait(
    aws: Iterable[Any], timeout: Optional[float] = None, return_when: str = ALL_COMPLETED
) -> Generator[Any, None, Tuple[Set[Any], Set[Any]]]:
    """Wait for the futures or tasks in `aws`; return `(done, pending)` sets. Nothing is cancelled."""
    if isfuture(aws) or iscoroutine(aws):
        raise TypeError(f"expect a list of futures, not {type(aws).__name__}")
    if not aws:
        raise ValueError("Set of Tasks/Futures is empty.")
    if return_when not in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
        raise ValueError(f"Invalid return_when value: {return_when}")
    futures = set(aws)
    if any(iscoroutine(f) for f in futures):
        raise TypeError("Passing coroutines is forbidden, use tasks explicitly.")
    loop = get_running_loop()
    waiter = loop.create_future()
    timer = loop.call_later(timeout, _release_waiter, waiter) if timeout is not None else None
    remaining = len(futures)

    def _on_completion(fut: Future) -> None:
        nonlocal remaining
        remaining -= 1
        if (
            remaining <= 0
            or return_when == FIRST_COMPLETED
            or (return_when == FIRST_EXCEPTION and not fut.cancelled() and fut.exception() is not None)
        ):
            if timer is not None:
                timer.cancel()
            if not waiter.done():
                waiter.set_result(None)

    for fut in futures:
        fut.add_done_callback(_on_completion)
    try:
        yield from waiter
    finally:
        if timer is not None:
            timer.cancel()
        for fut in futures:
            fut.remove_done_callback(_on_completion)
    done = {fut for fut in futures if fut.done()}
    return done, futures - done


@coroutine
def _cancel_and_wait(fut: Future) -> Generator[Any, None, None]:
    waiter = fut.get_loop().create_future()

    def release(_: Any) -> None:
        _release_waiter(waiter)

    fut.add_done_callback(release)
    try:
        fut.cancel()
        yield from waiter
    finally:
        fut.remove_done_callback(release)


@coroutine
def wait_for(aw: Any, timeout: Optional[float]) -> Generator[Any, None, Any]:
    """Await `aw`; after `timeout` seconds cancel it and raise TimeoutError (asyncio 3.12's semantics).

    As in 3.12, a coroutine runs inside the calling task (no task of its own) and a timeout is a
    cancellation of the calling task that wait_for turns into TimeoutError, unless someone else
    cancelled the task too: then the CancelledError goes on.
    """
    if timeout is not None and timeout <= 0:
        fut = ensure_future(aw)
        if fut.done():
            return fut.result()
        yield from _cancel_and_wait(fut)
        try:
            return fut.result()
        except CancelledError as exc:
            raise TimeoutError from exc
    if timeout is None:
        return (yield from _awaiting(aw))
    loop = get_running_loop()
    task = current_task(loop)
    if task is None:
        raise RuntimeError("wait_for with a timeout must be used inside a task")
    cancelling = task.cancelling()
    expired = False

    def on_timeout() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = loop.call_later(timeout, on_timeout)
    try:
        return (yield from _awaiting(aw))
    except CancelledError as exc:
        if expired:
            expired = False  # The request is taken back here, not again below.
            if task.uncancel() <= cancelling:
                raise TimeoutError from exc
        raise
    finally:
        timer.cancel()
        if expired:
            # Timed out, but the awaitable finished (or failed) anyway: take back our cancel request.
            task.uncancel()


def shield(aw: Any) -> Future:
    """A Future that follows `aw` but whose cancellation does not cancel `aw`."""
    inner = ensure_future(aw)
    if inner.done():
        return inner
    loop = inner.get_loop()
    outer = loop.create_future()

    def _inner_done(inner: Future) -> None:
        if outer.cancelled():
            if not inner.cancelled():
                inner.exception()  # Marks it retrieved: the caller gave up on it knowingly.
            return
        if inner.cancelled():
            outer.cancel()
        else:
            exc = inner.exception()
            if exc is not None:
                outer.set_exception(exc)
            else:
                outer.set_result(inner.result())

    def _outer_done(outer: Future) -> None:
        if not inner.done():
            inner.remove_done_callback(_inner_done)

    inner.add_done_callback(_inner_done)
    outer.add_done_callback(_outer_done)
    return outer

