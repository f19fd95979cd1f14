"""The GG client as an asynchat channel (pygadu's shape): subclass GaduClient and override its on_* handlers.

asyncore has no timers, so `run(map, timers)` runs asyncore.loop one pass at a time and fires due
Timers between passes; `Trigger` lets other threads hand calls to that loop. Under the asyncio bridge
(compat.bridge.AsyncioBridge) the same client runs with `map=bridge.map, timers=bridge`.
"""
from __future__ import annotations

from legacy.dispatcher.client import LOCAL_CLOSE, GaduClient
from legacy.dispatcher.timers import Timer, Timers, run
from legacy.dispatcher.trigger import Trigger

__all__ = ["LOCAL_CLOSE", "GaduClient", "Timer", "Timers", "Trigger", "run"]
