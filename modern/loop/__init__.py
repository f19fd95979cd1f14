"""modern.loop: the inside of asyncio, from scratch, for generator (`yield from`) and native coroutines.

Read in this order: events.py (Handle, TimerHandle), loop.py (EventLoop and its `_run_once`),
futures.py, tasks.py (Task._step, sleep, gather, wait, wait_for, shield), coroutines.py, debug.py.
Sockets, transports, protocols and streams live beside them (their public names are re-exported
here, as asyncio does). Nothing here imports asyncio.
"""
from __future__ import annotations

from .coroutines import coroutine, iscoroutine, iscoroutinefunction
from .debug import PassRecord
from .events import Handle, TimerHandle, get_running_loop
from .exceptions import CancelledError, InvalidStateError, TimeoutError
from .futures import Future, isfuture
from .loop import EventLoop, new_event_loop, run
from .protocols import BaseProtocol, BufferedProtocol, Protocol
from .streams import IncompleteReadError, StreamReader, StreamWriter, open_connection, start_server
from .tasks import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    Task,
    all_tasks,
    current_task,
    ensure_future,
    gather,
    shield,
    sleep,
    wait,
    wait_for,
)

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "BaseProtocol",
    "BufferedProtocol",
    "CancelledError",
    "EventLoop",
    "Future",
    "Handle",
    "IncompleteReadError",
    "InvalidStateError",
    "PassRecord",
    "Protocol",
    "StreamReader",
    "StreamWriter",
    "Task",
    "TimeoutError",
    "TimerHandle",
    "all_tasks",
    "coroutine",
    "current_task",
    "ensure_future",
    "gather",
    "get_running_loop",
    "iscoroutine",
    "iscoroutinefunction",
    "isfuture",
    "new_event_loop",
    "open_connection",
    "run",
    "shield",
    "sleep",
    "start_server",
    "wait",
    "wait_for",
]
