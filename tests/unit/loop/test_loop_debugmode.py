"""modern.loop's debug mode: slow callbacks named with where they were scheduled, exceptions never
retrieved with where their Future was made, generator coroutines never scheduled, callback checks.
"""
from __future__ import annotations

import gc
import logging
import sys
import time

import pytest

from modern.loop import EventLoop, coroutine, gather, iscoroutine, sleep
from modern.loop import debug as debugmode
from modern.loop.debug import DEBUG_VARIABLE, CoroWrapper, DebugHandle, DebugTimerHandle

HERE = __file__.rstrip("c")


@pytest.fixture
def dloop():
    loop = EventLoop(debug=True)
    yield loop
    loop.close()


@pytest.fixture
def loop():
    loop = EventLoop(debug=False)
    yield loop
    loop.close()


def run_one_pass(loop):
    loop.stop()
    loop.run_forever()


def busy_for(seconds):
    """A slow callback: it computes (spins) until the clock has moved on by `seconds`."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


# Switching it on.

def test_the_flag_switches_debug_mode_and_the_handle_types(loop):
    assert not loop.get_debug()
    assert type(loop.call_soon(print)) is not DebugHandle
    loop.set_debug(True)
    assert loop.get_debug()
    assert type(loop.call_soon(print)) is DebugHandle
    assert type(loop.call_later(1, print)) is DebugTimerHandle


@pytest.mark.parametrize("value,expected", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_the_environment_variable_switches_debug_mode_on(monkeypatch, value, expected):
    monkeypatch.setenv(DEBUG_VARIABLE, value)
    loop = EventLoop()
    try:
        # Python's development mode turns debug on whatever the variable says, as for asyncio.
        assert loop.get_debug() is (expected or bool(sys.flags.dev_mode))
    finally:
        loop.close()
    explicit = EventLoop(debug=False)
    try:
        assert not explicit.get_debug(), "the constructor's flag wins over the variable"
    finally:
        explicit.close()


# Slow callbacks.

def test_a_slow_callback_is_logged_with_its_name_and_where_it_was_scheduled(dloop, caplog):
    dloop.slow_callback_duration = 0.004

    def a_slow_callback():
        busy_for(0.01)

    dloop.call_soon(a_slow_callback)
    line = a_slow_callback.__code__.co_firstlineno + 3  # the call_soon line above
    with caplog.at_level(logging.WARNING, logger="modern.loop"):
        run_one_pass(dloop)
    [record] = [r for r in caplog.records if "a_slow_callback" in r.getMessage()]
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert message.startswith("Executing <DebugHandle")
    assert f"created at {HERE}:{line}" in message
    assert float(message.split(" took ")[1].split()[0]) >= 0.004


def test_a_slow_timer_is_logged_too(dloop, caplog):
    dloop.slow_callback_duration = 0.004

    def a_slow_timer():
        busy_for(0.01)

    dloop.call_at(dloop.time() - 1, a_slow_timer)
    with caplog.at_level(logging.WARNING, logger="modern.loop"):
        run_one_pass(dloop)
    assert "a_slow_timer" in caplog.text and "DebugTimerHandle" in caplog.text


def test_without_debug_mode_slow_callbacks_are_not_measured(loop, caplog):
    loop.slow_callback_duration = 0.004
    loop.call_soon(busy_for, 0.01)
    with caplog.at_level(logging.DEBUG, logger="modern.loop"):
        run_one_pass(loop)
    assert caplog.records == []


def test_a_slow_task_step_is_logged(dloop, caplog):
    dloop.slow_callback_duration = 0.004

    async def slow_step():
        busy_for(0.01)

    with caplog.at_level(logging.WARNING, logger="modern.loop"):
        dloop.run_until_complete(dloop.create_task(slow_step()))
    assert "Task._step" in caplog.text


# Exceptions never retrieved, and exceptions in callbacks, with where things were created.

def test_a_never_retrieved_exception_names_where_the_future_was_created(dloop, caplog):
    def make_a_failed_future():
        fut = dloop.create_future()
        fut.set_exception(ValueError("nobody looked"))

    with caplog.at_level(logging.ERROR, logger="modern.loop"):
        make_a_failed_future()
        gc.collect()
    [record] = caplog.records
    message = record.getMessage()
    assert "Future exception was never retrieved" in message
    assert "Object created at (most recent call last)" in message
    assert "make_a_failed_future" in message and HERE in message
    assert record.exc_info[0] is ValueError


def test_an_exception_in_a_callback_names_where_the_callback_was_scheduled(dloop, caplog):
    def failing():
        raise KeyError("k")

    def scheduler():
        dloop.call_soon(failing)

    scheduler()
    with caplog.at_level(logging.ERROR, logger="modern.loop"):
        run_one_pass(dloop)
    assert "Exception in callback" in caplog.text
    assert "Object created at" in caplog.text and "scheduler" in caplog.text


def test_debug_mode_refuses_coroutines_and_non_callables_as_callbacks(dloop):
    async def native():
        pass

    coro = native()
    try:
        with pytest.raises(TypeError, match="coroutines cannot be used"):
            dloop.call_soon(coro)
    finally:
        coro.close()
    with pytest.raises(TypeError, match="coroutines cannot be used"):
        dloop.call_later(1, native)
    with pytest.raises(TypeError, match="callable"):
        dloop.call_soon(42)


def test_repr_of_a_debug_future_and_task_says_where_they_were_created(dloop):
    fut = dloop.create_future()
    task = dloop.create_task(sleep(0))
    assert f"created at {HERE}" in repr(fut)
    assert f"created at {HERE}" in repr(task)
    dloop.run_until_complete(task)


# Generator coroutines never scheduled.

@pytest.fixture
def coroutine_debug(monkeypatch):
    monkeypatch.setattr(debugmode, "COROUTINE_DEBUG", True)


def test_a_generator_coroutine_never_run_is_reported(coroutine_debug, caplog):
    @coroutine
    def forgotten():
        yield from sleep(0)

    def caller():
        forgotten()  # the classic mistake: called, never yielded from

    with caplog.at_level(logging.ERROR, logger="modern.loop"):
        caller()
        gc.collect()
    assert "forgotten" in caplog.text and "was never yielded from" in caplog.text
    assert "Coroutine object created at" in caplog.text and "caller" in caplog.text


def test_a_wrapped_coroutine_that_ran_is_not_reported(coroutine_debug, loop, caplog):
    @coroutine
    def legacy(x):
        yield from sleep(0)
        return x

    async def native():
        return await legacy("awaited")

    def generator():
        return (yield from legacy("yielded from"))

    wrapped = legacy("task")
    assert isinstance(wrapped, CoroWrapper) and iscoroutine(wrapped)
    with caplog.at_level(logging.ERROR, logger="modern.loop"):
        assert loop.run_until_complete(loop.create_task(wrapped)) == "task"
        assert loop.run_until_complete(loop.create_task(native())) == "awaited"
        assert loop.run_until_complete(loop.create_task(generator())) == "yielded from"
        assert loop.run_until_complete(_gathered(loop, legacy)) == [1, 2]
        del wrapped
        gc.collect()
    assert caplog.records == []


def _gathered(loop, legacy):
    async def main():
        return await gather(legacy(1), legacy(2))

    return loop.create_task(main())


def test_exceptions_thrown_into_a_wrapped_coroutine_reach_it(coroutine_debug, loop):
    @coroutine
    def catcher():
        try:
            yield from sleep(3600)
        except KeyError:
            return "caught"

    async def main():
        task = loop.create_task(catcher())
        await sleep(0)
        fut = task._fut_waiter
        fut.set_exception(KeyError())
        return await task

    assert loop.run_until_complete(loop.create_task(main())) == "caught"


def test_an_exception_reaches_a_wrapped_coroutine_through_await(coroutine_debug, loop):
    """`await` hands a non-generator the (type, value, traceback) triple; the wrapper passes it on."""
    fut = loop.create_future()

    @coroutine
    def legacy():
        try:
            yield from fut
        except KeyError as exc:
            return f"legacy caught {exc.args[0]}"

    async def native():
        return await legacy()

    task = loop.create_task(native())
    loop.call_soon(fut.set_exception, KeyError("k"))
    assert loop.run_until_complete(task) == "legacy caught k"


def test_without_coroutine_debug_the_decorator_adds_no_wrapper(monkeypatch):
    monkeypatch.setattr(debugmode, "COROUTINE_DEBUG", False)

    @coroutine
    def plain():
        yield

    gen = plain()
    assert not isinstance(gen, CoroWrapper)
    gen.close()
