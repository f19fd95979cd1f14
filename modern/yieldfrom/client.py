"""GGClient: the GG 8.0 client as generator coroutines (`yield from`), in the PEP 3156 style of 2014.

It is gadu.client.ClientConnection behind a transport and a protocol: the core decides every byte and
every deadline; this module only moves bytes, arms the one timer the core asks for and hands out events.
It uses only the loop methods asyncio also has, and the caller passes the loop, so the very same code
runs on modern.loop and on asyncio; it imports neither.

    client = GGClient(loop, ping_interval=60)
    yield from client.connect("127.0.0.1", 8074)
    yield from client.login(1001, "alice", hash_type="sha1")   # or LoginRefused, LoginTimeout
    seq = client.send_message(1002, "hi")
    ack = yield from client.wait_ack(seq)
    event = yield from client.next_event()
    closed = yield from client.logoff("bye")

Sends are plain calls: each writes its whole frames at once (one writer, so packets never interleave)
and returns at once. Those that return a Future let the caller `yield from` it to wait for the write
buffer to drain (flow control), or ignore it.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Any, Deque, Dict, Iterable, List, Optional, Union

from compat import coroutine
from gadu import events as ev
from gadu import packets as pk
from gadu.client import ClientConnection, ClientState, Contact
from gadu.errors import ConnectionClosed, LoginRefused, LoginTimeout, WriteBufferFull
from gadu.limits import ACK_BACKLOG, CLOSE_TIMEOUT, EVENT_BACKLOG, LOGIN_TIMEOUT, WRITE_LIMIT
from gadu.packetlog import PacketLog

__all__ = ["GGClient"]

packet_logger = logging.getLogger("gadu.client.packets")

_MessageAck = ev.MessageAck
_LoginOk = ev.LoginOk
_LoginFailed = ev.LoginFailed
_Closed = ev.Closed


# The sentinel a login future ends with, besides the LoginOk or LoginFailed event, when the
# connection ends first.
_LOGIN_CLOSED = object()


class _GGProtocol:
    """The PEP 3156 Protocol between the loop's transport and the client: it only forwards.

    A plain Protocol (data_received) on purpose: a BufferedProtocol is recognised by isinstance of
    the loop's own class, and this module imports no loop.
    """

    def __init__(self, client: GGClient) -> None:
        self.client = client

    def connection_made(self, transport: Any) -> None:
        self.client._connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.client._data_received(data)

    def eof_received(self) -> bool:
        self.client._eof_received()
        return False  # the transport closes itself; connection_lost follows

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.client._connection_lost(exc)

    def pause_writing(self) -> None:
        self.client._pause_writing()

    def resume_writing(self) -> None:
        self.client._resume_writing()


class GGClient:
    """One GG session on `loop` (a modern.loop.EventLoop or an asyncio loop).

    `ping_interval` seconds between keep-alive pings once logged in (None: no pings, as libgadu);
    `log_packets` logs every packet in and out on the "gadu.client.packets" logger, tagged `label`.
    """

    def __init__(self, loop: Any, *, ping_interval: Optional[float] = None, log_packets: bool = False,
                 label: Optional[str] = None, event_backlog: int = EVENT_BACKLOG) -> None:
        if ping_interval is not None and ping_interval <= 0:
            raise ValueError(f"ping_interval must be positive or None, got {ping_interval!r}")
        if event_backlog < 1:
            raise ValueError(f"event_backlog must be at least 1, got {event_backlog!r}")
        self._loop = loop
        self.ping_interval = ping_interval
        self.label = label
        self._max_events = event_backlog
        self._packet_log = PacketLog("client", self, packet_logger) if log_packets else None
        self._conn: Optional[ClientConnection] = None
        self._transport: Any = None
        self._connecting = False
        # Before login() there is no core to feed: the first chunk waits here, reading is paused.
        self._early: List[bytes] = []  # a list: an empty deque costs 600 bytes a session
        self._reading_paused = False
        self._events: Deque[Any] = deque()
        self._event_waiter: Any = None
        self._login_waiter: Any = None
        # seq -> its MessageAck once it came (None until then) for messages nobody has claimed yet, and
        # seq -> the future a wait_ack() waits on. No future per message: most acks are never awaited.
        self._acks: Dict[int, Optional[ev.MessageAck]] = {}
        self._awaited_acks: Dict[int, Any] = {}
        self._drain_waiter: Any = None
        #: Frames written in this loop iteration, sent together by _flush (None: none; no idle list).
        self._pending: Optional[List[bytes]] = None
        self._timer: Any = None  # the one timer, at the core's deadline (or earlier: see _arm_timer)
        self._timer_when = 0.0
        # Set once the end is decided (the reason); `_closed` once the socket is gone and Closed is out.
        self._closing: Optional[ev.Closed] = None
        self._closed: Any = loop.create_future()
        self._closed_reported = False

    def __repr__(self) -> str:
        if self.label:
            return self.label
        uin = self._conn.uin if self._conn is not None else "?"
        return f"GGClient uin={uin}"

    @property
    def state(self) -> Optional[ClientState]:
        """The core's state (None before login())."""
        return self._conn.state if self._conn is not None else None

    @property
    def is_closed(self) -> bool:
        """True once the end of the connection is decided (even if Closed is still on its way)."""
        return self._closing is not None

    # --- connecting and logging in ---------------------------------------------------------------

    @coroutine
    def connect(self, host: str, port: int) -> Any:
        """Open the TCP connection. On failure Closed is reported (next_event) and the error raised."""
        if self._transport is not None or self._connecting or self._closing is not None:
            raise RuntimeError(f"{self!r}: connect() may be called once, on a new client")
        self._connecting = True
        try:
            yield from self._loop.create_connection(lambda: _GGProtocol(self), host, port)
        except BaseException as exc:
            self._connecting = False
            if self._transport is None:
                self._decide_close(f"could not connect to {host}:{port}: {str(exc) or type(exc).__name__}")
                self._report_closed()
            raise
        self._connecting = False
        if self._closing is not None:
            # abort() came while connecting: the transport it could not reach goes now.
            self._transport.abort()
            raise ConnectionClosed(self._closing.reason, self._closing)

    @coroutine
    def login(self, uin: int, password: Union[str, bytes], *, hash_type: Union[str, int] = "sha1",
              status: int = pk.GG_STATUS_AVAIL, description: str = "", login_timeout: float = LOGIN_TIMEOUT,
              close_timeout: float = CLOSE_TIMEOUT) -> Any:
        """Log in: returns once the server accepts; raises LoginRefused when it refuses (the server
        then closes: a clean Closed follows in next_event()).

        The login timeout counts from this call over WELCOME and the verdict; when it runs out the
        connection is closed and LoginTimeout raised. ConnectionClosed when the connection ends
        before a verdict. Bad arguments (hash type, status, description) raise before anything is sent.
        After the session's end (logoff, refusal, GG_DISCONNECTING) the server gets `close_timeout`.
        """
        if self._transport is None and self._closing is None:
            raise RuntimeError(f"{self!r}: connect() first")
        if self._conn is not None:
            raise RuntimeError(f"{self!r}: login() may be called once per connection")
        if self._closing is not None:
            raise ConnectionClosed(self._closing.reason, self._closing)
        self._conn = ClientConnection(uin, password, hash_type=hash_type, status=status, description=description,
                                      login_timeout=login_timeout, ping_interval=self.ping_interval,
                                      close_timeout=close_timeout, monotonic=self._loop.time)
        waiter = self._login_waiter = self._loop.create_future()
        self._arm_timer()
        self._replay_early()
        verdict = yield from waiter
        self._login_waiter = None
        if type(verdict) is _LoginFailed:
            raise LoginRefused(uin, verdict.reason)
        if verdict is _LOGIN_CLOSED:
            closing = self._closing
            if closing is not None and isinstance(closing.error, LoginTimeout):
                raise closing.error
            raise ConnectionClosed(closing.reason if closing else "connection closed", closing)

    def _replay_early(self) -> None:
        early, self._early = self._early, []
        for chunk in early:
            self._feed(chunk)
        if self._reading_paused and self._closing is None:
            self._set_reading(True)

    # --- events ----------------------------------------------------------------------------------

    @coroutine
    def next_event(self) -> Any:
        """The next gadu.events object (all but the login verdict, which login() returns).

        Closed is the last one; after it, ConnectionClosed. One waiter at a time.
        """
        if self._event_waiter is not None:
            raise RuntimeError(f"{self!r}: another coroutine is already waiting in next_event()")
        if not self._events:
            if self._closed_reported:
                raise ConnectionClosed(self._closed.result().reason, self._closed.result())
            self._event_waiter = self._loop.create_future()
            try:
                event = yield from self._event_waiter
            finally:
                self._event_waiter = None
            return event
        event = self._events.popleft()
        if self._reading_paused and self._conn is not None and len(self._events) <= self._max_events // 2:
            self._set_reading(True)
        return event

    @coroutine
    def wait_ack(self, seq: int) -> Any:
        """The MessageAck for the message sent with `seq` (already arrived or yet to come).

        Each ack can be claimed once; next_event() reports it too. ConnectionClosed when the
        connection ends first.
        """
        if seq not in self._acks:
            raise KeyError(f"{self!r}: no unclaimed message with seq {seq} (never sent here, or claimed)")
        ack = self._acks.pop(seq)
        if ack is not None:
            return ack
        if self._closed_reported:
            raise ConnectionClosed(self._closing.reason if self._closing else "connection closed", self._closing)
        future = self._awaited_acks[seq] = self._loop.create_future()
        try:
            ack = yield from future
        finally:
            self._awaited_acks.pop(seq, None)
        if ack is None:
            raise ConnectionClosed(self._closing.reason if self._closing else "connection closed", self._closing)
        return ack

    def wait_closed(self) -> Any:
        """A future of the Closed event: `closed = yield from client.wait_closed()`."""
        return self._closed

    # --- sending -------------------------------------------------------------------------------

    def send_message(self, recipient: int, text: str, msgclass: int = pk.GG_CLASS_CHAT) -> int:
        """Send a message now; returns its seq, for wait_ack(seq) (acks also come from next_event())."""
        data, seq = self._core().send_message(recipient, text, msgclass)
        self._write(data)
        self._acks[seq] = None
        if len(self._acks) > ACK_BACKLOG:
            # Nobody waits on an entry of this table (wait_ack moves it out first), so dropping the
            # oldest only makes a very late wait_ack fail with a clear KeyError.
            del self._acks[next(iter(self._acks))]
        return seq

    def change_status(self, status: int, description: str = "") -> Any:
        """GG_NEW_STATUS80 now; returns a Future done when the write buffer has drained (see logoff())."""
        return self._send(self._core().send_status(status, description))

    def send_contacts(self, contacts: Iterable[Contact]) -> Any:
        """The whole contact list now (LIST_EMPTY, or NOTIFY_FIRST chunks and NOTIFY_LAST); a drain Future."""
        return self._send(self._core().send_contacts(contacts))

    def add_contact(self, uin: int, user_type: int = pk.GG_USER_NORMAL) -> Any:
        return self._send(self._core().send_add_contact(uin, user_type))

    def remove_contact(self, uin: int, user_type: int = pk.GG_USER_NORMAL) -> Any:
        return self._send(self._core().send_remove_contact(uin, user_type))

    def send_typing(self, recipient: int, length: int) -> Any:
        """Tell `recipient` we have typed `length` characters (0: stopped)."""
        return self._send(self._core().send_typing(recipient, length))

    def ping(self) -> Any:
        return self._send(self._core().send_ping())

    def logoff(self, description: str = "") -> Any:
        """Go NOT_AVAIL (NOT_AVAIL_DESCR with a description) and let the server close.

        Returns the future of the Closed event (clean when the server closes as it should); after
        login()'s close_timeout without that close, the client closes and Closed is not clean.
        """
        self._send(self._core().send_logoff(description))
        self._arm_timer()
        return self._closed

    @coroutine
    def drain(self) -> Any:
        """Wait until the transport's write buffer is below its high-water mark (or the end)."""
        yield from self._drained()

    def close(self) -> None:
        """Close without logging off: what is written still goes out, then the socket closes."""
        self._end("closed locally", abort=False)

    def abort(self) -> None:
        """Drop the connection at once, as a crash would; Closed(clean=False) follows."""
        self._end("aborted locally", abort=True)

    # --- the transport side ------------------------------------------------------------------------

    def _core(self) -> ClientConnection:
        if self._closing is not None:
            raise ConnectionClosed(f"{self!r}: the connection is closed: {self._closing.reason}", self._closing)
        if self._conn is None:
            raise ConnectionClosed(f"{self!r}: not logged in: call connect() and login() first")
        return self._conn

    def _send(self, data: bytes) -> Any:
        self._write(data)
        return self._drained()

    def _write(self, data: bytes) -> None:
        """Whole frames, in order: those of one loop iteration go in one transport.write at its end
        (a receipt and the next message in one send), so packets never interleave."""
        if self._queue(data):
            self._loop.call_soon(self._flush)

    def _queue(self, data: bytes) -> bool:
        """Add frames to this iteration's batch; True when the batch is new (its flush is to be scheduled)."""
        if not data or self._closing is not None:
            return False
        if self._packet_log is not None:
            self._packet_log.outgoing(data)
        pending = self._pending
        if pending is None:
            self._pending = [data]
            return True
        pending.append(data)
        return False

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        transport = self._transport
        if pending is None or transport is None or transport.is_closing():
            return
        transport.write(pending[0] if len(pending) == 1 else b"".join(pending))
        queued = transport.get_write_buffer_size()
        if queued > WRITE_LIMIT:
            reason = f"the server is not reading: {queued} bytes queued, the limit is {WRITE_LIMIT}"
            self._end(ev.Closed(clean=False, reason=reason, error=WriteBufferFull(reason)), abort=True)

    def _drained(self) -> Any:
        if self._drain_waiter is not None:
            return self._drain_waiter
        done = self._loop.create_future()
        done.set_result(None)
        return done

    def _pause_writing(self) -> None:
        if self._drain_waiter is None:
            self._drain_waiter = self._loop.create_future()

    def _resume_writing(self) -> None:
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _set_reading(self, reading: bool) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        if reading and self._reading_paused:
            self._reading_paused = False
            self._transport.resume_reading()
        elif not reading and not self._reading_paused:
            self._reading_paused = True
            self._transport.pause_reading()

    def _connection_made(self, transport: Any) -> None:
        self._transport = transport

    def _data_received(self, data: bytes) -> None:
        if self._closing is not None:
            return
        if self._conn is None:
            self._early.append(data)
            self._set_reading(False)
            return
        self._feed(data)

    def _eof_received(self) -> None:
        if self._closing is not None:
            return
        if self._conn is None:
            self._closing = ev.Closed(clean=False, reason="the server closed the connection before login()")
            return
        self._feed(b"")

    def _feed(self, data: bytes) -> None:
        """Hand bytes from the server (b"" at its EOF) to the core, write its answers, dispatch events."""
        assert self._conn is not None
        if self._closing is not None:
            return
        if self._packet_log is not None:
            self._packet_log.incoming(data)
        self._run_core(self._conn.receive_data(data))

    def _run_core(self, events: List[Any]) -> None:
        """What the core said (events, the last a Closed when it ended the session): its own bytes
        go out first (the login, receipts, the keep-alive ping), then the events."""
        assert self._conn is not None
        # The flush is scheduled after the events wake their readers, so that what they send at
        # once (the next message) leaves in the same send().
        flush = self._queue(self._conn.data_to_send())
        for event in events:
            self._dispatch(event)
        if flush:
            self._loop.call_soon(self._flush)
        self._arm_timer()

    def _arm_timer(self) -> None:
        """Arm one loop timer for the core's deadline (on the loop's clock). A timer already armed for
        an earlier moment stays: when it fires the core does nothing yet, and it is armed again."""
        when = self._conn.get_timer() if self._conn is not None else None
        if self._closing is not None or when is None or (self._timer is not None and self._timer_when <= when):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_when = when
        self._timer = self._loop.call_at(when, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        if self._closing is None and self._conn is not None:
            self._run_core(self._conn.handle_timer(self._loop.time()))

    def _dispatch(self, event: Any) -> None:
        kind = type(event)  # events are final classes: one identity test each, no isinstance
        if kind is _MessageAck:
            seq = event.seq
            waiter = self._awaited_acks.get(seq)
            if waiter is not None:
                if not waiter.done():
                    waiter.set_result(event)
            elif seq in self._acks:
                self._acks[seq] = event
        elif kind is _LoginOk or kind is _LoginFailed:
            waiter = self._login_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(event)
            return
        elif kind is _Closed:
            if event.error is None:
                # The core saw the EOF; the transport closes itself and connection_lost reports it.
                self._closing = event
            else:  # the core ended the session (bad bytes, a timeout): drop the connection
                self._end(event, abort=True)
            return
        self._put_event(event)

    def _put_event(self, event: Any) -> None:
        waiter = self._event_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(event)
            return
        self._events.append(event)
        if len(self._events) >= self._max_events and not isinstance(event, ev.Closed):
            self._set_reading(False)

    # --- the end ---------------------------------------------------------------------------------

    def _decide_close(self, closed: Union[str, ev.Closed]) -> None:
        if self._closing is None:
            self._closing = closed if isinstance(closed, ev.Closed) else ev.Closed(clean=False, reason=closed)
        self._cancel_timer()

    def _abort(self, reason: str) -> None:
        self._end(reason, abort=True)

    def _end(self, closed: Union[str, ev.Closed], abort: bool) -> None:
        if self._closing is not None:
            return
        self._flush()  # what was written before the end goes first, as if it had been sent at once
        self._decide_close(closed)
        if self._transport is not None:
            if abort:
                self._transport.abort()
            else:
                self._transport.close()
        elif not self._connecting:
            self._loop.call_soon(self._report_closed)
        # While connecting, connect() aborts the transport it gets, or reports the failure itself.

    def _connection_lost(self, exc: Optional[BaseException]) -> None:
        if self._closing is None:
            # Neither the core nor we ended it: a reset, or the transport failed.
            detail = f"{type(exc).__name__}: {exc}" if exc is not None else "the transport closed"
            self._closing = ev.Closed(clean=False, reason=f"connection lost: {detail}")
        # The transport closes the socket after this returns: report one pass later, socket gone.
        self._loop.call_soon(self._report_closed)

    def _report_closed(self) -> None:
        if self._closed_reported:
            return
        self._closed_reported = True
        closed = self._closing or ev.Closed(clean=False, reason="connection closed")
        self._closing = closed
        self._cancel_timer()
        self._transport = None
        self._early.clear()
        if self._login_waiter is not None and not self._login_waiter.done():
            self._login_waiter.set_result(_LOGIN_CLOSED)
        for future in list(self._awaited_acks.values()):
            if not future.done():
                future.set_result(None)
        self._resume_writing()
        self._put_event(closed)
        self._closed.set_result(closed)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
