"""The GG client as generator coroutines (`yield from`), on modern.loop or, unchanged, on asyncio.

GGClient (see modern/yieldfrom/client.py for the whole story); the errors it raises are
gadu.errors' (LoginTimeout, ConnectionClosed, ...), its limits gadu.limits'.
"""
from __future__ import annotations

from .client import GGClient

__all__ = ["GGClient"]
