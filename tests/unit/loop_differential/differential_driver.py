"""The driver of the differential corpus: an `Api` per loop, a virtual clock and a guarded selector.

A program is written once against `Api` and runs unchanged on asyncio and on modern.loop. Each run
gets a fresh loop whose clock moves only when the loop would block, so timer order never depends on
how busy the machine is, and whose selector turns a hang or a runaway loop into a typed error.
"""
from __future__ import annotations

import asyncio
import dataclasses
import selectors
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

import compat

__all__ = [
    "ASYNCIO",
    "Api",
    "Boom",
    "MissingName",
    "Oops",
    "Program",
    "ProgramHung",
    "ProgramRunaway",
    "Run",
    "asyncio_api",
    "describe",
    "modern_api",
    "run_program",
]

#: How long a select that would block with no timer pending may wait before the program is hung.
HANG_LIMIT = 5.0
#: Passes of the loop one program may make; the largest program needs a few hundred.
PASS_LIMIT = 20000
#: Where the virtual clock starts; far from zero, like a monotonic clock, to catch `when or default`.
CLOCK_START = 1000.0

Event = Tuple[Any, ...]


class Boom(Exception):
    """An error a program raises on purpose; its arguments are part of the trace."""


class Oops(Exception):
    """A second error class, for chains of exceptions."""


class ProgramHung(RuntimeError):
    """The loop waited for I/O that never came: the program would hang."""


class ProgramRunaway(RuntimeError):
    """The loop kept turning long after any program of the corpus finishes."""


def describe(exc: Optional[BaseException]) -> Any:
    """An exception as a trace value: the class name, plus the arguments of the program's own errors.

    Messages of the loop's own errors (InvalidStateError, CancelledError) differ between loops and
    between Python versions, so only their class name is compared.
    """
    if exc is None:
        return None
    if isinstance(exc, (Boom, Oops)):
        return (type(exc).__name__, *exc.args)
    return type(exc).__name__


@dataclasses.dataclass(frozen=True)
class Api:
    """What a program may use: asyncio's names, taken from asyncio or from modern.loop."""

    name: str
    new_event_loop: Callable[[], Any]
    Future: type
    Task: type
    CancelledError: type
    TimeoutError: type
    InvalidStateError: type
    IncompleteReadError: type
    Protocol: type
    BufferedProtocol: type
    coroutine: Callable[[Callable[..., Any]], Callable[..., Any]]
    sleep: Callable[..., Any]
    gather: Callable[..., Any]
    wait_for: Callable[..., Any]
    wait: Callable[..., Any]
    shield: Callable[..., Any]
    ensure_future: Callable[..., Any]
    open_connection: Callable[..., Any]
    FIRST_COMPLETED: Any
    FIRST_EXCEPTION: Any
    ALL_COMPLETED: Any


def asyncio_api() -> Api:
    """The reference: asyncio's selector loop, with compat.coroutine for generator coroutines."""
    return Api(
        name="asyncio",
        new_event_loop=asyncio.SelectorEventLoop,
        Future=asyncio.Future,
        Task=asyncio.Task,
        CancelledError=asyncio.CancelledError,
        # Up to 3.10 asyncio.TimeoutError is its own class; from 3.11 it is the builtin.
        TimeoutError=asyncio.TimeoutError,
        InvalidStateError=asyncio.InvalidStateError,
        IncompleteReadError=asyncio.IncompleteReadError,
        Protocol=asyncio.Protocol,
        BufferedProtocol=asyncio.BufferedProtocol,
        coroutine=compat.coroutine,
        sleep=asyncio.sleep,
        gather=asyncio.gather,
        wait_for=asyncio.wait_for,
        wait=asyncio.wait,
        shield=asyncio.shield,
        ensure_future=asyncio.ensure_future,
        open_connection=asyncio.open_connection,
        FIRST_COMPLETED=asyncio.FIRST_COMPLETED,
        FIRST_EXCEPTION=asyncio.FIRST_EXCEPTION,
        ALL_COMPLETED=asyncio.ALL_COMPLETED,
    )


ASYNCIO = asyncio_api()


class MissingName(AttributeError):
    """modern.loop does not (yet) offer a name that a program uses."""


def _missing(name: str) -> Any:
    """A stand-in for a name modern.loop lacks: using it (calling, subclassing) raises MissingName."""

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise MissingName(f"modern.loop has no {name}")

    return type(name, (), {"__init_subclass__": classmethod(fail), "__new__": fail})


def _lookup(name: str) -> Any:
    """A public name of modern.loop, or of the submodule that defines it if the package does not export it."""
    import importlib

    for module_name in ("modern.loop", "modern.loop.protocols", "modern.loop.streams", "modern.loop.exceptions"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, name):
            return getattr(module, name)
    return _missing(name)


def modern_api(name: str = "modern.loop", **replace: Any) -> Api:
    """The loop under test; `replace` swaps a part (a broken EventLoop or Future) for the mutation tests."""
    fields = {f.name: _lookup(f.name) for f in dataclasses.fields(Api) if f.name not in ("name", "new_event_loop")}
    api = Api(name=name, new_event_loop=_lookup("EventLoop"), **fields)
    return dataclasses.replace(api, **replace)


class VirtualClock:
    """A clock that stands still while callbacks run and jumps to the next timer when the loop waits."""

    def __init__(self) -> None:
        self.now = CLOCK_START

    def time(self) -> float:
        return self.now


class GuardedSelector(selectors.BaseSelector):
    """Wraps a loop's selector: jumps the virtual clock instead of sleeping, and stops a hang."""

    def __init__(self, inner: selectors.BaseSelector, clock: Optional[VirtualClock], hang_limit: float) -> None:
        self._inner = inner
        self._clock = clock
        self._hang_limit = hang_limit
        self.passes = 0

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.get_key(fileobj)

    def get_map(self) -> Any:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()

    def select(self, timeout: Optional[float] = None) -> List[Tuple[selectors.SelectorKey, int]]:
        self.passes += 1
        if self.passes > PASS_LIMIT:
            raise ProgramRunaway(f"the loop made more than {PASS_LIMIT} passes")
        if timeout is None:
            # Nothing is scheduled: only I/O (a socket, a thread's wake-up) can move the program on.
            events = self._inner.select(self._hang_limit)
            if not events:
                raise ProgramHung(f"no timer pending and no I/O for {self._hang_limit} s")
            return events
        if self._clock is None or timeout <= 0:
            return self._inner.select(timeout)
        events = self._inner.select(0)
        if not events:
            self._clock.now += timeout
        return events


def _install_guards(loop: Any, virtual: bool, hang_limit: float) -> Optional[VirtualClock]:
    """Swap the loop's selector for a guarded one and, if asked, its clock for a virtual one."""
    holders = [name for name, value in vars(loop).items() if isinstance(value, selectors.BaseSelector)]
    if len(holders) != 1:
        raise RuntimeError(f"expected one selector on {type(loop).__name__}, found {holders}")
    clock = VirtualClock() if virtual else None
    setattr(loop, holders[0], GuardedSelector(getattr(loop, holders[0]), clock, hang_limit))
    if clock is not None:
        # An instance attribute shadows the method, so the loop's own calls to self.time() see it too.
        loop.time = clock.time
    return clock


@dataclasses.dataclass(frozen=True)
class Program:
    """One program of the corpus, and on which Pythons asyncio's trace is the reference."""

    name: str
    body: Callable[[Api, Run], None]
    doc: str
    virtual_clock: bool = True
    #: Debug mode, set on the loop explicitly: asyncio takes it from PYTHONDEVMODE (which tox sets),
    #: modern.loop from GG_LOOP_DEBUG, and it changes what call_soon checks.
    debug: bool = False
    #: asyncio's trace is the reference only from this Python on (asyncio changed before it).
    since: Optional[Tuple[int, int]] = None
    reason: str = ""
    #: The trace of asyncio from `since` on, recorded; before `since`, modern.loop is held to it.
    expected: Optional[List[Event]] = None


class Run:
    """What a program gets besides the api: its loop, its trace, and control of the virtual clock."""

    def __init__(self, loop: Any, clock: Optional[VirtualClock], program: Program) -> None:
        self.loop = loop
        self._clock = clock
        self._program = program
        self._events: List[Event] = []
        self._channels: Dict[str, List[Event]] = {}
        self._open = True

    def log(self, *event: Any) -> None:
        """Record one ordering event."""
        if self._open:
            self._events.append(event)

    def channel(self, name: str) -> Callable[..., None]:
        """A log of its own, for one side of a connection whose order against the other is the kernel's.

        Channels are compared whole, after the main trace, so only the order inside each one counts.
        """
        events = self._channels.setdefault(name, [])

        def log(*event: Any) -> None:
            if self._open:
                events.append(event)

        return log

    def advance(self, seconds: float) -> None:
        """Move the virtual clock, as a callback that took `seconds` to run would."""
        if self._clock is None:
            raise RuntimeError(f"{self._program.name} runs on the real clock and cannot advance it")
        self._clock.now += seconds

    def finish(self) -> List[Event]:
        self._open = False
        trace = list(self._events)
        for name in sorted(self._channels):
            trace.append((name, tuple(self._channels[name])))
        return trace


def where(exc: BaseException, filename: str) -> List[str]:
    """The functions of one source file that an exception's traceback passes through, outermost first."""
    return [frame.name for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == filename]


def run_program(program: Program, api: Api, hang_limit: float = HANG_LIMIT) -> List[Event]:
    """Run one program on a fresh loop of `api` and return its trace.

    An error that escapes the program, and every call of the loop's exception handler the program did
    not expect, become trace events too, so that they are compared like the rest. A loop that waits
    `hang_limit` seconds for I/O with no timer pending is hung: ProgramHung ends the program.
    """
    loop = api.new_event_loop()
    run = Run(loop, None, program)
    try:
        loop.set_debug(program.debug)
        run._clock = _install_guards(loop, program.virtual_clock, hang_limit)
        loop.set_exception_handler(
            lambda loop, context: run.log("exception handler", describe(context.get("exception")))
        )
        program.body(api, run)
    except Exception as exc:  # a program that escapes is part of the trace, and compared as such
        run.log("program raised", describe(exc))
    finally:
        trace = run.finish()
        if not loop.is_running():
            loop.close()
    return trace
