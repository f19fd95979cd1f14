"""GGClient: the Gadu-Gadu client in plain callbacks on legacy.callbacks.reactor, as written before
`yield from`: every request takes a `callback(result, error)`, and the next step goes inside it.

Every byte goes through gadu.client.ClientConnection; this module only moves bytes between it and a
non-blocking socket, arms the one timer the core asks for, and matches answers to requests (acks by
seq, pongs in order). It holds no codec, no timeout and no protocol rules.

Rules the callbacks keep:
- A call that raises (bad argument, wrong state, connection gone, write buffer full) took nothing:
  its callback is never called. A call that returns calls its callback exactly once, later, from the
  reactor, never from inside the call itself, with either a result or an error.
- An answer goes to the callback of the request it answers. Everything else goes to the handlers
  registered with on_event(): messages, statuses, contact replies, typing, GG_DISCONNECTING, answers
  to requests made without a callback (acks, pongs, the keep-alive's pongs), and one Closed event as
  the last event of every connection, however it ended.

Sends past gadu.limits.WRITE_LIMIT bytes waiting for a server that does not read are refused with
WriteBufferFull: back-pressure a callback program can act on (the other clients drop the connection).
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import socket
import time
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple, Union

from gadu import events as ev
from gadu.client import ClientConnection, ClientState, Contact
from gadu.errors import ConnectionClosed, LocalProtocolError, LoginRefused, WriteBufferFull
from gadu.limits import CLOSE_TIMEOUT, LOGIN_TIMEOUT, READ_SIZE, WRITE_LIMIT
from gadu.packetlog import PacketLog
from gadu.packets import GG_CLASS_CHAT, GG_USER_NORMAL

from .reactor import Reactor, Timer

__all__ = ["Callback", "GGClient"]

Callback = Callable[[Any, Optional[BaseException]], Any]
Handler = Callable[[Any], Any]

_IN_PROGRESS = {0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN}
_packet_logger = logging.getLogger("gadu.client.packets")
_MessageReceived = ev.MessageReceived


class GGClient:
    """One GG connection driven by callbacks on a Reactor; use it from the reactor's thread only."""

    def __init__(self, reactor: Reactor, *, log_packets: bool = False, label: Optional[str] = None) -> None:
        self.reactor = reactor
        self.log_packets = log_packets
        self.label = label
        self.uin: Optional[int] = None
        #: The Closed event, once the connection has ended.
        self.closed: Optional[ev.Closed] = None
        self._conn: Optional[ClientConnection] = None
        self._sock: Optional[socket.socket] = None
        #: A tuple, replaced on each change: an event goes to the handlers there were when it came.
        self._handlers: Tuple[Handler, ...] = ()
        self._packet_log: Optional[PacketLog] = None
        self._login_callback: Optional[Callback] = None
        self._logoff_callback: Optional[Callback] = None
        self._timer: Optional[Timer] = None  # the one timer, at the core's deadline (or earlier)
        self._timer_when = 0.0
        #: seq -> the callback waiting for that message's GG_SEND_MSG_ACK.
        self._acks: Dict[int, Callback] = {}
        #: The n-th GG_PONG answers the n-th GG_PING (the core counts the keep-alive's too): the
        #: callbacks of pings, by number, and the pongs received so far.
        self._pongs: Dict[int, Callback] = {}
        self._pongs_received = 0
        self._outbuf = bytearray()
        self._queued = 0  # bytes ever handed to _write
        self._written = 0  # bytes ever accepted by the kernel
        #: (end offset in the stream, callback): called back once _written reaches the offset.
        self._write_waiters: Deque[Tuple[int, Callback]] = collections.deque()
        self._fire_pending = False
        self._write_failed = False
        #: While the core's events are dispatched: the frames written meanwhile, sent in one send()
        #: when they are done (a receipt and the message a callback sends in answer).
        self._held: Optional[List[bytes]] = None

    def __repr__(self) -> str:
        return f"<GGClient uin={self.uin} state={self.state.name if self.state else None}>"

    @property
    def is_closed(self) -> bool:
        """True once the connection has ended (its Closed is in `closed`)."""
        return self.closed is not None

    @property
    def state(self) -> Optional[ClientState]:
        """The protocol state (gadu.client.ClientState), or None before login()."""
        return self._conn.state if self._conn is not None else None

    # --- handlers for unsolicited events -----------------------------------------------------------

    def on_event(self, handler: Handler) -> Handler:
        """Call `handler(event)` for every event no callback takes (see the module docstring).
        Returns the handler, so that it can decorate a function."""
        self._handlers = (*self._handlers, handler)
        return handler

    def remove_handler(self, handler: Handler) -> None:
        handlers = list(self._handlers)
        handlers.remove(handler)
        self._handlers = tuple(handlers)

    # --- login -------------------------------------------------------------------------------------

    def login(
        self,
        address: Tuple[str, int],
        uin: int,
        password: str,
        callback: Callback,
        *,
        hash_type: Union[str, int] = "sha1",
        status: Optional[int] = None,
        description: str = "",
        login_timeout: float = LOGIN_TIMEOUT,
        ping_interval: Optional[float] = None,
        close_timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        """Connect to `address` (host, port) and log in; `callback(LoginOk, None)` when the server accepts.

        The error is LoginRefused, LoginTimeout, the OSError of a failed connect, or ConnectionClosed.
        status None is the core's default (GG_STATUS_AVAIL). With `ping_interval` a GG_PING goes out
        every that many seconds once logged in. After the session's end (logoff, refusal,
        GG_DISCONNECTING) the server gets `close_timeout` seconds to close. The host name is resolved
        before connecting, blocking, as the clients of that era did: give an IP address to avoid it.
        """
        if self._conn is not None:
            raise RuntimeError("this GGClient has already logged in once; make a new one for a new connection")
        host, port = address
        options: Dict[str, Any] = {"hash_type": hash_type, "description": description,
                                   "login_timeout": login_timeout, "ping_interval": ping_interval,
                                   "close_timeout": close_timeout}
        if status is not None:
            options["status"] = status
        self._conn = ClientConnection(uin, password, **options)
        self.uin = uin
        self._login_callback = callback
        if self.log_packets:
            self._packet_log = PacketLog("client", self.label or f"callbacks uin={uin}", _packet_logger)
        self._arm_timer()
        try:
            family, kind, proto, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            self._sock = socket.socket(family, kind, proto)
            self._sock.setblocking(False)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            code = self._sock.connect_ex(sockaddr)
            if code not in _IN_PROGRESS:
                raise OSError(code, os.strerror(code))
        except OSError as exc:
            self._end(ev.Closed(False, f"cannot connect to {host}:{port}: {exc}"), error=exc, defer=True)
            return
        self.reactor.add_writer(self._sock, self._on_connected, host, port)

    def _on_connected(self, host: str, port: int) -> None:
        sock = self._sock
        assert sock is not None
        self.reactor.remove_writer(sock)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            exc = OSError(code, os.strerror(code))
            self._end(ev.Closed(False, f"cannot connect to {host}:{port}: {exc}"), error=exc)
            return
        self.reactor.add_reader(sock, self._on_readable)

    # --- requests ----------------------------------------------------------------------------------

    def send_message(self, recipient: int, text: str, callback: Optional[Callback] = None,
                     msgclass: int = GG_CLASS_CHAT) -> int:
        """Send a message; returns its seq. `callback(MessageAck, None)` when the server acks it."""
        conn = self._ready_to_send()
        data, seq = conn.send_message(recipient, text, msgclass)
        self._write(data)
        if callback is not None:
            self._acks[seq] = callback
        return seq

    def change_status(self, status: int, description: str = "", callback: Optional[Callback] = None) -> None:
        """GG_NEW_STATUS80; `callback(True, None)` once it is written. Use logoff() to go NOT_AVAIL."""
        self._send(self._ready_to_send().send_status(status, description), callback)

    def send_contacts(self, contacts: Iterable[Contact], callback: Optional[Callback] = None) -> None:
        """The whole contact list (the core splits it); the online contacts come as ContactsReply events."""
        self._send(self._ready_to_send().send_contacts(contacts), callback)

    def add_contact(self, uin: int, callback: Optional[Callback] = None, *, user_type: int = GG_USER_NORMAL) -> None:
        self._send(self._ready_to_send().send_add_contact(uin, user_type), callback)

    def remove_contact(self, uin: int, callback: Optional[Callback] = None, *,
                       user_type: int = GG_USER_NORMAL) -> None:
        self._send(self._ready_to_send().send_remove_contact(uin, user_type), callback)

    def send_typing(self, recipient: int, length: int, callback: Optional[Callback] = None) -> None:
        """Tell `recipient` we have typed `length` characters (0: stopped)."""
        self._send(self._ready_to_send().send_typing(recipient, length), callback)

    def ping(self, callback: Optional[Callback] = None) -> None:
        """GG_PING; `callback(Pong, None)` when its GG_PONG comes (pongs answer pings in order)."""
        conn = self._ready_to_send()
        self._write(conn.send_ping())
        if callback is not None:
            self._pongs[conn.pings_sent] = callback

    def logoff(self, description: str = "", callback: Optional[Callback] = None) -> None:
        """Go NOT_AVAIL (NOT_AVAIL_DESCR with a description) and wait for the server to close (at most
        login()'s close_timeout): `callback(Closed, None)` on a clean close, else CloseTimeout or
        ConnectionClosed."""
        data = self._ready_to_send().send_logoff(description)
        self._logoff_callback = callback
        self._write(data)
        self._arm_timer()

    def abort(self) -> None:
        """Close the socket now; pending callbacks get ConnectionClosed and the handlers a Closed, in the
        next pass. Nothing happens if the connection has already ended or never started."""
        if self._conn is not None:
            self._end(ev.Closed(False, "the connection was aborted locally"), defer=True)

    # --- sending -----------------------------------------------------------------------------------

    def _ready_to_send(self) -> ClientConnection:
        if self.closed is not None:
            raise ConnectionClosed(f"the connection is closed: {self.closed.reason}", self.closed)
        if self._conn is None:
            raise LocalProtocolError("not connected: call login() first")
        if len(self._outbuf) > WRITE_LIMIT:
            raise WriteBufferFull(
                f"{len(self._outbuf)} bytes are waiting for the server to read them (limit {WRITE_LIMIT})"
            )
        return self._conn

    def _send(self, data: bytes, callback: Optional[Callback]) -> None:
        self._write(data)
        if callback is not None:
            self._write_waiters.append((self._queued, callback))
            if not self._fire_pending and self._written >= self._queued:
                self._fire_pending = True
                self.reactor.call_soon(self._fire_written)

    def _write(self, data: bytes) -> None:
        """Queue whole frames behind what is already waiting: one writer, packets never interleave."""
        sock = self._sock
        if sock is None or not data:
            return
        self._queued += len(data)  # counted even if it never goes out: its waiters then get an error
        if self._write_failed:
            return
        if self._packet_log is not None:
            self._packet_log.outgoing(data)
        if self._held is not None:
            self._held.append(data)
            return
        self._send_now(data)

    def _send_now(self, data: bytes) -> None:
        sock = self._sock
        assert sock is not None
        if self._outbuf:
            self._outbuf += data
            return
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            # Called from inside user calls too: end the connection in the next pass, not under them.
            self._write_failed = True
            self.reactor.call_soon(self._lost, f"writing to the server failed: {exc}", exc)
            return
        self._written += sent
        if sent < len(data):
            self._outbuf += memoryview(data)[sent:]
            self.reactor.add_writer(sock, self._on_writable)

    def _on_writable(self) -> None:
        sock = self._sock
        assert sock is not None
        try:
            sent = sock.send(self._outbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(f"writing to the server failed: {exc}", exc)
            return
        del self._outbuf[:sent]
        self._written += sent
        if not self._outbuf:
            self.reactor.remove_writer(sock)
        self._fire_written()

    def _fire_written(self) -> None:
        self._fire_pending = False
        waiters = self._write_waiters
        while waiters and waiters[0][0] <= self._written:
            self._call(waiters.popleft()[1], True, None)

    # --- receiving ---------------------------------------------------------------------------------

    def _on_readable(self) -> None:
        sock, conn = self._sock, self._conn
        assert sock is not None and conn is not None
        try:
            data = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(f"reading from the server failed: {exc}", exc)
            return
        if self._packet_log is not None:
            self._packet_log.incoming(data)
        self._run_core(conn.receive_data(data))

    def _run_core(self, events: List[Any]) -> None:
        """What the core said (events, the last a Closed when it ended the session): its own bytes
        go out first (the login, receipts, the keep-alive ping), then the callbacks run."""
        conn = self._conn
        assert conn is not None
        # The frames written until the callbacks are done leave together; not when the core ended
        # the session (its receipts go before the end, as they always went).
        batch = bool(events) and type(events[-1]) is not ev.Closed
        if batch:
            self._held = []
        try:
            self._write(conn.data_to_send())
            for event in events:
                if self.closed is not None:
                    break  # a callback aborted the connection: Closed was the last event
                self._dispatch(event)
        finally:
            if batch:
                self._release_held()
        self._arm_timer()

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held and self._sock is not None and not self._write_failed:
            self._send_now(held[0] if len(held) == 1 else b"".join(held))
            waiters = self._write_waiters  # sends made meanwhile wait for this write
            if waiters and not self._fire_pending and self._written >= waiters[0][0]:
                self._fire_pending = True
                self.reactor.call_soon(self._fire_written)

    def _dispatch(self, event: Any) -> None:
        kind = type(event)
        if kind is _MessageReceived:  # the most frequent, and no callback waits for it
            self._emit(event)
            return
        if kind is ev.MessageAck:
            callback = self._acks.pop(event.seq, None)
            if callback is not None:
                self._call(callback, event, None)
                return
        elif kind is ev.Pong:
            self._pongs_received += 1
            callback = self._pongs.pop(self._pongs_received, None)
            if callback is not None:
                self._call(callback, event, None)
                return
        elif kind is ev.LoginOk:
            callback, self._login_callback = self._login_callback, None
            if callback is not None:
                self._call(callback, event, None)
            return
        elif kind is ev.LoginFailed:
            callback, self._login_callback = self._login_callback, None
            if callback is not None:
                self._call(callback, None, LoginRefused(self.uin or 0, event.reason))
            return
        elif kind is ev.Closed:
            if isinstance(event.error, TimeoutError):  # LoginTimeout, CloseTimeout: the callbacks' error
                self._end(event, error=event.error)
            else:  # a protocol error is the cause of the ConnectionClosed the callbacks get
                self._end(event, cause=event.error)
            return
        self._emit(event)

    # --- the one timer -------------------------------------------------------------------------

    def _arm_timer(self) -> None:
        """Arm one reactor timer for the core's deadline. A timer already armed for an earlier moment
        stays: when it fires the core does nothing yet, and the timer is armed again."""
        conn = self._conn
        when = conn.get_timer() if conn is not None else None
        if self.closed is not None or when is None or (self._timer is not None and self._timer_when <= when):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_when = when
        self._timer = self.reactor.call_later(max(0.0, when - time.monotonic()), self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        conn = self._conn
        if self.closed is None and conn is not None:
            self._run_core(conn.handle_timer(time.monotonic()))

    # --- the end of a connection -------------------------------------------------------------------

    def _lost(self, reason: str, cause: BaseException) -> None:
        self._end(ev.Closed(False, reason), cause=cause)

    def _end(self, closed: ev.Closed, *, error: Optional[BaseException] = None,
             cause: Optional[BaseException] = None, defer: bool = False) -> None:
        """Every way a connection ends comes here once: the socket is closed at once, then the pending
        callbacks get their answer or an error, then the handlers get `closed` (in the next pass with
        `defer`, when called from inside a user's call)."""
        if self.closed is not None:
            return
        if self._held:  # written before the end, as if it had been sent at once
            self._release_held()
        self.closed = closed
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        sock, self._sock = self._sock, None
        if sock is not None:
            self.reactor.remove_reader(sock)
            self.reactor.remove_writer(sock)
            sock.close()
        self._outbuf.clear()
        if defer:
            self.reactor.call_soon(self._report_end, closed, error, cause)
        else:
            self._report_end(closed, error, cause)

    def _report_end(self, closed: ev.Closed, error: Optional[BaseException],
                    cause: Optional[BaseException]) -> None:
        lost = ConnectionClosed(closed.reason, closed)
        lost.__cause__ = cause
        failure = error if error is not None else lost
        callback, self._login_callback = self._login_callback, None
        if callback is not None:
            self._call(callback, None, failure)
        waiters, self._write_waiters = self._write_waiters, collections.deque()
        for end, callback in waiters:
            if end <= self._written:
                self._call(callback, True, None)
            else:
                self._call(callback, None, lost)
        acks, self._acks = self._acks, {}
        for callback in acks.values():
            self._call(callback, None, lost)
        pongs, self._pongs = self._pongs, {}
        for callback in pongs.values():
            self._call(callback, None, lost)
        callback, self._logoff_callback = self._logoff_callback, None
        if callback is not None:
            if closed.clean:
                self._call(callback, closed, None)
            else:
                self._call(callback, None, failure)
        self._emit(closed)

    # --- calling user code -------------------------------------------------------------------------

    def _call(self, callback: Callback, result: Any, error: Optional[BaseException]) -> None:
        try:
            callback(result, error)
        except Exception as exc:
            self.reactor.handle_error(callback, exc)

    def _emit(self, event: Any) -> None:
        for handler in self._handlers:
            try:
                handler(event)
            except Exception as exc:
                self.reactor.handle_error(handler, exc)
