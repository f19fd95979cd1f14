"""The driver the corpus stands on: the virtual clock, the hang and runaway guards, channels, errors.

Each check runs on both loops through the `api` fixture, since a driver that worked on one loop only
would make the comparison meaningless.
"""
from __future__ import annotations

from typing import Any

import differential_driver as driver
import pytest
from differential_driver import Api, Boom, Program, Run, describe, run_program
from differential_programs import program


def _program(body: Any, **options: Any) -> Program:
    return Program(body.__name__, body, body.__doc__ or "", **options)


def test_virtual_clock_jumps_to_the_next_timer(api: Api) -> None:
    """A timer an hour away fires at once on the virtual clock, which then reads exactly its deadline."""

    def body(api: Api, run: Run) -> None:
        loop = run.loop
        start = loop.time()
        loop.call_later(3600, lambda: run.log("fired", loop.time() - start))
        loop.call_later(3600.5, loop.stop)
        loop.run_forever()

    assert run_program(_program(body), api) == [("fired", 3600.0)]


def test_advance_makes_timers_fall_due_together(api: Api) -> None:
    """run.advance() is a slow callback: every timer it jumps over runs in the next pass."""

    def body(api: Api, run: Run) -> None:
        loop = run.loop
        for delay in (0.3, 0.1, 0.2):
            loop.call_later(delay, run.log, "timer", delay)
        loop.call_soon(run.advance, 1.0)
        loop.call_soon(lambda: loop.call_soon(loop.stop))
        loop.run_forever()

    assert run_program(_program(body), api) == [("timer", 0.1), ("timer", 0.2), ("timer", 0.3)]


def test_real_clock_programs_cannot_advance(api: Api) -> None:
    """Only the virtual clock can be moved; a real-clock program asking for it gets a typed error."""

    def body(api: Api, run: Run) -> None:
        run.advance(1.0)

    assert run_program(_program(body, virtual_clock=False), api) == [("program raised", "RuntimeError")]


def test_a_hung_program_ends_with_program_hung(api: Api) -> None:
    """Waiting for a future nobody will complete, with no timer pending, is a hang, reported as such."""

    def body(api: Api, run: Run) -> None:
        run.log("waiting")
        run.loop.run_until_complete(run.loop.create_future())

    assert run_program(_program(body), api, hang_limit=0.05) == [("waiting",), ("program raised", "ProgramHung")]


def test_a_runaway_loop_is_stopped(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A callback that reschedules itself forever ends with ProgramRunaway after the pass limit."""
    monkeypatch.setattr(driver, "PASS_LIMIT", 500)

    def body(api: Api, run: Run) -> None:
        def again() -> None:
            run.loop.call_soon(again)

        run.loop.call_soon(again)
        run.loop.run_forever()

    assert run_program(_program(body), api) == [("program raised", "ProgramRunaway")]


def test_channels_follow_the_main_trace_by_name(api: Api) -> None:
    """Channel events are compared per channel, after the main trace, channels sorted by name."""

    def body(api: Api, run: Run) -> None:
        server, client = run.channel("server"), run.channel("client")
        server("s1")
        client("c1")
        run.log("main")
        server("s2")

    assert run_program(_program(body), api) == [("main",), ("client", (("c1",),)), ("server", (("s1",), ("s2",)))]


def test_unexpected_exception_handler_calls_are_traced(api: Api) -> None:
    """A callback error the program did not handle shows in the trace where it happened."""

    def body(api: Api, run: Run) -> None:
        def bad() -> None:
            raise Boom("unexpected")

        run.loop.call_soon(bad)
        run.loop.call_soon(run.log, "after")
        run.loop.call_soon(run.loop.stop)
        run.loop.run_forever()

    assert run_program(_program(body), api) == [("exception handler", ("Boom", "unexpected")), ("after",)]


def test_debug_mode_is_pinned_by_the_program(api: Api) -> None:
    """The loop's debug mode is the program's, whatever the environment says."""

    def body(api: Api, run: Run) -> None:
        run.log("debug", run.loop.get_debug())

    assert run_program(_program(body), api) == [("debug", False)]
    assert run_program(_program(body, debug=True), api) == [("debug", True)]


def test_a_missing_name_fails_when_used() -> None:
    """A name modern.loop lacks becomes a stand-in that raises MissingName on call or subclassing."""
    stand_in = driver._missing("open_connection")
    with pytest.raises(driver.MissingName, match="open_connection"):
        stand_in("127.0.0.1", 1)
    with pytest.raises(driver.MissingName):
        type("Sub", (stand_in,), {})


def test_describe_keeps_only_the_programs_own_messages() -> None:
    """Own errors keep their arguments; the loops' own errors are compared by class name only."""
    assert describe(Boom("a", 1)) == ("Boom", "a", 1)
    assert describe(RuntimeError("message differs between loops")) == "RuntimeError"
    assert describe(None) is None


def test_a_version_limited_program_needs_its_reason_and_trace() -> None:
    """since, reason and expected go together: a program cannot be limited without saying why."""
    with pytest.raises(ValueError):
        program(since=(3, 12))
    with pytest.raises(ValueError):
        program(since=(3, 12), expected=[])
