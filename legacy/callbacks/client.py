"""GGClient: the Gadu-Gadu client in plain callbacks on legacy.callbacks.reactor, as written before
`yield from`: every request takes a `callback(result, error)`, and the next step goes inside it.

Every byte goes through gadu.client.ClientConnection; this module only moves bytes between it and a
non-blocking socket, runs the timers (login timeout, keep-alive, waiting for the close) and matches
answers to requests (acks by seq, pongs in order). It holds no codec and no protocol rules.

Rules the callbacks keep:
- A call that raises (bad argument, wrong state, connection gone, write buffer full) took nothing:
  its callback is never called. A call that returns calls its callback exactly once, later, from the
  reactor, never from inside the call itself, with either a result or an error.
- An answer goes to the callback of the request it answers. Everything else goes to the handlers
  registered with on_event(): messages, statuses, contact replies, typing, GG_DISCONNECTING, answers
  to requests made without a callback (acks, pongs, the keep-alive's pongs), and one Closed event as
  the last event of every connection, however it ended.

Public API: GGClient(reactor, *, log_packets=False, label=None) with login(address, uin, password,
callback, *, hash_type, status, description, login_timeout, ping_interval), send_message(uin, text,
callback=None) -> seq, change_status(status, description="", callback=None), notify(contacts,
callback=None), add_contact(uin, callback=None, *, user_type), remove_contact(uin, callback=None,
*, user_type), typing(uin, length, callback=None), ping(callback=None), logoff(description="",
callback=None, *, timeout), abort(), on_event(handler), remove_handler(handler), and the attributes
uin, state, closed. Errors: GGError, LoginRefused, LoginTimeout, LogoffTimeout, ConnectionLost,
WriteBufferFull.
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import socket
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple, Union

from gadu import events as ev
from gadu.client import ClientConnection, ClientState
from gadu.errors import LocalProtocolError, ProtocolError
from gadu.hashing import GG_LOGIN_HASH_GG32, GG_LOGIN_HASH_SHA1
from gadu.packetlog import PacketLog
from gadu.packets import GG_USER_NORMAL

from .reactor import Reactor, Timer

__all__ = [
    "CLOSE_TIMEOUT",
    "HASH_TYPES",
    "LOGIN_TIMEOUT",
    "RECV_SIZE",
    "WRITE_LIMIT",
    "Callback",
    "ConnectionLost",
    "GGClient",
    "GGError",
    "LoginRefused",
    "LoginTimeout",
    "LogoffTimeout",
    "WriteBufferFull",
]

#: The hash names login() takes, and the GG_LOGIN80 hash types they stand for.
HASH_TYPES: Dict[str, int] = {"sha1": GG_LOGIN_HASH_SHA1, "gg32": GG_LOGIN_HASH_GG32}
#: Seconds from login() to the server's verdict, connecting included.
LOGIN_TIMEOUT = 30.0
#: Seconds to wait for the server to close after a logoff, a refused login or GG_DISCONNECTING.
CLOSE_TIMEOUT = 5.0
#: One recv() per readable event: a whole largest frame (8 + 65535 bytes) fits, and one busy
#: connection cannot keep the reactor from the others.
RECV_SIZE = 65536
#: Bytes waiting for a server that does not read, beyond which sends are refused (WriteBufferFull).
WRITE_LIMIT = 1024 * 1024

Callback = Callable[[Any, Optional[BaseException]], Any]
Handler = Callable[[Any], Any]

_IN_PROGRESS = {0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN}
_packet_logger = logging.getLogger("gadu.client.packets")


class GGError(Exception):
    """Base of the errors this client hands to callbacks or raises."""


class LoginRefused(GGError):
    """The server refused the login (GG_LOGIN80_FAILED or GG_LOGIN_FAILED): wrong password or unknown uin."""


class LoginTimeout(GGError, TimeoutError):
    """No verdict on the login within login_timeout seconds; the client closed the connection."""


class LogoffTimeout(GGError, TimeoutError):
    """The server did not close the connection within the timeout after the logoff; the client closed it."""


class ConnectionLost(GGError, ConnectionError):
    """The connection ended before the answer came (or before this request). `closed` is its Closed event;
    `__cause__` is the socket or protocol error behind it, if any."""

    def __init__(self, reason: str, closed: ev.Closed) -> None:
        super().__init__(reason)
        self.closed = closed


class WriteBufferFull(GGError):
    """More than WRITE_LIMIT bytes wait for a server that does not read: the send was refused."""


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
        self._handlers: List[Handler] = []
        self._packet_log: Optional[PacketLog] = None
        self._ping_interval: Optional[float] = None
        self._login_callback: Optional[Callback] = None
        self._logoff_callback: Optional[Callback] = None
        self._login_timer: Optional[Timer] = None
        self._ping_timer: Optional[Timer] = None
        self._close_timer: Optional[Timer] = None
        #: seq -> the callback waiting for that message's GG_SEND_MSG_ACK.
        self._acks: Dict[int, Callback] = {}
        #: Pings waiting for a GG_PONG, oldest first: a callback, or a count of pings sent without one.
        self._pongs: Deque[Union[Callback, int]] = collections.deque()
        self._outbuf = bytearray()
        self._queued = 0  # bytes ever handed to _write
        self._written = 0  # bytes ever accepted by the kernel
        #: (end offset in the stream, callback): called back once _written reaches the offset.
        self._write_waiters: Deque[Tuple[int, Callback]] = collections.deque()
        self._fire_pending = False
        self._write_failed = False

    def __repr__(self) -> str:
        return f"<GGClient uin={self.uin} state={self.state.name if self.state else None}>"

    @property
    def state(self) -> Optional[ClientState]:
        """The protocol state (gadu.client.ClientState), or None before login()."""
        return self._conn.state if self._conn is not None else None

    # --- handlers for unsolicited events -----------------------------------------------------------

    def on_event(self, handler: Handler) -> Handler:
        """Call `handler(event)` for every event no callback takes (see the module docstring).
        Returns the handler, so that it can decorate a function."""
        self._handlers.append(handler)
        return handler

    def remove_handler(self, handler: Handler) -> None:
        self._handlers.remove(handler)

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
    ) -> None:
        """Connect to `address` (host, port) and log in; `callback(LoginOk, None)` when the server accepts.

        The error is LoginRefused, LoginTimeout, the OSError of a failed connect, or ConnectionLost.
        status None is the core's default (GG_STATUS_AVAIL). With `ping_interval` a GG_PING goes out
        every that many seconds once logged in. The host name is resolved before connecting, blocking,
        as the clients of that era did: give an IP address to avoid it.
        """
        if self._conn is not None:
            raise RuntimeError("this GGClient has already logged in once; make a new one for a new connection")
        host, port = address
        hash_code = HASH_TYPES.get(hash_type) if isinstance(hash_type, str) else hash_type
        if hash_code is None:
            raise ValueError(f"unknown hash type {hash_type!r}: use one of {sorted(HASH_TYPES)}")
        if not login_timeout > 0:
            raise ValueError(f"login_timeout must be positive, got {login_timeout}")
        if ping_interval is not None and not ping_interval > 0:
            raise ValueError(f"ping_interval must be positive or None, got {ping_interval}")
        options: Dict[str, Any] = {"hash_type": hash_code, "description": description}
        if status is not None:
            options["status"] = status
        self._conn = ClientConnection(uin, password, **options)
        self.uin = uin
        self._login_callback = callback
        self._ping_interval = ping_interval
        if self.log_packets:
            self._packet_log = PacketLog("client", self.label or f"callbacks uin={uin}", _packet_logger)
        self._login_timer = self.reactor.call_later(login_timeout, self._login_timed_out, login_timeout)
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

    def _login_timed_out(self, timeout: float) -> None:
        reason = f"no answer to the login within {timeout:g} s"
        self._end(ev.Closed(False, f"login timed out: {reason}"), error=LoginTimeout(reason))

    # --- requests ----------------------------------------------------------------------------------

    def send_message(self, uin: int, text: str, callback: Optional[Callback] = None) -> int:
        """Send a chat message; returns its seq. `callback(MessageAck, None)` when the server acks it."""
        conn = self._ready_to_send()
        data, seq = conn.send_message(uin, text)
        self._write(data)
        if callback is not None:
            self._acks[seq] = callback
        return seq

    def change_status(self, status: int, description: str = "", callback: Optional[Callback] = None) -> None:
        """GG_NEW_STATUS80; `callback(True, None)` once it is written. Use logoff() to go NOT_AVAIL."""
        self._send(self._ready_to_send().send_status(status, description), callback)

    def notify(self, contacts: Iterable[int], callback: Optional[Callback] = None) -> None:
        """Send the contact list (the core splits it); the online contacts come as ContactsReply events."""
        self._send(self._ready_to_send().send_contacts(contacts), callback)

    def add_contact(self, uin: int, callback: Optional[Callback] = None, *, user_type: int = GG_USER_NORMAL) -> None:
        self._send(self._ready_to_send().send_add_contact(uin, user_type), callback)

    def remove_contact(self, uin: int, callback: Optional[Callback] = None, *,
                       user_type: int = GG_USER_NORMAL) -> None:
        self._send(self._ready_to_send().send_remove_contact(uin, user_type), callback)

    def typing(self, uin: int, length: int, callback: Optional[Callback] = None) -> None:
        """Tell `uin` we have typed `length` characters (0: stopped)."""
        self._send(self._ready_to_send().send_typing(uin, length), callback)

    def ping(self, callback: Optional[Callback] = None) -> None:
        """GG_PING; `callback(Pong, None)` when its GG_PONG comes (pongs answer pings in order)."""
        self._write(self._ready_to_send().send_ping())
        self._expect_pong(callback)

    def logoff(self, description: str = "", callback: Optional[Callback] = None, *,
               timeout: float = CLOSE_TIMEOUT) -> None:
        """Go NOT_AVAIL (NOT_AVAIL_DESCR with a description) and wait for the server to close:
        `callback(Closed, None)` on a clean close, else LogoffTimeout or ConnectionLost."""
        data = self._ready_to_send().send_logoff(description)
        self._logoff_callback = callback
        self._write(data)
        self._await_close(timeout)

    def abort(self) -> None:
        """Close the socket now; pending callbacks get ConnectionLost and the handlers a Closed, in the
        next pass. Nothing happens if the connection has already ended or never started."""
        if self._conn is not None:
            self._end(ev.Closed(False, "the connection was aborted locally"), defer=True)

    # --- sending -----------------------------------------------------------------------------------

    def _ready_to_send(self) -> ClientConnection:
        if self.closed is not None:
            raise ConnectionLost(f"the connection is closed: {self.closed.reason}", self.closed)
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

    def _expect_pong(self, callback: Optional[Callback]) -> None:
        pongs = self._pongs
        if callback is not None:
            pongs.append(callback)
        elif pongs and isinstance(pongs[-1], int):
            pongs[-1] += 1
        else:
            pongs.append(1)

    def _write(self, data: bytes) -> None:
        """Queue whole frames behind what is already waiting: one writer, packets never interleave."""
        sock = self._sock
        if sock is None:
            return
        self._queued += len(data)  # counted even if it never goes out: its waiters then get an error
        if self._write_failed:
            return
        if self._packet_log is not None:
            self._packet_log.outgoing(data)
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
            data = sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(f"reading from the server failed: {exc}", exc)
            return
        if self._packet_log is not None:
            self._packet_log.incoming(data)
        try:
            events, error = conn.receive_data(data), None
        except ProtocolError as exc:
            events, error = exc.events, exc  # what came whole before the bad bytes is still delivered
        reply = conn.data_to_send()  # the login after GG_WELCOME, GG_RECV_MSG_ACK after each message
        if reply:
            self._write(reply)
        for event in events:
            if self.closed is not None:
                break  # a callback aborted the connection: Closed was the last event
            self._dispatch(event)
        if error is not None and self.closed is None:
            self._lost(str(error), error)

    def _dispatch(self, event: Any) -> None:
        kind = type(event)
        if kind is ev.MessageAck:
            callback = self._acks.pop(event.seq, None)
            if callback is not None:
                self._call(callback, event, None)
                return
        elif kind is ev.Pong:
            if self._pongs:
                head = self._pongs.popleft()
                if not isinstance(head, int):
                    self._call(head, event, None)
                    return
                if head > 1:
                    self._pongs.appendleft(head - 1)
        elif kind is ev.LoginOk:
            self._cancel_login_timer()
            if self._ping_interval is not None:
                self._ping_timer = self.reactor.call_later(self._ping_interval, self._keepalive)
            callback, self._login_callback = self._login_callback, None
            if callback is not None:
                self._call(callback, event, None)
            return
        elif kind is ev.LoginFailed:
            self._cancel_login_timer()
            self._await_close(CLOSE_TIMEOUT)
            callback, self._login_callback = self._login_callback, None
            if callback is not None:
                self._call(callback, None, LoginRefused(
                    f"the server refused the login of uin {self.uin}: wrong password or unknown uin"))
            return
        elif kind is ev.Disconnecting:
            self._await_close(CLOSE_TIMEOUT)
        elif kind is ev.Closed:
            self._end(event)
            return
        self._emit(event)

    # --- timers ------------------------------------------------------------------------------------

    def _keepalive(self) -> None:
        conn = self._conn
        if self.closed is not None or conn is None or conn.state is not ClientState.CONNECTED:
            return
        assert self._ping_interval is not None
        self._ping_timer = self.reactor.call_later(self._ping_interval, self._keepalive)
        if len(self._outbuf) <= WRITE_LIMIT:
            self._write(conn.send_ping())
            self._expect_pong(None)

    def _cancel_login_timer(self) -> None:
        if self._login_timer is not None:
            self._login_timer.cancel()
            self._login_timer = None

    def _await_close(self, timeout: float) -> None:
        """The server is expected to close now (the core is DISCONNECTING): wait for it, within bounds."""
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None
        if self._close_timer is None:
            self._close_timer = self.reactor.call_later(timeout, self._close_timed_out, timeout)

    def _close_timed_out(self, timeout: float) -> None:
        reason = f"the server did not close the connection within {timeout:g} s"
        self._end(ev.Closed(False, reason), error=LogoffTimeout(reason))

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
        self.closed = closed
        for timer in (self._login_timer, self._ping_timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        self._login_timer = self._ping_timer = self._close_timer = None
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
        lost = ConnectionLost(closed.reason, closed)
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
        pongs, self._pongs = self._pongs, collections.deque()
        for entry in pongs:
            if not isinstance(entry, int):
                self._call(entry, None, lost)
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
        for handler in list(self._handlers):
            try:
                handler(event)
            except Exception as exc:
                self.reactor.handle_error(handler, exc)
