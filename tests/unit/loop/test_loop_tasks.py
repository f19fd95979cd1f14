"""modern.loop.Task: `_step`, `_wakeup`, cancellation, and the coroutine decorator.

The talk's slides 15-17: docs/talk.md#slide-15.

Every test drives generator coroutines (`yield from`) and, where it matters, native ones (`async def`).
"""
from __future__ import annotations

import contextvars
import traceback

import pytest

from modern.loop import (
    CancelledError,
    EventLoop,
    Future,
    InvalidStateError,
    Task,
    all_tasks,
    coroutine,
    current_task,
    ensure_future,
    iscoroutine,
    iscoroutinefunction,
    sleep,
)


@pytest.fixture
def loop():
    loop = EventLoop()
    yield loop
    loop.close()


def run_one_pass(loop):
    loop.stop()
    loop.run_forever()


# Stepping.

def test_a_task_returns_the_value_of_stop_iteration(loop):
    def gen():
        yield from sleep(0)
        return "from a generator"

    async def native():
        await sleep(0)
        return "from async def"

    assert loop.run_until_complete(Task(gen(), loop=loop)) == "from a generator"
    assert loop.run_until_complete(Task(native(), loop=loop)) == "from async def"


def test_the_first_step_runs_in_the_next_pass_not_in_the_constructor(loop):
    steps = []

    def body():
        steps.append("started")
        return "r"
        yield

    task = loop.create_task(body())
    assert steps == []
    run_one_pass(loop)
    assert steps == ["started"] and task.result() == "r"


def test_a_bare_yield_gives_the_other_tasks_one_turn(loop):
    order = []

    def worker(name):
        for i in range(3):
            order.append(f"{name}{i}")
            yield

    a = loop.create_task(worker("a"))
    b = loop.create_task(worker("b"))
    loop.run_until_complete(b)
    assert a.done()
    assert order == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_wakeup_resumes_the_task_with_the_future_result(loop):
    fut = loop.create_future()
    got = []

    def waiter():
        got.append((yield from fut))

    task = loop.create_task(waiter())
    run_one_pass(loop)
    assert task._fut_waiter is fut
    assert fut._callbacks and fut._callbacks[0][0] == task._wakeup
    fut.set_result("value")
    loop.run_until_complete(task)
    assert got == ["value"]


def test_wakeup_throws_the_future_exception_into_the_coroutine(loop):
    fut = loop.create_future()

    def waiter():
        try:
            yield from fut
        except KeyError as exc:
            return f"caught {exc!r}"

    task = loop.create_task(waiter())
    loop.call_soon(fut.set_exception, KeyError("k"))
    assert loop.run_until_complete(task) == "caught KeyError('k')"


def test_a_bad_yield_is_thrown_back_in_as_runtime_error(loop):
    def yields_a_number():
        try:
            yield 42
        except RuntimeError as exc:
            return str(exc)

    def yields_a_generator():
        try:
            yield sleep(0)
        except RuntimeError as exc:
            return str(exc)

    assert "bad yield: 42" in loop.run_until_complete(loop.create_task(yields_a_number()))
    assert "yield was used instead of yield from" in loop.run_until_complete(loop.create_task(yields_a_generator()))


def test_yielding_a_future_without_yield_from_is_an_error(loop):
    fut = loop.create_future()

    def bad():
        try:
            yield fut  # the Future never went through __iter__, so it is not "blocking"
        except RuntimeError as exc:
            return str(exc)

    assert "yield was used instead of yield from" in loop.run_until_complete(loop.create_task(bad()))


def test_a_task_cannot_await_itself(loop):
    holder = []

    async def selfish():
        await holder[0]

    holder.append(loop.create_task(selfish()))
    with pytest.raises(RuntimeError, match="cannot await on itself"):
        loop.run_until_complete(holder[0])


def test_a_future_of_another_loop_is_refused(loop):
    other = EventLoop()
    try:
        foreign = other.create_future()

        def waiter():
            yield from foreign

        with pytest.raises(RuntimeError, match="different loop"):
            loop.run_until_complete(loop.create_task(waiter()))
    finally:
        other.close()


def test_an_exception_escaping_the_coroutine_becomes_the_task_exception(loop):
    async def failing():
        raise ValueError("inside")

    task = loop.create_task(failing())
    with pytest.raises(ValueError, match="inside"):
        loop.run_until_complete(task)
    assert isinstance(task.exception(), ValueError)


def test_an_exception_travels_through_three_levels_of_yield_from(loop):
    def level3():
        yield from sleep(0)
        raise ValueError("deep")

    def level2():
        yield from level3()

    def level1():
        try:
            yield from level2()
        except ValueError as exc:
            return [frame.name for frame in traceback.extract_tb(exc.__traceback__)]

    names = loop.run_until_complete(loop.create_task(level1()))
    assert [name for name in names if name.startswith("level")] == ["level1", "level2", "level3"]


def test_task_refuses_set_result_and_non_coroutines(loop):
    task = loop.create_task(sleep(0))
    with pytest.raises(RuntimeError):
        task.set_result(1)
    with pytest.raises(RuntimeError):
        task.set_exception(ValueError())
    with pytest.raises(TypeError, match="a coroutine was expected"):
        Task(lambda: None, loop=loop)
    loop.run_until_complete(task)
    with pytest.raises(InvalidStateError):
        task._step()


def test_task_names_and_coroutine(loop):
    coro = sleep(0)
    task = loop.create_task(coro)
    assert task.get_name().startswith("Task-")
    assert task.get_coro() is coro
    task.set_name("renamed")
    assert task.get_name() == "renamed"
    assert "renamed" in repr(task)
    loop.run_until_complete(task)


# Cancellation.

def test_cancelling_a_task_that_waits_cancels_the_future_and_raises_inside(loop):
    fut = loop.create_future()
    seen = []

    def waiter():
        try:
            yield from fut
        except CancelledError as exc:
            seen.append(exc.args)
            raise

    task = loop.create_task(waiter())
    run_one_pass(loop)
    assert task.cancel("stop it") is True
    assert fut.cancelled(), "the awaited future is cancelled at once"
    with pytest.raises(CancelledError):
        loop.run_until_complete(task)
    assert seen == [("stop it",)]
    assert task.cancelled()
    assert task.cancel() is False


def test_a_task_that_swallows_the_cancellation_keeps_running(loop):
    fut = loop.create_future()

    async def stubborn():
        try:
            await fut
        except CancelledError:
            pass
        await sleep(0)
        return "survived"

    task = loop.create_task(stubborn())
    run_one_pass(loop)
    task.cancel()
    assert loop.run_until_complete(task) == "survived"
    assert not task.cancelled()
    assert task.cancelling() == 1, "the request is still counted until uncancel()"
    assert task.uncancel() == 0


def test_a_task_cancelled_before_its_first_step_never_runs(loop):
    started = []

    def body():
        started.append(True)
        yield from sleep(0)

    task = loop.create_task(body())
    task.cancel()
    assert "cancelling" in repr(task)
    with pytest.raises(CancelledError):
        loop.run_until_complete(task)
    assert started == [] and task.cancelled()


def test_cancel_during_a_bare_yield_is_delivered_at_the_next_step(loop):
    seen = []

    def body():
        yield
        try:
            yield
        except CancelledError:
            seen.append("cancelled at the second yield")
            raise

    task = loop.create_task(body())
    run_one_pass(loop)
    run_one_pass(loop)
    task.cancel()
    with pytest.raises(CancelledError):
        loop.run_until_complete(task)
    assert seen == ["cancelled at the second yield"]


def test_cancel_while_the_coroutine_runs_its_last_stretch_still_cancels(loop):
    holder = []

    async def cancels_itself():
        holder[0].cancel()
        return "ignored"

    holder.append(loop.create_task(cancels_itself()))
    with pytest.raises(CancelledError):
        loop.run_until_complete(holder[0])
    assert holder[0].cancelled()


def test_cancel_requests_are_counted(loop):
    task = loop.create_task(sleep(3600))
    run_one_pass(loop)
    task.cancel()
    task.cancel()
    assert task.cancelling() == 2
    assert task.uncancel() == 1
    with pytest.raises(CancelledError):
        loop.run_until_complete(task)


def test_cancelling_a_task_cancels_the_task_it_awaits(loop):
    inner = loop.create_task(sleep(3600))

    async def outer_body():
        await inner

    outer = loop.create_task(outer_body())
    run_one_pass(loop)
    run_one_pass(loop)
    outer.cancel()
    with pytest.raises(CancelledError):
        loop.run_until_complete(outer)
    assert inner.cancelled()


def test_awaiting_a_cancelled_task_reraises_its_own_cancelled_error(loop):
    task = loop.create_task(sleep(3600))
    run_one_pass(loop)
    task.cancel("reason")

    async def awaiter():
        try:
            await task
        except CancelledError as exc:
            return exc.args

    assert loop.run_until_complete(loop.create_task(awaiter())) == ("reason",)


# current_task, all_tasks.

def test_current_task_is_the_task_being_stepped(loop):
    seen = []

    async def body():
        seen.append(current_task())
        await sleep(0)
        seen.append(current_task(loop))

    task = loop.create_task(body())
    loop.call_soon(lambda: seen.append(current_task()))
    loop.run_until_complete(task)
    assert seen == [task, None, task]


def test_all_tasks_lists_the_pending_tasks_only(loop):
    done = loop.create_task(sleep(0))
    loop.run_until_complete(done)
    pending = loop.create_task(sleep(3600))
    assert all_tasks(loop) == {pending}
    pending.cancel()
    with pytest.raises(CancelledError):
        loop.run_until_complete(pending)
    assert all_tasks(loop) == set()
    assert loop._tasks == set(), "finished tasks are not kept"


_var = contextvars.ContextVar("var", default="unset")


def test_a_task_keeps_its_context_across_steps_and_apart_from_other_tasks(loop):
    seen = []

    async def setter():
        _var.set("task one")
        await sleep(0)
        seen.append(("one", _var.get()))

    async def reader():
        await sleep(0)
        seen.append(("two", _var.get()))

    loop.create_task(setter())
    loop.run_until_complete(loop.create_task(reader()))
    assert sorted(seen) == [("one", "task one"), ("two", "unset")]
    assert _var.get() == "unset"


# ensure_future.

def test_ensure_future_wraps_coroutines_and_awaitables_and_passes_futures(loop):
    fut = loop.create_future()
    assert ensure_future(fut) is fut
    assert ensure_future(fut, loop=loop) is fut
    other = EventLoop()
    try:
        with pytest.raises(ValueError):
            ensure_future(fut, loop=other)
    finally:
        other.close()

    class Awaitable:
        def __await__(self):
            return (yield from sleep(0, "awaited"))

    task = ensure_future(Awaitable(), loop=loop)
    assert isinstance(task, Task) and loop.run_until_complete(task) == "awaited"
    task = ensure_future(sleep(0, "coro"), loop=loop)
    assert loop.run_until_complete(task) == "coro"
    with pytest.raises(TypeError):
        ensure_future(42, loop=loop)
    with pytest.raises(RuntimeError):
        coro = sleep(0)
        try:
            ensure_future(coro)
        finally:
            coro.close()


# The coroutine decorator.

def test_a_decorated_generator_can_yield_from_a_native_coroutine(loop):
    async def native():
        await sleep(0)
        return 5

    @coroutine
    def legacy():
        value = yield from native()
        return value * 2

    assert iscoroutinefunction(legacy)
    assert loop.run_until_complete(loop.create_task(legacy())) == 10


def test_async_def_code_can_await_a_decorated_generator(loop):
    @coroutine
    def legacy():
        yield from sleep(0)
        return "legacy"

    async def modern():
        return await legacy()

    assert loop.run_until_complete(loop.create_task(modern())) == "legacy"


def test_without_the_decorator_a_generator_cannot_yield_from_a_native_coroutine(loop):
    async def native():
        return 1

    def plain():
        coro = native()
        try:
            yield from coro
        finally:
            coro.close()

    with pytest.raises(TypeError):
        loop.run_until_complete(loop.create_task(plain()))


def test_coroutine_leaves_async_def_alone_and_wraps_plain_functions(loop):
    async def native():
        return 1

    assert coroutine(native) is native
    fut = loop.create_future()
    fut.set_result("from a future")

    @coroutine
    def returns_future():
        return fut

    @coroutine
    def returns_value():
        return "plain"

    assert loop.run_until_complete(loop.create_task(returns_future())) == "from a future"
    assert loop.run_until_complete(loop.create_task(returns_value())) == "plain"
    with pytest.raises(TypeError):
        coroutine(42)


def test_iscoroutine_and_iscoroutinefunction():
    async def native():
        pass

    def gen():
        yield

    coro = native()
    try:
        assert iscoroutine(coro) and iscoroutine(gen())
        assert not iscoroutine(42) and not iscoroutine(native)
    finally:
        coro.close()
    assert iscoroutinefunction(native)
    assert not iscoroutinefunction(gen)
    assert not iscoroutinefunction(len)


def test_a_future_yielded_by_a_task_is_the_one_it_waits_on(loop):
    fut = Future(loop=loop)

    def waiter():
        return (yield from fut)

    task = loop.create_task(waiter())
    run_one_pass(loop)
    assert task._fut_waiter is fut and "wait_for=" in repr(task)
    fut.set_result(1)
    assert loop.run_until_complete(task) == 1
