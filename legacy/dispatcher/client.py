"""GaduClient: the GG 8.0 client as an asynchat channel, in pygadu's shape. Subclass it, override on_*.

The bytes are gadu's: asynchat cuts the stream at the 8-byte header and then at the body length, and
each piece goes to gadu.client.ClientConnection, which decides everything the protocol decides.
This module holds only the I/O: the socket, the terminators, the one timer the core asks for and
the handler calls.
"""
from __future__ import annotations

import logging
import socket
import sys
import time
from typing import Any, Callable, Iterable, List, Optional, Tuple, Union

from compat import asynchat
from gadu import events as ev
from gadu.client import ClientConnection, ClientState, Contact
from gadu.errors import ConnectionClosed, LoginRefused, LoginTimeout, WriteBufferFull
from gadu.hashing import GG_LOGIN_HASH_SHA1
from gadu.limits import CLOSE_TIMEOUT, HEADER_SIZE, LOGIN_TIMEOUT, MAX_FRAME, WRITE_LIMIT
from gadu.packetlog import PacketLog
from gadu.packets import GG_CLASS_CHAT, GG_STATUS_AVAIL, GG_USER_NORMAL, HEADER

__all__ = ["LOCAL_CLOSE", "GaduClient"]

_log = logging.getLogger("legacy.dispatcher")

#: Closed.reason when our side closes the connection (close(), abort(), asyncore.close_all()).
LOCAL_CLOSE = "the client closed the connection"

_MessageReceived = ev.MessageReceived
_MessageAck = ev.MessageAck

#: Anything with call_later(delay, callback) -> a handle with cancel(): legacy.dispatcher.Timers,
#: compat.bridge.AsyncioBridge, an asyncio loop (only from its own thread).
_TimerSource = Any


class GaduClient(asynchat.async_chat):
    """One GG session. Create it with an explicit socket map and timer source, then `connect_to()`.

    Handlers to override (each runs on the loop's thread): on_login_ok(), on_login_failed(reason),
    on_message(event), on_ack(event), on_status(event), on_contacts(event), on_typing(event),
    on_pong(), on_disconnecting(), on_disconnect(closed). `on_disconnect` comes exactly once, last,
    after the socket is closed, whatever ended the connection; its `closed.reason` says what.
    """

    def __init__(
        self,
        uin: int,
        password: Union[str, bytes],
        *,
        map: dict,
        timers: _TimerSource,
        hash_type: Union[str, int] = GG_LOGIN_HASH_SHA1,
        status: int = GG_STATUS_AVAIL,
        description: str = "",
        login_timeout: float = LOGIN_TIMEOUT,
        ping_interval: Optional[float] = None,
        close_timeout: float = CLOSE_TIMEOUT,
        log_packets: bool = False,
        label: Optional[str] = None,
    ) -> None:
        # Refuses a bad uin, password, status, description or timeout before a socket exists. The
        # login timeout counts from here: connect_to() follows at once.
        self.connection = ClientConnection(uin, password, hash_type=hash_type, status=status,
                                           description=description, login_timeout=login_timeout,
                                           ping_interval=ping_interval, close_timeout=close_timeout)
        self.uin = uin
        self.label = label if label is not None else f"uin={uin}"
        self.timers = timers
        self.packet_log = (PacketLog("client", self.label, logging.getLogger("gadu.client.packets"))
                           if log_packets else None)
        self.logged_in = False
        self._frame = bytearray()  # the frame being collected (its header, then its body): at most one
        self._in_body = False
        self._unsent = 0
        #: While the core's events go to the handlers: the frames pushed meanwhile, handed to
        #: asynchat as one push when they are done (a receipt and the message a handler sends in answer).
        self._held: Optional[List[bytes]] = None
        self._finished = False
        self._timer: Any = None  # the one timer, at the core's deadline (or earlier: see _arm_timer)
        self._timer_when: Optional[float] = None
        super().__init__(map=map)
        self.set_terminator(HEADER_SIZE)

    # --- connecting -------------------------------------------------------------------------------

    def connect_to(self, address: Tuple[str, int]) -> None:
        """Open the TCP connection; the login follows by itself once GG_WELCOME arrives."""
        if self.socket is not None or self._finished:
            raise RuntimeError(f"{self.label}: connect_to() can be called once per client")
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.create_socket(family, socket.SOCK_STREAM)
        # Small packets each carry a request or an answer: no Nagle delay (asyncio does the same).
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arm_timer()
        try:
            self.connect(address)
        except OSError as exc:
            self._finish(ev.Closed(clean=False, reason=f"cannot connect to {address[0]}:{address[1]}: {exc}"))

    def handle_connect(self) -> None:
        """TCP is up; the server speaks first (GG_WELCOME)."""

    # --- reading: header, then body, each through the core ----------------------------------------

    def recv(self, buffer_size: int) -> bytes:
        # asyncore reports a reset as a plain close; the reason should say which it was.
        try:
            data = self.socket.recv(buffer_size)
        except (ConnectionResetError, ConnectionAbortedError) as exc:
            self._finish(ev.Closed(clean=False, reason=f"the connection was reset: {exc.strerror or exc}"))
            return b""
        if not data:
            self.handle_close()
            return b""
        if self.packet_log is not None:
            self.packet_log.incoming(data)
        return data

    def collect_incoming_data(self, data: bytes) -> None:
        self._frame += data

    def found_terminator(self) -> None:
        if self._finished:
            return
        frame = self._frame
        if self._in_body:
            # The header waited in _frame for its body: the core gets the frame whole, in one call.
            self._in_body = False
            self.set_terminator(HEADER_SIZE)
            piece = bytes(frame)
            frame.clear()
            self._run_core(self.connection.receive_data(piece))
            return
        length = HEADER.unpack(frame)[1]
        if length and length <= MAX_FRAME:
            self._in_body = True
            self.set_terminator(length)
            return
        # Complete at its header, or longer than the core takes: the core sees it now (it raises
        # FrameTooLarge for the latter), so the terminator is never set to more than one legal body.
        piece = bytes(frame)
        frame.clear()
        self._feed(piece)
        # asynchat left the terminator at 0, which means "none": reset it.
        self.set_terminator(HEADER_SIZE)

    def handle_close(self) -> None:
        """The server closed the stream: what was collected of a frame goes in before the EOF."""
        if self._finished:
            return
        partial = bytes(self._frame)
        self._frame.clear()
        if partial:
            self._feed(partial)
        if not self._finished:
            self._feed(b"")
        if not self._finished:  # the core reports Closed at EOF; this only guards against a gap
            self._finish(ev.Closed(clean=False, reason="the server closed the connection"))

    def handle_expt(self) -> None:
        self._finish(ev.Closed(clean=False, reason="the server sent out-of-band data, which GG never uses"))

    def handle_error(self) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            reason = f"socket error: {exc}"
        else:
            _log.exception("%s: error in the client or one of its handlers; closing the connection", self.label)
            reason = f"{type(exc).__name__} in the client: {exc}"
        self._finish(ev.Closed(clean=False, reason=reason))

    def _feed(self, data: bytes) -> None:
        self._run_core(self.connection.receive_data(data))

    def _run_core(self, events: Iterable[ev.Event]) -> None:
        """What the core said (events, the last a Closed when it ended the session): its own answers
        go out first (the login, receipts, the keep-alive ping), then the handlers run."""
        if type(events) is not list:
            events = list(events)
        # Not when the core ended the session: its receipts go before the end, as they always went.
        batch = bool(events) and type(events[-1]) is not ev.Closed
        if batch:
            self._held = []
        try:
            answer = self.connection.data_to_send()
            if answer and not self._write(answer):
                return
            for event in events:
                if self._finished:
                    return  # a handler closed the connection
                self._dispatch(event)
        finally:
            if batch:
                self._release_held()
        self._arm_timer()

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held and not self._finished:
            super().push(held[0] if len(held) == 1 else b"".join(held))

    def _dispatch(self, event: ev.Event) -> None:
        kind = type(event)  # the core's events are final classes: the two of every round trip first
        if kind is _MessageReceived:
            self.on_message(event)  # type: ignore[arg-type]
        elif kind is _MessageAck:
            self.on_ack(event)  # type: ignore[arg-type]
        elif isinstance(event, ev.StatusChanged):
            self.on_status(event)
        elif isinstance(event, ev.ContactsReply):
            self.on_contacts(event)
        elif isinstance(event, ev.Typing):
            self.on_typing(event)
        elif isinstance(event, ev.Pong):
            self.on_pong()
        elif isinstance(event, ev.LoginOk):
            self.logged_in = True
            self.on_login_ok()
        elif isinstance(event, ev.LoginFailed):
            self.on_login_failed(str(LoginRefused(self.uin, event.reason)))
        elif isinstance(event, ev.Disconnecting):
            self.on_disconnecting()
        elif isinstance(event, ev.Closed):
            if isinstance(event.error, LoginTimeout):
                self.on_login_failed(event.reason)
            self._finish(event)

    # --- writing ------------------------------------------------------------------------------------

    def push(self, data: bytes) -> None:
        """Queue whole frames; asynchat writes them in order, so packets never interleave."""
        self._check_open()
        if not self._write(data):
            raise WriteBufferFull(f"{self.label}: the server stopped reading; the connection was closed")

    def _check_open(self) -> None:
        if self._finished:
            raise ConnectionClosed(f"{self.label}: the connection is closed; nothing more can be sent")

    def _write(self, data: bytes) -> bool:
        """push() for the client's own answers: False (and the connection closed) past WRITE_LIMIT."""
        if not data:
            return True  # a send the core dropped: the server has ended the session
        if self._unsent + len(data) > WRITE_LIMIT:
            reason = f"the server is not reading: {self._unsent} bytes are still unsent (limit {WRITE_LIMIT})"
            self._finish(ev.Closed(clean=False, reason=reason, error=WriteBufferFull(reason)))
            return False
        if self.packet_log is not None:
            self.packet_log.outgoing(data)
        self._unsent += len(data)
        if self._held is not None:
            self._held.append(data)
        else:
            super().push(data)
        return True

    def send(self, data: bytes) -> int:
        sent = super().send(data)
        self._unsent -= sent
        return sent

    def _send(self, make: Callable[..., bytes], *args: Any) -> None:
        self._check_open()
        self.push(make(*args))
        self._arm_timer()

    # --- the user's calls ---------------------------------------------------------------------------

    def send_message(self, recipient: int, text: str, msgclass: int = GG_CLASS_CHAT) -> int:
        """Send a message; returns its seq, which the on_ack event for it carries."""
        self._check_open()
        data, seq = self.connection.send_message(recipient, text, msgclass)
        self.push(data)
        return seq

    def change_status(self, status: int, description: str = "") -> None:
        """GG_NEW_STATUS80; going offline is logoff()."""
        self._send(self.connection.send_status, status, description)

    def send_contacts(self, contacts: Iterable[Contact]) -> None:
        """The whole contact list (GG_LIST_EMPTY, or GG_NOTIFY_FIRST chunks and a GG_NOTIFY_LAST)."""
        self._send(self.connection.send_contacts, contacts)

    def add_contact(self, uin: int, user_type: int = GG_USER_NORMAL) -> None:
        self._send(self.connection.send_add_contact, uin, user_type)

    def remove_contact(self, uin: int, user_type: int = GG_USER_NORMAL) -> None:
        self._send(self.connection.send_remove_contact, uin, user_type)

    def send_typing(self, recipient: int, length: int) -> None:
        """`length` characters typed so far to `recipient`; 0 when we stopped."""
        self._send(self.connection.send_typing, recipient, length)

    def ping(self) -> None:
        self._send(self.connection.send_ping)

    def logoff(self, description: str = "") -> None:
        """Go NOT_AVAIL (with a description, NOT_AVAIL_DESCR); the server then closes: a clean Closed."""
        self._send(self.connection.send_logoff, description)

    def abort(self) -> None:
        """Drop the connection now; on_disconnect follows with Closed(clean=False)."""
        self.close()

    def close(self) -> None:
        """asyncore's close() (also what asyncore.close_all() calls): ends the session for good."""
        self._finish(ev.Closed(clean=False, reason=LOCAL_CLOSE))

    # --- the one timer -------------------------------------------------------------------------

    def _arm_timer(self) -> None:
        """Arm one timer for the core's deadline. A timer already armed for an earlier moment stays:
        when it fires the core does nothing yet, and the timer is armed again."""
        when = self.connection.get_timer()
        if self._finished or when is None or (self._timer is not None and self._timer_when <= when):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_when = when
        self._timer = self.timers.call_later(max(0.0, when - time.monotonic()), self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        if self._finished:
            return
        # A timer runs outside asyncore's handlers: its errors get the same treatment as theirs.
        try:
            self._run_core(self.connection.handle_timer(time.monotonic()))
        except Exception:
            self.handle_error()

    # --- the end ------------------------------------------------------------------------------------

    def _finish(self, closed: ev.Closed) -> None:
        """Every way the connection ends comes here once: timers off, socket closed, on_disconnect."""
        if self._finished:
            return
        if self._held:  # pushed before the end, as if it had been pushed at once
            self._release_held()
        self._finished = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.discard_buffers()  # stops asynchat's read loop over what is left of the last recv()
        self._frame.clear()
        self._unsent = 0
        super().close()
        self.on_disconnect(closed)

    @property
    def is_closed(self) -> bool:
        """True once the connection has ended (on_disconnect has been called or is being called)."""
        return self._finished

    @property
    def state(self) -> ClientState:
        """The core's state (gadu.client.ClientState)."""
        return self.connection.state

    # --- handlers to override -----------------------------------------------------------------------

    def on_login_ok(self) -> None:
        """The server accepted the login; sends are allowed from now on."""

    def on_login_failed(self, reason: str) -> None:
        """The login was refused, or no verdict came within login_timeout; on_disconnect follows."""

    def on_message(self, event: ev.MessageReceived) -> None:
        """A message arrived (its GG_RECV_MSG_ACK has already been sent)."""

    def on_ack(self, event: ev.MessageAck) -> None:
        """The server's verdict on a message we sent; event.seq is what send_message() returned."""

    def on_status(self, event: ev.StatusChanged) -> None:
        """A contact changed status."""

    def on_contacts(self, event: ev.ContactsReply) -> None:
        """Statuses of the online contacts of the list we sent (a long reply comes in several)."""

    def on_typing(self, event: ev.Typing) -> None:
        """A contact is typing to us."""

    def on_pong(self) -> None:
        """The server answered a ping."""

    def on_disconnecting(self) -> None:
        """The server announced it will drop us (GG_DISCONNECTING); a clean on_disconnect follows."""

    def on_disconnect(self, closed: ev.Closed) -> None:
        """The connection is over and its socket closed; called exactly once."""
