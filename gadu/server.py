"""The reference GG 8.0 server on asyncio: logins, contact lists, presence, messages, offline queue.

ReferenceServer is embeddable (`await start()`, `port`, `await stop()`); ServerThread runs one in a
background thread with its own loop. Every byte in and out goes through gadu's packets and framing:
this module holds the server's rules, not a codec. Configuration is in gadu/server_config.py, the
offline queue in gadu/server_store.py.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import threading
import time
from typing import Any, Callable, Dict, Optional, Set, TypeVar

from .errors import ProtocolError, RemoteProtocolError
from .framing import FrameParser
from .hashing import check_login_hash
from .packets import (
    GG_ACK_BLOCKED,
    GG_ACK_DELIVERED,
    GG_ACK_NOT_DELIVERED,
    GG_ACK_QUEUED,
    GG_CLASS_ACK,
    GG_CLASS_QUEUED,
    GG_FEATURE_UNKNOWN_40,
    GG_STATUS_AVAIL_DESCR,
    GG_STATUS_FRIENDS_MASK,
    GG_STATUS_INVISIBLE,
    GG_STATUS_INVISIBLE_DESCR,
    GG_STATUS_MASK,
    GG_STATUS_NOT_AVAIL,
    GG_STATUS_NOT_AVAIL_DESCR,
    GG_USER_BLOCKED,
    GG_USER_FRIEND,
    AddNotify,
    Direction,
    DisconnectAck,
    Disconnecting,
    ListEmpty,
    Login80,
    Login80Failed,
    Login80Ok,
    LoginFailed,
    NewStatus80,
    NotifyFirst,
    NotifyLast,
    NotifyReply80,
    Packet,
    Ping,
    Pong,
    RecvMsg80,
    RecvMsgAck,
    RemoveNotify,
    SendMsg80,
    SendMsgAck,
    Status80,
    StatusEntry,
    TypingNotify,
    Unknown,
    Welcome,
    decode_packet,
    packet_name,
    split_notify_reply,
)
from .server_config import ServerConfig
from .server_store import OfflineQueue, QueuedMessage

__all__ = ["ECHO_DESCRIPTION", "MAX_CONTACTS", "READ_BUFFER_SIZE", "ReferenceServer", "ServerThread"]

log = logging.getLogger("gadu.server")
packet_log = logging.getLogger("gadu.server.packets")

#: What the echo contact shows as its description.
ECHO_DESCRIPTION = "echo: every message comes back"
#: Contacts one session may list; the protocol sets no limit, a server must (unbounded memory otherwise).
MAX_CONTACTS = 20000
#: The BufferedProtocol's read buffer: large enough for a full frame (8 + 65535) in one read.
READ_BUFFER_SIZE = 128 * 1024

_OFFLINE_STATUSES = frozenset({GG_STATUS_NOT_AVAIL, GG_STATUS_NOT_AVAIL_DESCR})
_HIDDEN_STATUSES = frozenset({GG_STATUS_INVISIBLE, GG_STATUS_INVISIBLE_DESCR})
# A login with an unknown uin is still hashed, against this, so that it costs what a known one does.
_NO_SUCH_USER = b"\x01no such user"
_T = TypeVar("_T")


def _offline(uin: int) -> StatusEntry:
    return StatusEntry(uin, GG_STATUS_NOT_AVAIL)


def _name(packet: Packet) -> str:
    if isinstance(packet, Unknown):
        return packet_name(Direction.CLIENT_TO_SERVER, packet.packet_type)
    return packet.NAME


class _Session(asyncio.BufferedProtocol):
    """One client connection: its parser, its login, its contact list and what it has been told."""

    def __init__(self, server: ReferenceServer) -> None:
        self.server = server
        self.transport: Optional[asyncio.Transport] = None
        self.peer = "?"
        self.parser = FrameParser(Direction.CLIENT_TO_SERVER)
        self.seed = secrets.randbits(32)
        self.uin: Optional[int] = None
        self.status = GG_STATUS_NOT_AVAIL
        self.description = ""
        self.flags = 0
        self.features = 0
        self.image_size = 0
        #: uin -> GG_USER_* bits, as the client listed them.
        self.contacts: Dict[int, int] = {}
        #: The chunks of a contact list sent with NOTIFY_FIRST, until its NOTIFY_LAST.
        self.pending_list: Dict[int, int] = {}
        #: The last status this client was told for each contact (changes only are sent).
        self.known: Dict[int, StatusEntry] = {}
        self.closing = False
        self._buffer = bytearray(READ_BUFFER_SIZE)
        self._view = memoryview(self._buffer)
        self._login_timer: Optional[asyncio.TimerHandle] = None

    def __repr__(self) -> str:
        return f"{self.peer} uin={self.uin}" if self.uin is not None else self.peer

    # --- asyncio protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        address = transport.get_extra_info("peername")
        self.peer = f"{address[0]}:{address[1]}" if address else "?"
        if not self.server._admit(self):
            return
        transport.set_write_buffer_limits(high=self.server.config.write_high_water)
        self._login_timer = asyncio.get_running_loop().call_later(
            self.server.config.login_timeout, self._login_timed_out
        )
        self.send(Welcome(self.seed))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        if self.closing:
            return
        try:
            frames = self.parser.feed_frames(self._view[:nbytes])
            for kind, body in frames:
                packet = decode_packet(Direction.CLIENT_TO_SERVER, kind, body)
                if self.server.config.log_packets:
                    self._log_packet("in", body, packet)
                self._handle(packet)
                if self.closing:
                    return
        except ProtocolError as exc:
            self.fail(str(exc))

    def eof_received(self) -> Optional[bool]:
        if not self.closing:
            try:
                self.parser.feed_eof()
            except ProtocolError as exc:
                self.fail(str(exc))
        return False  # let the transport close itself

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.closing = True
        if self._login_timer is not None:
            self._login_timer.cancel()
        self.server._forget(self)

    def pause_writing(self) -> None:
        # A client that does not read gets no more work from us: stop reading its requests too.
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.resume_reading()

    # --- output ------------------------------------------------------------------------------

    def send(self, packet: Packet) -> None:
        """Queue one whole packet. One transport.write per packet, all on the loop's thread, so two
        packets never interleave on the wire, whichever session's handler produced them."""
        transport = self.transport
        if self.closing or transport is None:
            return
        data = packet.encode()
        if self.server.config.log_packets:
            self._log_packet("out", data[8:], packet)
        transport.write(data)
        queued = transport.get_write_buffer_size()
        if queued > self.server.config.write_limit:
            log.warning("%r: closing: the client is not reading (%d bytes queued, limit %d)",
                        self, queued, self.server.config.write_limit)
            self.closing = True
            transport.abort()

    def fail(self, reason: str) -> None:
        """Close this connection because of what the client sent; one log line, nobody else affected."""
        if self.closing:
            return
        log.warning("%r: closing: %s", self, reason)
        self.close()

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def _log_packet(self, direction: str, body: bytes, packet: Packet) -> None:
        name = _name(packet)
        if isinstance(packet, Login80):
            # The hash stands for the password: it is zeroed before the body is shown.
            body = dataclasses.replace(packet, login_hash=bytes(len(packet.login_hash))).body()
            name += " (hash zeroed)"
        packet_log.info("%r %s %s len=%d %s", self, direction, name, len(body), body.hex())

    # --- input -------------------------------------------------------------------------------

    def _handle(self, packet: Packet) -> None:
        if self.uin is None:
            if isinstance(packet, Login80):
                self.server._login(self, packet)
            else:
                raise RemoteProtocolError(f"{_name(packet)} before GG_LOGIN80: log in first")
            return
        handler = _HANDLERS.get(type(packet))
        if handler is None:
            raise RemoteProtocolError(f"{_name(packet)} is not allowed after login")
        handler(self.server, self, packet)

    def _login_timed_out(self) -> None:
        if self.uin is None and not self.closing:
            log.warning("%r: closing: no login within %g s", self, self.server.config.login_timeout)
            self.close()

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
        if hidden or (base in _OFFLINE_STATUSES and base != GG_STATUS_NOT_AVAIL_DESCR):
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
        #: Logged-in sessions by uin.
        self.online: Dict[int, _Session] = {}
        #: uin -> the logged-in sessions that list it (they are told when its status changes).
        self.watchers: Dict[int, Set[_Session]] = {}
        self.queue: Optional[OfflineQueue] = None
        self._sessions: Set[_Session] = set()
        self._server: Optional[asyncio.AbstractServer] = None
        self._all_gone: Optional[asyncio.Event] = None
        self._stopped: Optional[asyncio.Event] = None

    @property
    def connections(self) -> int:
        """Open connections, logged in or not."""
        return len(self._sessions)

    async def start(self) -> None:
        """Open the offline queue, bind and listen; `port` is set when this returns."""
        self.queue = OfflineQueue(self.config.state_path)
        self._all_gone = asyncio.Event()
        self._stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: _Session(self), self.config.host, self.config.port, reuse_address=True
            )
        except BaseException:
            self.queue.close()
            self.queue = None
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("listening on %s:%d (%d users, echo %s, offline queue %s)", self.config.host, self.port,
                 len(self.config.users), self.config.echo_uin or "off", self.config.state_path or "in memory")

    async def serve_forever(self) -> None:
        """Start if needed, then wait until stop() is called."""
        if self._server is None:
            await self.start()
        assert self._stopped is not None
        await self._stopped.wait()

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop listening, close every connection, wait for them to go, close the offline queue."""
        if self._server is None:
            return
        self._server.close()
        for session in list(self._sessions):
            session.close()
        assert self._all_gone is not None and self._stopped is not None
        if self._sessions:
            try:
                await asyncio.wait_for(self._all_gone.wait(), timeout)
            except asyncio.TimeoutError:
                for session in list(self._sessions):
                    if session.transport is not None:
                        session.transport.abort()
        await self._server.wait_closed()
        self._server = None
        if self.queue is not None:
            self.queue.close()
            self.queue = None
        self._stopped.set()
        log.info("stopped")

    # --- connections -------------------------------------------------------------------------

    def _admit(self, session: _Session) -> bool:
        if len(self._sessions) >= self.config.max_connections:
            log.warning("%r: refused: %d connections open, the cap is %d",
                        session, len(self._sessions), self.config.max_connections)
            session.closing = True
            assert session.transport is not None
            session.transport.close()
            return False
        self._sessions.add(session)
        assert self._all_gone is not None
        self._all_gone.clear()
        return True

    def _forget(self, session: _Session) -> None:
        self._sessions.discard(session)
        if session.uin is not None and self.online.get(session.uin) is session:
            self._unregister(session)
            if session.status & GG_STATUS_MASK not in _OFFLINE_STATUSES:
                # Gone without a NOT_AVAIL of its own: watchers see it leave, without a description.
                # (After a NOT_AVAIL logoff they have been told already, description included.)
                session.status, session.description = GG_STATUS_NOT_AVAIL, ""
                self._announce(session)
        if not self._sessions and self._all_gone is not None:
            self._all_gone.set()

    def _unregister(self, session: _Session) -> None:
        assert session.uin is not None
        del self.online[session.uin]
        for contact in session.contacts:
            self._unwatch(contact, session)

    def _unwatch(self, contact: int, session: _Session) -> None:
        watchers = self.watchers.get(contact)
        if watchers is not None:
            watchers.discard(session)
            if not watchers:
                del self.watchers[contact]

    # --- login -------------------------------------------------------------------------------

    def _login(self, session: _Session, packet: Login80) -> None:
        password = self.config.users.get(packet.uin)
        secret = password.encode("utf-8") if password is not None else _NO_SUCH_USER
        matches = check_login_hash(packet.hash_type, packet.login_hash, secret, session.seed)
        if password is None or not matches:
            why = "unknown uin" if password is None else "wrong password"
            log.warning("%r: login failed for uin %d: %s", session, packet.uin, why)
            session.send(Login80Failed() if packet.features & GG_FEATURE_UNKNOWN_40 else LoginFailed())
            session.close()
            return
        if session._login_timer is not None:
            session._login_timer.cancel()
        previous = self.online.get(packet.uin)
        if previous is not None:
            log.info("%r: uin %d logged in again from %s; dropping this older connection",
                     previous, packet.uin, session.peer)
            previous.send(Disconnecting())
            # Handed over without an offline flap: watchers only see the new session's status.
            self._unregister(previous)
            previous.close()
        session.uin = packet.uin
        session.status = packet.status
        session.description = packet.description
        session.flags = packet.flags
        session.features = packet.features
        session.image_size = packet.image_size
        self.online[packet.uin] = session
        session.send(Login80Ok())
        log.info("%r: logged in (status 0x%x)", session, packet.status)
        self._deliver_queued(session)
        self._announce(session)

    def _deliver_queued(self, session: _Session) -> None:
        assert self.queue is not None and session.uin is not None
        for message in self.queue.pending(session.uin):
            session.send(RecvMsg80(message.sender, message.seq, message.time, message.msgclass | GG_CLASS_QUEUED,
                                   message.html, message.plain, message.attributes))
            if session.closing:
                return  # left in the queue for the next login
            self.queue.remove(message)

    # --- presence ----------------------------------------------------------------------------

    def _entry_for(self, contact: int, watcher: int) -> StatusEntry:
        if contact == self.config.echo_uin:
            return StatusEntry(contact, GG_STATUS_AVAIL_DESCR, ECHO_DESCRIPTION)
        owner = self.online.get(contact)
        return owner.view_for(watcher) if owner is not None else _offline(contact)

    def _tell(self, watcher: _Session, contact: int) -> None:
        """Send `watcher` one STATUS80 about `contact` if what it may see has changed."""
        assert watcher.uin is not None
        entry = self._entry_for(contact, watcher.uin)
        if watcher.known.get(contact, _offline(contact)) != entry:
            watcher.known[contact] = entry
            watcher.send(Status80(entry))

    def _announce(self, session: _Session) -> None:
        """Tell everyone who lists this user what they may now see of it."""
        assert session.uin is not None
        uin = session.uin
        for watcher in list(self.watchers.get(uin, ())):
            if watcher is not session:
                self._tell(watcher, uin)

    def _set_contacts(self, session: _Session, contacts: Dict[int, int]) -> None:
        for contact in session.contacts:
            if contact not in contacts:
                self._unwatch(contact, session)
                session.known.pop(contact, None)
        for contact in contacts:
            self.watchers.setdefault(contact, set()).add(session)
        session.contacts = contacts

    def on_notify(self, session: _Session, packet: Packet) -> None:
        assert isinstance(packet, (NotifyFirst, NotifyLast))
        for entry in packet.entries:
            session.pending_list[entry.uin] = session.pending_list.get(entry.uin, 0) | entry.user_type
        if len(session.pending_list) > MAX_CONTACTS:
            raise RemoteProtocolError(f"contact list longer than {MAX_CONTACTS} entries")
        if isinstance(packet, NotifyFirst):
            return
        contacts, session.pending_list = session.pending_list, {}
        self._set_contacts(session, contacts)
        assert session.uin is not None
        online = []
        for contact in contacts:
            entry = self._entry_for(contact, session.uin)
            session.known[contact] = entry
            if entry.status & GG_STATUS_MASK not in _OFFLINE_STATUSES:
                online.append(entry)
        # Always at least one reply, possibly empty, so that a client can wait for it.
        for reply in split_notify_reply(online) or [NotifyReply80()]:
            session.send(reply)
        self._announce(session)

    def on_list_empty(self, session: _Session, packet: Packet) -> None:
        self._set_contacts(session, {})
        session.pending_list = {}
        self._announce(session)

    def on_add(self, session: _Session, packet: Packet) -> None:
        assert isinstance(packet, AddNotify)
        if packet.uin not in session.contacts and len(session.contacts) >= MAX_CONTACTS:
            raise RemoteProtocolError(f"contact list longer than {MAX_CONTACTS} entries")
        contacts = dict(session.contacts)
        contacts[packet.uin] = contacts.get(packet.uin, 0) | packet.user_type
        self._set_contacts(session, contacts)
        self._tell(session, packet.uin)
        self._announce(session)

    def on_remove(self, session: _Session, packet: Packet) -> None:
        assert isinstance(packet, RemoveNotify)
        contacts = dict(session.contacts)
        remaining = contacts.get(packet.uin, 0) & ~packet.user_type
        if remaining:
            contacts[packet.uin] = remaining
        else:
            contacts.pop(packet.uin, None)
        self._set_contacts(session, contacts)
        self._announce(session)

    def on_status(self, session: _Session, packet: Packet) -> None:
        assert isinstance(packet, NewStatus80)
        session.status, session.flags, session.description = packet.status, packet.flags, packet.description
        self._announce(session)
        if packet.status & GG_STATUS_MASK in _OFFLINE_STATUSES:
            # Logoff (GG 10 behaviour): acknowledge, close; libgadu reports DISCONNECT_ACK either way.
            log.info("%r: logged off", session)
            session.send(DisconnectAck())
            session.close()

    # --- messages ----------------------------------------------------------------------------

    def on_message(self, session: _Session, packet: Packet) -> None:
        assert isinstance(packet, SendMsg80) and session.uin is not None
        sender, recipient = session.uin, packet.recipient
        now = int(time.time())
        if recipient == self.config.echo_uin:
            status = GG_ACK_DELIVERED
        elif recipient not in self.config.users:
            status = GG_ACK_NOT_DELIVERED
        else:
            target = self.online.get(recipient)
            if target is None:
                assert self.queue is not None
                # Committed before the ack goes out: a message acked as queued survives a crash.
                self.queue.put(QueuedMessage(recipient, sender, packet.seq, now, packet.msgclass,
                                             packet.html, packet.plain, packet.attributes))
                status = GG_ACK_QUEUED
            elif target.contacts.get(sender, 0) & GG_USER_BLOCKED:
                status = GG_ACK_BLOCKED
            else:
                target.send(RecvMsg80.from_send(packet, sender, now))
                status = GG_ACK_DELIVERED
        if not packet.msgclass & GG_CLASS_ACK:
            session.send(SendMsgAck(status, recipient, packet.seq))
        if recipient == self.config.echo_uin:
            session.send(RecvMsg80.from_send(packet, recipient, now))

    def on_typing(self, session: _Session, packet: Packet) -> None:
        assert isinstance(packet, TypingNotify) and session.uin is not None
        target = self.online.get(packet.uin)
        if target is not None and not target.contacts.get(session.uin, 0) & GG_USER_BLOCKED:
            target.send(TypingNotify(packet.length, session.uin))

    def on_ping(self, session: _Session, packet: Packet) -> None:
        session.send(Pong())

    def on_recv_ack(self, session: _Session, packet: Packet) -> None:
        """Nothing to do: delivery was acked to the sender when the message was handed over."""

    def on_unknown(self, session: _Session, packet: Packet) -> None:
        assert isinstance(packet, Unknown)
        log.info("%r: ignoring unknown packet type 0x%04x (%d bytes)", session, packet.packet_type,
                 len(packet.payload))


#: What a logged-in client may send, and who handles it; anything else closes the connection.
_HANDLERS: Dict[type, Callable[[ReferenceServer, _Session, Any], None]] = {
    NotifyFirst: ReferenceServer.on_notify,
    NotifyLast: ReferenceServer.on_notify,
    ListEmpty: ReferenceServer.on_list_empty,
    AddNotify: ReferenceServer.on_add,
    RemoveNotify: ReferenceServer.on_remove,
    NewStatus80: ReferenceServer.on_status,
    SendMsg80: ReferenceServer.on_message,
    TypingNotify: ReferenceServer.on_typing,
    Ping: ReferenceServer.on_ping,
    RecvMsgAck: ReferenceServer.on_recv_ack,
    Unknown: ReferenceServer.on_unknown,
}


class ServerThread:
    """A ReferenceServer on its own event loop in a daemon thread, for tests, demos and benchmarks.

    `start()` returns once the server listens (or raises what stopped it); `port` is then set;
    `call(fn, *args)` runs fn on the server's loop and returns its result; `stop()` joins the thread.
    """

    def __init__(self, config: Optional[ServerConfig] = None) -> None:
        self.server = ReferenceServer(config)
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
        loop = asyncio.new_event_loop()
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
