"""A progress bar on stderr: cells done of cells planned, elapsed time, and what runs now.

On a terminal it redraws one line; elsewhere (a log, CI) it prints a line only every tenth of the way,
so that a captured stderr stays short.
"""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

__all__ = ["Progress"]

_WIDTH = 30


class Progress:
    """`advance(label)` after each cell; `done()` at the end."""

    def __init__(self, total: int, stream: Optional[TextIO] = None) -> None:
        self.total = max(1, total)
        self.count = 0
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1

    def _line(self, label: str) -> str:
        filled = _WIDTH * self.count // self.total
        elapsed = time.monotonic() - self.started
        return (f"bench [{'#' * filled}{'.' * (_WIDTH - filled)}] {self.count}/{self.total} "
                f"{elapsed:6.1f} s  {label}")

    def show(self, label: str) -> None:
        """Say what is running now, without counting it."""
        if self._tty:
            self.stream.write("\r\x1b[K" + self._line(label)[:160])
            self.stream.flush()

    def advance(self, label: str) -> None:
        self.count = min(self.total, self.count + 1)
        if self._tty:
            self.show(label)
            return
        tenth = 10 * self.count // self.total
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(self._line(label) + "\n")
            self.stream.flush()

    def done(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
