"""ServerSession: one server-side GG 8.0 connection as a state machine, without I/O.

Sans-I/O like gadu.client: it imports no socket or event loop (the asyncio server that drives it
lives in the gadu.server subpackage, the one place in gadu where I/O may live). It speaks
the protocol of one connection: WELCOME and its seed, the login check, client packets turned into
events, and the packets a server sends. Users, routing and presence are the server's business.

Theory of operation:
    session = ServerSession(passwords.get)       # passwords: uin -> bytes, or None when unknown
    write(session.start())                       # GG_WELCOME with a random seed
    events = session.receive_data(bytes_read)    # b"" means the client closed
    write(session.data_to_send())                # the login verdict, produced by the machine itself
    write(session.send_message(RecvMsg80(...)))  # sends return the bytes to write
    write(session.send_delivery(event, sender, when))  # a received SendMessage relayed as it came
    when = session.get_timer()                   # the one moment to be woken at, or None
    events = session.handle_timer(clock())       # a ConnectionClosed when a limit ran out

States: NEW -start()-> AWAITING_LOGIN -good LOGIN80-> CONNECTED -NEW_STATUS80 NOT_AVAIL->
DISCONNECTING -EOF-> CLOSED. A refused login leads straight to CLOSED after queueing the verdict:
write data_to_send(), then close. The transitions for client packets are one table; a send in the
wrong state raises LocalProtocolError.

The one way out: every session ends with one ConnectionClosed event, the last one receive_data()
or handle_timer() returns (none after a refused login, whose LoginRejected says it all). A packet
not in the table for the state, or bytes that do not decode, end it with ConnectionClosed(clean=
False, error=RemoteProtocolError naming packet, role and state), after the events of what came
whole before; the owner then closes the socket.

Deadlines (docs/architecture.md#deadlines), on the clock passed as `monotonic`: a connection must
log in within `login_timeout` of start(), and a logged-in client that sends nothing for
`idle_timeout` (None: never) is dropped; both end with ConnectionClosed(clean=False).
"""
from __future__ import annotations

import enum
import secrets
import struct
import time
from dataclasses import dataclass, field
from operator import itemgetter as _itemgetter
from typing import Callable, Dict, Iterable, List, Optional, Tuple, Type, Union

from . import packets as pk
from .errors import LocalProtocolError, MalformedPacket, ProtocolError, RemoteProtocolError
from .framing import FrameParser
from .hashing import HASH_TYPES, check_login_hash
from .limits import MAX_CONTACTS, MAX_FRAME, SERVER_IDLE_TIMEOUT, SERVER_LOGIN_TIMEOUT

__all__ = [
    "SERVER_TRANSITIONS",
    "ConnectionClosed",
    "ContactAdded",
    "ContactRemoved",
    "LoggedIn",
    "LoginRejected",
    "Logoff",
    "MessageAcked",
    "NotifyList",
    "PingRequest",
    "SendMessage",
    "ServerEvent",
    "ServerSession",
    "ServerState",
    "StatusChange",
    "TypingSent",
]

_new_tuple = tuple.__new__


@dataclass(frozen=True)
class LoggedIn:
    """The login was accepted; GG_LOGIN80_OK is queued. The fields are the client's GG_LOGIN80."""

    uin: int
    status: int
    description: str
    features: int
    flags: int
    version: str


@dataclass(frozen=True)
class LoginRejected:
    """The login was refused (LOGIN80_FAILED or LOGIN_FAILED queued); write it, then close."""

    uin: int
    reason: str


@dataclass(frozen=True)
class StatusChange:
    """GG_NEW_STATUS80 other than a logoff."""

    status: int
    flags: int
    description: str


@dataclass(frozen=True)
class NotifyList:
    """The whole contact list: every GG_NOTIFY_FIRST chunk and the GG_NOTIFY_LAST, or GG_LIST_EMPTY."""

    entries: Tuple[pk.NotifyEntry, ...]


@dataclass(frozen=True)
class ContactAdded:
    """GG_ADD_NOTIFY."""

    uin: int
    user_type: int


@dataclass(frozen=True)
class ContactRemoved:
    """GG_REMOVE_NOTIFY."""

    uin: int
    user_type: int


class SendMessage(tuple):
    """GG_SEND_MSG80: `recipient`, `seq` and `msgclass` at hand, the rest in `message` (a SendMsg80).

    What to deliver: ServerSession.send_delivery(event, sender, time), which relays the parts as
    they came when it can, or RecvMsg80.from_send(event.message, sender, time).

    Compared, hashed and shown by its message, like a frozen dataclass with one field `message`.
    A tuple underneath, so that the hot path builds it with one call: from the wire it holds the
    checked frame and decodes the message on each read of `message` (read it once and keep it). Its
    first three items are recipient, seq and msgclass (the reference server unpacks them so).
    """

    __slots__ = ()

    def __new__(cls, message: pk.SendMsg80) -> SendMessage:
        return _new_tuple(cls, (message.recipient, message.seq, message.msgclass, 0, 0, None, False, message))

    recipient: int = property(_itemgetter(0))  # type: ignore[assignment]
    seq: int = property(_itemgetter(1))  # type: ignore[assignment]
    msgclass: int = property(_itemgetter(2))  # type: ignore[assignment]

    @property
    def message(self) -> pk.SendMsg80:
        packet = self[7]
        if packet is None:
            recipient, seq, msgclass, offset_plain, offset_attr, tail, _, _ = self
            head = _pack_send_msg80(recipient, seq, msgclass, offset_plain, offset_attr)
            packet = pk.SendMsg80.from_wire(head + tail)
        return packet

    # Not NotImplemented for other kinds: tuple's own comparison would then answer, by the items.
    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__ and self.message == other.message

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((SendMessage, self.message))

    def __repr__(self) -> str:
        return f"SendMessage(message={self.message!r})"

    def __reduce__(self) -> Tuple[type, Tuple[pk.SendMsg80]]:
        return (SendMessage, (self.message,))


class MessageAcked(tuple):
    """GG_RECV_MSG_ACK: the client got the message with this seq.

    Compared, hashed and shown like a frozen dataclass with one field `seq`; a tuple underneath, so
    that the hot path builds it with one call.
    """

    __slots__ = ()

    def __new__(cls, seq: int) -> MessageAcked:
        return _new_tuple(cls, (seq,))

    seq: int = property(_itemgetter(0))  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:  # other kinds: as SendMessage.__eq__ says
        return other.__class__ is self.__class__ and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((MessageAcked, self[0]))

    def __repr__(self) -> str:
        return f"MessageAcked(seq={self[0]!r})"

    def __reduce__(self) -> Tuple[type, Tuple[int]]:
        return (MessageAcked, (self[0],))


@dataclass(frozen=True)
class TypingSent:
    """GG_TYPING_NOTIFY from the client, for `recipient`."""

    recipient: int
    length: int


@dataclass(frozen=True)
class PingRequest:
    """GG_PING; answer with send_pong() if you like (libgadu does not need it)."""


@dataclass(frozen=True)
class Logoff:
    """GG_NEW_STATUS80 NOT_AVAIL or NOT_AVAIL_DESCR: the client is leaving; close after an optional
    send_disconnect_ack()."""

    status: int
    description: str


@dataclass(frozen=True)
class ConnectionClosed:
    """The session is over: the client closed the stream (`clean` when it had logged off first), or
    the session ended it (`error` is the ProtocolError behind it; None for a limit that ran out)."""

    clean: bool
    reason: str
    error: Optional[BaseException] = field(default=None, compare=False, repr=False)


ServerEvent = Union[
    LoggedIn, LoginRejected, StatusChange, NotifyList, ContactAdded, ContactRemoved, SendMessage, MessageAcked,
    TypingSent, PingRequest, Logoff, ConnectionClosed,
]


class ServerState(enum.Enum):
    NEW = "NEW"  # start() not called: GG_WELCOME not sent yet
    AWAITING_LOGIN = "AWAITING_LOGIN"  # GG_WELCOME sent, GG_LOGIN80 expected
    CONNECTED = "CONNECTED"  # logged in
    DISCONNECTING = "DISCONNECTING"  # the client logged off; it is expected to close
    CLOSED = "CLOSED"  # refused login, EOF, or a protocol error


S = ServerState
# Read on every hot call: a module global costs a dict lookup, S.CONNECTED also the enum class's
# attribute lookup (about 0.2 us on 3.11).
_CONNECTED = S.CONNECTED
_SESSION_PACKETS = (
    pk.NewStatus80, pk.NotifyFirst, pk.NotifyLast, pk.ListEmpty, pk.AddNotify, pk.RemoveNotify,
    pk.SendMsg80, pk.RecvMsgAck, pk.TypingNotify, pk.Ping, pk.Unknown,
)

#: Packets from the client allowed in each state, and the state each leads to (a NEW_STATUS80 that
#: is a logoff goes to DISCONNECTING instead; a refused LOGIN80 to CLOSED).
SERVER_TRANSITIONS: Dict[ServerState, Dict[Type[pk.Packet], ServerState]] = {
    S.NEW: {},
    S.AWAITING_LOGIN: {pk.Login80: S.CONNECTED},
    S.CONNECTED: {cls: S.CONNECTED for cls in _SESSION_PACKETS},
    # Receipts for messages delivered just before the logoff may still be on their way.
    S.DISCONNECTING: {pk.RecvMsgAck: S.DISCONNECTING, pk.Unknown: S.DISCONNECTING},
    S.CLOSED: {},
}

_LOGOFF_STATUSES = (pk.GG_STATUS_NOT_AVAIL, pk.GG_STATUS_NOT_AVAIL_DESCR)
# Hashed against for unknown uins, so that they cost the same time as a wrong password.
_NO_PASSWORD = b"\x01unknown-uin"


class ServerSession:
    """The protocol of one server-side connection; the owner supplies the password lookup."""

    def __init__(
        self,
        passwords: Callable[[int], Optional[bytes]],
        *,
        seed: Optional[int] = None,
        max_frame: int = MAX_FRAME,
        max_contacts: int = MAX_CONTACTS,
        login_timeout: float = SERVER_LOGIN_TIMEOUT,
        idle_timeout: Optional[float] = SERVER_IDLE_TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not login_timeout > 0:
            raise ValueError(f"login_timeout must be a positive number of seconds, got {login_timeout!r}")
        if idle_timeout is not None and not idle_timeout > 0:
            raise ValueError(f"idle_timeout must be positive seconds or None (never), got {idle_timeout!r}")
        self._passwords = passwords
        self.seed = secrets.randbits(32) if seed is None else seed
        if not 0 <= self.seed <= 0xFFFFFFFF:
            raise ValueError(f"seed {self.seed} is not an unsigned 32-bit value")
        self.state = S.NEW
        self.uin: Optional[int] = None
        self.login: Optional[pk.Login80] = None
        self.max_contacts = max_contacts
        self._parser = FrameParser(pk.Direction.CLIENT_TO_SERVER, max_frame)
        self._max_frame = max_frame
        self._outbox = bytearray()
        self._pending_contacts: List[pk.NotifyEntry] = []
        self.login_timeout = login_timeout
        self.idle_timeout = idle_timeout
        self._monotonic = monotonic
        self._deadline: Optional[float] = None

    def start(self, since: Optional[float] = None) -> bytes:
        """GG_WELCOME with the seed: the first bytes of the connection. The login timeout counts from
        `since` (a time of the session's monotonic clock, such as the accept, when the owner let the
        connection wait before starting it), or from now."""
        if self.state is not S.NEW:
            raise LocalProtocolError(f"start() called twice (state {self.state.name}, role: server)")
        self.state = S.AWAITING_LOGIN
        self._deadline = (self._monotonic() if since is None else since) + self.login_timeout
        return pk.Welcome(self.seed).encode()

    # --- receiving -------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> List[ServerEvent]:
        """Feed bytes read from the client (b"" when it closed); return the events, the last of them
        a ConnectionClosed when the session ended (the owner then closes the socket)."""
        # Whole frames of hot packets, nothing buffered before them: no parser, no list of frames, and
        # for one frame (the usual read) no slice of it.
        if self.state is _CONNECTED and len(data) >= 8 and type(data) is bytes and not self._parser._buffer:
            # The usual reads, one whole frame, checked here without a call: _fast_send_msg's checks on
            # a SEND_MSG80 (whatever fails them goes on below), a receipt unpacked with its header.
            size = len(data)
            if size > 28 and _INLINE:
                kind, length, recipient, seq, msgclass, offset_plain, offset_attr = _unpack_send_frame(data)
                if kind == _GG_SEND_MSG80 and length + 8 == size and length <= self._max_frame:
                    tail = data[28:]
                    plain, attributes = offset_plain - 20, offset_attr - 20
                    if 0 <= plain < attributes <= len(tail) and tail.find(0, plain) == attributes - 1:
                        ascii = tail.isascii()
                        if not plain or (tail.find(0) == plain - 1 and (ascii or _is_utf8(tail[: plain - 1]))):
                            if self.idle_timeout is not None:
                                self._deadline = self._monotonic() + self.idle_timeout
                            return [_new_tuple(SendMessage, (recipient, seq, msgclass, offset_plain, offset_attr,
                                                             tail, ascii, None))]
            elif size == 12 and _INLINE:
                kind, length, seq = _unpack_receipt(data)
                if kind == _GG_RECV_MSG_ACK and length == 4 and length <= self._max_frame:
                    if self.idle_timeout is not None:
                        self._deadline = self._monotonic() + self.idle_timeout
                    return [_new_tuple(MessageAcked, (seq,))]
            kind, length = _unpack_header(data)
            fast = _FAST.get(kind) if length <= self._max_frame else None
            if fast is not None:
                if length + 8 == len(data):
                    event = fast(data, 8)
                    events: Optional[List[ServerEvent]] = None if event is None else [event]
                else:
                    events = _fast_frames(data, self._max_frame)
                if events is not None:
                    if self.idle_timeout is not None:
                        self._deadline = self._monotonic() + self.idle_timeout
                    return events
        if not data:
            return self._receive_eof()
        if self.state is S.NEW:
            return [self._end(RemoteProtocolError("the client sent data before GG_WELCOME (role: server, state NEW)"))]
        if self.state is S.CLOSED:
            raise LocalProtocolError("receive_data() after the session ended (role: server): close the socket")
        try:
            frames = self._parser.feed_frames(data)
            error: Optional[ProtocolError] = None
        except ProtocolError as exc:  # what came whole before bad bytes counts
            frames, error = list(exc.frames), exc
        events = []
        # One dispatch per frame: while CONNECTED the hot packets go straight to their event; the
        # rest through decode_packet() and the transition table.
        try:
            for kind, body in frames:
                fast = _FAST.get(kind) if self.state is _CONNECTED else None
                if fast is not None:
                    event = fast(body, 0)
                    if event is not None:
                        events.append(event)
                        continue
                events.extend(self._handle(pk.decode_packet(_FROM_CLIENT, kind, body)))
                if self.state is S.CLOSED:
                    return events  # a refused login: nothing after it counts, bad bytes included
        except MalformedPacket as exc:
            exc.packets = _decoded(frames[: frames.index((kind, body))])  # as the parser reports them
            error = exc
        except ProtocolError as exc:
            error = exc
        else:
            if error is not None:
                error.packets = _decoded(frames)
        if error is not None:
            events.append(self._end(error))
        elif self.state is S.CONNECTED and self.idle_timeout is not None:
            self._deadline = self._monotonic() + self.idle_timeout
        return events

    def data_to_send(self) -> bytes:
        """Bytes the machine produced by itself (the login verdict); empties the outbox."""
        data = bytes(self._outbox)
        self._outbox.clear()
        return data

    def get_timer(self) -> Optional[float]:
        """The moment (on the `monotonic` clock) at which handle_timer() must be called, or None."""
        return self._deadline

    def handle_timer(self, now: float) -> List[ConnectionClosed]:
        """End the session if `now` has passed its limit: [ConnectionClosed]; else []."""
        deadline = self._deadline
        if deadline is None or now < deadline:
            return []
        if self.state is S.AWAITING_LOGIN:
            reason = f"no login within {self.login_timeout:g} s"
        else:
            reason = f"nothing received for {self.idle_timeout:g} s"
        self._close()
        return [ConnectionClosed(False, reason)]

    def _close(self) -> None:
        self.state = S.CLOSED
        self._deadline = None

    def _end(self, error: ProtocolError) -> ConnectionClosed:
        self._close()
        return ConnectionClosed(False, str(error), error)

    def _receive_eof(self) -> List[ServerEvent]:
        if self.state is S.CLOSED:
            return []
        state = self.state
        try:
            self._parser.feed_eof()
        except ProtocolError as exc:
            return [self._end(exc)]
        self._close()
        if state is S.DISCONNECTING:
            return [ConnectionClosed(True, "the client logged off and closed")]
        return [ConnectionClosed(False, f"the client closed the connection in state {state.name}")]

    def _handle(self, packet: pk.Packet) -> List[ServerEvent]:
        next_state = SERVER_TRANSITIONS[self.state].get(type(packet))
        if next_state is None:
            raise RemoteProtocolError(
                f"{packet.NAME} from the client is not allowed in state {self.state.name} (role: server)"
            )
        self.state = next_state
        if isinstance(packet, pk.Login80):
            return [self._check_login(packet)]
        if isinstance(packet, pk.SendMsg80):
            return [SendMessage(packet)]
        if isinstance(packet, pk.RecvMsgAck):
            return [MessageAcked(packet.seq)]
        if isinstance(packet, pk.NewStatus80):
            if packet.status & pk.GG_STATUS_MASK in _LOGOFF_STATUSES:
                self.state = S.DISCONNECTING
                self._deadline = None  # the owner closes now (after an optional GG_DISCONNECT_ACK)
                return [Logoff(packet.status, packet.description)]
            return [StatusChange(packet.status, packet.flags, packet.description)]
        if isinstance(packet, (pk.NotifyFirst, pk.NotifyLast)):
            if len(self._pending_contacts) + len(packet.entries) > self.max_contacts:
                raise RemoteProtocolError(
                    f"the contact list passes {self.max_contacts} entries (role: server, state {self.state.name})"
                )
            self._pending_contacts.extend(packet.entries)
            if isinstance(packet, pk.NotifyFirst):
                return []
            entries, self._pending_contacts = tuple(self._pending_contacts), []
            return [NotifyList(entries)]
        if isinstance(packet, pk.ListEmpty):
            self._pending_contacts = []
            return [NotifyList(())]
        if isinstance(packet, pk.AddNotify):
            return [ContactAdded(packet.uin, packet.user_type)]
        if isinstance(packet, pk.RemoveNotify):
            return [ContactRemoved(packet.uin, packet.user_type)]
        if isinstance(packet, pk.TypingNotify):
            return [TypingSent(packet.uin, packet.length)]
        if isinstance(packet, pk.Ping):
            return [PingRequest()]
        return []  # Unknown: ignored, as the official server does with what it does not know

    def _check_login(self, login: pk.Login80) -> Union[LoggedIn, LoginRejected]:
        password = self._passwords(login.uin)
        matches = check_login_hash(
            login.hash_type, login.login_hash, _NO_PASSWORD if password is None else password, self.seed
        )
        if password is not None and matches:
            self.uin = login.uin
            self.login = login
            self._deadline = None if self.idle_timeout is None else self._monotonic() + self.idle_timeout
            self._outbox += pk.Login80Ok().encode()
            return LoggedIn(login.uin, login.status, login.description, login.features, login.flags, login.version)
        self._close()
        # protocol.html 1.3: clients without feature 0x40 (libgadu among them) expect the old packet.
        verdict = pk.Login80Failed() if login.features & pk.GG_FEATURE_UNKNOWN_40 else pk.LoginFailed()
        self._outbox += verdict.encode()
        if password is None:
            reason = "unknown uin"
        elif login.hash_type not in HASH_TYPES.values():
            reason = f"unsupported hash type {login.hash_type}"
        else:
            reason = "wrong password"
        return LoginRejected(login.uin, reason)

    # --- sending ---------------------------------------------------------------------------------

    def _check_send(self, what: str, allowed: Tuple[ServerState, ...] = (S.CONNECTED,)) -> None:
        if self.state not in allowed:
            names = " or ".join(state.name for state in allowed)
            raise LocalProtocolError(f"cannot send {what} in state {self.state.name} (role: server); it needs {names}")

    def send_notify_reply(self, entries: Iterable[pk.StatusEntry]) -> bytes:
        """GG_NOTIFY_REPLY80 for the online contacts, split so that no frame passes the limit.

        No entries gives no bytes: the server answers only with contacts that are online.
        """
        self._check_send("GG_NOTIFY_REPLY80")
        return b"".join(reply.encode() for reply in pk.split_notify_reply(entries))

    def send_status(self, entry: pk.StatusEntry) -> bytes:
        """GG_STATUS80: one contact changed status."""
        self._check_send("GG_STATUS80")
        return pk.Status80(entry).encode()

    def send_message(self, message: pk.RecvMsg80) -> bytes:
        """GG_RECV_MSG80 (see RecvMsg80.from_send)."""
        if self.state is not _CONNECTED:
            self._check_send("GG_RECV_MSG80")
        return message.encode()

    def send_delivery(self, event: SendMessage, sender: int, time: int, msgclass: int = -1) -> bytes:
        """GG_RECV_MSG80 delivering a received message from `sender` (class kept unless given): the bytes
        of send_message(RecvMsg80.from_send(event.message, sender, time, msgclass)), the parts relayed
        as they came when re-encoding them would give the same bytes."""
        if self.state is not _CONNECTED:
            self._check_send("GG_RECV_MSG80")
        _, seq, kept, offset_plain, offset_attr, tail, ascii, _ = event
        # All ASCII: so is the plain part, which then has none of the bytes CP1250 lacks.
        if tail is not None and ((ascii and offset_plain != 21)
                                 or pk.relayable(offset_plain, tail[offset_plain - 20 : offset_attr - 21])):
            return pk.relay_recv_msg80(sender, seq, time, kept if msgclass < 0 else msgclass,
                                       offset_plain, offset_attr, tail)
        return pk.RecvMsg80.from_send(event.message, sender, time, msgclass).encode()

    def send_ack(self, status: int, recipient: int, seq: int) -> bytes:
        """GG_SEND_MSG_ACK for a message this client sent (status GG_ACK_*)."""
        if self.state is not _CONNECTED:
            self._check_send("GG_SEND_MSG_ACK")
        try:
            return _pack_send_msg_ack(pk.GG_SEND_MSG_ACK, 12, status, recipient, seq)
        except struct.error as exc:
            raise LocalProtocolError(f"cannot encode GG_SEND_MSG_ACK: a field is out of range ({exc})") from None

    def send_typing(self, uin: int, length: int) -> bytes:
        """GG_TYPING_NOTIFY: contact `uin` has typed `length` characters (0: stopped)."""
        self._check_send("GG_TYPING_NOTIFY")
        return pk.TypingNotify(length, uin).encode()

    def send_pong(self) -> bytes:
        """GG_PONG, the answer to a PingRequest."""
        self._check_send("GG_PONG")
        return pk.Pong().encode()

    def send_disconnecting(self) -> bytes:
        """GG_DISCONNECTING: we are about to drop this client (e.g. a second login on its uin); close after it."""
        self._check_send("GG_DISCONNECTING")
        return pk.Disconnecting().encode()

    def send_disconnect_ack(self) -> bytes:
        """GG_DISCONNECT_ACK after a Logoff; close the connection after writing it."""
        self._check_send("GG_DISCONNECT_ACK", (S.DISCONNECTING,))
        return pk.DisconnectAck().encode()


def _fast_send_msg(data: bytes, base: int) -> Optional[SendMessage]:
    """The event for the SEND_MSG80 body at data[base:] when it passes the checks of message_parts and
    the HTML part's UTF-8 check; None leaves it, and the typed error it earns, to the general path."""
    if len(data) - base <= 20:
        return None
    head = _unpack_send_msg80(data, base)
    offset_plain, offset_attr = head[3], head[4]
    tail = data[base + 20 :]  # the parts and attributes, as a delivery relays them
    plain, attributes = offset_plain - 20, offset_attr - 20  # where they are in tail
    if not 0 <= plain < attributes <= len(tail) or tail.find(0, plain) != attributes - 1:
        return None
    ascii = tail.isascii()  # then the HTML part is UTF-8 and the plain part has no byte CP1250 lacks
    if plain:
        if tail.find(0) != plain - 1:
            return None
        if not ascii:
            try:
                tail[: plain - 1].decode("utf-8")
            except UnicodeDecodeError:
                return None
    # Concatenated, not unpacked into a display: one C call instead of a list built and converted.
    return _new_tuple(SendMessage, head + (tail, ascii, None))  # noqa: RUF005


def _fast_recv_msg_ack(data: bytes, base: int) -> Optional[MessageAcked]:
    if len(data) - base < 4:
        return None
    return _new_tuple(MessageAcked, _unpack_u32(data, base))


def _fast_frames(data: bytes, max_frame: int) -> Optional[List[ServerEvent]]:
    """The events of `data` when it is nothing but whole frames of hot packets that pass their
    checks; None sends all of it the general way (which then gives the same events, or the error)."""
    events = []
    pos, size = 0, len(data)
    while pos < size:
        if size - pos < 8:
            return None
        kind, length = _unpack_header(data, pos)
        stop = pos + 8 + length
        fast = _FAST.get(kind)
        if fast is None or length > max_frame or stop > size:
            return None
        event = fast(data, pos + 8) if stop == size else fast(data[pos + 8 : stop], 0)
        if event is None:
            return None
        events.append(event)
        pos = stop
    return events


#: The hot packets of a CONNECTED session, by type: what receive_data() calls with the bytes and the
#: offset of the body in them; None sends the frame the general way.
_FAST: Dict[int, Callable[[bytes, int], Optional[ServerEvent]]] = {
    pk.GG_SEND_MSG80: _fast_send_msg,
    pk.GG_RECV_MSG_ACK: _fast_recv_msg_ack,
}
_FROM_CLIENT = pk.Direction.CLIENT_TO_SERVER
_unpack_u32 = struct.Struct("<I").unpack_from
_unpack_receipt = struct.Struct("<III").unpack
_unpack_send_frame = struct.Struct("<IIIIIII").unpack_from
_GG_RECV_MSG_ACK = pk.GG_RECV_MSG_ACK
_GG_SEND_MSG80 = pk.GG_SEND_MSG80
#: receive_data()'s checks of one whole hot frame without a call (the differential test turns them
#: off with _FAST, to compare them with the general path).
_INLINE = True


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
_unpack_header = pk.HEADER.unpack_from
_unpack_send_msg80 = struct.Struct("<IIIII").unpack_from
_pack_send_msg80 = struct.Struct("<IIIII").pack
_pack_send_msg_ack = struct.Struct("<IIIII").pack


def _decoded(frames: List[Tuple[int, bytes]]) -> Tuple[pk.Packet, ...]:
    """The packets of frames that came whole before an error (they decode: they came before it)."""
    return tuple(pk.decode_packet(_FROM_CLIENT, kind, body) for kind, body in frames)
