"""The GG client as generator coroutines (`yield from`), on modern.loop or, unchanged, on asyncio.

Public API: GGClient (see modern/yieldfrom/client.py for the whole story), ConnectionClosedError,
LoginTimeout, and the limits the client enforces.
"""
from __future__ import annotations

from .client import (
    HASH_TYPES,
    LOGIN_TIMEOUT,
    LOGOFF_TIMEOUT,
    MAX_PENDING_EVENTS,
    MAX_UNCLAIMED_ACKS,
    MAX_WRITE_BUFFER,
    ConnectionClosedError,
    GGClient,
    LoginTimeout,
)

__all__ = [
    "HASH_TYPES",
    "LOGIN_TIMEOUT",
    "LOGOFF_TIMEOUT",
    "MAX_PENDING_EVENTS",
    "MAX_UNCLAIMED_ACKS",
    "MAX_WRITE_BUFFER",
    "ConnectionClosedError",
    "GGClient",
    "LoginTimeout",
]
