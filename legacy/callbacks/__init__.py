"""The GG client in plain callbacks, `callback(result, error)`, on a small selectors reactor of its own.

reactor.py is the hand-rolled event loop (timers, ready callbacks, file descriptors, thread-safe
wake-up); client.py is GGClient, gadu's ClientConnection driven by that reactor. The errors its
callbacks receive are gadu.errors' (LoginRefused, LoginTimeout, CloseTimeout, ConnectionClosed, ...).
"""
from __future__ import annotations

from .client import GGClient
from .reactor import Handle, Reactor, ReactorClosed, Timer

__all__ = ["GGClient", "Handle", "Reactor", "ReactorClosed", "Timer"]
