"""GGProtocol: asyncio's side of one GG connection, the callbacks under the async/await client.

Bytes arrive through asyncio.BufferedProtocol into one reused buffer and go straight into the gadu
core (gadu.client.ClientConnection); its events go to a deque the client reads, its own answers go
back out, and one loop timer is armed at the core's deadline. No coroutine lives here: only what the
loop calls, and the futures the client awaits.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Dict, List, Optional, Sequence

from gadu import events as ev
from gadu.client import ClientConnection
from gadu.errors import ConnectionClosed, LocalProtocolError
from gadu.limits import ACK_BACKLOG, EVENT_BACKLOG, HEADER_SIZE, MAX_FRAME, WRITE_LIMIT
from gadu.packetlog import PacketLog

__all__ = ["READ_BUFFER_SIZE", "GGProtocol"]

#: The reused read buffer: a whole frame (8 + 65535 bytes) fits in one read, and it is allocated once
#: per thread and shared by that thread's connections (see _thread_read_view), where asyncio's plain
#: Protocol allocates (and glibc maps and unmaps) 256 KiB on every read.
READ_BUFFER_SIZE = 128 * 1024
#: Bytes a server may send before login() hands them to the core: one whole frame (the GG_WELCOME).
_EARLY_LIMIT = HEADER_SIZE + MAX_FRAME

_read_buffers = threading.local()


def _thread_read_view() -> memoryview:
    """This thread's read buffer. One per connection would cost 128 KiB of RSS per idle session; one per
    thread is safe because a loop runs in one thread and consumes each read (buffer_updated: the core
    copies what it keeps) before it asks any protocol for a buffer again."""
    view = getattr(_read_buffers, "view", None)
    if view is None:
        view = _read_buffers.view = memoryview(bytearray(READ_BUFFER_SIZE))
    return view


_MessageAck = ev.MessageAck
_LoginOk = ev.LoginOk
_LoginFailed = ev.LoginFailed


def _closed_error(closed: ev.Closed) -> ConnectionClosed:
    return ConnectionClosed(f"the connection is closed: {closed.reason}", closed)


class GGProtocol(asyncio.BufferedProtocol):
    """One connection: the transport, the gadu core once login() supplies it, and what waits on them.

    Every Closed is reported from connection_lost, when asyncio has closed the socket, so a Closed
    event always means the file descriptor is gone. The first reason known (EOF read by the core, a
    protocol error, a local abort, a timeout) is the one reported.
    """

    # Slots: one of these per session, 10,000 idle ones in a process are the bench's D scenario.
    __slots__ = ("_ack_waiters", "_acks", "_close_timer", "_drain_waiters", "_early", "_end_delivered", "_ending",
                 "_event_backlog", "_event_waiter", "_events", "_pending", "_reading_paused", "_timer", "_timer_when",
                 "_unacked", "_verdict", "_view", "_write_paused", "closed", "conn", "loop", "packet_log",
                 "transport")

    def __init__(self, loop: asyncio.AbstractEventLoop, *, label: str = "aio", log_packets: bool = False,
                 event_backlog: int = EVENT_BACKLOG) -> None:
        self.loop = loop
        self.transport: Optional[asyncio.Transport] = None
        self.conn: Optional[ClientConnection] = None
        self.packet_log = (
            PacketLog("client", label, logging.getLogger("gadu.client.packets")) if log_packets else None
        )
        self._view = _thread_read_view()  # created on the loop's thread, like the connection
        self._early: Optional[bytearray] = bytearray()  # None once the core has it
        # A list, not a deque: an empty deque costs 600 bytes per idle session; reading pauses at
        # event_backlog, so a pop(0) moves at most that many pointers.
        self._events: List[ev.Event] = []
        self._event_backlog = event_backlog
        self._event_waiter: Optional[asyncio.Future[None]] = None
        self._reading_paused = False
        self._end_delivered = False
        self._verdict: Optional[asyncio.Future[ev.Event]] = None
        self._unacked: Dict[int, None] = {}  # seqs sent and not yet acked (a dict: smaller than a set)
        self._acks: Dict[int, ev.MessageAck] = {}
        self._ack_waiters: Dict[int, asyncio.Future[ev.MessageAck]] = {}
        self._write_paused = False
        #: Frames written in this loop iteration, sent together by _flush (None: none; no idle list).
        self._pending: Optional[List[bytes]] = None
        self._drain_waiters: List[asyncio.Future[None]] = []  # a list: an empty deque costs 600 bytes
        #: The one timer at the core's deadline (or earlier: see _arm_timer); and aclose()'s drain bound.
        self._timer: Optional[asyncio.TimerHandle] = None
        self._timer_when = 0.0
        self._close_timer: Optional[asyncio.TimerHandle] = None
        #: The first reason the connection is ending for; reported as the Closed event.
        self._ending: Optional[ev.Closed] = None
        self.closed: asyncio.Future[ev.Closed] = loop.create_future()

    # --- asyncio's calls ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self._ending is not None:  # aborted while connecting
            transport.abort()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        data = self._view[:nbytes]
        if self.packet_log is not None:
            self.packet_log.incoming(data)
        if self._early is None:
            self._receive(data)
        elif len(self._early) + nbytes > _EARLY_LIMIT:
            self.abort(f"the server sent more than {_EARLY_LIMIT} bytes before login(): "
                       f"more than a GG_WELCOME, so it is not speaking Gadu-Gadu")
        else:
            self._early += data

    def eof_received(self) -> bool:
        if self._ending is None:
            self._ending = self._end_of_stream()
        return False  # let the transport close itself: GG has no half-closed connections

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if self.closed.done():
            return
        closed = self._ending if self._ending is not None else self._end_of_stream(exc)
        self._ending = closed
        self.transport = None
        for handle in (self._timer, self._close_timer):
            if handle is not None:
                handle.cancel()
        self._timer = self._close_timer = None
        self._events.append(closed)
        self._wake_reader()
        if self._verdict is not None and not self._verdict.done():
            self._verdict.set_result(closed)
        error = _closed_error(closed)
        waiters = list(self._ack_waiters.values()) + list(self._drain_waiters)
        self._ack_waiters.clear()
        self._drain_waiters.clear()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(closed)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # --- reading -----------------------------------------------------------------------------

    def _receive(self, data: memoryview) -> None:
        conn = self.conn
        assert conn is not None
        self._run_core(conn.receive_data(data))

    def _run_core(self, events: List[ev.Event]) -> None:
        """What the core said: its own bytes go out first (the login, receipts, the keep-alive ping),
        then the events; a Closed among them (the core ended the session: bad bytes, a timeout) drops
        the connection, and connection_lost reports it as the last event."""
        conn = self.conn
        assert conn is not None
        answer = conn.data_to_send()
        # The core's bytes are queued first; the flush is scheduled after the events wake their
        # readers, so that what they send at once (the next message) leaves in the same send().
        flush = answer and self._queue(answer)
        if events:
            if type(events[-1]) is ev.Closed:
                flush = False  # _abort_with sends the receipts for what came whole first
                self._abort_with(events.pop())  # type: ignore[arg-type]
            if events:
                self._deliver(events)
        if flush:
            self.loop.call_soon(self._flush)
        self.arm_timer()

    def arm_timer(self) -> None:
        """Arm one loop timer for the core's deadline (on the loop's clock). A timer already armed for
        an earlier moment stays: when it fires the core does nothing yet, and it is armed again."""
        conn = self.conn
        when = conn.get_timer() if conn is not None else None
        if self.transport is None or when is None or (self._timer is not None and self._timer_when <= when):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_when = when
        self._timer = self.loop.call_at(when, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        conn = self.conn
        if conn is not None and self._ending is None:
            self._run_core(conn.handle_timer(self.loop.time()))

    def _deliver(self, events: Sequence[ev.Event]) -> None:
        append = self._events.append
        for event in events:
            kind = type(event)
            if kind is _MessageAck:
                self._ack_arrived(event)  # type: ignore[arg-type]
            elif kind is _LoginOk or kind is _LoginFailed:
                self._verdict_arrived(event)
            append(event)
        self._wake_reader()
        if len(self._events) >= self._event_backlog and not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _end_of_stream(self, exc: Optional[BaseException] = None) -> ev.Closed:
        """The Closed for a stream that ended without a reason of our own: the core's verdict on it."""
        conn = self.conn
        if conn is None:
            closed = ev.Closed(False, "the connection closed before login()")
        else:
            events = conn.receive_data(b"")
            closed = events[-1] if events else ev.Closed(False, "the connection closed")  # type: ignore[assignment]
        if exc is not None and not closed.clean:
            closed = ev.Closed(False, f"{closed.reason} ({exc})")
        return closed

    def _wake_reader(self) -> None:
        waiter = self._event_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_event(self) -> ev.Event:
        """The next event; waits for one. Raises ConnectionClosedError once Closed has been taken."""
        events = self._events
        if not events:
            if self._end_delivered:
                assert self._ending is not None
                raise _closed_error(self._ending)
            if self._event_waiter is not None:
                raise RuntimeError("another coroutine is already waiting for this client's next event")
            waiter = self.loop.create_future()
            self._event_waiter = waiter
            try:
                await waiter
            finally:
                self._event_waiter = None
        return self.take_event()

    def take_event(self) -> ev.Event:
        """The next event, which has arrived (`has_events`): next_event() without a coroutine to await."""
        events = self._events
        event = events.pop(0)
        if self._reading_paused and len(events) <= self._event_backlog // 2:
            self._reading_paused = False
            if self.transport is not None:
                self.transport.resume_reading()
        if type(event) is ev.Closed:
            self._end_delivered = True
        return event

    @property
    def has_events(self) -> bool:
        """True when next_event() would return at once, with no wait (an event has arrived)."""
        return bool(self._events)

    @property
    def must_drain(self) -> bool:
        """True when drain() would wait (writing paused) or raise (the connection is gone); else a
        send need not await it, which returns at once and so never yields to the loop anyway."""
        return self._write_paused or (self._ending is not None and self.transport is None)

    @property
    def ended(self) -> bool:
        """True once Closed has been taken from the events: iteration is over."""
        return self._end_delivered and not self._events

    # --- login -------------------------------------------------------------------------------

    def start_login(self, conn: ClientConnection) -> asyncio.Future[ev.Event]:
        """Hand the core over; the future gets LoginOk, LoginFailed or the Closed that came first."""
        verdict: asyncio.Future[ev.Event] = self.loop.create_future()
        self._verdict = verdict
        if self.closed.done():
            verdict.set_result(self.closed.result())
            return verdict
        self.conn = conn
        early, self._early = self._early, None
        if early and self._ending is None:
            self._receive(memoryview(early))
        else:
            self.arm_timer()
        return verdict

    @property
    def login_started(self) -> bool:
        return self._verdict is not None

    def _verdict_arrived(self, event: ev.Event) -> None:
        verdict = self._verdict
        if verdict is not None and not verdict.done():
            verdict.set_result(event)

    # --- acks --------------------------------------------------------------------------------

    def expect_ack(self, seq: int) -> None:
        self._unacked[seq] = None

    def _ack_arrived(self, ack: ev.MessageAck) -> None:
        seq = ack.seq
        self._unacked.pop(seq, None)
        waiter = self._ack_waiters.pop(seq, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(ack)
            return
        acks = self._acks
        acks[seq] = ack
        if len(acks) > ACK_BACKLOG:
            del acks[next(iter(acks))]

    def ack_waiter(self, seq: int) -> asyncio.Future[ev.MessageAck]:
        """A future for the ack of `seq`: done already if it came, KeyError if none is expected."""
        waiter: asyncio.Future[ev.MessageAck] = self.loop.create_future()
        ack = self._acks.pop(seq, None)
        if ack is not None:
            waiter.set_result(ack)
            return waiter
        if seq not in self._unacked:
            raise KeyError(
                f"no ack is expected for seq {seq}: it was not sent on this connection, was sent with "
                f"GG_CLASS_ACK, or its ack was already taken (or dropped after {ACK_BACKLOG} unclaimed)"
            )
        if self._ending is not None:
            raise _closed_error(self._ending)
        if seq in self._ack_waiters:
            raise RuntimeError(f"another coroutine is already waiting for the ack of seq {seq}")
        self._ack_waiters[seq] = waiter
        return waiter

    def forget_ack_waiter(self, seq: int, waiter: asyncio.Future[ev.MessageAck]) -> None:
        if self._ack_waiters.get(seq) is waiter:
            del self._ack_waiters[seq]

    # --- writing and closing -----------------------------------------------------------------

    def check_open(self) -> ClientConnection:
        """The core, for a send; ConnectionClosedError once the connection is ending."""
        if self._ending is not None:
            raise _closed_error(self._ending)
        conn = self.conn
        if conn is None:
            raise LocalProtocolError("cannot send before login(): the connection has no session yet")
        return conn

    def write(self, data: bytes) -> None:
        """Whole frames from the core, in order: those of one loop iteration go in one transport.write
        at its end (a receipt and the next message in one send), so packets never interleave."""
        if self._queue(data):
            self.loop.call_soon(self._flush)

    def _queue(self, data: bytes) -> bool:
        """Add frames to this iteration's batch; True when the batch is new (its flush is to be scheduled)."""
        if self.transport is None or self._ending is not None:
            return False
        if self.packet_log is not None:
            self.packet_log.outgoing(data)
        pending = self._pending
        if pending is None:
            self._pending = [data]
            return True
        pending.append(data)
        return False

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        transport = self.transport
        if pending is None or transport is None or transport.is_closing():
            return  # aborted meanwhile: unsent data is dropped, as abort() says
        transport.write(pending[0] if len(pending) == 1 else b"".join(pending))
        queued = transport.get_write_buffer_size()
        if queued > WRITE_LIMIT:
            self.abort(f"the server is not reading: {queued} bytes queued for it, the limit is {WRITE_LIMIT}")

    async def drain(self) -> None:
        """Wait while the transport's buffer is above its high-water mark."""
        if self._ending is not None and self.transport is None:
            raise _closed_error(self._ending)
        if not self._write_paused:
            return
        waiter = self.loop.create_future()
        self._drain_waiters.append(waiter)
        await waiter

    def abort(self, reason: str) -> None:
        """End the connection now (unsent data is dropped); Closed(clean=False, reason) follows."""
        self._abort_with(ev.Closed(False, reason))

    def _abort_with(self, closed: ev.Closed) -> None:
        if self._ending is None:
            self._ending = closed
        if self.transport is not None:
            self._flush()  # what was written before the abort goes first, as if it had been sent at once
            self.transport.abort()

    def close(self, reason: str, timeout: float) -> None:
        """End the connection once what is queued has been written; abort if that takes over `timeout`
        (our own close has no protocol deadline: this bound is the transport's, not the core's)."""
        if self._ending is None:
            self._ending = ev.Closed(False, reason)
        if self.transport is not None:
            self._flush()  # what was written before the close goes first
            self.transport.close()
            if self._close_timer is None:
                self._close_timer = self.loop.call_later(timeout, self._abort_late, reason)

    def _abort_late(self, reason: str) -> None:
        self._close_timer = None
        if self.transport is not None:
            if self._ending is None:
                self._ending = ev.Closed(False, reason)
            self.transport.abort()

    def connect_failed(self, reason: str) -> None:
        """The TCP connection did not come up (refused, timed out, cancelled): that is its Closed."""
        if self._ending is None:
            self._ending = ev.Closed(False, reason)
        if self.transport is not None:
            self.transport.abort()  # asyncio calls connection_lost, which reports it
        elif not self.closed.done():
            self.connection_lost(None)
