"""ClientConnection: the GG 8.0 client as a state machine without I/O, in the manner of h11.

Everything that decides what may happen when lives in this file: the states, the one table of
transitions for packets from the server, and the one table of sends allowed per state. It knows
nothing of sockets: bytes in, events and bytes out.

Theory of operation:
    conn = ClientConnection(uin, password)        # state CONNECTING: waiting for GG_WELCOME
    events = conn.receive_data(bytes_read)        # b"" means the server closed the stream
    sock.sendall(conn.data_to_send())             # what the machine answers by itself
    sock.sendall(conn.send_contacts([1001]))      # sends return the bytes to write
    when = conn.get_timer()                       # the one moment to be woken at, or None
    events = conn.handle_timer(clock())           # then: data_to_send(), events, get_timer() again

The machine answers two packets by itself, into data_to_send(), and reports no event for them:
GG_WELCOME (with GG_LOGIN80, the login hash computed from the seed) and each GG_RECV_MSG80 (with
GG_RECV_MSG_ACK, when our features include GG_FEATURE_MSG_ACK, as libgadu's do). Call
data_to_send() after every receive_data() and handle_timer().

States: CONNECTING -WELCOME-> LOGGING_IN -LOGIN80_OK-> CONNECTED -send_logoff()-> DISCONNECTING
-EOF-> CLOSED. A refused login or GG_DISCONNECTING also lead to DISCONNECTING, where the server is
expected to close: that EOF gives Closed(clean=True); an EOF anywhere else gives Closed(clean=False).
Unknown packet types are ignored once WELCOME has arrived, as libgadu ignores them.

The one way out: every session ends with exactly one Closed event, the last one receive_data() or
handle_timer() returns. A packet not in the table for the current state, or bytes that do not
decode, end it with Closed(clean=False, error=RemoteProtocolError naming packet, role and state),
after the events of everything that came whole before them; the caller then closes the socket.

Deadlines (docs/architecture.md#deadlines): each state has at most one, and get_timer() returns it
on the clock passed as `monotonic`: the login verdict (login_timeout from creation), the next
keep-alive GG_PING once logged in (ping_interval; None: no pings, as libgadu), the server's close
(close_timeout after the session ended). A passed login or close deadline ends the session with
Closed(error=LoginTimeout or CloseTimeout); a passed ping deadline queues a GG_PING.

Sends (docs/protocol.md#sends-after-the-end): before the login verdict and after our own logoff
a send raises LocalProtocolError (the application's mistake). Once the server ended the session
(refusal, GG_DISCONNECTING, EOF, a fault, a timeout) a send is dropped, returning b"": the
application decided it before it could know, and the Disconnecting and Closed events that tell it
are already on their way.
"""
from __future__ import annotations

import enum
import struct
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Type, Union

from . import events as ev
from . import packets as pk
from .errors import CloseTimeout, LocalProtocolError, LoginTimeout, MalformedPacket, ProtocolError, RemoteProtocolError
from .framing import FrameParser
from .hashing import GG_LOGIN_HASH_SHA1, hash_type_code, login_hash_field
from .limits import CLOSE_TIMEOUT, HEADER_SIZE, LOGIN_TIMEOUT, MAX_FRAME, NOTIFY_CHUNK

__all__ = ["CLIENT_TRANSITIONS", "ClientConnection", "ClientState"]


class ClientState(enum.Enum):
    CONNECTING = "CONNECTING"  # TCP is up, GG_WELCOME not yet received
    LOGGING_IN = "LOGGING_IN"  # GG_LOGIN80 sent, waiting for the verdict
    CONNECTED = "CONNECTED"  # logged in: every send is allowed
    DISCONNECTING = "DISCONNECTING"  # the server is expected to close the stream
    CLOSED = "CLOSED"  # the stream ended, or a protocol error ended the connection

    # Identity hashing (members are singletons): the transition table is looked up on every packet,
    # and Enum's own __hash__ is a Python call.
    __hash__ = object.__hash__


S = ClientState
_IN_SESSION = (pk.NotifyReply80, pk.Status80, pk.RecvMsg80, pk.SendMsgAck, pk.TypingNotify, pk.Pong, pk.Unknown)

#: Packets from the server allowed in each state, and the state each one leads to.
CLIENT_TRANSITIONS: Dict[ClientState, Dict[Type[pk.Packet], ClientState]] = {
    S.CONNECTING: {pk.Welcome: S.LOGGING_IN},
    S.LOGGING_IN: {
        pk.Login80Ok: S.CONNECTED,
        pk.LoginOk: S.CONNECTED,  # libgadu takes these two as success too (docs/protocol.md#awkward-moments)
        pk.NeedEmail: S.CONNECTED,
        pk.Login80Failed: S.DISCONNECTING,
        pk.LoginFailed: S.DISCONNECTING,
        pk.LoginHashTypeInvalid: S.DISCONNECTING,  # libgadu waits for its timeout; we fail at once
        pk.Unknown: S.LOGGING_IN,
    },
    S.CONNECTED: {**{cls: S.CONNECTED for cls in _IN_SESSION}, pk.Disconnecting: S.DISCONNECTING},
    S.DISCONNECTING: {
        **{cls: S.DISCONNECTING for cls in _IN_SESSION},
        pk.Disconnecting: S.DISCONNECTING,
        pk.DisconnectAck: S.DISCONNECTING,
    },
    S.CLOSED: {},
}

#: Every send needs a logged-in connection; the logoff is the one that leaves it.
_SENDS_ALLOWED = {S.CONNECTED}

_CLOSE_REASONS = {
    S.CONNECTING: "the server closed the connection before GG_WELCOME",
    S.LOGGING_IN: "the server closed the connection before answering the login",
    S.CONNECTED: "the server closed the connection",
    S.DISCONNECTING: "the connection closed as expected",
}

Contact = Union[int, pk.NotifyEntry]

_OUR_LOGOFF = "the logoff"  # what the close wait follows, when it follows our send_logoff()


class ClientConnection:
    """One client session of GG 8.0, as libgadu 1.12.2 speaks it with protocol 0x2e."""

    # Slots: a client with 10,000 idle sessions holds 10,000 of these.
    __slots__ = ("_clock", "_close_timeout", "_close_wait", "_deadline", "_dropping", "_last_seq", "_login",
                 "_login_timeout", "_monotonic", "_outbox", "_parser", "_password", "features", "flags",
                 "ping_interval", "pings_sent", "state", "uin")

    def __init__(
        self,
        uin: int,
        password: Union[str, bytes],
        *,
        hash_type: Union[str, int] = GG_LOGIN_HASH_SHA1,
        status: int = pk.GG_STATUS_AVAIL,
        description: str = "",
        features: int = pk.GG8_FEATURES,
        flags: int = pk.GG8_FLAGS,
        version: str = pk.GG8_VERSION,
        image_size: int = 0,
        clock: Callable[[], float] = time.time,
        login_timeout: float = LOGIN_TIMEOUT,
        ping_interval: Optional[float] = None,
        close_timeout: float = CLOSE_TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        hash_type = hash_type_code(hash_type)
        if not login_timeout > 0:
            raise ValueError(f"login_timeout must be a positive number of seconds, got {login_timeout!r}")
        if ping_interval is not None and not ping_interval > 0:
            raise ValueError(f"ping_interval must be positive seconds or None (off), got {ping_interval!r}")
        if not close_timeout > 0:
            raise ValueError(f"close_timeout must be a positive number of seconds, got {close_timeout!r}")
        self.uin = uin
        # A str password goes on the wire as UTF-8; pass bytes to choose another encoding.
        self._password = password.encode("utf-8") if isinstance(password, str) else bytes(password)
        if b"\x00" in self._password:
            raise ValueError("a password cannot contain a NUL byte")
        # Until the WELCOME is answered: then neither the password nor the template is needed again,
        # and a session that stays open for days should not hold them (nor their bytes).
        self._login: Optional[pk.Login80] = pk.Login80(
            uin, hash_type, bytes(64), status, flags, features, version, description, image_size=image_size
        )
        self._login.body()  # refuse a bad uin, status or description now, not when WELCOME arrives
        self.features = features
        self.flags = flags
        self.state = S.CONNECTING
        self._parser = FrameParser(pk.Direction.SERVER_TO_CLIENT)
        # Frames queued for data_to_send(): a list, so that a lone frame goes out as it is, uncopied.
        self._outbox: List[bytes] = []
        self._clock = clock
        self._last_seq = -1  # below every seq: the first one is taken as the clock gives it
        self._login_timeout = login_timeout
        self.ping_interval = ping_interval
        self._close_timeout = close_timeout
        self._monotonic = monotonic
        #: The one deadline of the current state (see get_timer); the login's to begin with.
        self._deadline: Optional[float] = monotonic() + login_timeout
        self._dropping = False  # the server ended the session: sends are dropped, not refused
        self._close_wait: Optional[str] = None  # what the server's close is awaited after
        #: GG_PINGs sent so far, the keep-alive's included: the n-th GG_PONG answers the n-th ping.
        self.pings_sent = 0

    # --- receiving -------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> List[ev.Event]:
        """Feed bytes read from the server (b"" when it closed the stream); return the events, the
        last of them a Closed when the session ended (the caller then closes the socket)."""
        if not data:
            return self._receive_eof()
        if type(data) is not bytes:  # a memoryview of a reused read buffer: the events keep slices of it
            data = bytes(data)
        if self.state is not _CONNECTED or self._parser.buffered:
            if self.state is S.CLOSED:
                raise LocalProtocolError("receive_data() after the session ended (role: client): close the socket")
            return self._receive_frames(data, [], b"")
        # One dispatch per frame: while CONNECTED the whole hot frames at the front of `data` go from
        # (type, body) straight to an event, with no packet object, no parser and no list of frames;
        # the rest (another packet, an unfinished frame) through the parser and the general path.
        events: List[ev.Event] = []
        pos, end = 0, len(data)
        try:
            while end - pos >= HEADER_SIZE:
                kind, length = _unpack_header(data, pos)
                fast = _FAST.get(kind)
                stop = pos + HEADER_SIZE + length
                if fast is None or stop > end or length > MAX_FRAME:
                    break
                events.append(fast(self, data, pos + HEADER_SIZE, stop))
                pos = stop
            else:
                if pos == end:
                    return events
        except MalformedPacket as exc:
            exc.packets = _decoded(_whole_frames(data[:pos]))
            events.append(self._end(exc))
            return events
        return self._receive_frames(data[pos:] if pos else data, events, data[:pos] if pos else b"")

    def _receive_frames(self, data: bytes, events: List[ev.Event], done: bytes) -> List[ev.Event]:
        """receive_data() through the parser, after the events of `done`, the whole frames before
        `data` that the fast loop took (the errors' frames and packets count them, as if one call)."""
        try:
            frames = self._parser.feed_frames(data)
            error: Optional[ProtocolError] = None
        except ProtocolError as exc:  # the frames that came whole before the bad bytes still count
            frames, error = list(exc.frames), exc
        taken = _whole_frames(done) if done else []
        if error is not None and taken:
            error.frames = (*taken, *error.frames)
        # Hot packets while CONNECTED go from (type, body) to an event, as in receive_data(); the rest
        # through decode_packet() and the transition table.
        try:
            for kind, body in frames:
                fast = _FAST.get(kind) if self.state is _CONNECTED else None
                if fast is not None:
                    events.append(fast(self, body, 0, len(body)))
                    continue
                event = self._handle(pk.decode_packet(_FROM_SERVER, kind, body))
                if event is not None:
                    events.append(event)
        except MalformedPacket as exc:
            exc.packets = _decoded(taken + frames[: frames.index((kind, body))])  # as the parser reports them
            error = exc
        except ProtocolError as exc:
            error = exc
        else:
            if error is not None:
                error.packets = _decoded(taken + frames)
        if error is not None:
            events.append(self._end(error))
        return events

    def data_to_send(self) -> bytes:
        """Bytes the machine produced by itself (the login, message receipts); empties the outbox."""
        outbox = self._outbox
        data = b"".join(outbox)  # one frame: that very bytes object; none: b""
        outbox.clear()
        return data

    def _receive_eof(self) -> List[ev.Event]:
        if self.state is S.CLOSED:
            return []
        state = self.state
        try:
            self._parser.feed_eof()
        except ProtocolError as exc:  # a packet was cut short
            return [self._end(exc)]
        self._enter_closed()
        return [ev.Closed(clean=state is S.DISCONNECTING, reason=_CLOSE_REASONS[state])]

    def _enter_closed(self) -> None:
        if self._close_wait != _OUR_LOGOFF:  # after our own logoff a send stays our mistake
            self._dropping = True
        self.state = S.CLOSED
        self._deadline = None
        self._close_wait = None

    def _end(self, error: Exception) -> ev.Closed:
        """The session ends on our side: the Closed that says why, with the error behind it."""
        self._enter_closed()
        return ev.Closed(clean=False, reason=str(error), error=error)

    def _server_ends(self, what: str) -> None:
        """The server announced the end (a refusal, GG_DISCONNECTING): wait for its close, within bounds."""
        if self._close_wait is None:  # a GG_DISCONNECTING after our logoff does not extend the wait
            self._wait_for_close(what)
        self._dropping = True

    def _wait_for_close(self, what: str) -> None:
        self._close_wait = what
        self._deadline = self._monotonic() + self._close_timeout

    # --- time ------------------------------------------------------------------------------------

    def get_timer(self) -> Optional[float]:
        """The moment (on the `monotonic` clock) at which handle_timer() must be called, or None."""
        return self._deadline

    def handle_timer(self, now: float) -> List[ev.Event]:
        """Act on the deadline if `now` has reached it; returns the events (a Closed if it ended the
        session). Early or repeated calls do nothing. Call data_to_send() after it (a keep-alive ping)."""
        deadline = self._deadline
        if deadline is None or now < deadline:
            return []
        state = self.state
        if state is S.CONNECTED:
            interval = self.ping_interval
            assert interval is not None  # a CONNECTED deadline exists only for the keep-alive
            self._outbox.append(pk.Ping().encode())
            self.pings_sent += 1
            # A late wake-up (a busy loop, a suspended machine) sends one ping, not a burst.
            following = deadline + interval
            self._deadline = following if following > now else now + interval
            return []
        if state is S.DISCONNECTING:
            error: Exception = CloseTimeout(
                f"the server did not close the connection within {self._close_timeout:g} s of {self._close_wait}"
            )
        else:
            error = LoginTimeout(f"login timed out: no login verdict from the server within {self._login_timeout:g} s")
        return [self._end(error)]

    def _handle(self, packet: pk.Packet) -> Optional[ev.Event]:
        kind = type(packet)
        next_state = CLIENT_TRANSITIONS[self.state].get(kind)
        if next_state is None:
            raise RemoteProtocolError(
                f"{packet.NAME} from the server is not allowed in state {self.state.name} (role: client)"
            )
        self.state = next_state
        react = _REACTIONS.get(kind)
        # DisconnectAck: the close that follows says it; Unknown: ignored, as libgadu ignores it.
        return react(self, packet) if react is not None else None

    # What each packet from the server becomes (the table _REACTIONS, below the class, maps them).

    def _on_recv_msg(self, packet: pk.RecvMsg80) -> ev.Event:
        if self.features & pk.GG_FEATURE_MSG_ACK:
            self._outbox.append(pk.RecvMsgAck.encode_seq(packet.seq))
        return ev.MessageReceived(packet.sender, packet.seq, packet.time, packet.msgclass,
                                  packet.html, packet.plain, packet.text)

    # The fast handlers read the body data[start:stop] where it lies, without copying it out first.

    def _fast_recv_msg(self, data: bytes, start: int, stop: int) -> ev.Event:
        """GG_RECV_MSG80 while CONNECTED: checked as RecvMsg80.decode checks it, decoded only when read."""
        if stop - start < 25:
            pk._need(_RECV_MSG80_NAME, data[start:stop], 25)
        sender, seq, when, msgclass, offset_plain, offset_attr = _unpack_recv_msg80(data, start)
        # message_parts()'s rules in two scans: each part's first NUL is the one that ends it. Anything
        # else (no HTML part, bad offsets, a stray NUL) goes to message_parts(), which says what is wrong.
        plain_at, attr_at = start + offset_plain, start + offset_attr
        if (24 < offset_plain < offset_attr and attr_at <= stop and data.find(0, start + 24, plain_at) == plain_at - 1
                and data.find(0, plain_at, attr_at) == attr_at - 1):
            html: Union[bytes, str] = data[start + 24 : plain_at - 1]
            plain = data[plain_at : attr_at - 1]
        else:
            html, plain = pk.message_parts(_RECV_MSG80_NAME, data[start:stop], 24, offset_plain, offset_attr)
        if not html.isascii():  # decoded now to check it, so kept as the str it decodes to
            try:
                html = html.decode("utf-8")  # type: ignore[union-attr]
            except UnicodeDecodeError:
                pk.check_html(_RECV_MSG80_NAME, html)  # type: ignore[arg-type]
                raise
        if self.features & _FEATURE_MSG_ACK:
            self._outbox.append(_pack_recv_msg_ack(_GG_RECV_MSG_ACK, 4, seq))
        return _message_from_wire(sender, seq, when, msgclass, html, plain)

    def _fast_send_msg_ack(self, data: bytes, start: int, stop: int) -> ev.Event:
        """GG_SEND_MSG_ACK while CONNECTED: the event is the tuple struct unpacks, given its class."""
        if stop - start < 12:
            pk._need(pk.SendMsgAck.NAME, data[start:stop], 12)
        return _ack_from_wire(_unpack_u32x3(data, start))

    def _on_send_msg_ack(self, packet: pk.SendMsgAck) -> ev.Event:
        return ev.MessageAck(packet.recipient, packet.seq, packet.status)

    def _on_status(self, packet: pk.Status80) -> ev.Event:
        entry = packet.entry
        return ev.StatusChanged(entry.uin, entry.status, entry.description)

    def _on_notify_reply(self, packet: pk.NotifyReply80) -> ev.Event:
        return ev.ContactsReply(tuple(ev.StatusChanged(e.uin, e.status, e.description) for e in packet.entries))

    def _on_typing(self, packet: pk.TypingNotify) -> ev.Event:
        return ev.Typing(packet.uin, packet.length)

    def _on_pong(self, packet: pk.Pong) -> ev.Event:
        return ev.Pong()

    def _on_welcome(self, packet: pk.Welcome) -> None:
        login = self._login
        assert login is not None  # a second WELCOME is refused by the table (LOGGING_IN)
        field = login_hash_field(login.hash_type, self._password, packet.seed)
        self._outbox.append(pk.Login80(login.uin, login.hash_type, field, login.status, login.flags,
                                       login.features, login.version, login.description,
                                       image_size=login.image_size).encode())
        self._login, self._password = None, b""
        return None

    def _on_login_ok(self, packet: pk.Packet) -> ev.Event:
        interval = self.ping_interval
        self._deadline = self._monotonic() + interval if interval is not None else None
        return ev.LoginOk()

    def _on_login_failed(self, packet: pk.Packet) -> ev.Event:
        self._server_ends("refusing the login")
        if type(packet) is pk.LoginHashTypeInvalid:
            return ev.LoginFailed("the server does not accept the hash type of the login (GG_LOGIN_HASH_TYPE_INVALID)")
        return ev.LoginFailed()

    def _on_disconnecting(self, packet: pk.Disconnecting) -> ev.Event:
        self._server_ends("its GG_DISCONNECTING")
        return ev.Disconnecting()

    # --- sending ---------------------------------------------------------------------------------

    def _check_send(self, what: str) -> bool:
        """True when the send goes out; False when it is dropped because the server ended the session."""
        if self.state in _SENDS_ALLOWED:
            return True
        if self._dropping:
            return False
        raise LocalProtocolError(
            f"cannot send {what} in state {self.state.name} (role: client); sends need CONNECTED"
        )

    def send_contacts(self, contacts: Iterable[Contact]) -> bytes:
        """The contact list: GG_LIST_EMPTY when empty, else GG_NOTIFY_FIRST chunks of 400 and a GG_NOTIFY_LAST.

        Contacts are uins (sent as GG_USER_NORMAL) or NotifyEntry values.
        """
        if not self._check_send("the contact list"):
            return b""
        entries = tuple(c if isinstance(c, pk.NotifyEntry) else pk.NotifyEntry(c) for c in contacts)
        if not entries:
            return pk.ListEmpty().encode()
        chunks = [entries[i : i + NOTIFY_CHUNK] for i in range(0, len(entries), NOTIFY_CHUNK)]
        frames = [pk.NotifyFirst(chunk).encode() for chunk in chunks[:-1]]
        frames.append(pk.NotifyLast(chunks[-1]).encode())
        return b"".join(frames)

    def send_add_contact(self, uin: int, user_type: int = pk.GG_USER_NORMAL) -> bytes:
        """GG_ADD_NOTIFY: add type bits for one contact."""
        if not self._check_send("GG_ADD_NOTIFY"):
            return b""
        return pk.AddNotify(uin, user_type).encode()

    def send_remove_contact(self, uin: int, user_type: int = pk.GG_USER_NORMAL) -> bytes:
        """GG_REMOVE_NOTIFY: remove type bits for one contact."""
        if not self._check_send("GG_REMOVE_NOTIFY"):
            return b""
        return pk.RemoveNotify(uin, user_type).encode()

    def send_status(self, status: int, description: str = "") -> bytes:
        """GG_NEW_STATUS80 with our login flags. Use send_logoff() to go NOT_AVAIL."""
        if not self._check_send("GG_NEW_STATUS80"):
            return b""
        if status & pk.GG_STATUS_MASK in (pk.GG_STATUS_NOT_AVAIL, pk.GG_STATUS_NOT_AVAIL_DESCR):
            raise LocalProtocolError("going NOT_AVAIL ends the session: use send_logoff()")
        return pk.NewStatus80(status, self.flags, description).encode()

    def send_message(self, recipient: int, text: str, msgclass: int = pk.GG_CLASS_CHAT) -> Tuple[bytes, int]:
        """GG_SEND_MSG80 built from text as libgadu builds it; returns the bytes and the seq used.

        seq is the time in seconds, bumped by one whenever it would not be above the last one, so it
        increases strictly within a connection (libgadu does the same; seqs repeat across senders).
        """
        sending = self.state is _CONNECTED or self._check_send("GG_SEND_MSG80")
        seq = int(self._clock()) & 0xFFFFFFFF
        last = self._last_seq
        if seq <= last:
            seq = last + 1
        data = _encode_text(recipient, seq, text, msgclass)
        self._last_seq = seq
        return (data if sending else b""), seq

    def send_typing(self, recipient: int, length: int) -> bytes:
        """GG_TYPING_NOTIFY: `length` characters typed so far, 0 when we stopped."""
        if not self._check_send("GG_TYPING_NOTIFY"):
            return b""
        return pk.TypingNotify(length, recipient).encode()

    def send_ping(self) -> bytes:
        """GG_PING; the server may answer with GG_PONG (a Pong event)."""
        if not self._check_send("GG_PING"):
            return b""
        self.pings_sent += 1
        return pk.Ping().encode()

    def send_logoff(self, description: str = "") -> bytes:
        """GG_NEW_STATUS80 NOT_AVAIL (NOT_AVAIL_DESCR with a description); then DISCONNECTING until EOF."""
        if not self._check_send("the logoff"):
            return b""
        status = pk.GG_STATUS_NOT_AVAIL_DESCR if description else pk.GG_STATUS_NOT_AVAIL
        data = pk.NewStatus80(status, self.flags, description).encode()
        self.state = S.DISCONNECTING
        self._wait_for_close(_OUR_LOGOFF)
        return data


#: The hot packets of a CONNECTED session, by type: what receive_data() calls with the bytes that hold
#: the body and where it starts and stops in them.
_FAST: Dict[int, Callable[[ClientConnection, bytes, int, int], ev.Event]] = {
    pk.GG_RECV_MSG80: ClientConnection._fast_recv_msg,
    pk.GG_SEND_MSG_ACK: ClientConnection._fast_send_msg_ack,
}
_FROM_SERVER = pk.Direction.SERVER_TO_CLIENT
_unpack_header = pk.HEADER.unpack_from
_RECV_MSG80_NAME = pk.RecvMsg80.NAME
_unpack_recv_msg80 = struct.Struct("<IIIIII").unpack_from
_unpack_u32x3 = struct.Struct("<III").unpack_from
_pack_recv_msg_ack = struct.Struct("<III").pack
_message_from_wire = ev.MessageReceived.from_wire
_encode_text = pk.SendMsg80.encode_text
_FEATURE_MSG_ACK, _GG_RECV_MSG_ACK = pk.GG_FEATURE_MSG_ACK, pk.GG_RECV_MSG_ACK


_new = object.__new__
_CONNECTED, _ack_from_wire = S.CONNECTED, ev.MessageAck.from_wire


def _whole_frames(data: bytes) -> List[Tuple[int, bytes]]:
    """The frames of `data`, whole frames that receive_data()'s fast loop has taken (for its errors)."""
    return FrameParser(_FROM_SERVER).feed_frames(data)


def _decoded(frames: List[Tuple[int, bytes]]) -> Tuple[pk.Packet, ...]:
    """The packets of frames that came whole before an error (they decode: they came before it)."""
    return tuple(pk.decode_packet(_FROM_SERVER, kind, body) for kind, body in frames)


#: The reaction to each packet type that means something to the application (a dict: one lookup,
#: where a chain of isinstance tests costs one call per type tried).
_REACTIONS: Dict[Type[pk.Packet], Callable[[ClientConnection, Any], Optional[ev.Event]]] = {
    pk.RecvMsg80: ClientConnection._on_recv_msg,
    pk.SendMsgAck: ClientConnection._on_send_msg_ack,
    pk.Status80: ClientConnection._on_status,
    pk.NotifyReply80: ClientConnection._on_notify_reply,
    pk.TypingNotify: ClientConnection._on_typing,
    pk.Pong: ClientConnection._on_pong,
    pk.Welcome: ClientConnection._on_welcome,
    pk.Login80Ok: ClientConnection._on_login_ok,
    pk.LoginOk: ClientConnection._on_login_ok,
    pk.NeedEmail: ClientConnection._on_login_ok,
    pk.Login80Failed: ClientConnection._on_login_failed,
    pk.LoginFailed: ClientConnection._on_login_failed,
    pk.LoginHashTypeInvalid: ClientConnection._on_login_failed,
    pk.Disconnecting: ClientConnection._on_disconnecting,
}
