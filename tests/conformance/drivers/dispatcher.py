"""Drivers for the asynchat client: "dispatcher" (its own run() loop) and "dispatcher@asyncio" (the bridge).

The client code is the same in both; only the socket map and the timer source differ. Calls from the
test thread reach the loop thread through a Trigger in the map, or through asyncio's own
call_soon_threadsafe (the bridge sees the client's pushes without a sync()); the client's on_* handlers
hand gadu events to the session.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Dict, List, Optional

from compat import asyncore
from compat.bridge import AsyncioBridge
from gadu import events as ev
from legacy.dispatcher import GaduClient, Timers, Trigger, run

from .base import Driver, Session

__all__ = ["BridgedDispatcherDriver", "DispatcherDriver"]


class SessionClient(GaduClient):
    """GaduClient whose handlers pass each event on to the test's Session."""

    def __init__(self, session: Session, map: Dict[int, Any], timers: Any, label: str) -> None:
        options = session.options
        self.session = session
        extra = {} if options.status is None else {"status": options.status}
        super().__init__(
            options.uin, options.password, map=map, timers=timers, hash_type=options.hash_type,
            description=options.description, login_timeout=options.login_timeout,
            close_timeout=options.close_timeout,
            ping_interval=options.ping_interval, log_packets=options.log_packets, label=label, **extra,
        )

    def on_login_ok(self) -> None:
        self.session.deliver(ev.LoginOk())

    def on_login_failed(self, reason: str) -> None:
        self.session.deliver(ev.LoginFailed())

    def on_message(self, event: ev.MessageReceived) -> None:
        self.session.deliver(event)

    def on_ack(self, event: ev.MessageAck) -> None:
        self.session.deliver(event)

    def on_status(self, event: ev.StatusChanged) -> None:
        self.session.deliver(event)

    def on_contacts(self, event: ev.ContactsReply) -> None:
        self.session.deliver(event)

    def on_typing(self, event: ev.Typing) -> None:
        self.session.deliver(event)

    def on_pong(self) -> None:
        self.session.deliver(ev.Pong())

    def on_disconnecting(self) -> None:
        self.session.deliver(ev.Disconnecting())

    def on_disconnect(self, closed: ev.Closed) -> None:
        self.session.deliver(closed)


class _DispatcherGlue(Driver):
    """The client_* calls, shared by both variants: each is one call on the session's client."""

    map: Dict[int, Any]
    timers: Any

    def client_open(self, session: Session, address: Any) -> SessionClient:
        client = SessionClient(session, self.map, self.timers, f"{self.name} uin={session.options.uin}")
        client.connect_to(tuple(address))
        return client

    def client_send_message(self, session: Session, recipient: int, text: str) -> int:
        return session.client.send_message(recipient, text)

    def client_change_status(self, session: Session, status: int, description: str) -> None:
        session.client.change_status(status, description)

    def client_notify(self, session: Session, contacts: List[int]) -> None:
        session.client.send_contacts(contacts)

    def client_add_contact(self, session: Session, uin: int) -> None:
        session.client.add_contact(uin)

    def client_remove_contact(self, session: Session, uin: int) -> None:
        session.client.remove_contact(uin)

    def client_typing(self, session: Session, recipient: int, length: int) -> None:
        session.client.send_typing(recipient, length)

    def client_ping(self, session: Session) -> None:
        session.client.ping()

    def client_logoff(self, session: Session, description: str) -> None:
        session.client.logoff(description)

    def client_abort(self, session: Session) -> None:
        session.client.abort()


class DispatcherDriver(_DispatcherGlue):
    """The client on its own module's run(): asyncore.loop with poll, timers between passes."""

    name = "dispatcher"

    def __init__(self) -> None:
        super().__init__()
        self.map = {}
        self.timers = Timers()
        self._trigger: Optional[Trigger] = None
        self._stopping = threading.Event()

    def _loop_run(self, ready: Callable[[], None]) -> None:
        self._trigger = Trigger(self.map)
        try:
            ready()
            run(self.map, self.timers, until=self._stopping.is_set)
        finally:
            # Whatever is left in the map (the trigger included) is closed on the loop's own thread.
            asyncore.close_all(self.map)

    def _loop_submit(self, func: Callable[[], None]) -> None:
        if self._trigger is None:
            raise RuntimeError(f"{self.name}: the loop has not started")
        self._trigger.pull_trigger(func)

    def _loop_stop(self) -> None:
        self._stopping.set()
        if self._trigger is not None:
            try:
                self._trigger.pull_trigger()
            except RuntimeError:
                pass  # the loop has already stopped and closed its trigger


class BridgedDispatcherDriver(_DispatcherGlue):
    """The same client inside an asyncio loop: the map is the bridge's, the timers the loop's call_later."""

    name = "dispatcher@asyncio"

    def __init__(self) -> None:
        super().__init__()
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def _loop_run(self, ready: Callable[[], None]) -> None:
        loop = asyncio.SelectorEventLoop()  # what the bridge needs, on Windows too
        try:
            bridge = AsyncioBridge(loop)
            self._loop = loop
            self.map, self.timers = bridge.map, loop
            ready()
            loop.run_forever()
            bridge.close_all()
        finally:
            loop.close()

    def _loop_submit(self, func: Callable[[], None]) -> None:
        if self._loop is None:
            raise RuntimeError(f"{self.name}: the loop has not started")
        self._loop.call_soon_threadsafe(func)

    def _loop_stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._loop.stop)
            except RuntimeError:
                pass  # closed between the check and the call: it has stopped already
