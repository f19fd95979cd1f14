"""The differential corpus: every program's trace on modern.loop equals its trace on asyncio.

Programs whose asyncio behaviour changed within 3.8-3.13 are compared with asyncio only from the
version where it took the shape modern.loop follows; before that, modern.loop is held to the trace
recorded from that version, so every program runs and checks something on every Python.
"""
from __future__ import annotations

import sys
from typing import Dict, List

import pytest
from differential_driver import ASYNCIO, Event, run_program
from differential_programs import PROGRAMS

#: Programs where modern.loop is known to differ from asyncio, with the reason (see the report).
KNOWN_DIVERGENCES: Dict[str, str] = {
}


def _compared_with_asyncio(program) -> bool:
    return program.since is None or sys.version_info >= program.since


def _params() -> List[object]:
    params = []
    for program in PROGRAMS:
        marks = []
        if program.name in KNOWN_DIVERGENCES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DIVERGENCES[program.name]))
        params.append(pytest.param(program, id=program.name, marks=marks))
    return params


@pytest.mark.parametrize("program", _params())
def test_trace_on_modern_loop_equals_asyncio(program, asyncio_traces, modern_traces) -> None:
    """The program leaves the same trace of events on modern.loop as on asyncio."""
    modern = modern_traces(program)
    if _compared_with_asyncio(program):
        assert modern == asyncio_traces(program), program.doc
    else:
        # asyncio on this Python predates the behaviour modern.loop follows (program.reason).
        assert modern == program.expected, program.reason


@pytest.mark.parametrize("program", [p for p in PROGRAMS if p.expected is not None], ids=lambda p: p.name)
def test_recorded_trace_is_asyncio_from_its_version(program, asyncio_traces) -> None:
    """A recorded trace is asyncio's own from the version it names on, and differs before it."""
    trace = asyncio_traces(program)
    if _compared_with_asyncio(program):
        assert trace == program.expected
    else:
        assert trace != program.expected, f"asyncio already behaves so here; drop since={program.since}"


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_program_is_sound_on_asyncio(program, asyncio_traces) -> None:
    """On asyncio every program ends normally, with no error the program did not catch itself."""
    trace = asyncio_traces(program)
    assert trace, "a program must leave a trace"
    leaked = [event for event in trace if event[0] in ("program raised", "exception handler")]
    assert leaked == []


def test_asyncio_traces_are_deterministic(asyncio_traces) -> None:
    """Run again, every program leaves the very same trace on asyncio: no trace depends on timing."""
    again: Dict[str, List[Event]] = {p.name: run_program(p, ASYNCIO) for p in PROGRAMS}
    assert {p.name: asyncio_traces(p) for p in PROGRAMS} == again


def test_corpus_size_and_version_specific_programs_are_few() -> None:
    """At least 40 programs; those compared only from some Python on are few and say why."""
    assert len(PROGRAMS) >= 40
    limited = [p for p in PROGRAMS if p.since is not None]
    assert len(limited) <= 4
    assert all(p.reason and p.expected for p in limited)
    assert len({p.name for p in PROGRAMS}) == len(PROGRAMS)
    assert all(p.doc for p in PROGRAMS), "each program states what it checks"


def test_the_corpus_covers_both_coroutine_styles() -> None:
    """Programs use generator coroutines (yield from) as well as async def ones."""
    import inspect

    sources = [inspect.getsource(p.body) for p in PROGRAMS]
    assert sum("yield from" in s for s in sources) >= 8
    assert sum("async def" in s for s in sources) >= 20
