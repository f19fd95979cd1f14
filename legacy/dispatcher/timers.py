"""Timers for asyncore, which has none, and `run()`: asyncore.loop one pass at a time, timers between.

Legacy code kept its own heap of deadlines and called `asyncore.loop(timeout, count=1)` in a loop,
the timeout cut short by the nearest deadline; this is that, with an explicit map. Under the asyncio
bridge the same clients take `compat.bridge.AsyncioBridge` as their timer source instead.
"""
from __future__ import annotations

import heapq
import itertools
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from compat import asyncore

__all__ = ["CLOCK_RESOLUTION", "DEFAULT_TIMEOUT", "Timer", "Timers", "run"]

#: The longest one asyncore pass may block when no timer is due sooner (asyncore.loop's own default).
DEFAULT_TIMEOUT = 30.0
#: poll() counts in whole milliseconds: a timer due within this is run now, not after a zero-wait spin
#: (asyncio's BaseEventLoop does the same with its clock resolution).
CLOCK_RESOLUTION = 0.001


class Timer:
    """One scheduled call; `cancel()` stops it from running (it is dropped from the heap lazily)."""

    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., Any], args: Tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __repr__(self) -> str:
        state = " cancelled" if self.cancelled else ""
        return f"<Timer when={self.when:.3f} {getattr(self.callback, '__qualname__', self.callback)}{state}>"


class Timers:
    """A heap of deadlines, for the one thread that runs the asyncore loop (not thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._heap: List[Tuple[float, int, Timer]] = []
        self._order = itertools.count()  # equal deadlines run in the order they were set

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` once, `delay` seconds from now, from `run()`."""
        timer = Timer(self.clock() + max(0.0, delay), callback, args)
        heapq.heappush(self._heap, (timer.when, next(self._order), timer))
        return timer

    def _drop_cancelled(self) -> None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)

    def next_delay(self) -> Optional[float]:
        """Seconds until the nearest live timer (0 when one is due), or None when there is none."""
        self._drop_cancelled()
        if not self._heap:
            return None
        return max(0.0, self._heap[0][0] - self.clock())

    def run_due(self) -> int:
        """Run every timer due now, in deadline order; returns how many ran.

        A timer set by a callback for "now" waits for the next pass, so a callback that keeps
        rescheduling itself at zero delay cannot starve the sockets.
        """
        end = self.clock() + CLOCK_RESOLUTION
        due: List[Timer] = []
        heap = self._heap
        while heap and heap[0][0] <= end:
            timer = heapq.heappop(heap)[2]
            if not timer.cancelled:
                due.append(timer)
        for timer in due:
            if not timer.cancelled:  # an earlier callback of this pass may have cancelled it
                timer.callback(*timer.args)
        return len(due)

    def pending(self) -> int:
        """Live timers (cancelled ones still in the heap are not counted)."""
        return sum(1 for _, _, timer in self._heap if not timer.cancelled)


def run(
    map: Dict[int, Any],
    timers: Optional[Timers] = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    use_poll: bool = True,
    until: Optional[Callable[[], bool]] = None,
) -> None:
    """asyncore.loop over `map` with timers: one pass, then the timers that fell due, and again.

    Returns when `until()` is true, or when the map is empty and no timer is left. poll() is the
    default because select() cannot watch a descriptor numbered 1024 or more; `use_poll=False`
    selects select(). Exceptions from handlers go to each dispatcher's handle_error, as in
    asyncore.loop; an exception from a timer callback propagates out of run().
    """
    while until is None or not until():
        delay = timers.next_delay() if timers is not None else None
        if map:
            wait = timeout if delay is None else min(timeout, delay)
            asyncore.loop(timeout=wait, use_poll=use_poll, map=map, count=1)
        elif delay is None:
            return
        else:
            time.sleep(delay)  # nothing to watch: the next deadline is the only thing to wait for
        if timers is not None:
            timers.run_due()
