"""Failed logins per uin: after `failures` of them within `window` seconds, the uin is throttled.

While a uin is throttled the server refuses its logins with the usual failure code and checks no
password, so a guessing flood gets `failures` guesses per window; the owner is refused too for that
short while, as on the servers of that era. Only uins that exist are tracked (an unknown uin can
never log in), so the table is bounded by the users times `failures`. No I/O; the clock is passed in.
"""
from __future__ import annotations

import collections
import time
from typing import Callable, Deque, Dict

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """The failure times of each uin within the last window; `allows(uin)` before a password check."""

    def __init__(self, failures: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if failures < 1:
            raise ValueError(f"failures must be at least 1, got {failures}")
        if not window > 0:
            raise ValueError(f"window must be positive seconds, got {window}")
        self.failures = failures
        self.window = window
        self._clock = clock
        self._recent: Dict[int, Deque[float]] = {}

    def _current(self, uin: int) -> Deque[float]:
        times = self._recent.get(uin)
        if times is None:
            return collections.deque()
        horizon = self._clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._recent[uin]
        return times

    def allows(self, uin: int) -> bool:
        """False while the uin has had `failures` failed logins within the window."""
        return len(self._current(uin)) < self.failures

    def failed(self, uin: int) -> bool:
        """Count a failed login (with a password check); True if it makes the uin throttled."""
        times = self._current(uin)
        times.append(self._clock())
        self._recent[uin] = times
        return len(times) == self.failures

    def succeeded(self, uin: int) -> None:
        """The owner logged in: earlier failures no longer count."""
        self._recent.pop(uin, None)

    def retry_after(self, uin: int) -> float:
        """Seconds until the uin may try again (0 when it may now)."""
        times = self._current(uin)
        if len(times) < self.failures:
            return 0.0
        return max(0.0, times[-self.failures] + self.window - self._clock())
