"""modern.loop's trace hook: `loop.set_trace(fn)` gets one PassRecord per turn of `_run_once`."""
from __future__ import annotations

import socket

import pytest

from modern.loop import EventLoop, PassRecord, sleep


@pytest.fixture
def loop():
    loop = EventLoop()
    yield loop
    loop.close()


def run_one_pass(loop):
    loop.stop()
    loop.run_forever()


def test_one_record_per_pass_numbered_from_one(loop):
    records = []
    loop.set_trace(records.append)
    assert loop.get_trace() is not None
    for _ in range(3):
        run_one_pass(loop)
    assert [r.number for r in records] == [1, 2, 3]
    assert all(isinstance(r, PassRecord) for r in records)


def test_the_record_lists_the_callbacks_run_in_order_without_the_cancelled(loop):
    records = []

    def first():
        pass

    def second():
        pass

    loop.call_soon(first)
    loop.call_soon(print).cancel()
    loop.call_soon(second)
    loop.set_trace(records.append)
    run_one_pass(loop)
    [record] = records
    assert record.callbacks == (first, second)
    assert record.timeout == 0, "callbacks were ready, so select did not block"
    assert record.timers_due == 0 and record.fds == ()
    assert record.select_time >= 0 and record.callback_time >= 0


def test_the_record_counts_timers_that_fell_due(loop):
    records = []
    now = loop.time()
    for _ in range(3):
        loop.call_at(now - 1, lambda: None)
    loop.call_at(now + 3600, lambda: None)
    loop.set_trace(records.append)
    run_one_pass(loop)
    assert records[0].timers_due == 3 and len(records[0].callbacks) == 3


def test_the_record_lists_the_ready_file_descriptors(loop):
    records = []
    a, b = socket.socketpair()
    fd = a.fileno()
    try:
        loop.add_reader(a, lambda: a.recv(10))
        b.send(b"x")
        loop.set_trace(records.append)
        run_one_pass(loop)
        loop.remove_reader(a)
    finally:
        a.close()
        b.close()
    assert records[0].fds == (fd,)


def test_a_task_shows_up_as_its_steps(loop):
    records = []

    async def body():
        await sleep(0)

    loop.set_trace(records.append)
    task = loop.create_task(body())
    loop.run_until_complete(task)
    steps = [cb for r in records for cb in r.callbacks if getattr(cb, "__self__", None) is task]
    assert [cb.__name__ for cb in steps] == ["_step", "_step"]
    assert "Task._step" in records[0].describe()


def test_switching_the_trace_off_and_on_restarts_the_count(loop):
    records = []
    loop.set_trace(records.append)
    run_one_pass(loop)
    loop.set_trace(None)
    assert loop.get_trace() is None
    run_one_pass(loop)
    assert len(records) == 1
    loop.set_trace(records.append)
    run_one_pass(loop)
    assert [r.number for r in records] == [1, 1]


def test_a_failing_trace_goes_to_the_exception_handler_and_the_loop_goes_on(loop):
    contexts = []
    ran = []

    def broken_trace(record):
        raise ValueError("trace broke")

    loop.set_exception_handler(lambda lp, ctx: contexts.append(ctx))
    loop.set_trace(broken_trace)
    loop.call_soon(ran.append, 1)
    run_one_pass(loop)
    loop.call_soon(ran.append, 2)
    run_one_pass(loop)
    assert ran == [1, 2]
    assert len(contexts) == 2 and contexts[0]["message"] == "Exception in the trace hook"


def test_the_record_is_immutable_and_readable(loop):
    records = []
    loop.set_trace(records.append)
    loop.call_soon(print)
    run_one_pass(loop)
    record = records[0]
    with pytest.raises(AttributeError):
        record.number = 5
    text = record.describe()
    assert text.startswith("pass 1: select") and "ran 1" in text and "print()" in text


def test_set_trace_refuses_non_callables(loop):
    with pytest.raises(TypeError):
        loop.set_trace("not callable")
