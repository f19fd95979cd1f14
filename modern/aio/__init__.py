"""The GG client in async/await on asyncio (variant "aio"): the target of the migration.

GGClient from client.py; GGProtocol, the asyncio.BufferedProtocol underneath, from protocol.py. See
GGClient's docstring for the API; the errors it raises are gadu.errors', its limits gadu.limits'.
"""
from __future__ import annotations

from .client import EventStream, GGClient
from .protocol import GGProtocol

__all__ = ["EventStream", "GGClient", "GGProtocol"]
