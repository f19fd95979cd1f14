"""modern.loop's helpers on Tasks: sleep, gather, wait, wait_for (asyncio 3.12 semantics), shield.

Delays are a few milliseconds; a test that waits on a timeout says so and keeps it short.
"""
from __future__ import annotations

import builtins

import pytest

from modern.loop import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    CancelledError,
    EventLoop,
    TimeoutError,
    current_task,
    gather,
    get_running_loop,
    shield,
    sleep,
    wait,
    wait_for,
)


@pytest.fixture
def loop():
    loop = EventLoop()
    yield loop
    loop.close()


def run(loop, coro):
    # A watchdog: a broken loop makes run_until_complete fail ("stopped before ...") instead of hanging.
    watchdog = loop.call_later(30, loop.stop)
    try:
        return loop.run_until_complete(loop.create_task(coro))
    finally:
        watchdog.cancel()


async def value_after(delay, value, log=None):
    await sleep(delay)
    if log is not None:
        log.append(value)
    return value


async def fail_after(delay, exc):
    await sleep(delay)
    raise exc


# sleep.

def test_sleep_returns_its_result_after_the_delay(loop):
    async def main():
        start = get_running_loop().time()
        result = await sleep(0.01, "woke")
        return result, get_running_loop().time() - start

    result, elapsed = run(loop, main())
    assert result == "woke"
    assert elapsed >= 0.01 - loop._clock_resolution


def test_sleep_zero_lets_every_other_task_take_one_step(loop):
    order = []

    async def worker(name):
        for i in range(2):
            order.append(f"{name}{i}")
            await sleep(0)

    async def main():
        await gather(worker("a"), worker("b"))

    run(loop, main())
    assert order == ["a0", "b0", "a1", "b1"]


def test_cancelling_a_sleep_cancels_its_timer(loop):
    task = loop.create_task(sleep(3600))
    loop.stop()
    loop.run_forever()
    [(_, timer)] = loop._scheduled
    task.cancel()
    with pytest.raises(CancelledError):
        loop.run_until_complete(task)
    assert timer.cancelled()


def test_sleep_is_usable_with_yield_from(loop):
    def gen():
        return (yield from sleep(0, "generator"))

    assert run(loop, gen()) == "generator"


# gather.

def test_gather_returns_results_in_argument_order_not_completion_order(loop):
    log = []

    # The children finish in an order set by the test, not by timers: a loaded machine could delay
    # one timer's scheduling past another's deadline.
    futures = {name: loop.create_future() for name in ("slow", "fast", "mid")}

    async def value_when_set(name):
        value = await futures[name]
        log.append(value)
        return value

    def finish_in_order(*names):
        if names:
            futures[names[0]].set_result(names[0])
            loop.call_soon(finish_in_order, *names[1:])

    async def main():
        loop.call_soon(finish_in_order, "fast", "mid", "slow")
        return await gather(value_when_set("slow"), value_when_set("fast"), value_when_set("mid"))

    assert run(loop, main()) == ["slow", "fast", "mid"]
    assert log == ["fast", "mid", "slow"]


def test_gather_without_return_exceptions_raises_the_first_and_lets_the_others_run(loop):
    log = []

    async def main():
        slow = loop.create_task(value_after(0.2, "slow", log))  # still running when the first child fails
        with pytest.raises(KeyError):
            await gather(fail_after(0, KeyError("first")), slow)
        assert not slow.done(), "the other children are not cancelled"
        return await slow

    assert run(loop, main()) == "slow"
    assert log == ["slow"]


def test_gather_with_return_exceptions_puts_them_in_the_list(loop):
    async def main():
        return await gather(value_after(0, 1), fail_after(0, ValueError("v")), return_exceptions=True)

    result = run(loop, main())
    assert result[0] == 1 and isinstance(result[1], ValueError)


def test_gather_of_nothing_is_an_empty_list(loop):
    async def main():
        return await gather()

    assert run(loop, main()) == []


def test_gather_awaits_a_repeated_argument_once_and_reports_it_twice(loop):
    async def main():
        fut = get_running_loop().create_future()
        get_running_loop().call_soon(fut.set_result, "x")
        return await gather(fut, fut)

    assert run(loop, main()) == ["x", "x"]


def test_gather_counts_children_that_are_already_done(loop):
    async def main():
        done = get_running_loop().create_future()
        done.set_result("early")
        return await gather(done, value_after(0, "late"))

    assert run(loop, main()) == ["early", "late"]


def test_cancelling_gather_cancels_the_children(loop):
    children = []

    async def main():
        children.extend([loop.create_task(sleep(3600)), loop.create_task(sleep(3600))])
        outer = gather(*children)
        await sleep(0)
        assert outer.cancel() is True
        with pytest.raises(CancelledError):
            await outer
        return outer

    outer = run(loop, main())
    assert all(child.cancelled() for child in children)
    assert outer.cancel() is False


def test_cancelling_gather_propagates_even_with_return_exceptions(loop):
    async def main():
        outer = gather(sleep(3600), return_exceptions=True)
        await sleep(0)
        outer.cancel()
        with pytest.raises(CancelledError):
            await outer

    run(loop, main())


def test_a_cancelled_child_makes_gather_raise_cancelled_error(loop):
    async def main():
        child = loop.create_task(sleep(3600))
        outer = gather(child, value_after(0, 1))
        await sleep(0)
        child.cancel()
        with pytest.raises(CancelledError):
            await outer
        outer_rx = gather(loop.create_task(value_after(0, 2)), _cancelled_task(), return_exceptions=True)
        return await outer_rx

    result = run(loop, main())
    assert result[0] == 2 and isinstance(result[1], CancelledError)


def _cancelled_task():
    task = get_running_loop().create_task(sleep(3600))
    task.cancel()
    return task


# wait.

def test_wait_all_completed_returns_every_future_done(loop):
    async def main():
        tasks = [loop.create_task(value_after(d, d)) for d in (0, 0.01)]
        done, pending = await wait(tasks)
        return tasks, done, pending

    tasks, done, pending = run(loop, main())
    assert done == set(tasks) and pending == set()


def test_wait_first_completed_returns_as_soon_as_one_is_done(loop):
    async def main():
        fast = loop.create_task(value_after(0, "fast"))
        slow = loop.create_task(sleep(3600))
        done, pending = await wait([fast, slow], return_when=FIRST_COMPLETED)
        slow.cancel()
        return fast, slow, done, pending

    fast, slow, done, pending = run(loop, main())
    assert done == {fast} and pending == {slow}


def test_wait_first_exception_returns_at_the_first_failure(loop):
    async def main():
        ok = loop.create_task(value_after(0, "ok"))
        bad = loop.create_task(fail_after(0.005, ValueError()))
        slow = loop.create_task(sleep(3600))
        done, pending = await wait([ok, bad, slow], return_when=FIRST_EXCEPTION)
        slow.cancel()
        bad.exception()
        return ok, bad, slow, done, pending

    ok, bad, slow, done, pending = run(loop, main())
    assert done == {ok, bad} and pending == {slow}


def test_wait_first_exception_without_failures_waits_for_all(loop):
    async def main():
        tasks = [loop.create_task(value_after(d, d)) for d in (0, 0.005)]
        done, pending = await wait(tasks, return_when=FIRST_EXCEPTION)
        return len(done), pending

    assert run(loop, main()) == (2, set())


def test_wait_with_a_timeout_returns_what_is_still_pending_and_cancels_nothing(loop):
    async def main():
        slow = loop.create_task(sleep(3600))
        done, pending = await wait([slow], timeout=0.01)
        assert not slow.cancelled()
        slow.cancel()
        return done, pending == {slow}

    assert run(loop, main()) == (set(), True)


def test_wait_checks_its_arguments(loop):
    async def main():
        fut = get_running_loop().create_future()
        with pytest.raises(TypeError):
            await wait(fut)
        with pytest.raises(ValueError):
            await wait([])
        with pytest.raises(ValueError):
            await wait([fut], return_when="SOMETIME")
        coro = sleep(0)
        with pytest.raises(TypeError, match="coroutines is forbidden"):
            await wait([coro])
        coro.close()
        return ALL_COMPLETED

    assert run(loop, main()) == "ALL_COMPLETED"


# wait_for (3.12+ semantics).

def test_wait_for_returns_the_result_in_time(loop):
    async def main():
        return await wait_for(value_after(0, "in time"), timeout=1)

    assert run(loop, main()) == "in time"


def test_wait_for_times_out_by_cancelling_the_inner_coroutine(loop):
    seen = []

    async def slow():
        try:
            await sleep(3600)
        except CancelledError:
            seen.append("inner cancelled")
            raise

    async def main():
        with pytest.raises(TimeoutError) as info:
            await wait_for(slow(), timeout=0.01)
        seen.append(type(info.value.__cause__).__name__)
        assert current_task().cancelling() == 0, "the timeout's own cancel request was taken back"
        return "outer goes on"

    assert run(loop, main()) == "outer goes on"
    assert seen == ["inner cancelled", "CancelledError"]


def test_the_timeout_error_is_the_builtin_one():
    """As asyncio.TimeoutError since 3.11: one `except TimeoutError` catches every timeout."""
    assert TimeoutError is builtins.TimeoutError


def test_wait_for_cancels_an_inner_task_on_timeout(loop):
    async def main():
        inner = loop.create_task(sleep(3600))
        with pytest.raises(TimeoutError):
            await wait_for(inner, timeout=0.01)
        return inner

    inner = run(loop, main())
    assert inner.cancelled()


def test_wait_for_runs_a_coroutine_inside_the_calling_task(loop):
    """3.12: no task of its own for a coroutine, so current_task() inside is the caller."""
    async def who():
        return current_task()

    async def main():
        return current_task(), await wait_for(who(), timeout=1)

    outer, inner = run(loop, main())
    assert outer is inner


def test_wait_for_without_timeout_just_awaits(loop):
    async def main():
        fut = get_running_loop().create_future()
        get_running_loop().call_soon(fut.set_result, "f")
        return await wait_for(fut, None), await wait_for(value_after(0, "c"), None)

    assert run(loop, main()) == ("f", "c")


def test_wait_for_with_zero_timeout(loop):
    async def main():
        done = get_running_loop().create_future()
        done.set_result("already")
        first = await wait_for(done, 0)
        pending = loop.create_task(sleep(3600))
        with pytest.raises(TimeoutError):
            await wait_for(pending, 0)
        return first, pending.cancelled()

    assert run(loop, main()) == ("already", True)


def test_an_outside_cancel_during_wait_for_stays_a_cancellation(loop):
    async def main():
        await wait_for(sleep(3600), timeout=3600)

    task = loop.create_task(main())
    loop.call_later(0.005, task.cancel)
    with pytest.raises(CancelledError):
        loop.run_until_complete(task)
    assert task.cancelled()


def test_wait_for_returns_the_value_of_an_inner_that_swallows_the_timeout(loop):
    async def stubborn():
        try:
            await sleep(3600)
        except CancelledError:
            return "kept going"

    async def main():
        result = await wait_for(stubborn(), timeout=0.005)
        return result, current_task().cancelling()

    assert run(loop, main()) == ("kept going", 0)


def test_wait_for_lets_other_exceptions_through(loop):
    async def main():
        with pytest.raises(KeyError):
            await wait_for(fail_after(0, KeyError()), timeout=1)

    run(loop, main())


# shield.

def test_shield_keeps_the_inner_task_running_when_the_outer_is_cancelled(loop):
    log = []

    async def main():
        inner = loop.create_task(value_after(0.01, "inner finished", log))
        outer = shield(inner)
        await sleep(0)
        outer.cancel()
        with pytest.raises(CancelledError):
            await outer
        return await inner

    assert run(loop, main()) == "inner finished"
    assert log == ["inner finished"]


def test_shield_passes_the_result_and_the_exception_through(loop):
    async def main():
        result = await shield(value_after(0, "through"))
        with pytest.raises(ValueError):
            await shield(fail_after(0, ValueError()))
        done = get_running_loop().create_future()
        done.set_result("done")
        assert shield(done) is done
        return result

    assert run(loop, main()) == "through"


def test_a_cancelled_inner_cancels_the_shield(loop):
    async def main():
        inner = loop.create_task(sleep(3600))
        outer = shield(inner)
        await sleep(0)
        inner.cancel()
        with pytest.raises(CancelledError):
            await outer
        return outer.cancelled()

    assert run(loop, main()) is True
