"""legacy.callbacks.reactor: the hand-rolled selectors reactor the callbacks client runs on.

Each test runs the reactor in the test thread (another thread only where the thread-safe wake-up is
the point), with a watchdog timer so that a broken stop cannot hang the run.
"""
from __future__ import annotations

import gc
import socket
import threading
import warnings
from typing import Any, List

import pytest

from legacy.callbacks.reactor import Reactor, ReactorClosed

WATCHDOG = 5.0


class Recording(Reactor):
    """A reactor that keeps the exceptions that escaped callbacks instead of logging them."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: List[BaseException] = []

    def handle_error(self, handle: Any, exc: BaseException) -> None:
        self.errors.append(exc)


@pytest.fixture
def reactor():
    with Recording() as instance:
        yield instance


def run(reactor: Reactor, timeout: float = WATCHDOG) -> None:
    """run() until a callback stops the reactor; fail (instead of hanging) after `timeout`."""
    fired = []

    def watchdog() -> None:
        fired.append(True)
        reactor.stop()

    timer = reactor.call_later(timeout, watchdog)
    reactor.run()
    timer.cancel()
    assert not fired, f"the reactor was not stopped within {timeout} s"


def assert_cancelled_count(reactor: Reactor) -> None:
    """The count behind the lazy sweep is the number of cancelled timers still in the heap."""
    assert reactor._cancelled_timers == sum(t.cancelled for _, _, t in reactor._timers)


def test_call_soon_runs_in_order(reactor):
    """Callbacks run first in, first out, with their arguments."""
    seen = []
    for n in range(5):
        reactor.call_soon(seen.append, n)
    reactor.call_soon(reactor.stop)
    run(reactor)
    assert seen == [0, 1, 2, 3, 4]


def test_callbacks_scheduled_in_a_pass_wait_for_the_next(reactor):
    """A callback that reschedules itself runs once per pass, so a due timer still gets its turn."""
    limit = 1_000_000
    passes = []

    def again(n: int) -> None:
        passes.append(n)
        if n < limit:
            reactor.call_soon(again, n + 1)

    reactor.call_soon(again, 0)
    reactor.call_later(0.001, reactor.stop)
    run(reactor)
    assert 0 < len(passes) < limit
    assert passes == list(range(len(passes)))


def test_timers_fire_in_time_order_ties_first_in_first_out(reactor):
    """call_later timers fire by due time; timers due at the same time fire in the order scheduled."""
    seen = []
    when = reactor.time() + 0.02
    reactor.call_at(when, seen.append, "b1")
    reactor.call_later(0.01, seen.append, "a")
    reactor.call_at(when, seen.append, "b2")
    reactor.call_later(0.03, reactor.stop)
    run(reactor)
    assert seen == ["a", "b1", "b2"]


def test_timer_does_not_fire_early(reactor):
    """A timer runs no earlier than its due time on the reactor's clock."""
    start = reactor.time()
    fired_at = []
    reactor.call_later(0.05, lambda: (fired_at.append(reactor.time()), reactor.stop()))
    run(reactor)
    assert fired_at[0] - start >= 0.05 - reactor._clock_resolution


def test_cancelled_timer_does_not_run(reactor):
    """cancel() calls a timer off; cancelling twice is harmless."""
    seen = []
    timer = reactor.call_later(0.001, seen.append, "cancelled")
    timer.cancel()
    timer.cancel()
    reactor.call_later(0.005, reactor.stop)
    run(reactor)
    assert seen == []
    assert_cancelled_count(reactor)


def test_many_cancelled_timers_are_swept_from_the_heap(reactor):
    """Cancelled timers do not pile up: once they are most of the heap it is rebuilt without them."""
    timers = [reactor.call_later(3600, lambda: None) for _ in range(300)]
    keep = reactor.call_later(3600, lambda: None)
    for timer in timers:
        timer.cancel()
    reactor.call_soon(reactor.stop)
    run(reactor)
    assert len(reactor._timers) <= 2  # `keep`, and run()'s watchdog cancelled after the sweep
    assert [t for _, _, t in reactor._timers if not t.cancelled] == [keep]
    assert_cancelled_count(reactor)


def test_timer_cancelled_from_an_earlier_callback_in_the_same_pass(reactor):
    """A timer already moved to the ready queue and cancelled there is skipped."""
    seen = []
    when = reactor.time() + 0.01
    second: List[Any] = []
    reactor.call_at(when, lambda: second[0].cancel())
    second.append(reactor.call_at(when, seen.append, "second"))
    reactor.call_later(0.02, reactor.stop)
    run(reactor)
    assert seen == []


def test_stop_before_run_still_runs_one_pass(reactor):
    """As asyncio's loop: stop() before run() lets the callbacks already ready run once."""
    seen = []
    reactor.call_soon(seen.append, 1)
    reactor.stop()
    reactor.run()
    assert seen == [1]
    assert not reactor.is_running()


def test_exception_in_callback_goes_to_handle_error_and_the_reactor_goes_on(reactor):
    """An exception escaping a callback is reported through handle_error; later callbacks still run."""
    seen = []

    def broken() -> None:
        raise ValueError("boom")

    reactor.call_soon(broken)
    reactor.call_soon(seen.append, "after")
    reactor.call_soon(reactor.stop)
    run(reactor)
    assert seen == ["after"]
    assert [str(e) for e in reactor.errors] == ["boom"]


def test_default_handle_error_logs(caplog):
    """The default handle_error logs the exception with its traceback."""
    with Reactor() as reactor:
        reactor.call_soon(lambda: 1 / 0)
        reactor.call_soon(reactor.stop)
        run(reactor)
    record = next(r for r in caplog.records if r.name == "legacy.callbacks.reactor")
    assert "exception in callback" in record.getMessage()
    assert record.exc_info[0] is ZeroDivisionError


def test_reader_runs_when_data_arrives_and_stops_after_remove(reactor):
    """add_reader calls back when the fd is readable; remove_reader stops it and says whether it watched."""
    a, b = socket.socketpair()
    with a, b:
        received = []

        def readable() -> None:
            received.append(a.recv(100))
            assert reactor.remove_reader(a)
            reactor.stop()

        reactor.add_reader(a, readable)
        b.send(b"hello")
        run(reactor)
        assert received == [b"hello"]
        assert not reactor.remove_reader(a)
        assert not reactor.remove_writer(a)


def test_writer_runs_when_writable(reactor):
    """add_writer calls back (with its arguments) when the fd can take data."""
    a, b = socket.socketpair()
    with a, b:
        seen = []

        def writable(tag: str) -> None:
            seen.append(tag)
            reactor.remove_writer(a.fileno())
            reactor.stop()

        reactor.add_writer(a.fileno(), writable, "w")
        run(reactor)
        assert seen == ["w"]


def test_reader_and_writer_on_one_fd_are_independent(reactor):
    """Removing the writer keeps the reader of the same fd, and the other way round."""
    a, b = socket.socketpair()
    with a, b:
        seen = []
        reactor.add_reader(a, lambda: (seen.append("r"), a.recv(10), reactor.stop()))
        reactor.add_writer(a, lambda: None)
        assert reactor.remove_writer(a)
        b.send(b"x")
        run(reactor)
        assert seen == ["r"]
        assert reactor.remove_reader(a)


def test_reader_removed_earlier_in_the_same_pass_does_not_run(reactor):
    """When two fds are ready and the first callback removes the second's reader, the second does not run."""
    pairs = [socket.socketpair() for _ in range(2)]
    try:
        seen = []

        def first(sock: socket.socket, other: socket.socket) -> None:
            seen.append(sock.recv(10))
            reactor.remove_reader(sock)
            reactor.remove_reader(other)
            reactor.call_soon(reactor.stop)

        (a, b), (c, d) = pairs
        reactor.add_reader(a, first, a, c)
        reactor.add_reader(c, first, c, a)
        b.send(b"1")
        d.send(b"2")
        run(reactor)
        assert len(seen) == 1
    finally:
        for left, right in pairs:
            left.close()
            right.close()


def test_replacing_a_reader_cancels_the_old_one(reactor):
    """A second add_reader on an fd replaces the first callback."""
    a, b = socket.socketpair()
    with a, b:
        seen = []
        reactor.add_reader(a, seen.append, "old")
        reactor.add_reader(a, lambda: (seen.append("new"), a.recv(10), reactor.stop()))
        b.send(b"x")
        run(reactor)
        assert seen == ["new"]
        reactor.remove_reader(a)


def test_call_soon_threadsafe_wakes_a_reactor_blocked_in_select(reactor):
    """With nothing to do the reactor blocks in select(); another thread's call_soon_threadsafe wakes it."""
    seen = []
    started = threading.Event()
    reactor.call_soon(started.set)

    def other_thread() -> None:
        assert started.wait(WATCHDOG)
        reactor.call_soon_threadsafe(seen.append, threading.get_ident())  # runs on the reactor
        reactor.call_soon_threadsafe(reactor.stop)

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        run(reactor)
    finally:
        thread.join(WATCHDOG)
    assert seen == [thread.ident]


def test_many_threadsafe_calls_all_run(reactor):
    """Wake-ups from many calls (more than the socketpair buffer holds) all arrive and nothing is lost."""
    seen = []
    count = 20000

    def producer() -> None:
        for n in range(count):
            reactor.call_soon_threadsafe(seen.append, n)
        reactor.call_soon_threadsafe(reactor.stop)

    thread = threading.Thread(target=producer)
    thread.start()
    try:
        run(reactor)
    finally:
        thread.join(WATCHDOG)
    assert seen == list(range(count))


def test_run_is_not_reentrant(reactor):
    """run() from inside a callback is refused."""
    reactor.call_soon(reactor.run)
    reactor.call_soon(reactor.stop)
    run(reactor)
    assert len(reactor.errors) == 1 and "already running" in str(reactor.errors[0])


def test_close_while_running_is_refused(reactor):
    reactor.call_soon(reactor.close)
    reactor.call_soon(reactor.stop)
    run(reactor)
    assert "cannot close a running reactor" in str(reactor.errors[0])
    assert not reactor.is_closed()


def test_a_closed_reactor_refuses_work():
    """After close(): no callbacks, no timers, no fds, no run; close() again is harmless."""
    reactor = Reactor()
    reactor.call_soon(lambda: None)
    reactor.close()
    reactor.close()
    assert reactor.is_closed()
    a, b = socket.socketpair()
    with a, b:
        for attempt in (
            lambda: reactor.call_soon(print),
            lambda: reactor.call_later(1, print),
            lambda: reactor.call_soon_threadsafe(print),
            lambda: reactor.add_reader(a, print),
            reactor.run,
        ):
            with pytest.raises(ReactorClosed):
                attempt()
        assert not reactor.remove_reader(a)


def test_unclosed_reactor_warns():
    """A reactor dropped without close() says so with a ResourceWarning (and its socketpair is reclaimed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reactor = Reactor()
        wake = (reactor._wake_r, reactor._wake_w)
        del reactor
        gc.collect()
        for sock in wake:
            sock.close()
    assert any(issubclass(w.category, ResourceWarning) and "unclosed reactor" in str(w.message) for w in caught)
