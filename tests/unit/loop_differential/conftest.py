"""Fixtures of the differential corpus: the api of either loop, and each program's trace per loop.

Traces are computed once per session and shared: the corpus test, the soundness checks and the
broken-loop tests all compare against the same asyncio trace.
"""
from __future__ import annotations

from typing import Callable, Dict, List

import pytest
from differential_driver import ASYNCIO, Api, Event, Program, modern_api, run_program


class Traces:
    """Each program's trace on one api, run on first request and remembered."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._traces: Dict[str, List[Event]] = {}

    def __call__(self, program: Program) -> List[Event]:
        if program.name not in self._traces:
            self._traces[program.name] = run_program(program, self.api)
        return self._traces[program.name]


@pytest.fixture(scope="session")
def asyncio_traces() -> Traces:
    return Traces(ASYNCIO)


@pytest.fixture(scope="session")
def modern_traces() -> Traces:
    return Traces(modern_api())


@pytest.fixture(params=["asyncio", "modern.loop"])
def api(request: pytest.FixtureRequest) -> Api:
    """The api of one loop: a program written once runs on either."""
    factories: Dict[str, Callable[[], Api]] = {"asyncio": lambda: ASYNCIO, "modern.loop": modern_api}
    return factories[request.param]()
