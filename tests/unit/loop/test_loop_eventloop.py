"""modern.loop.EventLoop: ordering of callbacks and timers, file descriptors, running, stopping, closing.

Timers are mostly scheduled in the past (`call_at(loop.time() - x)`), so that they are due at once and
the tests check the order without waiting for a clock.
"""
from __future__ import annotations

import contextvars
import gc
import heapq
import logging
import selectors
import socket
import threading
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modern.loop import EventLoop, Future, Handle, TimerHandle, get_running_loop, new_event_loop, run, sleep
from modern.loop.loop import MAXIMUM_SELECT_TIMEOUT


@pytest.fixture
def loop():
    loop = EventLoop()
    yield loop
    loop.close()


def run_one_pass(loop):
    """One turn of the loop: stop() before run_forever makes it run exactly one pass."""
    loop.stop()
    loop.run_forever()


class RecordingSelector(selectors.DefaultSelector):
    """The default selector, noting each select() timeout and signalling when select is entered."""

    def __init__(self, never_block=False):
        super().__init__()
        self.timeouts = []
        self.entered = threading.Event()
        self.never_block = never_block

    def select(self, timeout=None):
        self.timeouts.append(timeout)
        self.entered.set()
        return super().select(0 if self.never_block else timeout)


# call_soon: first in, first out; one pass runs what was ready when it began.

def test_call_soon_runs_callbacks_in_the_order_they_were_scheduled(loop):
    out = []
    for i in range(10):
        loop.call_soon(out.append, i)
    run_one_pass(loop)
    assert out == list(range(10))


def test_callbacks_scheduled_during_a_pass_wait_for_the_next_pass(loop):
    """A pass runs exactly the handles queued when it began, so a self-rescheduling callback cannot starve."""
    out = []

    def first():
        out.append("first")
        loop.call_soon(out.append, "scheduled by first")

    loop.call_soon(first)
    loop.call_soon(out.append, "second")
    run_one_pass(loop)
    assert out == ["first", "second"]
    assert len(loop._ready) == 1
    run_one_pass(loop)
    assert out == ["first", "second", "scheduled by first"]


def test_cancelled_handles_are_skipped(loop):
    out = []
    loop.call_soon(out.append, 1)
    handle = loop.call_soon(out.append, 2)
    loop.call_soon(out.append, 3)
    handle.cancel()
    assert handle.cancelled()
    run_one_pass(loop)
    assert out == [1, 3]


def test_a_callback_can_cancel_a_later_handle_of_the_same_pass(loop):
    out = []
    later = []
    loop.call_soon(lambda: later[0].cancel())
    later.append(loop.call_soon(out.append, "must not run"))
    loop.call_soon(out.append, "runs")
    run_one_pass(loop)
    assert out == ["runs"]


def test_stop_inside_a_callback_finishes_the_pass_then_returns(loop):
    out = []

    def stopper():
        out.append("stop")
        loop.stop()
        loop.call_soon(out.append, "next run")

    loop.call_soon(stopper)
    loop.call_soon(out.append, "same pass")
    loop.run_forever()
    assert out == ["stop", "same pass"]
    assert not loop.is_running()
    loop.run_until_complete(sleep(0))
    assert out == ["stop", "same pass", "next run"]


def test_stop_before_run_forever_runs_one_pass(loop):
    out = []
    loop.call_soon(lambda: loop.call_soon(out.append, "second pass"))
    loop.stop()
    loop.run_forever()
    assert out == []
    assert len(loop._ready) == 1


# Timers: the heap, equal deadlines, lazy cancellation, compaction.

def test_timers_run_in_deadline_order_not_scheduling_order(loop):
    now = loop.time()
    out = []
    for offset in (0.003, 0.001, 0.005, 0.002, 0.004):
        loop.call_at(now - offset, out.append, offset)
    run_one_pass(loop)
    assert out == [0.005, 0.004, 0.003, 0.002, 0.001]


class _AsyncioTimer:
    """What asyncio keeps in its heap: a timer that compares by deadline alone."""

    def __init__(self, when, index):
        self.when, self.index = when, index

    def __lt__(self, other):
        return self.when < other.when


def _asyncio_heap_order(deadlines):
    """The order asyncio's heap gives timers pushed one by one and popped while due."""
    heap = []
    for index, when in enumerate(deadlines):
        heapq.heappush(heap, _AsyncioTimer(when, index))
    return [heapq.heappop(heap).index for _ in range(len(heap))]


def test_timers_with_equal_deadlines_come_out_in_asyncio_heap_order(loop):
    """asyncio leaves the order of ties undefined (it depends on the heap's history); this loop gives
    the very same order, so that programs traced on both loops agree."""
    when = loop.time() - 1
    out = []
    for i in range(7):
        loop.call_at(when, out.append, i)
    run_one_pass(loop)
    assert out == _asyncio_heap_order([when] * 7)
    assert out != list(range(7)), "seven ties are not first-in first-out in asyncio's heap"


def test_due_timers_run_after_the_callbacks_already_ready(loop):
    out = []
    loop.call_at(loop.time() - 1, out.append, "timer")
    loop.call_soon(out.append, "soon")
    run_one_pass(loop)
    assert out == ["soon", "timer"]


@given(st.lists(st.one_of(st.just(None), st.integers(min_value=0, max_value=5)), max_size=30))
def test_one_pass_runs_ready_callbacks_then_due_timers_by_deadline(plan):
    """Model: call_soon callbacks in order, then timers by deadline, ties as asyncio's heap orders them."""
    loop = EventLoop()
    try:
        base = loop.time() - 10
        out = []
        for i, step in enumerate(plan):
            if step is None:
                loop.call_soon(out.append, i)
            else:
                loop.call_at(base + step, out.append, i)
        run_one_pass(loop)
    finally:
        loop.close()
    soon = [i for i, step in enumerate(plan) if step is None]
    timer_indexes = [i for i, step in enumerate(plan) if step is not None]
    timers = [timer_indexes[k] for k in _asyncio_heap_order([plan[i] for i in timer_indexes])]
    assert out == soon + timers


def test_a_timer_never_runs_before_its_deadline(loop):
    handle_when = []

    def fired():
        handle_when.append(loop.time())
        loop.stop()

    timer = loop.call_later(0.02, fired)
    assert isinstance(timer, TimerHandle)
    loop.run_forever()
    assert handle_when[0] >= timer.when() - loop._clock_resolution


def test_call_later_schedules_relative_to_the_loop_clock(loop):
    before = loop.time()
    timer = loop.call_later(5, print)
    after = loop.time()
    assert before + 5 <= timer.when() <= after + 5
    with pytest.raises(TypeError):
        loop.call_later(None, print)
    with pytest.raises(TypeError):
        loop.call_at(None, print)


def test_a_cancelled_timer_stays_in_the_heap_until_it_reaches_the_top(loop):
    out = []
    soon = loop.call_at(loop.time() + 3600, out.append, "soon")
    late = loop.call_at(loop.time() + 7200, out.append, "late")
    late.cancel()
    assert loop._timer_cancelled_count == 1
    run_one_pass(loop)
    assert len(loop._scheduled) == 2, "a cancelled timer below the top is left in place"
    soon.cancel()
    run_one_pass(loop)
    assert loop._scheduled == [] and loop._timer_cancelled_count == 0
    assert not soon._scheduled and not late._scheduled
    assert out == []


def test_the_heap_is_compacted_when_most_timers_are_cancelled(loop):
    far = loop.time() + 3600
    timers = [loop.call_at(far + i, lambda: None) for i in range(200)]
    for timer in timers[50:]:  # the latest 150: none of them at the top of the heap
        timer.cancel()
    run_one_pass(loop)
    assert len(loop._scheduled) == 50
    assert loop._timer_cancelled_count == 0
    assert {entry[1] for entry in loop._scheduled} == set(timers[:50])
    assert all(not timer._scheduled for timer in timers[50:])
    # The compacted heap is still a heap: the earliest timer on top.
    assert loop._scheduled[0][1] is timers[0]


def test_the_heap_is_not_compacted_while_at_most_half_is_cancelled(loop):
    far = loop.time() + 3600
    timers = [loop.call_at(far + i, lambda: None) for i in range(200)]
    for timer in timers[100:]:
        timer.cancel()
    run_one_pass(loop)
    assert len(loop._scheduled) == 200
    assert loop._timer_cancelled_count == 100


def test_small_heaps_are_not_compacted(loop):
    far = loop.time() + 3600
    timers = [loop.call_at(far + i, lambda: None) for i in range(50)]
    for timer in timers[1:]:
        timer.cancel()
    run_one_pass(loop)
    assert len(loop._scheduled) == 50


def test_cancelling_a_timer_twice_or_after_it_ran_counts_nothing(loop):
    timer = loop.call_at(loop.time() - 1, lambda: None)
    run_one_pass(loop)
    timer.cancel()
    timer.cancel()
    assert loop._timer_cancelled_count == 0


# The select timeout: zero with work ready, until the nearest timer, capped, or None.

def test_select_timeout_is_zero_when_callbacks_are_ready():
    selector = RecordingSelector()
    loop = EventLoop(selector=selector)
    try:
        loop.call_at(loop.time() + 3600, print)
        loop.call_soon(loop.stop)
        loop.run_forever()
        assert selector.timeouts == [0]
    finally:
        loop.close()


def test_select_timeout_waits_until_the_nearest_timer():
    selector = RecordingSelector()
    loop = EventLoop(selector=selector)
    try:
        # 0.2 s: a loaded CI machine must not reach the first select after the timer is already due.
        loop.call_later(0.2, loop.stop)
        loop.call_later(3600, print)
        loop.run_forever()
        assert 0 < selector.timeouts[0] <= 0.2
    finally:
        loop.close()


def test_select_timeout_is_capped_and_none_without_timers():
    selector = RecordingSelector(never_block=True)
    loop = EventLoop(selector=selector)
    try:
        loop._run_once()
        loop.call_later(30 * 24 * 3600, print)
        loop._run_once()
        assert selector.timeouts == [None, MAXIMUM_SELECT_TIMEOUT]
    finally:
        loop.close()


# Waking a sleeping loop from another thread.

def test_call_soon_threadsafe_wakes_a_loop_blocked_in_select():
    selector = RecordingSelector()
    loop = EventLoop(selector=selector)
    out = []

    def other_thread():
        assert selector.entered.wait(5)
        loop.call_soon_threadsafe(out.append, "from the thread")
        loop.call_soon_threadsafe(loop.stop)

    def watchdog():
        out.append("watchdog")
        loop.stop()

    thread = threading.Thread(target=other_thread)
    try:
        # Without the self-pipe, select would sleep until this watchdog, long after the thread's call.
        loop.call_later(30, watchdog)
        thread.start()
        loop.run_forever()
    finally:
        thread.join(10)
        loop.close()
    assert out == ["from the thread"]
    assert selector.timeouts[0] > 1, "the loop really was blocked waiting"


# File descriptors.

@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


def test_add_reader_calls_back_when_the_socket_is_readable(loop, pair):
    a, b = pair
    got = []

    def on_readable(sock):
        got.append(sock.recv(100))
        loop.stop()

    handle = loop.add_reader(a.fileno(), on_readable, a)
    assert isinstance(handle, Handle)
    b.send(b"ping")
    loop.run_forever()
    assert got == [b"ping"]
    assert loop.remove_reader(a.fileno()) is True
    assert loop.remove_reader(a.fileno()) is False
    assert handle.cancelled()


def test_add_reader_accepts_an_object_with_fileno_and_replaces_an_earlier_reader(loop, pair):
    a, b = pair
    got = []
    first = loop.add_reader(a, got.append, "first")
    loop.add_reader(a, lambda: (got.append(a.recv(10)), loop.stop()))
    assert first.cancelled()
    b.send(b"x")
    loop.run_forever()
    assert got == [b"x"]
    assert loop.remove_reader(a.fileno()) is True


def test_reader_and_writer_on_one_fd_share_one_registration(loop, pair):
    a, b = pair
    events = []
    loop.add_reader(a, lambda: events.append("read"))
    loop.add_writer(a, lambda: events.append("write"))
    key = loop._selector.get_key(a)
    assert key.events == selectors.EVENT_READ | selectors.EVENT_WRITE
    b.send(b"x")
    run_one_pass(loop)
    assert events == ["read", "write"]
    assert loop.remove_writer(a) is True
    assert loop._selector.get_key(a).events == selectors.EVENT_READ
    assert loop.remove_writer(a) is False
    assert loop.remove_reader(a) is True
    with pytest.raises(KeyError):
        loop._selector.get_key(a)


def test_add_writer_calls_back_when_the_socket_is_writable(loop, pair):
    a, _ = pair
    calls = []
    loop.add_writer(a.fileno(), lambda: (calls.append(1), loop.remove_writer(a.fileno()), loop.stop()))
    loop.run_forever()
    assert calls == [1]


def test_a_cancelled_reader_handle_is_unregistered_when_its_fd_fires(loop, pair):
    a, b = pair
    calls = []
    handle = loop.add_reader(a, calls.append, 1)
    handle.cancel()
    b.send(b"x")
    run_one_pass(loop)
    assert calls == []
    with pytest.raises(KeyError):
        loop._selector.get_key(a)


def test_remove_reader_of_an_unknown_fd_is_false(loop, pair):
    assert loop.remove_reader(pair[0]) is False
    assert loop.remove_writer(pair[0]) is False


# Running, the running loop, run_until_complete.

def test_get_running_loop_is_set_only_while_running_and_only_in_its_thread(loop):
    seen = {}

    def inside():
        seen["here"] = get_running_loop()
        thread = threading.Thread(target=lambda: seen.update(other=_running_loop_or_error()))
        thread.start()
        thread.join(5)
        loop.stop()

    with pytest.raises(RuntimeError, match="no running event loop"):
        get_running_loop()
    loop.call_soon(inside)
    loop.run_forever()
    assert seen["here"] is loop
    assert isinstance(seen["other"], RuntimeError)
    with pytest.raises(RuntimeError):
        get_running_loop()


def _running_loop_or_error():
    try:
        return get_running_loop()
    except RuntimeError as exc:
        return exc


def test_run_until_complete_returns_the_result_of_a_future(loop):
    fut = loop.create_future()
    loop.call_soon(fut.set_result, 42)
    assert loop.run_until_complete(fut) == 42
    assert fut._callbacks == [], "the stop callback is removed afterwards"


def test_run_until_complete_raises_what_the_coroutine_raised(loop):
    async def failing():
        await sleep(0)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        loop.run_until_complete(failing())
    assert not loop.is_running()
    assert loop.run_until_complete(sleep(0, "again")) == "again"


def test_run_until_complete_complains_if_the_loop_stops_first(loop):
    fut = loop.create_future()
    loop.call_soon(loop.stop)
    with pytest.raises(RuntimeError, match="stopped before Future completed"):
        loop.run_until_complete(fut)


def test_a_loop_cannot_run_twice_at_once_nor_inside_another(loop):
    errors = []
    other = EventLoop()

    def nested():
        for call in (loop.run_forever, other.run_forever):
            try:
                call()
            except RuntimeError as exc:
                errors.append(str(exc))
        loop.stop()

    try:
        loop.call_soon(nested)
        loop.run_forever()
    finally:
        other.close()
    assert errors == ["This event loop is already running", "Cannot run the event loop while another loop is running"]


def test_keyboard_interrupt_leaves_the_loop_reusable(loop):
    def interrupt():
        raise KeyboardInterrupt

    loop.call_soon(interrupt)
    with pytest.raises(KeyboardInterrupt):
        loop.run_forever()
    assert not loop.is_running()
    with pytest.raises(RuntimeError):
        get_running_loop()
    assert loop.run_until_complete(sleep(0, 1)) == 1


# Closing.

def test_closing_a_running_loop_is_an_error(loop):
    errors = []

    def try_close():
        try:
            loop.close()
        except RuntimeError as exc:
            errors.append(str(exc))
        loop.stop()

    loop.call_soon(try_close)
    loop.run_forever()
    assert errors == ["Cannot close a running event loop"]
    assert not loop.is_closed()


def test_operations_on_a_closed_loop_raise_runtime_error(pair):
    loop = EventLoop()
    loop.call_soon(print)
    loop.close()
    loop.close()  # closing twice is allowed
    assert loop.is_closed()
    assert loop._ready == deque()
    for operation in (
        lambda: loop.call_soon(print),
        lambda: loop.call_soon_threadsafe(print),
        lambda: loop.call_later(1, print),
        lambda: loop.call_at(1, print),
        lambda: loop.add_reader(pair[0], print),
        lambda: loop.add_writer(pair[0], print),
        loop.run_forever,
    ):
        with pytest.raises(RuntimeError, match="closed"):
            operation()
    coro = sleep(0)
    with pytest.raises(RuntimeError, match="closed"):
        loop.run_until_complete(coro)
    with pytest.raises(RuntimeError, match="closed"):
        loop.create_task(coro)
    coro.close()
    assert loop.remove_reader(pair[0]) is False


def test_an_unclosed_loop_warns_when_collected():
    loop = EventLoop()
    with pytest.warns(ResourceWarning, match="unclosed event loop"):
        del loop
        gc.collect()


# Errors in callbacks and the exception handler.

def test_an_exception_in_a_callback_goes_to_the_handler_and_the_loop_goes_on(loop):
    contexts = []
    out = []

    def failing():
        raise ZeroDivisionError("x")

    loop.set_exception_handler(lambda lp, ctx: contexts.append((lp, ctx)))
    handle = loop.call_soon(failing)
    loop.call_soon(out.append, "still running")
    run_one_pass(loop)
    assert out == ["still running"]
    [(got_loop, context)] = contexts
    assert got_loop is loop
    assert isinstance(context["exception"], ZeroDivisionError)
    assert context["handle"] is handle
    assert context["message"].startswith("Exception in callback") and "failing" in context["message"]
    assert loop.get_exception_handler() is not None
    loop.set_exception_handler(None)
    assert loop.get_exception_handler() is None


def test_the_default_handler_logs_the_message_and_traceback(loop, caplog):
    def failing():
        raise ZeroDivisionError("in a callback")

    loop.call_soon(failing)
    with caplog.at_level(logging.ERROR, logger="modern.loop"):
        run_one_pass(loop)
    [record] = caplog.records
    assert "Exception in callback" in record.getMessage()
    assert "handle:" in record.getMessage()
    assert record.exc_info[0] is ZeroDivisionError


def test_a_failing_exception_handler_falls_back_to_the_default(loop, caplog):
    def bad_handler(lp, ctx):
        raise RuntimeError("handler broke")

    loop.set_exception_handler(bad_handler)
    with caplog.at_level(logging.ERROR, logger="modern.loop"):
        loop.call_exception_handler({"message": "original"})
    [record] = caplog.records
    assert "Unhandled error in exception handler" in record.getMessage()
    assert "original" in record.getMessage()
    assert record.exc_info[0] is RuntimeError


def test_set_exception_handler_refuses_non_callables(loop):
    with pytest.raises(TypeError):
        loop.set_exception_handler(42)


# contextvars: each callback in the context of the moment it was scheduled.

_var = contextvars.ContextVar("var", default="unset")


def test_callbacks_run_in_a_copy_of_the_context_they_were_scheduled_in(loop):
    seen = []

    def setter():
        _var.set("changed by a callback")

    token = _var.set("at call_soon")
    try:
        loop.call_soon(lambda: seen.append(_var.get()))
        loop.call_soon(setter)
        loop.call_soon(lambda: seen.append(_var.get()))
    finally:
        _var.reset(token)
    explicit = contextvars.Context()
    loop.call_soon(lambda: seen.append(_var.get()), context=explicit)
    run_one_pass(loop)
    assert seen == ["at call_soon", "at call_soon", "unset"]
    assert _var.get() == "unset"


def test_handle_repr_names_the_callback(loop):
    def named_callback():
        pass

    handle = loop.call_soon(named_callback, 1)
    assert "named_callback(1)" in repr(handle)
    handle.cancel()
    assert "cancelled" in repr(handle)
    assert "when=" in repr(loop.call_later(1, named_callback))


# run(): asyncio.run's counterpart.

def test_run_returns_the_result_cancels_leftovers_and_closes_the_loop():
    events = []
    loops = []

    async def forever():
        try:
            await sleep(3600)
        finally:
            events.append("leftover cancelled")

    async def main():
        loops.append(get_running_loop())
        loops[0].create_task(forever())
        await sleep(0)
        return "done"

    assert run(main()) == "done"
    assert events == ["leftover cancelled"]
    assert loops[0].is_closed()


def test_run_refuses_non_coroutines_and_nesting():
    with pytest.raises(ValueError):
        run(42)

    async def nested():
        coro = sleep(0)
        try:
            run(coro)
        finally:
            coro.close()

    with pytest.raises(RuntimeError, match="running event loop"):
        run(nested())


def test_run_and_new_event_loop_pass_the_debug_flag():
    async def main():
        return get_running_loop().get_debug()

    assert run(main(), debug=True) is True
    assert run(main(), debug=False) is False
    fresh = new_event_loop(debug=True)
    try:
        assert fresh.get_debug() and isinstance(fresh, EventLoop)
    finally:
        fresh.close()


def test_create_future_and_create_task_belong_to_the_loop(loop):
    fut = loop.create_future()
    assert isinstance(fut, Future) and fut.get_loop() is loop
    task = loop.create_task(sleep(0, "x"), name="named")
    assert task.get_name() == "named" and task.get_loop() is loop
    assert loop.run_until_complete(task) == "x"
