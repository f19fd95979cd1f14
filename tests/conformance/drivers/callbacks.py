"""The "callbacks" variant: legacy.callbacks.GGClient on its own Reactor, in the driver's thread.

Calls come in through reactor.call_soon_threadsafe. The client's handlers feed the session's events
directly; the answers that reach callbacks instead (the login's verdict, a message's ack, a pong) are
turned back into the gadu events they carry. Nothing else happens here.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional

from gadu import events as ev
from legacy.callbacks import GGClient, Reactor, ReactorClosed

from .base import Driver, Session

__all__ = ["CallbacksDriver"]


class CallbacksDriver(Driver):
    name = "callbacks"

    def __init__(self) -> None:
        super().__init__()
        self.reactor: Optional[Reactor] = None

    def _loop_run(self, ready: Callable[[], None]) -> None:
        with Reactor() as reactor:
            self.reactor = reactor
            reactor.call_soon(ready)
            reactor.run()

    def _loop_submit(self, func: Callable[[], None]) -> None:
        assert self.reactor is not None
        self.reactor.call_soon_threadsafe(func)

    def _loop_stop(self) -> None:
        reactor = self.reactor
        if reactor is None:
            return
        try:
            reactor.call_soon_threadsafe(reactor.stop)
        except ReactorClosed:
            pass  # the loop thread has already ended

    def client_open(self, session: Session, address: Any) -> GGClient:
        options = session.options
        assert self.reactor is not None
        client = GGClient(self.reactor, log_packets=options.log_packets, label=f"{self.name} uin={options.uin}")
        client.on_event(session.deliver)

        def logged_in(result: Any, error: Optional[BaseException]) -> None:
            # Refused, timed out, or never connected: the reason is in the Closed event that follows.
            session.deliver(result if error is None else ev.LoginFailed())

        client.login(
            address, options.uin, options.password, logged_in,
            hash_type=options.hash_type, status=options.status, description=options.description,
            login_timeout=options.login_timeout, ping_interval=options.ping_interval,
            close_timeout=options.close_timeout,
        )
        return client

    def client_send_message(self, session: Session, recipient: int, text: str) -> int:
        return session.client.send_message(recipient, text, _deliver_result(session))

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
        session.client.ping(_deliver_result(session))

    def client_logoff(self, session: Session, description: str) -> None:
        # The Closed (clean, or why not) reaches the session through the handler, like every Closed.
        session.client.logoff(description)

    def client_abort(self, session: Session) -> None:
        session.client.abort()


def _deliver_result(session: Session) -> Callable[[Any, Optional[BaseException]], None]:
    """A callback that hands its result (an ack, a pong) to the session; an error means the connection
    ended, which the session learns from its Closed event."""

    def callback(result: Any, error: Optional[BaseException]) -> None:
        if error is None:
            session.deliver(result)

    return callback
