"""The reference GG 8.0 server on asyncio: logins, contact lists, presence, messages, offline queue.

ReferenceServer is embeddable (`await start()`, `port`, `await stop()`); ServerThread runs one in a
background thread with its own loop. Every byte in and out goes through gadu's packets and framing:
this module holds the server's rules, not a codec. Configuration is in config.py, the offline queue
in offline_queue.py, the sans-I/O state machine of one connection in gadu/server_session.py.

What it promises, with a state file: a message acknowledged GG_ACK_QUEUED was committed first and
is delivered after a crash and restart; an offline message leaves the queue when the recipient
confirms it (GG_RECV_MSG_ACK), so a crash can repeat only messages written and not yet confirmed.
A live message is acknowledged GG_ACK_DELIVERED when it is handed to the recipient's connection and
is not kept. Everything a client can make it hold is bounded by a ServerConfig limit.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Set, TypeVar, cast

from ..packetlog import PacketLog
from ..packets import (
    GG_ACK_BLOCKED,
    GG_ACK_DELIVERED,
    GG_ACK_MBOXFULL,
    GG_ACK_NOT_DELIVERED,
    GG_ACK_QUEUED,
    GG_CLASS_ACK,
    GG_CLASS_QUEUED,
    GG_FEATURE_MSG_ACK,
    GG_STATUS_AVAIL_DESCR,
    GG_STATUS_FRIENDS_MASK,
    GG_STATUS_INVISIBLE,
    GG_STATUS_INVISIBLE_DESCR,
    GG_STATUS_MASK,
    GG_STATUS_NOT_AVAIL,
    GG_STATUS_NOT_AVAIL_DESCR,
    GG_USER_BLOCKED,
    GG_USER_FRIEND,
    RecvMsg80,
    StatusEntry,
)
from ..server_session import (
    ConnectionClosed,
    ContactAdded,
    ContactRemoved,
    LoggedIn,
    LoginRejected,
    Logoff,
    MessageAcked,
    NotifyList,
    PingRequest,
    SendMessage,
    ServerEvent,
    ServerSession,
    ServerState,
    StatusChange,
    TypingSent,
)
from .config import ServerConfig
from .listener import Listener
from .login_throttle import LoginThrottle
from .offline_queue import OfflineQueue, QueuedMessage

__all__ = ["ECHO_DESCRIPTION", "READ_BUFFER_SIZE", "ReferenceServer", "ServerThread"]

log = logging.getLogger("gadu.server")
packet_log = logging.getLogger("gadu.server.packets")

#: What the echo contact shows as its description.
ECHO_DESCRIPTION = "echo: every message comes back"
#: The BufferedProtocol's read buffer: a full frame (8 + 65535 bytes) fits in one read. One buffer
#: serves every connection: each read is consumed (copied out) before the loop makes the next.
READ_BUFFER_SIZE = 128 * 1024

_OFFLINE_STATUSES = frozenset({GG_STATUS_NOT_AVAIL, GG_STATUS_NOT_AVAIL_DESCR})
_HIDDEN_STATUSES = frozenset({GG_STATUS_INVISIBLE, GG_STATUS_INVISIBLE_DESCR})
_T = TypeVar("_T")
_CONNECTED = ServerState.CONNECTED  # an enum member read as a global: no class attribute lookup


def _offline(uin: int) -> StatusEntry:
    return StatusEntry(uin, GG_STATUS_NOT_AVAIL)


class _Connection(asyncio.BufferedProtocol):
    """One client connection: its ServerSession, its transport, its contact list and presence view."""

    def __init__(self, server: ReferenceServer) -> None:
        self.server = server
        self.session = ServerSession(self._password_of, max_contacts=server.config.max_contacts,
                                     login_timeout=server.config.login_timeout,
                                     idle_timeout=server.config.idle_timeout)
        #: The login was refused without a password check: its uin is throttled.
        self.throttled = False
        self.transport: Optional[asyncio.Transport] = None
        self.peer = "?"
        self.uin: Optional[int] = None
        self.status = GG_STATUS_NOT_AVAIL
        self.description = ""
        self.flags = 0
        self.features = 0
        self.image_size = 0
        #: uin -> GG_USER_* bits, as the client listed them.
        self.contacts: Dict[int, int] = {}
        #: The last status this client was told for each contact (only changes are sent).
        self.known: Dict[int, StatusEntry] = {}
        #: Offline messages still to write to this client, oldest first (written as it reads).
        self.backlog: Deque[QueuedMessage] = collections.deque()
        #: Messages written but not yet confirmed with GG_RECV_MSG_ACK, by seq, in the order written:
        #: an offline message, or None for a live one (kept only while an offline one is outstanding,
        #: since only then can one ack be taken for the other; see ReferenceServer.on_message_acked).
        self.unconfirmed: Dict[int, Deque[Optional[QueuedMessage]]] = {}
        #: Offline messages written and not yet confirmed.
        self.offline_unconfirmed = 0
        #: Entries of `unconfirmed`, live and offline (max_unconfirmed bounds them).
        self.unconfirmed_total = 0
        self.closing = False
        #: time.monotonic() at connection_made: the login timeout counts from it.
        self.accepted_at = 0.0
        #: The one timer of this connection, armed at the session's deadline (login, idle); it may
        #: fire early, when the deadline has moved on: the session then does nothing and it is re-armed.
        self._timer: Optional[asyncio.TimerHandle] = None
        self._timer_when: Optional[float] = None
        #: Frames written and not yet handed to the transport (see write()), and their bytes.
        self._pending: List[bytes] = []
        self._pending_size = 0
        self._packet_log = PacketLog("server", self, packet_log) if server.config.log_packets else None

    def __repr__(self) -> str:
        return f"{self.peer} uin={self.uin}" if self.uin is not None else self.peer

    def _password_of(self, uin: int) -> Optional[bytes]:
        """The session's password lookup: none while the uin is throttled, so that no guess is checked
        and the client gets the usual failure code."""
        if not self.server.login_throttle.allows(uin):
            self.throttled = True
            return None
        return self.server._passwords.get(uin)

    # --- asyncio protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # No isinstance check: uvloop's transports are not asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)
        address = transport.get_extra_info("peername")
        if not address:
            # getpeername() failed: the client reset the connection while it sat in the accept queue
            # (connect-and-reset floods do, by the hundred, while the process stalls). Counted, each
            # would hold a place until its reset is read, and a burst of them turns good clients away.
            log.debug("a connection reset before it was accepted: closed uncounted")
            self.closing = True
            transport.close()
            return
        self.peer = f"{address[0]}:{address[1]}"
        self.accepted_at = time.monotonic()
        self.server._admit(self)

    def start(self) -> None:
        """Admitted among the connections that have not logged in: GG_WELCOME, and the login timer,
        which counts from the accept (a connection may have waited for its place)."""
        assert self.transport is not None
        self.transport.set_write_buffer_limits(high=self.server.config.write_high_water)
        self.write(self.session.start(self.accepted_at))
        self._arm_timer()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.server._read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        if not self.closing:
            self._receive(bytes(self.server._read_buffer[:nbytes]))

    def eof_received(self) -> Optional[bool]:
        if not self.closing:
            self._receive(b"")
        self.flush()  # what this iteration wrote goes out before the transport closes
        return False  # the transport closes itself

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.closing = True
        self._drop_pending()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.server._forget(self)

    def pause_writing(self) -> None:
        # A client that does not read gets no more work from us: its requests wait in its socket.
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.resume_reading()
            self.server._write_backlog(self)

    def _receive(self, data: bytes) -> None:
        if self._packet_log is not None and data:
            self._packet_log.incoming(data)
        # Packets that came whole before bad bytes are acted on (a message is routed and acked)
        # before the session's closing event drops the connection: nothing sent in good form is lost.
        server, session = self.server, self.session
        connected = session.state is _CONNECTED
        for event in session.receive_data(data):
            if self.closing:
                break
            if type(event) is ConnectionClosed and event.error is not None:
                self.fail(event.reason)
            else:
                handler = _HANDLERS.get(type(event))  # server._on_event, without its call
                if handler is not None:
                    handler(server, self, event)
        if not connected or session.state is not _CONNECTED:
            # A read while CONNECTED only moves the deadline later: the armed timer serves it.
            self._arm_timer()

    # --- output ------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue whole packets. Every write happens on the loop's thread and carries whole frames, so
        packets never interleave on the wire, whichever connection's handler produced them.

        The frames a connection gets while the loop runs one round of callbacks reach the transport
        together, in one write (one send() instead of one per frame) by a callback after that round,
        or at once when more than the high-water mark waits; close() writes them first. The write
        limit counts them.
        """
        transport = self.transport
        if self.closing or transport is None or not data:
            return
        if self._packet_log is not None:
            self._packet_log.outgoing(data)
        self._pending.append(data)
        self._pending_size += len(data)
        config = self.server.config
        queued = transport.get_write_buffer_size() + self._pending_size
        if queued > config.write_limit:
            log.warning("%r: closing: the client is not reading (%d bytes queued, limit %d)",
                        self, queued, config.write_limit)
            self.closing = True
            self._drop_pending()
            transport.abort()
        elif self._pending_size > config.write_high_water:
            self.flush()
        elif len(self._pending) == 1:
            self.server._flush_later(self)

    def flush(self) -> None:
        """Hand the frames written so far to the transport, in one write."""
        pending = self._pending
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        self._drop_pending()
        if not self.closing and self.transport is not None:
            self.transport.write(data)

    def _drop_pending(self) -> None:
        self._pending.clear()
        self._pending_size = 0

    def send(self, make: Callable[..., bytes], *args: Any) -> None:
        """Call one of the session's send_* methods and write its bytes, if the session is still on."""
        if not self.closing and self.session.state is _CONNECTED:
            self.write(make(*args))

    def fail(self, reason: str) -> None:
        """Close this connection because of what the client sent; one log line, nobody else affected."""
        if self.closing:
            return
        log.warning("%r: closing: %s", self, reason)
        self.close()

    def close(self) -> None:
        self.flush()
        self.closing = True
        self.server._login_settled(self)  # its place goes to a waiting connection at once
        if self.transport is not None:
            self.transport.close()

    def _arm_timer(self) -> None:
        when = self.session.get_timer()
        armed = self._timer_when if self._timer is not None else None
        if self.closing or when is None or (armed is not None and armed <= when):
            return  # a later deadline is served by the timer already armed
        if self._timer is not None:
            self._timer.cancel()
        self._timer_when = when
        self._timer = asyncio.get_running_loop().call_later(max(0.0, when - time.monotonic()), self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        for event in self.session.handle_timer(time.monotonic()):
            self.fail(event.reason)  # a limit ran out: a ConnectionClosed of the session's own
        self._arm_timer()

    # --- presence ----------------------------------------------------------------------------

    def view_for(self, watcher: int) -> StatusEntry:
        """This user's status as `watcher` may see it: invisible, blocked and friends-only applied."""
        assert self.uin is not None
        base = self.status & GG_STATUS_MASK
        kind = self.contacts.get(watcher, 0)
        hidden = (
            base in _HIDDEN_STATUSES
            or kind & GG_USER_BLOCKED
            or (self.status & GG_STATUS_FRIENDS_MASK and not kind & GG_USER_FRIEND)
        )
        if hidden or base == GG_STATUS_NOT_AVAIL:
            return _offline(self.uin)
        return StatusEntry(
            self.uin, self.status, self.description, features=self.features,
            image_size=self.image_size, flags=self.flags,
        )


class ReferenceServer:
    """The GG 8.0 reference server. `await start()` binds and listens, `port` is the bound port,
    `await stop()` closes every connection and the offline queue."""

    def __init__(self, config: Optional[ServerConfig] = None) -> None:
        self.config = config if config is not None else ServerConfig()
        self.port = 0
        #: Logged-in connections by uin.
        self.online: Dict[int, _Connection] = {}
        #: uin -> the logged-in connections that list it (they are told when its status changes).
        self.watchers: Dict[int, Set[_Connection]] = {}
        self.queue: Optional[OfflineQueue] = None
        self._passwords = {uin: password.encode("utf-8") for uin, password in self.config.users.items()}
        self.login_throttle = LoginThrottle(self.config.login_failures, self.config.login_failure_window)
        #: Open connections that have not logged in, oldest first (max_pending_logins bounds them).
        self._not_logged_in: Dict[_Connection, None] = {}
        #: Connections waiting for a place among those (see _admit), longest-waiting first.
        self._waiting: Dict[_Connection, None] = {}
        self._read_buffer = memoryview(bytearray(READ_BUFFER_SIZE))
        self._connections: Set[_Connection] = set()
        #: Connections with frames written in this round of callbacks, flushed by one callback after it.
        self._unflushed: List[_Connection] = []
        self._listener: Optional[Listener] = None
        self._all_gone: Optional[asyncio.Event] = None
        self._stopped: Optional[asyncio.Event] = None

    @property
    def connections(self) -> int:
        """Open connections, logged in or not."""
        return len(self._connections)

    @property
    def pending_logins(self) -> int:
        """Open connections that have not logged in yet."""
        return len(self._not_logged_in)

    def new_connection(self) -> _Connection:
        """The protocol of one accepted connection (the listener's protocol factory)."""
        return _Connection(self)

    async def start(self) -> None:
        """Open the offline queue, bind and listen; `port` is set when this returns."""
        self.queue = OfflineQueue(self.config.state_path)
        self._all_gone = asyncio.Event()
        self._stopped = asyncio.Event()
        try:
            self._listener = Listener(self.new_connection, self.config.host, self.config.port,
                                      self.config.listen_backlog)
        except BaseException:
            self.queue.close()
            self.queue = None
            raise
        self.port = self._listener.port
        log.info("listening on %s:%d (%d users, echo %s, offline queue %s)", self.config.host, self.port,
                 len(self.config.users), self.config.echo_uin or "off", self.config.state_path or "in memory")

    async def serve_forever(self) -> None:
        """Start if needed, then wait until stop() is called."""
        if self._listener is None:
            await self.start()
        assert self._stopped is not None
        await self._stopped.wait()

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop listening, close every connection, wait for them to go, close the offline queue."""
        if self._listener is None:
            return
        # First every accepted socket gets its connection, then every connection is closed.
        await self._listener.close()
        self._listener = None
        # A connection reset before its accept closes uncounted in connection_made (no stop() waits
        # for it); its transport lets go of the socket one iteration later.
        await asyncio.sleep(0)
        self._waiting.clear()  # places freed by the closes below go to nobody
        for connection in list(self._connections):
            connection.close()
        assert self._all_gone is not None and self._stopped is not None
        if self._connections:
            try:
                await asyncio.wait_for(self._all_gone.wait(), timeout)
            except asyncio.TimeoutError:
                for connection in list(self._connections):
                    if connection.transport is not None:
                        connection.transport.abort()
                await self._all_gone.wait()  # abort() calls connection_lost at the next iteration
        if self.queue is not None:
            self.queue.close()
            self.queue = None
        self._stopped.set()
        log.info("stopped")

    # --- connections -------------------------------------------------------------------------

    def _admit(self, connection: _Connection) -> None:
        """Start the connection, or let it wait for a place, or close it."""
        # A refused connection is kept in the set until its transport is gone, so that stop() waits
        # for it too; until then it counts against the cap, which errs on the safe side.
        open_before = len(self._connections)
        self._connections.add(connection)
        assert self._all_gone is not None
        self._all_gone.clear()
        if open_before >= self.config.max_connections:
            log.warning("%r: refused: %d connections open, the cap is %d",
                        connection, open_before, self.config.max_connections)
            connection.close()
        elif len(self._not_logged_in) >= self.config.max_pending_logins:
            # It waits rather than being refused: many of those counted may be gone already, their
            # resets not read yet (a connect-and-reset flood, or a burst after the process stalled),
            # and refusing would turn a good client away behind them. Places go in arrival order, so
            # every connection counted came before every waiting one and its login timeout ends
            # first: no wait outlasts the login timeout by more than a loop iteration, and the login
            # timeout counts from the accept. max_connections bounds how many wait.
            log.info("%r: waits for a place: %d connections have not logged in, the cap is %d",
                     connection, len(self._not_logged_in), self.config.max_pending_logins)
            self._waiting[connection] = None
        else:
            self._not_logged_in[connection] = None
            connection.start()

    def _login_settled(self, connection: _Connection) -> None:
        """The connection logged in, or is closing or gone: it no longer counts against
        max_pending_logins, and the longest-waiting connection gets its place."""
        self._waiting.pop(connection, None)
        if connection not in self._not_logged_in:
            return
        del self._not_logged_in[connection]
        while self._waiting and len(self._not_logged_in) < self.config.max_pending_logins:
            waiting = next(iter(self._waiting))
            del self._waiting[waiting]
            self._not_logged_in[waiting] = None
            waiting.start()

    def _forget(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        self._login_settled(connection)
        if connection.uin is not None and self.online.get(connection.uin) is connection:
            self._unregister(connection)
            # Gone without logging off: watchers see it leave, without a description.
            connection.status, connection.description = GG_STATUS_NOT_AVAIL, ""
            self._announce(connection)
        if not self._connections and self._all_gone is not None:
            self._all_gone.set()

    def _unregister(self, connection: _Connection) -> None:
        assert connection.uin is not None
        del self.online[connection.uin]
        for contact in connection.contacts:
            self._unwatch(contact, connection)

    def _unwatch(self, contact: int, connection: _Connection) -> None:
        watchers = self.watchers.get(contact)
        if watchers is not None:
            watchers.discard(connection)
            if not watchers:
                del self.watchers[contact]

    def _flush_later(self, connection: _Connection) -> None:
        """Flush `connection` after this round of callbacks (one callback serves every connection)."""
        self._unflushed.append(connection)
        if len(self._unflushed) == 1:
            asyncio.get_running_loop().call_soon(self._flush_writes)

    def _flush_writes(self) -> None:
        connections, self._unflushed = self._unflushed, []
        for connection in connections:
            connection.flush()

    def _on_event(self, connection: _Connection, event: ServerEvent) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, connection, event)

    # --- login -------------------------------------------------------------------------------

    def on_logged_in(self, connection: _Connection, event: LoggedIn) -> None:
        connection.write(connection.session.data_to_send())  # GG_LOGIN80_OK before anything else
        self._login_settled(connection)
        self.login_throttle.succeeded(event.uin)
        previous = self.online.get(event.uin)
        if previous is not None:
            log.info("%r: uin %d logged in again from %s; dropping this older connection",
                     previous, event.uin, connection.peer)
            previous.send(previous.session.send_disconnecting)
            # Handed over without an offline flap: watchers only see the new connection's status.
            self._unregister(previous)
            previous.close()
        login = connection.session.login
        connection.uin = event.uin
        connection.status, connection.description = event.status, event.description
        connection.flags, connection.features = event.flags, event.features
        connection.image_size = login.image_size if login is not None else 0
        self.online[event.uin] = connection
        log.info("%r: logged in (status 0x%x)", connection, event.status)
        assert self.queue is not None
        connection.backlog.extend(self.queue.pending(event.uin))
        self._write_backlog(connection)
        self._announce(connection)

    def on_login_rejected(self, connection: _Connection, event: LoginRejected) -> None:
        if connection.throttled:
            log.debug("%r: login refused unchecked for uin %d: throttled", connection, event.uin)
        else:
            log.warning("%r: login failed for uin %d: %s", connection, event.uin, event.reason)
            if event.uin in self._passwords and self.login_throttle.failed(event.uin):
                log.warning("uin %d: throttled: %d failed logins within %g s; its logins are refused"
                            " unchecked for up to %g s", event.uin, self.login_throttle.failures,
                            self.login_throttle.window, self.login_throttle.retry_after(event.uin))
        connection.write(connection.session.data_to_send())
        connection.close()

    def _write_backlog(self, connection: _Connection) -> None:
        """Write offline messages while the client keeps reading (resume_writing calls again).

        A message leaves the queue when the client confirms it (GG_RECV_MSG_ACK, feature 0x400), so
        one lost with the connection comes again at the next login; a client without that feature
        cannot confirm, and its messages leave the queue once written.
        """
        assert self.queue is not None and connection.transport is not None
        confirms = connection.features & GG_FEATURE_MSG_ACK
        high_water = self.config.write_high_water
        while connection.backlog and not connection.closing:
            if connection.transport.get_write_buffer_size() > high_water:
                return
            message = connection.backlog.popleft()
            connection.send(connection.session.send_message, RecvMsg80(
                message.sender, message.seq, message.time, message.msgclass | GG_CLASS_QUEUED,
                message.html, message.plain, message.attributes,
            ))
            if connection.closing:
                return
            if confirms:
                self._await_confirmation(connection, message.seq, message)
                connection.offline_unconfirmed += 1
            else:
                self.queue.remove(message)

    def _deliver_live(self, target: _Connection, event: SendMessage, sender: int, now: int) -> None:
        """Write a message that is not in the queue. While offline messages wait for their
        confirmation, it takes its place in the order of acks, so that its ack confirms only itself."""
        target.send(target.session.send_delivery, event, sender, now)
        if (target.offline_unconfirmed or target.backlog) and target.features & GG_FEATURE_MSG_ACK:
            self._await_confirmation(target, event.seq, None)

    def _await_confirmation(self, connection: _Connection, seq: int, message: Optional[QueuedMessage]) -> None:
        limit = self.config.max_unconfirmed
        if connection.unconfirmed_total >= limit:
            # Its offline messages stay queued: they come again at its next login.
            connection.fail(f"{limit} messages written and not confirmed with GG_RECV_MSG_ACK")
            return
        connection.unconfirmed.setdefault(seq, collections.deque()).append(message)
        connection.unconfirmed_total += 1

    # --- presence ----------------------------------------------------------------------------

    def _entry_for(self, contact: int, watcher: int) -> StatusEntry:
        if contact == self.config.echo_uin:
            return StatusEntry(contact, GG_STATUS_AVAIL_DESCR, ECHO_DESCRIPTION)
        owner = self.online.get(contact)
        return owner.view_for(watcher) if owner is not None else _offline(contact)

    def _tell(self, watcher: _Connection, contact: int) -> None:
        """Send `watcher` a GG_STATUS80 about `contact` if what it may see has changed."""
        assert watcher.uin is not None
        entry = self._entry_for(contact, watcher.uin)
        if watcher.known.get(contact, _offline(contact)) != entry:
            watcher.known[contact] = entry
            watcher.send(watcher.session.send_status, entry)

    def _announce(self, connection: _Connection) -> None:
        """Tell everyone who lists this user what they may now see of it."""
        assert connection.uin is not None
        for watcher in list(self.watchers.get(connection.uin, ())):
            if watcher is not connection:
                self._tell(watcher, connection.uin)

    def _set_contacts(self, connection: _Connection, contacts: Dict[int, int]) -> None:
        for contact in connection.contacts:
            if contact not in contacts:
                self._unwatch(contact, connection)
                connection.known.pop(contact, None)
        for contact in contacts:
            self.watchers.setdefault(contact, set()).add(connection)
        connection.contacts = contacts

    def on_notify_list(self, connection: _Connection, event: NotifyList) -> None:
        assert connection.uin is not None
        contacts: Dict[int, int] = {}
        for entry in event.entries:
            contacts[entry.uin] = contacts.get(entry.uin, 0) | entry.user_type
        self._set_contacts(connection, contacts)
        online = []
        for contact in contacts:
            seen = self._entry_for(contact, connection.uin)
            connection.known[contact] = seen
            if seen.status & GG_STATUS_MASK not in _OFFLINE_STATUSES:
                online.append(seen)
        connection.send(connection.session.send_notify_reply, online)
        # Its list decides who may see it (blocked, friends-only): tell them.
        self._announce(connection)

    def on_contact_added(self, connection: _Connection, event: ContactAdded) -> None:
        limit = self.config.max_contacts
        if event.uin not in connection.contacts and len(connection.contacts) >= limit:
            connection.fail(f"contact list longer than {limit} entries")
            return
        contacts = dict(connection.contacts)
        contacts[event.uin] = contacts.get(event.uin, 0) | event.user_type
        self._set_contacts(connection, contacts)
        self._tell(connection, event.uin)
        self._announce(connection)

    def on_contact_removed(self, connection: _Connection, event: ContactRemoved) -> None:
        contacts = dict(connection.contacts)
        remaining = contacts.get(event.uin, 0) & ~event.user_type
        if remaining:
            contacts[event.uin] = remaining
        else:
            contacts.pop(event.uin, None)
        self._set_contacts(connection, contacts)
        self._announce(connection)

    def on_status_change(self, connection: _Connection, event: StatusChange) -> None:
        connection.status, connection.flags, connection.description = event.status, event.flags, event.description
        self._announce(connection)

    def on_logoff(self, connection: _Connection, event: Logoff) -> None:
        connection.status, connection.description = event.status, event.description
        log.info("%r: logged off", connection)
        self._announce(connection)  # NOT_AVAIL_DESCR keeps its description for the watchers
        self._unregister(connection)
        # GG 10 behaviour: acknowledge and close; libgadu reports DISCONNECT_ACK either way.
        connection.write(connection.session.send_disconnect_ack())
        connection.close()

    def on_closed(self, connection: _Connection, event: ConnectionClosed) -> None:
        if not event.clean:
            log.info("%r: %s", connection, event.reason)

    # --- messages ----------------------------------------------------------------------------

    def on_message(self, connection: _Connection, event: SendMessage) -> None:
        assert connection.uin is not None
        sender = connection.uin
        recipient, seq, msgclass = event[:3]  # SendMessage is a tuple: its three fields without their properties
        now = int(time.time())
        echo_uin = self.config.echo_uin
        if recipient == echo_uin:
            status = GG_ACK_DELIVERED
        elif recipient not in self._passwords:
            status = GG_ACK_NOT_DELIVERED
        else:
            target = self.online.get(recipient)
            if target is None:
                assert self.queue is not None
                if self.queue.count(recipient) >= self.config.mailbox_size:
                    status = GG_ACK_MBOXFULL
                else:
                    # Committed before the ack goes out: a message acked as queued survives a restart.
                    message = event.message
                    self.queue.put(QueuedMessage(recipient, sender, seq, now, msgclass,
                                                 message.html, message.plain, message.attributes))
                    status = GG_ACK_QUEUED
            elif target.contacts.get(sender, 0) & GG_USER_BLOCKED:
                status = GG_ACK_BLOCKED
            else:
                self._deliver_live(target, event, sender, now)
                status = GG_ACK_DELIVERED
        if not msgclass & GG_CLASS_ACK:  # GG_CLASS_ACK: the sender asked for no ack
            connection.send(connection.session.send_ack, status, recipient, seq)
        if recipient == echo_uin:
            self._deliver_live(connection, event, recipient, now)

    def on_typing(self, connection: _Connection, event: TypingSent) -> None:
        assert connection.uin is not None
        target = self.online.get(event.recipient)
        if target is not None and not target.contacts.get(connection.uin, 0) & GG_USER_BLOCKED:
            target.send(target.session.send_typing, connection.uin, event.length)

    def on_ping(self, connection: _Connection, event: PingRequest) -> None:
        connection.send(connection.session.send_pong)

    def on_message_acked(self, connection: _Connection, event: MessageAcked) -> None:
        """A message arrived; if it was an offline one, it may leave the queue.

        The ack carries only a seq, and seqs repeat (across senders, and a live message may carry the
        seq of an offline one). A client acks in the order it reads, so the oldest written message
        with this seq is the one confirmed: a live one (None) confirms nothing durable. Live ones
        need nothing else: their sender was told "delivered" when they were handed over.
        """
        waiting = connection.unconfirmed.get(event.seq)
        if not waiting:
            return
        message = waiting.popleft()
        connection.unconfirmed_total -= 1
        if not waiting:
            del connection.unconfirmed[event.seq]
        if message is None:
            return
        assert self.queue is not None
        self.queue.remove(message)
        connection.offline_unconfirmed -= 1
        if not connection.offline_unconfirmed and not connection.backlog:
            connection.unconfirmed.clear()  # only live ones left: no ack can be mistaken any more
            connection.unconfirmed_total = 0


#: Which method handles each ServerSession event.
_HANDLERS: Dict[type, Callable[[ReferenceServer, _Connection, Any], None]] = {
    LoggedIn: ReferenceServer.on_logged_in,
    LoginRejected: ReferenceServer.on_login_rejected,
    NotifyList: ReferenceServer.on_notify_list,
    ContactAdded: ReferenceServer.on_contact_added,
    ContactRemoved: ReferenceServer.on_contact_removed,
    StatusChange: ReferenceServer.on_status_change,
    Logoff: ReferenceServer.on_logoff,
    ConnectionClosed: ReferenceServer.on_closed,
    SendMessage: ReferenceServer.on_message,
    TypingSent: ReferenceServer.on_typing,
    PingRequest: ReferenceServer.on_ping,
    MessageAcked: ReferenceServer.on_message_acked,
}


class ServerThread:
    """A ReferenceServer on its own event loop in a daemon thread, for tests, demos and benchmarks.

    `start()` returns once the server listens (or raises what stopped it); `port` is then set;
    `call(fn, *args)` runs fn on the server's loop and returns its result; `stop()` joins the thread.
    `loop_factory` makes the loop (asyncio's by default; uvloop.new_event_loop serves as well).
    """

    def __init__(self, config: Optional[ServerConfig] = None,
                 loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop) -> None:
        self.server = ReferenceServer(config)
        self._loop_factory = loop_factory
        self.ready = threading.Event()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="gg-reference-server", daemon=True)

    @property
    def port(self) -> int:
        return self.server.port

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        if not self.ready.wait(timeout):
            raise TimeoutError(f"the reference server did not start within {timeout} s")
        if self._error is not None:
            self._thread.join(timeout)
            raise self._error
        return self

    def _run(self) -> None:
        loop = self._loop_factory()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self.ready.set()
            return
        self.ready.set()
        await self.server.serve_forever()

    def call(self, function: Callable[..., _T], *args: Any, timeout: float = 10.0) -> _T:
        """Run `function(*args)` on the server's loop thread and return its result."""
        assert self._loop is not None

        async def run() -> _T:
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout)
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
