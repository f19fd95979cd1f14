"""Timers, run() and Trigger: the loop the asynchat client brings along, since asyncore has none."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Dict, List

import pytest

from compat import asyncore
from legacy.dispatcher import Timers, Trigger, run
from legacy.dispatcher.timers import CLOCK_RESOLUTION

WAIT = 5.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- Timers ------------------------------------------------------------------------------------

def test_timers_run_in_deadline_order_and_ties_in_the_order_set():
    clock = FakeClock()
    timers = Timers(clock)
    ran: List[str] = []
    timers.call_later(2.0, ran.append, "late")
    timers.call_later(1.0, ran.append, "first tie")
    timers.call_later(1.0, ran.append, "second tie")
    timers.call_later(-5.0, ran.append, "negative is now")
    assert timers.run_due() == 1 and ran == ["negative is now"]
    clock.now += 1.0
    assert timers.run_due() == 2
    clock.now += 1.0
    timers.run_due()
    assert ran == ["negative is now", "first tie", "second tie", "late"]
    assert timers.next_delay() is None


def test_a_timer_due_within_the_clock_resolution_runs_now():
    """poll() waits in whole milliseconds; a timer a fraction of one away must not cause a spin."""
    clock = FakeClock()
    timers = Timers(clock)
    ran: List[int] = []
    timers.call_later(CLOCK_RESOLUTION / 2, ran.append, 1)
    timers.call_later(CLOCK_RESOLUTION * 5, ran.append, 2)
    assert timers.run_due() == 1 and ran == [1]


def test_cancelled_timers_do_not_run_and_are_not_counted():
    clock = FakeClock()
    timers = Timers(clock)
    ran: List[str] = []
    keep = timers.call_later(1.0, ran.append, "kept")
    drop = timers.call_later(0.5, ran.append, "dropped")
    drop.cancel()
    assert timers.pending() == 1
    assert timers.next_delay() == pytest.approx(1.0)  # the cancelled, nearer one is skipped
    clock.now += 1.0
    timers.run_due()
    assert ran == ["kept"] and not keep.cancelled


def test_a_callback_can_cancel_a_later_timer_of_the_same_pass():
    clock = FakeClock()
    timers = Timers(clock)
    ran: List[str] = []
    second = timers.call_later(0.2, ran.append, "second")
    timers.call_later(0.1, lambda: second.cancel())
    clock.now += 1.0
    timers.run_due()
    assert ran == []


def test_a_timer_set_by_a_callback_for_now_waits_for_the_next_pass():
    """A callback that keeps rescheduling itself at zero delay cannot keep run_due() from returning."""
    clock = FakeClock()
    timers = Timers(clock)
    count: List[int] = []

    def again() -> None:
        count.append(1)
        timers.call_later(0, again)

    timers.call_later(0, again)
    assert timers.run_due() == 1
    assert timers.run_due() == 1
    assert len(count) == 2 and timers.next_delay() == 0


# --- run() ---------------------------------------------------------------------------------------

def test_run_returns_when_nothing_is_left_and_fires_timers_with_an_empty_map():
    """With no sockets, run() waits for the next deadline only; with no timers either, it returns."""
    timers = Timers()
    ran: List[str] = []
    timers.call_later(0.01, ran.append, "a")
    timers.call_later(0.02, ran.append, "b")
    started = time.monotonic()
    run({}, timers)
    assert ran == ["a", "b"]
    assert time.monotonic() - started >= 0.015  # it waited for b rather than running it early


@pytest.mark.parametrize("use_poll", [True, False], ids=["poll", "select"])
def test_run_serves_a_socket_and_stops_on_until(use_poll):
    """A dispatcher's reads are handled between timer passes, on either poller; until() ends the loop."""
    socket_map: Dict[int, Any] = {}
    timers = Timers()
    trigger = Trigger(socket_map)
    done = threading.Event()
    deadline = time.monotonic() + WAIT
    timers.call_later(0.01, trigger.pull_trigger, done.set)
    try:
        run(socket_map, timers, timeout=0.5, use_poll=use_poll,
            until=lambda: done.is_set() or time.monotonic() > deadline)
    finally:
        trigger.close()
    assert done.is_set()
    assert socket_map == {}


def test_an_error_in_a_timer_callback_propagates_out_of_run():
    timers = Timers()

    def broken() -> None:
        raise RuntimeError("timer bug")

    timers.call_later(0, broken)
    with pytest.raises(RuntimeError, match="timer bug"):
        run({}, timers)


# --- Trigger ---------------------------------------------------------------------------------------

def test_trigger_runs_calls_from_other_threads_on_the_loop_thread():
    socket_map: Dict[int, Any] = {}
    trigger = Trigger(socket_map)
    ran_on: List[int] = []
    finished = threading.Event()

    def from_elsewhere() -> None:
        for _ in range(10):
            trigger.pull_trigger(lambda: ran_on.append(threading.get_ident()))
        trigger.pull_trigger(finished.set)

    helper = threading.Thread(target=from_elsewhere)
    helper.start()
    deadline = time.monotonic() + WAIT
    try:
        run(socket_map, None, timeout=0.5, until=lambda: finished.is_set() or time.monotonic() > deadline)
    finally:
        helper.join(WAIT)
        trigger.close()
    assert finished.is_set()
    assert ran_on == [threading.get_ident()] * 10


def test_trigger_pulled_more_than_its_socket_holds_neither_blocks_nor_loses_calls():
    """Wake-up bytes beyond the socketpair's buffer are dropped; the calls queued with them are not."""
    socket_map: Dict[int, Any] = {}
    trigger = Trigger(socket_map)
    ran: List[int] = []
    try:
        for n in range(5000):  # far beyond what a socketpair buffers as one-byte writes
            trigger.pull_trigger(lambda n=n: ran.append(n))
        asyncore.loop(timeout=1.0, map=socket_map, count=1)
    finally:
        trigger.close()
    assert ran == list(range(5000))


def test_a_failing_call_is_logged_and_the_next_one_still_runs(caplog):
    socket_map: Dict[int, Any] = {}
    trigger = Trigger(socket_map)
    ran: List[str] = []

    def broken() -> None:
        raise ValueError("bad call")

    try:
        trigger.pull_trigger(broken)
        trigger.pull_trigger(lambda: ran.append("after"))
        with caplog.at_level(logging.ERROR, logger="legacy.dispatcher"):
            asyncore.loop(timeout=1.0, map=socket_map, count=1)
    finally:
        trigger.close()
    assert ran == ["after"]
    assert any("bad call" in (r.exc_text or "") for r in caplog.records)


def test_a_closed_trigger_refuses_calls():
    socket_map: Dict[int, Any] = {}
    trigger = Trigger(socket_map)
    trigger.close()
    assert socket_map == {}
    with pytest.raises(RuntimeError, match="closed"):
        trigger.pull_trigger(lambda: None)
