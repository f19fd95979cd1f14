"""What every bench variant shares: the accounts and frames it uses, the measured window, the errors.

A Variant lives in the client process and offers four blocking phases (open sessions, round trips,
a pipelined burst, a ping round); each runs the variant's own loop until the phase is over. How it
does so is the variant's business (variants.py, raw.py); how it is measured is worker.py's.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

from gadu.server.config import ECHO_UIN

__all__ = [
    "FIRST_UIN",
    "LOGIN_TIMEOUT",
    "OPEN_CONCURRENCY",
    "PASSWORD",
    "PHASE_GRACE",
    "RAW_BODY",
    "RAW_FRAME",
    "TEXT",
    "BenchError",
    "CallbackVariant",
    "NotPossible",
    "Stalled",
    "Variant",
    "Window",
]

#: The bench's accounts on the reference server: FIRST_UIN, FIRST_UIN + 1, ... all with PASSWORD.
FIRST_UIN = 100000
PASSWORD = "bench"
#: The message every GG round trip sends (to the echo contact, or to a partner in scenario F).
TEXT = "benchmark round trip"
#: The raw ceilings' frame: a GG header (type, length) and a 40-byte body, 48 bytes in all.
RAW_BODY = bytes(range(40))
RAW_FRAME = (0x2D).to_bytes(4, "little") + len(RAW_BODY).to_bytes(4, "little") + RAW_BODY
#: Sessions connecting and logging in at once while a phase opens many: a burst, but a bounded one.
OPEN_CONCURRENCY = 200
#: Seconds a login may take before the variant's own timeout fails it.
LOGIN_TIMEOUT = 60.0
#: Seconds a phase may overrun its window (or take to open its sessions) before it counts as stalled.
PHASE_GRACE = 120.0


class BenchError(Exception):
    """A phase failed: a session was refused, lost, or the variant raised; the cell shows the reason."""


class NotPossible(BenchError):
    """The variant cannot run this scenario at all (select() and its descriptor limit)."""


class Stalled(BenchError):
    """A phase did not finish within its window plus PHASE_GRACE."""


class Window:
    """The measured window of one phase: sessions start again while `open`; the last to stop ends it."""

    __slots__ = ("_on_done", "active", "count", "open")

    def __init__(self, sessions: int, on_done: Callable[[], None]) -> None:
        self.open = True
        self.count = 0
        self.active = sessions
        self._on_done = on_done

    def close(self) -> None:
        self.open = False

    def finish_one(self) -> None:
        self.active -= 1
        if self.active == 0:
            self._on_done()


class Variant:
    """One row of the table. `route` (scenario F) sends to a partner session instead of the echo contact;
    a round trip is then the message out and its ack in, with no echo to wait for."""

    name = ""
    family = "gg"  # "gg" or "raw"
    #: How the variant waits for sockets, shown in the table's notes ("epoll", "poll()", "select()").
    waits_with = "epoll"

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        self.address = address
        self.route = route
        self.expect_echo = not route
        self._next_uin = FIRST_UIN
        #: Scenario G: sessions send to uin + offline_offset, accounts that never log in (0: off).
        self.offline_offset = 0

    @classmethod
    def available(cls) -> Optional[str]:
        """None when the variant can run here, else why not (its row says so)."""
        return None

    def take_uin(self) -> int:
        uin = self._next_uin
        self._next_uin += 1
        return uin

    def target(self, uin: int) -> int:
        """Whom a session sends to: the echo contact, or in F its partner (sessions pair up 0-1, 2-3, ...)."""
        if not self.route:
            return ECHO_UIN
        if self.offline_offset:
            return uin + self.offline_offset
        return uin + 1 if (uin - FIRST_UIN) % 2 == 0 else uin - 1

    # The phases: each blocks until done, raising BenchError on failure.

    def open(self, count: int) -> List[Any]:
        raise NotImplementedError

    def round_trips(self, sessions: List[Any], seconds: float) -> int:
        """Every session does strict round trips until `seconds` have passed; returns how many in all."""
        raise NotImplementedError

    def pipeline(self, session: Any, depth: int, seconds: float) -> int:
        """Bursts of `depth` messages, then all their answers, until `seconds` have passed; returns messages."""
        raise NotImplementedError

    def ping_round(self, sessions: List[Any]) -> None:
        """One ping (raw: one frame) on every session, then every answer."""
        raise NotImplementedError

    def close(self) -> None:
        """Close every session and the loop."""
        raise NotImplementedError


class CallbackVariant(Variant):
    """A variant whose sessions report by callback. Subclasses supply `_start_session()` (connect and,
    for GG, log in; call `_opened(session)` when ready), `_send_burst(session, depth)`, `_send_ping(session)`,
    `_call_later`, `_run_phase` (run the loop until `_stop_loop()`), and `_stop_loop`."""

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        super().__init__(address, route=route)
        self.sessions: List[Any] = []
        self.error: Optional[str] = None
        self._to_open = 0
        self._started = 0
        self._opening: List[Any] = []
        self._pongs_due = 0
        self._phase_over = True
        self.closing = False

    # What subclasses provide.

    def _start_session(self) -> None:
        raise NotImplementedError

    def _send_burst(self, session: Any, depth: int) -> None:
        raise NotImplementedError

    def _send_ping(self, session: Any) -> None:
        raise NotImplementedError

    def _call_later(self, delay: float, callback: Callable[[], None]) -> Any:
        raise NotImplementedError

    def _run_phase(self) -> None:
        raise NotImplementedError

    def _stop_loop(self) -> None:
        raise NotImplementedError

    def _kick(self, sessions: List[Any]) -> None:
        """After sends made from outside the loop's callbacks (the first of a phase); most loops need nothing."""

    # What sessions call.

    def _phase_done(self) -> None:
        # Once per phase: a second loop.stop() would end the next phase before it began.
        if not self._phase_over:
            self._phase_over = True
            self._stop_loop()

    def _start_next(self) -> None:
        self._started += 1
        self._start_session()

    def _opened(self, session: Any) -> None:
        self._opening.append(session)
        if len(self._opening) == self._to_open:
            self._phase_done()
        elif self._started < self._to_open:
            self._start_next()

    def _failed(self, reason: str) -> None:
        if self.closing:
            return
        if self.error is None:
            self.error = reason
        self._phase_done()

    def _burst_done(self, session: Any, messages: int) -> None:
        window = session.window
        window.count += messages
        if window.open:
            self._send_burst(session, messages)
        else:
            window.finish_one()

    def _pong(self) -> None:
        self._pongs_due -= 1
        if self._pongs_due == 0:
            self._phase_done()

    # The phases.

    def _phase(self, grace: float) -> None:
        def stalled() -> None:
            self._failed(f"stalled: the phase did not finish within {grace:g} s")

        guard = self._call_later(grace, stalled)
        try:
            self._run_phase()
        finally:
            guard.cancel()
        if self.error is not None:
            error, self.error = self.error, None
            raise Stalled(error) if error.startswith("stalled") else BenchError(error)

    def open(self, count: int) -> List[Any]:
        self._to_open = count
        self._opening = []
        self._started = 0
        if count == 0:
            return []
        self._phase_over = False
        for _ in range(min(OPEN_CONCURRENCY, count)):
            self._start_next()
        self._phase(PHASE_GRACE)
        opened, self._opening = self._opening, []
        self.sessions.extend(opened)
        return opened

    def round_trips(self, sessions: List[Any], seconds: float) -> int:
        return self._bursts(sessions, 1, seconds)

    def pipeline(self, session: Any, depth: int, seconds: float) -> int:
        return self._bursts([session], depth, seconds)

    def _bursts(self, sessions: List[Any], depth: int, seconds: float) -> int:
        self._phase_over = False
        window = Window(len(sessions), self._phase_done)
        timer = self._call_later(seconds, window.close)
        for session in sessions:
            session.window = window
            self._send_burst(session, depth)
        self._kick(sessions)
        try:
            self._phase(seconds + PHASE_GRACE)
        finally:
            timer.cancel()
        return window.count

    def ping_round(self, sessions: List[Any]) -> None:
        if not sessions:
            return
        self._phase_over = False
        self._pongs_due = len(sessions)
        for session in sessions:
            self._send_ping(session)
        self._kick(sessions)
        self._phase(PHASE_GRACE)
