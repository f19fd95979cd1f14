"""Helpers for the tests of the sans-I/O state machines (gadu.client, gadu.server_session)."""
from __future__ import annotations

from typing import Any, Sequence, Type


def ended_with(events: Sequence[Any], error_class: Type[BaseException]) -> BaseException:
    """The error behind the session's end: `events` must end with an unclean Closed (or
    ConnectionClosed) whose `error` is an `error_class` and whose reason is that error's text."""
    assert events, "no events: the session did not end"
    closed = events[-1]
    assert type(closed).__name__ in ("Closed", "ConnectionClosed"), f"the last event is {closed!r}"
    assert not closed.clean and isinstance(closed.error, error_class), (closed, closed.error)
    assert closed.reason == str(closed.error)
    return closed.error
