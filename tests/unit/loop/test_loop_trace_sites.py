"""While a trace is set, modern.loop's handles remember the line that scheduled them and every callback is timed;
when it is off, the loop makes the plain handles its fast path runs."""
from __future__ import annotations

import socket
import sys

import pytest

from modern.loop import EventLoop, Handle, TimerHandle
from modern.loop.debug import CallbackRun, DebugHandle, TracedHandle, TracedTimerHandle


@pytest.fixture
def loop():
    loop = EventLoop(debug=False)
    yield loop
    loop.close()


def here() -> int:
    return sys._getframe(1).f_lineno


def run_one_pass(loop):
    loop.stop()
    loop.run_forever()


def test_without_a_trace_the_loop_makes_plain_handles(loop):
    """The fast path stays the fast path: no site is taken when nobody traces."""
    assert type(loop.call_soon(print)) is Handle
    assert type(loop.call_later(10, print)) is TimerHandle
    loop.set_trace(lambda record: None)
    loop.set_trace(None)
    assert type(loop.call_soon(print)) is Handle
    assert type(loop.call_later(10, print)) is TimerHandle


def test_a_traced_handle_names_the_line_and_the_api_that_scheduled_it(loop):
    loop.set_trace(lambda record: None)
    soon, line = loop.call_soon(print), here()
    timer, timer_line = loop.call_later(10, print), here()
    assert type(soon) is TracedHandle and type(timer) is TracedTimerHandle
    assert soon._site.api == "call_soon" and soon._site.kind == "soon"
    assert soon._site.stack[0] == (__file__, line, "test_a_traced_handle_names_the_line_and_the_api_that_scheduled_it")
    assert timer._site.api == "call_later" and timer._site.kind == "timer"
    assert timer._site.stack[0][1] == timer_line
    assert soon._site.pass_number == 0 and soon._site.parent is None, "scheduled before the loop ran"


def test_a_reader_remembers_its_fd_and_a_callback_scheduled_inside_a_callback_names_its_parent(loop):
    a, b = socket.socketpair()
    records = []
    children = []
    try:
        loop.set_trace(records.append)

        def readable():
            a.recv(10)
            children.append((loop.call_soon(print), here()))

        reader = loop.add_reader(a, readable)
        b.send(b"x")
        run_one_pass(loop)
        loop.remove_reader(a)
    finally:
        a.close()
        b.close()
    assert reader._site.kind == "reader" and reader._site.api == "add_reader"
    [(child, line)] = children
    assert child._site.parent is reader, "scheduled while the reader ran"
    assert child._site.pass_number == 1
    assert child._site.stack == ((__file__, line, "readable"),), "the walk stops at the loop running the callback"
    [record] = records
    [run] = record.runs
    assert isinstance(run, CallbackRun) and run.callback is readable and run.handle is reader
    assert run.duration >= 0 and run.started >= record.started


def test_every_run_is_timed_in_order_and_matches_the_callbacks(loop):
    records = []
    loop.set_trace(records.append)
    for _ in range(3):
        loop.call_soon(lambda: None)
    run_one_pass(loop)
    [record] = records
    assert len(record.runs) == 3 and record.callbacks == tuple(run.callback for run in record.runs)
    starts = [run.started for run in record.runs]
    assert starts == sorted(starts)
    assert sum(run.duration for run in record.runs) <= record.callback_time


def test_a_wakeup_scheduled_by_the_loop_itself_has_no_user_stack_and_names_the_api(loop):
    future = loop.create_future()
    loop.set_trace(lambda record: None)
    loop.call_soon(future.set_result, 1)
    woken = []
    future.add_done_callback(woken.append)
    run_one_pass(loop)
    handle = loop._ready[0]
    assert handle._site.stack == () and handle._site.api == "set_result"
    assert handle._site.parent is not None and handle._site.parent._site.api == "call_soon"


def test_debug_mode_handles_take_a_site_too_while_traced(loop):
    loop.set_debug(True)
    loop.set_trace(lambda record: None)
    handle = loop.call_soon(print)
    assert isinstance(handle, DebugHandle) and handle._source_traceback and handle._site.api == "call_soon"
    loop.set_debug(False)
    assert type(loop.call_soon(print)) is TracedHandle
