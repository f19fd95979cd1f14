"""GGClient: the Gadu-Gadu client in async/await on asyncio, where the migration ends.

`async with GGClient(host, port) as client`, `await client.login(...)`, `async for event in
client.events()`. Every byte and every deadline is gadu's (gadu.client.ClientConnection); the
callbacks asyncio calls are in protocol.py. This module holds the coroutines, no protocol of its own.
"""
from __future__ import annotations

import asyncio
from typing import Any, Iterable, Optional, Union

from gadu import events as ev
from gadu import packets as pk
from gadu.client import ClientConnection, ClientState, Contact
from gadu.errors import ConnectionClosed, LocalProtocolError, LoginError, LoginRefused, LoginTimeout
from gadu.limits import CLOSE_TIMEOUT, CONNECT_TIMEOUT, EVENT_BACKLOG, LOGIN_TIMEOUT

from .protocol import GGProtocol

__all__ = ["EventStream", "GGClient"]


class EventStream:
    """`async for event in client.events()`: every event in order, ending after the Closed one."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: GGProtocol) -> None:
        self._protocol = protocol

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> ev.Event:
        if self._protocol.ended:
            raise StopAsyncIteration
        return await self._protocol.next_event()


class GGClient:
    """One connection to a GG 8.0 server.

    `await GGClient.connect(host, port)` or `async with GGClient(host, port) as client` opens it;
    `ping_interval` (seconds, None for off) sends GG_PING on a timer once logged in; `log_packets`
    logs every packet on the "gadu.client.packets" logger; `event_backlog` is how many unread events
    are kept before the client stops reading from the server until events() catches up.
    """

    def __init__(self, host: str, port: int, *, ping_interval: Optional[float] = None,
                 log_packets: bool = False, label: str = "aio", event_backlog: int = EVENT_BACKLOG,
                 connect_timeout: Optional[float] = CONNECT_TIMEOUT) -> None:
        if ping_interval is not None and not ping_interval > 0:
            raise ValueError(f"ping_interval must be a positive number of seconds or None, got {ping_interval!r}")
        if event_backlog < 1:
            raise ValueError(f"event_backlog must be at least 1, got {event_backlog!r}")
        self.host = host
        self.port = port
        self.ping_interval = ping_interval
        self.log_packets = log_packets
        self.label = label
        self.event_backlog = event_backlog
        self.connect_timeout = connect_timeout
        self.uin: Optional[int] = None
        self._protocol: Optional[GGProtocol] = None
        self._abort_reason: Optional[str] = None  # abort() before open(): open() honours it

    def __repr__(self) -> str:
        state = self.state.name if self.state is not None else "NOT CONNECTED"
        return f"<GGClient {self.label} {self.host}:{self.port} uin={self.uin} {state}>"

    # --- connecting --------------------------------------------------------------------------

    @classmethod
    async def connect(cls, host: str, port: int, **options: Any) -> GGClient:
        """A connected client (TCP is up; call login() next). Options as for GGClient()."""
        client = cls(host, port, **options)
        await client.open()
        return client

    async def open(self) -> None:
        """Open the TCP connection. A failure raises OSError (TimeoutError after connect_timeout) and
        is also this connection's Closed event."""
        if self._protocol is not None:
            raise LocalProtocolError("this client has already connected; make a new GGClient to reconnect")
        loop = asyncio.get_running_loop()
        protocol = GGProtocol(loop, label=self.label, log_packets=self.log_packets, event_backlog=self.event_backlog)
        self._protocol = protocol
        if self._abort_reason is not None:
            protocol.connect_failed(self._abort_reason)
            closed = protocol.closed.result()
            raise ConnectionClosed(f"the connection is closed: {closed.reason}", closed)
        where = f"{self.host}:{self.port}"
        try:
            await asyncio.wait_for(loop.create_connection(lambda: protocol, self.host, self.port),
                                   self.connect_timeout)
        except asyncio.TimeoutError:
            reason = f"cannot connect to {where} within {self.connect_timeout:.3g} s"
            protocol.connect_failed(reason)
            raise TimeoutError(reason) from None
        except OSError as exc:
            protocol.connect_failed(f"cannot connect to {where}: {exc}")
            raise
        except BaseException:
            protocol.connect_failed(f"connecting to {where} was cancelled")
            raise

    async def __aenter__(self) -> GGClient:
        if self._protocol is None:
            await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _connected(self) -> GGProtocol:
        if self._protocol is None:
            raise LocalProtocolError("not connected: use `await GGClient.connect(...)` or `async with GGClient(...)`")
        return self._protocol

    @property
    def state(self) -> Optional[ClientState]:
        """The gadu core's state, None before login()."""
        conn = self._protocol.conn if self._protocol is not None else None
        return conn.state if conn is not None else None

    @property
    def transport(self) -> Optional[asyncio.Transport]:
        """The asyncio transport while the connection is up."""
        return self._protocol.transport if self._protocol is not None else None

    @property
    def is_closed(self) -> bool:
        """True once the connection has ended and its socket is closed."""
        return self._protocol is not None and self._protocol.closed.done()

    # --- login -------------------------------------------------------------------------------

    async def login(self, uin: int, password: Union[str, bytes], *, hash_type: Union[str, int] = "sha1",
                    status: int = pk.GG_STATUS_AVAIL, description: str = "",
                    login_timeout: float = LOGIN_TIMEOUT, close_timeout: float = CLOSE_TIMEOUT) -> None:
        """Log in: returns once the server accepts; raises LoginRefused, LoginTimeout (the connection is
        then aborted) or LoginError (the connection ended first). The timeout covers GG_WELCOME too.
        After the session's end (logoff, refusal, GG_DISCONNECTING) the server gets `close_timeout`."""
        protocol = self._connected()
        if protocol.login_started:
            raise LocalProtocolError("login() was already called on this connection")
        loop = asyncio.get_running_loop()
        conn = ClientConnection(uin, password, hash_type=hash_type, status=status, description=description,
                                login_timeout=login_timeout, ping_interval=self.ping_interval,
                                close_timeout=close_timeout, monotonic=loop.time)
        self.uin = uin
        if protocol.packet_log is not None:
            protocol.packet_log.owner = f"{self.label} uin={uin}"
        try:
            outcome = await protocol.start_login(conn)
        except asyncio.CancelledError:
            protocol.abort("login() was cancelled")
            raise
        if type(outcome) is ev.LoginOk:
            return
        if type(outcome) is ev.LoginFailed:
            raise LoginRefused(uin, outcome.reason)
        assert isinstance(outcome, ev.Closed)
        if isinstance(outcome.error, LoginTimeout):
            raise outcome.error
        raise LoginError(f"the connection ended before the login verdict: {outcome.reason}")

    # --- events ------------------------------------------------------------------------------

    def events(self) -> EventStream:
        """Every event (gadu.events) in arrival order, LoginOk and acks included; ends after Closed."""
        return EventStream(self._connected())

    async def next_event(self) -> ev.Event:
        """The next event; ConnectionClosed once the Closed event has been taken."""
        protocol = self._connected()
        if protocol.has_events:  # no coroutine to create and await: it would not wait anyway
            return protocol.take_event()
        return await protocol.next_event()

    async def wait_closed(self) -> ev.Closed:
        """Wait until the connection has ended and its socket is closed; returns its Closed event."""
        return await asyncio.shield(self._connected().closed)

    # --- sending -----------------------------------------------------------------------------

    async def _send(self, data: bytes) -> None:
        protocol = self._protocol
        assert protocol is not None
        protocol.write(data)
        await protocol.drain()

    async def send_message(self, recipient: int, text: str, msgclass: int = pk.GG_CLASS_CHAT) -> int:
        """Send a message; returns the seq on the wire. Its ack: wait_ack(seq), or a MessageAck event."""
        protocol = self._connected()
        data, seq = protocol.check_open().send_message(recipient, text, msgclass)
        if not msgclass & pk.GG_CLASS_ACK:  # GG_CLASS_ACK asks the server for no ack
            protocol.expect_ack(seq)
        protocol.write(data)
        if protocol.must_drain:
            await protocol.drain()
        return seq

    async def wait_ack(self, seq: int, timeout: Optional[float] = None) -> ev.MessageAck:
        """The server's ack for the message sent with `seq` (at once if it has arrived).

        KeyError when no ack is expected for it; ConnectionClosed when the connection ends first;
        asyncio.TimeoutError after `timeout` seconds (the ack can still be waited for later).
        """
        protocol = self._connected()
        waiter = protocol.ack_waiter(seq)
        try:
            if timeout is None:
                return await waiter
            return await asyncio.wait_for(waiter, timeout)
        finally:
            protocol.forget_ack_waiter(seq, waiter)

    async def change_status(self, status: int, description: str = "") -> None:
        """GG_NEW_STATUS80. Going NOT_AVAIL is logoff()."""
        await self._send(self._connected().check_open().send_status(status, description))

    async def send_contacts(self, contacts: Iterable[Contact]) -> None:
        """The whole contact list (uins or NotifyEntry); the online contacts come as ContactsReply events."""
        await self._send(self._connected().check_open().send_contacts(contacts))

    async def add_contact(self, uin: int, user_type: int = pk.GG_USER_NORMAL) -> None:
        await self._send(self._connected().check_open().send_add_contact(uin, user_type))

    async def remove_contact(self, uin: int, user_type: int = pk.GG_USER_NORMAL) -> None:
        await self._send(self._connected().check_open().send_remove_contact(uin, user_type))

    async def send_typing(self, recipient: int, length: int) -> None:
        """Tell `recipient` we have typed `length` characters (0: we stopped)."""
        await self._send(self._connected().check_open().send_typing(recipient, length))

    async def ping(self) -> None:
        """Send one GG_PING now; the server's GG_PONG comes as a Pong event."""
        await self._send(self._connected().check_open().send_ping())

    # --- ending ------------------------------------------------------------------------------

    def logoff(self, description: str = "") -> asyncio.Future[ev.Closed]:
        """Go NOT_AVAIL (NOT_AVAIL_DESCR with a description) now and let the server close.

        The packet is written before this returns; await the result for the Closed event (clean when
        the server closed as expected). A server that has not closed within login()'s close_timeout
        is cut off.
        """
        protocol = self._connected()
        protocol.write(protocol.check_open().send_logoff(description))
        protocol.arm_timer()
        return asyncio.shield(protocol.closed)

    def abort(self, reason: str = "aborted by the client") -> None:
        """Drop the connection at once (queued data is lost); Closed(clean=False, reason) follows."""
        if self._protocol is None:
            self._abort_reason = reason
        else:
            self._protocol.abort(reason)

    async def aclose(self, timeout: float = CLOSE_TIMEOUT) -> Optional[ev.Closed]:
        """Close without a logoff once queued data is written (abort after `timeout`); the Closed event,
        or None when the client never connected."""
        protocol = self._protocol
        if protocol is None:
            self._abort_reason = "closed by the client before connecting"
            return None
        protocol.close("closed by the client", timeout)
        return await asyncio.shield(protocol.closed)
