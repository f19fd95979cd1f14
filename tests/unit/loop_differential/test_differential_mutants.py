"""Testing the tests: deliberately broken loops run through the corpus must be caught by it.

Each mutant changes one thing in modern.loop, by subclassing, never by editing it: the ready queue
run newest first, timers handed out of deadline order, a Future that calls its done-callbacks inline.
For each, at least one program whose trace on the healthy loop equals asyncio's must differ.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Dict, List

import pytest
from differential_driver import Api, modern_api, run_program
from differential_programs import PROGRAMS

import modern.loop as ml


class LifoReadyLoop(ml.EventLoop):
    """Runs each pass's ready callbacks newest first (a stack where asyncio has a queue)."""

    def _run_once(self) -> None:
        # Reversed before the pass: what was queued runs last-in first-out; I/O and timers follow.
        self._ready.reverse()
        super()._run_once()


class TimersOutOfOrderLoop(ml.EventLoop):
    """Keeps its timer heap sorted latest deadline first, so heappop hands timers out of order."""

    def _run_once(self) -> None:
        self._scheduled.sort(reverse=True)
        super()._run_once()


class InlineCallbacksFuture(ml.Future):
    """A Future that calls its done-callbacks inside set_result/cancel instead of scheduling them."""

    __slots__ = ()

    def _schedule_callbacks(self) -> None:
        loop = self._loop

        def call_now(callback: Callable[..., Any], *args: Any, context: Any = None) -> None:
            if context is None:
                callback(*args)
            else:
                context.run(callback, *args)

        # _schedule_callbacks is the one place that hands done-callbacks to call_soon: for its
        # duration, call_soon on this loop runs them on the spot.
        loop.call_soon = call_now
        try:
            super()._schedule_callbacks()
        finally:
            del loop.call_soon


class InlineCallbacksLoop(ml.EventLoop):
    """A healthy loop whose create_future makes InlineCallbacksFuture."""

    def create_future(self) -> Any:
        return InlineCallbacksFuture(loop=self)


MUTANTS: Dict[str, Callable[[], Api]] = {
    "ready queue run LIFO": lambda: modern_api("lifo", new_event_loop=LifoReadyLoop),
    "timers popped out of order": lambda: modern_api("timers", new_event_loop=TimersOutOfOrderLoop),
    "done-callbacks called inline": lambda: modern_api(
        "inline", new_event_loop=InlineCallbacksLoop, Future=InlineCallbacksFuture
    ),
}


def _compared_here(program) -> bool:
    return program.since is None or sys.version_info >= program.since


def _reference(program, asyncio_traces) -> List[Any]:
    return asyncio_traces(program) if _compared_here(program) else program.expected


#: A broken loop often waits forever for a callback it lost; it need not wait long to be caught.
MUTANT_HANG_LIMIT = 0.2


def catches(program, api: Api, asyncio_traces) -> bool:
    """True if the program's trace on `api` differs from asyncio's."""
    return run_program(program, api, hang_limit=MUTANT_HANG_LIMIT) != _reference(program, asyncio_traces)


# A broken loop leaves coroutines unawaited and futures unretrieved; that is its fault, not the test's.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("fault", sorted(MUTANTS))
def test_broken_loop_fails_some_program(fault, asyncio_traces, modern_traces) -> None:
    """A loop with this one fault leaves, in some program the healthy loop passes, a different trace."""
    broken = MUTANTS[fault]()
    healthy = (p for p in PROGRAMS if modern_traces(p) == _reference(p, asyncio_traces))
    assert any(catches(p, broken, asyncio_traces) for p in healthy), f"no program of the corpus notices: {fault}"


@pytest.mark.parametrize(
    ("fault", "program_name"),
    [
        ("ready queue run LIFO", "call_soon_runs_fifo"),
        ("timers popped out of order", "call_later_runs_by_deadline"),
        ("done-callbacks called inline", "done_callbacks_are_scheduled_not_called"),
    ],
)
def test_the_program_made_for_each_fault_catches_it(fault, program_name, asyncio_traces) -> None:
    """The program written for each fault is among those that catch it."""
    program = next(p for p in PROGRAMS if p.name == program_name)
    assert catches(program, MUTANTS[fault](), asyncio_traces)


def test_mutants_are_otherwise_loops() -> None:
    """Each mutant still runs a plain program to the end (it is broken in order, not in function)."""
    for fault, make in MUTANTS.items():
        api = make()
        loop = api.new_event_loop()
        try:
            fut = loop.create_future()
            loop.call_later(0.001, fut.set_result, fault)
            assert loop.run_until_complete(fut) == fault
        finally:
            loop.close()
