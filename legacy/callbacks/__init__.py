"""The GG client in plain callbacks, `callback(result, error)`, on a small selectors reactor of its own.

reactor.py is the hand-rolled event loop (timers, ready callbacks, file descriptors, thread-safe
wake-up); client.py is GGClient, gadu's ClientConnection driven by that reactor.
"""
from __future__ import annotations

from .client import (
    ConnectionLost,
    GGClient,
    GGError,
    LoginRefused,
    LoginTimeout,
    LogoffTimeout,
    WriteBufferFull,
)
from .reactor import Handle, Reactor, ReactorClosed, Timer

__all__ = [
    "ConnectionLost",
    "GGClient",
    "GGError",
    "Handle",
    "LoginRefused",
    "LoginTimeout",
    "LogoffTimeout",
    "Reactor",
    "ReactorClosed",
    "Timer",
    "WriteBufferFull",
]
