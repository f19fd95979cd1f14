"""Every call the fuzz tests make into the protocol core, in one place.

The state-machine tests and the frame fuzzer reach ClientConnection, ServerSession, FrameParser and
the packet decoders only through these functions, so that a change of the core's API (timers, how
the events before a fault come out of receive_data) is met here, in a few lines.

Today's core: receive_data() returns the good events and then one closing event (Closed /
ConnectionClosed, `.error` the exception behind an unclean end), and raises LocalProtocolError when
fed after that end; handle_timer(now) acts on get_timer()'s deadline; a client send after the server
ended the session is dropped (b""), one before the login verdict or after our own logoff refused.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import gadu
from gadu import events as ev
from gadu import packets as pk
from gadu import server_session as ss
from gadu.client import ClientConnection, ClientState
from gadu.errors import (
    CloseTimeout,
    FrameTooLarge,
    LocalProtocolError,
    LoginTimeout,
    MalformedPacket,
    ProtocolError,
    RemoteProtocolError,
    TruncatedFrame,
)
from gadu.framing import FrameParser
from gadu.hashing import GG_LOGIN_HASH_SHA1, login_hash_field
from gadu.limits import HEADER_SIZE, MAX_FRAME
from gadu.server_session import ServerSession, ServerState

__all__ = [
    "CLIENT_SENDS_ALLOWED",
    "CORE_ROOT",
    "GG_LOGIN_HASH_SHA1",
    "HEADER_SIZE",
    "MAX_FRAME",
    "ClientState",
    "CloseTimeout",
    "FrameTooLarge",
    "LocalProtocolError",
    "LoginTimeout",
    "MalformedPacket",
    "ProtocolError",
    "RemoteProtocolError",
    "ServerState",
    "TruncatedFrame",
    "client_receive",
    "client_send",
    "client_send_outcome",
    "client_timer",
    "closing_event",
    "decode",
    "ev",
    "is_closed",
    "login_hash_field",
    "new_client",
    "new_parser",
    "new_server",
    "next_deadline",
    "parser_buffered",
    "parser_eof",
    "parser_feed",
    "pk",
    "server_receive",
    "server_send",
    "server_sends_allowed",
    "server_timer",
    "ss",
]

#: The folder the core is imported from, for a fuzzer run in a child process.
CORE_ROOT = Path(gadu.__file__).resolve().parent.parent


def new_client(
    uin: int,
    password: str,
    clock: Callable[[], float],
    monotonic: Optional[Callable[[], float]] = None,
    *,
    login_timeout: Optional[float] = None,
    ping_interval: Optional[float] = None,
    close_timeout: Optional[float] = None,
) -> ClientConnection:
    """`clock` gives message seqs (wall seconds); `monotonic` the deadlines (default: the real one).
    A timeout left None is the core's default; ping_interval None sends no keep-alive."""
    limits: Dict[str, Any] = {"ping_interval": ping_interval}
    if monotonic is not None:
        limits["monotonic"] = monotonic
    if login_timeout is not None:
        limits["login_timeout"] = login_timeout
    if close_timeout is not None:
        limits["close_timeout"] = close_timeout
    return ClientConnection(uin, password, clock=clock, **limits)


def new_server(
    passwords: Callable[[int], Optional[bytes]],
    seed: int,
    monotonic: Optional[Callable[[], float]] = None,
    *,
    login_timeout: Optional[float] = None,
    idle_timeout: Optional[float] = None,
) -> Tuple[ServerSession, bytes]:
    """The session and the bytes it opens the connection with (GG_WELCOME). A limit left None is the
    core's default login timeout, and no idle limit."""
    limits: Dict[str, Any] = {"idle_timeout": idle_timeout}
    if monotonic is not None:
        limits["monotonic"] = monotonic
    if login_timeout is not None:
        limits["login_timeout"] = login_timeout
    session = ServerSession(passwords, seed=seed, **limits)
    return session, session.start()


def is_closed(conn: Any) -> bool:
    """Whether a ClientConnection or ServerSession has ended for good."""
    return conn.state in (ClientState.CLOSED, ServerState.CLOSED)


def closing_event(events: List[Any]) -> Optional[Any]:
    """The Closed / ConnectionClosed that ends `events`, if the session ended there."""
    if events and isinstance(events[-1], (ev.Closed, ss.ConnectionClosed)):
        return events[-1]
    return None


def _outcome(events: List[Any], answer: bytes) -> Tuple[List[Any], Optional[BaseException], bytes]:
    closed = closing_event(events)
    return events, None if closed is None else closed.error, answer


def client_receive(conn: ClientConnection, data: bytes) -> Tuple[List[ev.Event], Optional[BaseException], bytes]:
    """(events, error, answer): every event the bytes made, the good ones before a fault and the
    closing Closed included; the error behind that Closed, if any; the bytes the machine answered
    by itself. Feeding bytes after the end raises LocalProtocolError (the caller's mistake)."""
    events = conn.receive_data(data)
    return _outcome(events, conn.data_to_send())


def server_receive(session: ServerSession, data: bytes) -> Tuple[List[ss.ServerEvent], Optional[BaseException], bytes]:
    """As client_receive, for the server session."""
    events = session.receive_data(data)
    return _outcome(events, session.data_to_send())


def next_deadline(conn: Any) -> Optional[float]:
    """When a ClientConnection or ServerSession wants handle_timer() called (its monotonic clock), or None."""
    return conn.get_timer()


def client_timer(conn: ClientConnection, now: float) -> Tuple[List[ev.Event], Optional[BaseException], bytes]:
    """handle_timer(now), as client_receive reports it (a keep-alive ping comes out as the answer)."""
    events = conn.handle_timer(now)
    return _outcome(list(events), conn.data_to_send())


def server_timer(session: ServerSession, now: float) -> Tuple[List[ss.ServerEvent], Optional[BaseException], bytes]:
    events = session.handle_timer(now)
    return _outcome(list(events), session.data_to_send())


#: The states in which the core sends an application's sends; elsewhere it drops or refuses them.
CLIENT_SENDS_ALLOWED = frozenset({ClientState.CONNECTED})


def client_send_outcome(state: ClientState, server_ended: bool) -> str:
    """What a client send must do (docs/protocol.md#sends-after-the-end): "sent" when logged in;
    "dropped" once the server ended the session (a refusal, GG_DISCONNECTING, or an end that did not
    follow our own logoff: EOF, a fault, a timeout); "refused" before the verdict or after our logoff."""
    if state in CLIENT_SENDS_ALLOWED:
        return "sent"
    return "dropped" if server_ended else "refused"


def server_sends_allowed(what: str) -> frozenset:
    return frozenset({ServerState.DISCONNECTING if what == "disconnect_ack" else ServerState.CONNECTED})


def client_send(conn: ClientConnection, what: str, *args: Any) -> Any:
    """One client send (contacts, add, remove, status, message, typing, ping, logoff): its bytes
    ((bytes, seq) for a message, as the core returns them), b"" (or (b"", seq)) when the core
    dropped it, or None when the core refused it."""
    method = {
        "contacts": conn.send_contacts, "add": conn.send_add_contact, "remove": conn.send_remove_contact,
        "status": conn.send_status, "message": conn.send_message, "typing": conn.send_typing,
        "ping": conn.send_ping, "logoff": conn.send_logoff,
    }[what]
    try:
        return method(*args)
    except LocalProtocolError:
        return None


def server_send(session: ServerSession, what: str, *args: Any) -> Optional[bytes]:
    """One server send (notify_reply, status, message, ack, typing, pong, disconnecting,
    disconnect_ack): its bytes, or None when the core refused it."""
    method = {
        "notify_reply": session.send_notify_reply, "status": session.send_status,
        "message": session.send_message, "ack": session.send_ack, "typing": session.send_typing,
        "pong": session.send_pong, "disconnecting": session.send_disconnecting,
        "disconnect_ack": session.send_disconnect_ack,
    }[what]
    try:
        return method(*args)
    except LocalProtocolError:
        return None


def new_parser(direction: pk.Direction, max_frame: int = MAX_FRAME) -> FrameParser:
    return FrameParser(direction, max_frame)


def parser_feed(parser: FrameParser, data: bytes) -> Tuple[List[pk.Packet], Optional[ProtocolError]]:
    """(packets, error): the packets `data` completed, the good ones before a fault included."""
    return parser.feed_until_error(data)


def parser_eof(parser: FrameParser) -> None:
    parser.feed_eof()


def parser_buffered(parser: FrameParser) -> int:
    return parser.buffered


def decode(direction: pk.Direction, packet_type: int, body: bytes) -> pk.Packet:
    return pk.decode_packet(direction, packet_type, body)
