"""The loop's own exceptions: CancelledError, InvalidStateError, and TimeoutError (the builtin one).

Shaped as asyncio's since 3.8 (CancelledError derives from BaseException so that `except Exception`
does not swallow a cancellation) and 3.11 (asyncio.TimeoutError is the builtin TimeoutError).
"""
from __future__ import annotations

import builtins

__all__ = ["CancelledError", "InvalidStateError", "TimeoutError"]


class CancelledError(BaseException):
    """The Future or Task was cancelled; raised inside a cancelled task at the point it was waiting."""


class InvalidStateError(Exception):
    """The Future is not in the state the call needs: no result yet, or already done."""


#: One exception for every timeout, so that `except TimeoutError` catches wait_for's and the OS's alike.
TimeoutError = builtins.TimeoutError
