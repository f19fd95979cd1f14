"""The GG client in async/await on asyncio (variant "aio"): the target of the migration.

GGClient and its errors from client.py; GGProtocol, the asyncio.BufferedProtocol underneath, from
protocol.py. See GGClient's docstring for the API.
"""
from __future__ import annotations

from .client import (
    CLOSE_TIMEOUT,
    CONNECT_TIMEOUT,
    HASH_TYPES,
    LOGIN_TIMEOUT,
    LOGOFF_TIMEOUT,
    EventStream,
    GGClient,
    LoginError,
    LoginRefused,
    LoginTimeout,
)
from .protocol import EVENT_BACKLOG, ConnectionClosedError, GGProtocol

__all__ = [
    "CLOSE_TIMEOUT",
    "CONNECT_TIMEOUT",
    "EVENT_BACKLOG",
    "HASH_TYPES",
    "LOGIN_TIMEOUT",
    "LOGOFF_TIMEOUT",
    "ConnectionClosedError",
    "EventStream",
    "GGClient",
    "GGProtocol",
    "LoginError",
    "LoginRefused",
    "LoginTimeout",
]
