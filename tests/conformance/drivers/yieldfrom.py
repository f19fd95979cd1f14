"""Drivers of the yield-from client: on modern.loop ("yieldfrom") and, unchanged, on asyncio ("yieldfrom@asyncio").

Each runs its loop in the driver thread. A session is one task, a generator coroutine that connects,
logs in and then hands every event of `next_event()` to the test; the other calls are the client's
plain send methods, run on the loop thread through `call_soon_threadsafe`.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, List, Tuple

import modern.loop
from compat import coroutine
from gadu import events as ev
from gadu import packets as pk
from gadu.errors import ConnectionClosed, LoginRefused, LoginTimeout
from modern.yieldfrom import GGClient

from .base import WAIT, Driver, Session

__all__ = ["YieldFromDriver", "YieldFromOnAsyncioDriver"]


class _YieldFromDriver(Driver):
    """What both variants share; they differ only in the loop they create and how they close it."""

    def __init__(self) -> None:
        super().__init__()
        self._loop: Any = None
        self._tasks: List[Any] = []
        self._errors: List[BaseException] = []

    def _new_loop(self) -> Any:
        raise NotImplementedError

    def _close_loop(self, loop: Any) -> None:
        loop.close()

    # The loop thread.

    def _loop_run(self, ready: Callable[[], None]) -> None:
        loop = self._loop = self._new_loop()
        try:
            loop.call_soon(ready)
            loop.run_forever()
            self._wind_down(loop)
        finally:
            self._close_loop(loop)
        if self._errors:
            raise self._errors[0]

    def _wind_down(self, loop: Any) -> None:
        """Abort what is still open and let every session task deliver its Closed and end."""
        for session in self.sessions:
            if session.client is not None:
                session.client.abort()
        pending = [task for task in self._tasks if not task.done()]
        if not pending:
            return
        # A task that does not end by itself within WAIT is a bug; cancel it rather than hang.
        guard = loop.call_later(WAIT, lambda: [task.cancel() for task in pending])
        try:
            loop.run_until_complete(_join(pending))
        finally:
            guard.cancel()

    def _loop_submit(self, func: Callable[[], None]) -> None:
        self._loop.call_soon_threadsafe(func)

    def _loop_stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:
            pass  # already closed: the thread has finished

    # The client glue, on the loop thread.

    def client_open(self, session: Session, address: Any) -> Any:
        options = session.options
        client = GGClient(self._loop, ping_interval=options.ping_interval, log_packets=options.log_packets,
                          label=f"{self.name} uin={options.uin}")
        self._tasks = [task for task in self._tasks if not task.done()]
        self._tasks.append(self._loop.create_task(self._session_main(session, client, address)))
        return client

    @coroutine
    def _session_main(self, session: Session, client: GGClient, address: Tuple[str, int]) -> Any:
        options = session.options
        try:
            yield from client.connect(address[0], address[1])
            yield from client.login(
                options.uin, options.password, hash_type=options.hash_type,
                status=pk.GG_STATUS_AVAIL if options.status is None else options.status,
                description=options.description, login_timeout=options.login_timeout,
                close_timeout=options.close_timeout,
            )
            session.deliver(ev.LoginOk())
        except (LoginRefused, LoginTimeout):
            session.deliver(ev.LoginFailed())
        except OSError:
            pass  # connect failed or the connection ended first: its Closed is among the events
        except Exception as exc:
            self._errors.append(exc)
            client.abort()
        while True:
            try:
                event = yield from client.next_event()
            except ConnectionClosed:
                return
            session.deliver(event)
            if isinstance(event, ev.Closed):
                return

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


@coroutine
def _join(tasks: List[Any]) -> Any:
    for task in tasks:
        try:
            yield from task
        except (Exception, asyncio.CancelledError, modern.loop.CancelledError):
            pass  # the session task recorded what matters; a cancelled one has nothing to say


class YieldFromDriver(_YieldFromDriver):
    """The yield-from client on the from-scratch loop, modern.loop."""

    name = "yieldfrom"

    def _new_loop(self) -> Any:
        return modern.loop.new_event_loop()


class YieldFromOnAsyncioDriver(_YieldFromDriver):
    """The same client, unchanged, on an asyncio loop: compat.coroutine makes its generators native coroutines."""

    name = "yieldfrom@asyncio"

    def _new_loop(self) -> Any:
        return asyncio.new_event_loop()

    def _close_loop(self, loop: Any) -> None:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            if hasattr(loop, "shutdown_default_executor"):  # 3.9+: a name lookup may have started its thread
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

