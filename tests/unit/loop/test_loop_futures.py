"""modern.loop.Future: states, InvalidStateError, done-callbacks through the loop, and waiting on it.

The talk's slide 13 (docs/talk.md#slide-13) at the prompt: result() before a result is an error;
set_result(42) then result() is 42; a done-callback runs only when the loop runs; `yield from future`
suspends until it is done.
"""
from __future__ import annotations

import contextvars
import gc
import logging

import pytest

from modern.loop import CancelledError, EventLoop, Future, InvalidStateError, isfuture


@pytest.fixture
def loop():
    loop = EventLoop()
    yield loop
    loop.close()


def run_one_pass(loop):
    loop.stop()
    loop.run_forever()


# States.

def test_a_pending_future_has_neither_result_nor_exception(loop):
    fut = Future(loop=loop)
    assert not fut.done() and not fut.cancelled()
    with pytest.raises(InvalidStateError, match="Result is not ready"):
        fut.result()
    with pytest.raises(InvalidStateError, match="Exception is not set"):
        fut.exception()
    assert "pending" in repr(fut)


def test_set_result_then_result(loop):
    fut = Future(loop=loop)
    fut.set_result(42)
    assert fut.done() and not fut.cancelled()
    assert fut.result() == 42
    assert fut.exception() is None
    assert "result=42" in repr(fut)


def test_a_future_is_done_only_once(loop):
    for finish in (lambda f: f.set_result(1), lambda f: f.set_exception(ValueError()), lambda f: f.cancel()):
        fut = Future(loop=loop)
        finish(fut)
        with pytest.raises(InvalidStateError):
            fut.set_result(2)
        with pytest.raises(InvalidStateError):
            fut.set_exception(KeyError())
        assert fut.cancel() is False
        if not fut.cancelled():
            fut.exception()


def test_set_exception_then_result_raises_it(loop):
    fut = Future(loop=loop)
    error = ValueError("bad")
    fut.set_exception(error)
    assert fut.exception() is error
    with pytest.raises(ValueError, match="bad"):
        fut.result()
    assert "exception=ValueError" in repr(fut)


def test_set_exception_accepts_a_class(loop):
    fut = Future(loop=loop)
    fut.set_exception(KeyError)
    assert isinstance(fut.exception(), KeyError)


def test_stop_iteration_is_wrapped_in_runtime_error(loop):
    """A StopIteration raised inside a generator would end it silently; asyncio 3.13 wraps it."""
    fut = Future(loop=loop)
    stop = StopIteration("x")
    fut.set_exception(stop)
    exc = fut.exception()
    assert type(exc) is RuntimeError and exc.__cause__ is stop


def test_result_does_not_grow_the_traceback_each_time(loop):
    fut = Future(loop=loop)
    try:
        raise ValueError("once")
    except ValueError as exc:
        fut.set_exception(exc)
    depths = []
    for _ in range(3):
        try:
            fut.result()
        except ValueError as exc:
            tb, depth = exc.__traceback__, 0
            while tb is not None:
                tb, depth = tb.tb_next, depth + 1
            depths.append(depth)
    assert depths[0] == depths[1] == depths[2]


def test_cancel_makes_result_and_exception_raise_cancelled_error(loop):
    fut = Future(loop=loop)
    assert fut.cancel("why") is True
    assert fut.cancelled() and fut.done()
    with pytest.raises(CancelledError) as info:
        fut.result()
    assert info.value.args == ("why",)
    with pytest.raises(CancelledError):
        fut.exception()
    assert fut.cancel() is False
    assert "cancelled" in repr(fut)


def test_cancelled_error_is_not_an_exception():
    """As since Python 3.8: `except Exception` must not swallow a cancellation."""
    assert issubclass(CancelledError, BaseException)
    assert not issubclass(CancelledError, Exception)


def test_future_needs_a_loop_outside_a_running_loop():
    with pytest.raises(RuntimeError, match="no running event loop"):
        Future()


def test_future_takes_the_running_loop_by_default(loop):
    made = []
    loop.call_soon(lambda: made.append(Future()))
    run_one_pass(loop)
    assert made[0].get_loop() is loop


def test_isfuture(loop):
    assert isfuture(Future(loop=loop))
    assert not isfuture(42)
    assert not isfuture(Future)


# Done-callbacks: always through the loop, in registration order.

def test_done_callbacks_run_from_the_loop_not_inside_set_result(loop):
    calls = []
    fut = Future(loop=loop)
    fut.add_done_callback(lambda f: calls.append(("first", f.result())))
    fut.add_done_callback(lambda f: calls.append(("second", f.result())))
    fut.set_result(42)
    assert calls == [], "set_result must return before any callback runs"
    assert loop.run_until_complete(fut) == 42
    assert calls == [("first", 42), ("second", 42)]


def test_a_callback_added_to_a_done_future_is_scheduled_not_called(loop):
    calls = []
    fut = Future(loop=loop)
    fut.set_result("done")
    loop.call_soon(calls.append, "queued earlier")
    fut.add_done_callback(lambda f: calls.append("done-callback"))
    assert calls == []
    run_one_pass(loop)
    assert calls == ["queued earlier", "done-callback"]


def test_done_callbacks_are_scheduled_at_the_moment_the_future_completes(loop):
    calls = []
    fut = Future(loop=loop)
    fut.add_done_callback(lambda f: calls.append("callback"))
    loop.call_soon(calls.append, "before")
    fut.set_result(None)
    loop.call_soon(calls.append, "after")
    run_one_pass(loop)
    assert calls == ["before", "callback", "after"]


def test_cancel_runs_done_callbacks(loop):
    seen = []
    fut = Future(loop=loop)
    fut.add_done_callback(lambda f: seen.append(f.cancelled()))
    fut.cancel()
    run_one_pass(loop)
    assert seen == [True]


def test_remove_done_callback_counts_every_registration(loop):
    calls = []
    fut = Future(loop=loop)

    def cb(f):
        calls.append("removed one ran")

    fut.add_done_callback(cb)
    fut.add_done_callback(calls.append)
    fut.add_done_callback(cb)
    assert fut.remove_done_callback(cb) == 2
    assert fut.remove_done_callback(cb) == 0
    fut.set_result(None)
    run_one_pass(loop)
    assert calls == [fut]


_var = contextvars.ContextVar("var", default="unset")


def test_done_callbacks_run_in_the_context_of_add_done_callback(loop):
    seen = []
    fut = Future(loop=loop)
    token = _var.set("when added")
    try:
        fut.add_done_callback(lambda f: seen.append(_var.get()))
    finally:
        _var.reset(token)
    fut.add_done_callback(lambda f: seen.append(_var.get()), context=contextvars.Context())
    _var.set("when completed")
    fut.set_result(None)
    run_one_pass(loop)
    assert seen == ["when added", "unset"]


def test_a_failing_done_callback_is_reported_and_the_others_still_run(loop):
    contexts = []
    calls = []
    loop.set_exception_handler(lambda lp, ctx: contexts.append(ctx))
    fut = Future(loop=loop)
    fut.add_done_callback(lambda f: 1 / 0)
    fut.add_done_callback(calls.append)
    fut.set_result(None)
    run_one_pass(loop)
    assert calls == [fut]
    assert isinstance(contexts[0]["exception"], ZeroDivisionError)


# Waiting: yield from / await.

def test_yield_from_a_future_suspends_until_it_is_done(loop):
    fut = Future(loop=loop)
    steps = []

    def waiter():
        steps.append("before")
        value = yield from fut
        steps.append(("after", value))
        return value

    task = loop.create_task(waiter())
    run_one_pass(loop)
    assert steps == ["before"]
    loop.call_soon(fut.set_result, "hello")
    assert loop.run_until_complete(task) == "hello"
    assert steps == ["before", ("after", "hello")]


def test_await_a_future_raises_its_exception(loop):
    fut = Future(loop=loop)

    async def waiter():
        try:
            await fut
        except KeyError as exc:
            return f"caught {exc.args[0]}"

    task = loop.create_task(waiter())
    loop.call_soon(fut.set_exception, KeyError("k"))
    assert loop.run_until_complete(task) == "caught k"


def test_iterating_a_pending_future_yields_it_and_refuses_to_go_on_while_pending(loop):
    fut = Future(loop=loop)
    it = iter(fut)
    assert next(it) is fut
    assert fut._asyncio_future_blocking is True
    with pytest.raises(RuntimeError, match="await wasn't used with future"):
        next(it)


def test_iterating_a_done_future_returns_at_once(loop):
    fut = Future(loop=loop)
    fut.set_result(7)
    with pytest.raises(StopIteration) as info:
        next(iter(fut))
    assert info.value.value == 7
    assert Future.__await__ is Future.__iter__


# An exception nobody retrieved.

def test_an_exception_never_retrieved_is_reported_when_the_future_dies(loop):
    loop.set_debug(False)
    contexts = []
    loop.set_exception_handler(lambda lp, ctx: contexts.append(ctx))
    fut = Future(loop=loop)
    fut.set_exception(ValueError("lost"))
    del fut
    gc.collect()
    [context] = contexts
    assert context["message"] == "Future exception was never retrieved"
    assert isinstance(context["exception"], ValueError)
    assert "source_traceback" not in context, "only debug mode records where a future was created"


def test_a_retrieved_exception_is_not_reported(loop):
    contexts = []
    loop.set_exception_handler(lambda lp, ctx: contexts.append(ctx))
    for look in (Future.exception, Future.result, lambda f: f.cancel()):
        fut = Future(loop=loop)
        fut.set_exception(ValueError("seen"))
        try:
            look(fut)
        except ValueError:
            pass
        del fut
    gc.collect()
    assert contexts == []


def test_the_default_handler_logs_a_never_retrieved_exception(loop, caplog):
    fut = Future(loop=loop)
    fut.set_exception(ValueError("lost"))
    with caplog.at_level(logging.ERROR, logger="modern.loop"):
        del fut
        gc.collect()
    assert "Future exception was never retrieved" in caplog.text
    assert caplog.records[0].exc_info[0] is ValueError
