"""The "aio" variant's driver: an asyncio loop in a thread, one modern.aio.GGClient per session.

Plain calls reach the loop with call_soon_threadsafe; the client's coroutines (sends) go with
run_coroutine_threadsafe. A task per session opens, logs in and hands every event of
client.events() to session.deliver. Translation only: timeouts and keep-alive are the client's.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, List, Optional, Set

from gadu import events as ev
from gadu.errors import LoginRefused
from modern.aio import GGClient

from .base import WAIT, Driver, Session

__all__ = ["AioDriver"]


class AioDriver(Driver):
    name = "aio"

    def __init__(self) -> None:
        super().__init__()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._session_tasks: Set[asyncio.Task[None]] = set()

    # --- the loop ----------------------------------------------------------------------------

    def _loop_run(self, ready: Callable[[], None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.call_soon(ready)
            loop.run_forever()
            loop.run_until_complete(self._wind_down())
            loop.run_until_complete(loop.shutdown_asyncgens())
            if hasattr(loop, "shutdown_default_executor"):  # 3.9+; a host name lookup starts its thread
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    async def _wind_down(self) -> None:
        """Stopped after _close_all aborted every client: let each session take its Closed, then
        cancel whatever is still running (a send parked on a full buffer), so no socket outlives the loop."""
        if self._session_tasks:
            await asyncio.wait(set(self._session_tasks), timeout=WAIT)
        current = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not current]
        for task in leftovers:
            task.cancel()
        if leftovers:
            await asyncio.wait(leftovers, timeout=WAIT)
        waits = [session.client.wait_closed() for session in self.sessions
                 if session.client is not None and session.client.transport is not None]
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), WAIT)

    def _loop_submit(self, func: Callable[[], None]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(func)

    def _loop_stop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)

    def call(self, func: Callable[..., Any], *args: Any, timeout: float = WAIT) -> Any:
        """As Driver.call; a coroutine function runs as a task on the loop and its result comes back."""
        if not asyncio.iscoroutinefunction(func):
            return super().call(func, *args, timeout=timeout)
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            raise RuntimeError(f"{self.name}: the loop thread is not running")
        future = asyncio.run_coroutine_threadsafe(func(*args), self._loop)
        try:
            return future.result(timeout)
        finally:
            future.cancel()  # no-op once done; otherwise the call timed out: stop it

    # --- sessions ----------------------------------------------------------------------------

    def client_open(self, session: Session, address: Any) -> GGClient:
        options = session.options
        client = GGClient(address[0], address[1], ping_interval=options.ping_interval,
                          log_packets=options.log_packets, connect_timeout=options.login_timeout)
        assert self._loop is not None
        task = self._loop.create_task(self._run_session(session, client))
        self._session_tasks.add(task)
        task.add_done_callback(self._session_tasks.discard)
        return client

    async def _run_session(self, session: Session, client: GGClient) -> None:
        options = session.options
        loop = asyncio.get_running_loop()
        deadline = loop.time() + options.login_timeout  # the login timeout runs from the connect
        login: dict = {"hash_type": options.hash_type, "description": options.description,
                       "close_timeout": options.close_timeout}
        if options.status is not None:
            login["status"] = options.status
        try:
            await client.open()
            await client.login(options.uin, options.password, login_timeout=max(0.001, deadline - loop.time()), **login)
        except LoginRefused:
            pass  # the server's LoginFailed is in the event stream
        except Exception as exc:  # timeout, refused connection, closed early, bad option: no session
            session.deliver(ev.LoginFailed())
            client.abort(f"login failed: {exc}")
        async for event in client.events():
            session.deliver(event)

    async def client_send_message(self, session: Session, recipient: int, text: str) -> int:  # type: ignore[override]
        return await session.client.send_message(recipient, text)

    async def client_change_status(self, session: Session, status: int, description: str) -> None:  # type: ignore[override]
        await session.client.change_status(status, description)

    async def client_notify(self, session: Session, contacts: List[int]) -> None:  # type: ignore[override]
        await session.client.send_contacts(contacts)

    async def client_add_contact(self, session: Session, uin: int) -> None:  # type: ignore[override]
        await session.client.add_contact(uin)

    async def client_remove_contact(self, session: Session, uin: int) -> None:  # type: ignore[override]
        await session.client.remove_contact(uin)

    async def client_typing(self, session: Session, recipient: int, length: int) -> None:  # type: ignore[override]
        await session.client.send_typing(recipient, length)

    async def client_ping(self, session: Session) -> None:  # type: ignore[override]
        await session.client.ping()

    def client_logoff(self, session: Session, description: str) -> None:
        # The packet is written now; the Closed that follows comes through the session's events.
        session.client.logoff(description)

    def client_abort(self, session: Session) -> None:
        session.client.abort()
