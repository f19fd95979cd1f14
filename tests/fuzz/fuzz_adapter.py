"""Every call the fuzz tests make into the protocol core, in one place.

The state-machine tests and the frame fuzzer reach ClientConnection, ServerSession, FrameParser and
the packet decoders only through these functions, so that a change of the core's API (timers, how
the events before a fault come out of receive_data) is met here, in a few lines.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

import gadu
from gadu import events as ev
from gadu import packets as pk
from gadu import server_session as ss
from gadu.client import ClientConnection, ClientState
from gadu.errors import (
    FrameTooLarge,
    LocalProtocolError,
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
    "FrameTooLarge",
    "LocalProtocolError",
    "MalformedPacket",
    "ProtocolError",
    "RemoteProtocolError",
    "ServerState",
    "TruncatedFrame",
    "client_receive",
    "client_send",
    "decode",
    "ev",
    "is_closed",
    "login_hash_field",
    "new_client",
    "new_parser",
    "new_server",
    "parser_buffered",
    "parser_eof",
    "parser_feed",
    "pk",
    "server_receive",
    "server_send",
    "server_sends_allowed",
    "ss",
]

#: The folder the core is imported from, for a fuzzer run in a child process.
CORE_ROOT = Path(gadu.__file__).resolve().parent.parent


def new_client(uin: int, password: str, clock: Callable[[], float]) -> ClientConnection:
    return ClientConnection(uin, password, clock=clock)


def new_server(passwords: Callable[[int], Optional[bytes]], seed: int) -> Tuple[ServerSession, bytes]:
    """The session and the bytes it opens the connection with (GG_WELCOME)."""
    session = ServerSession(passwords, seed=seed)
    return session, session.start()


def is_closed(conn: Any) -> bool:
    """Whether a ClientConnection or ServerSession has ended for good."""
    return conn.state in (ClientState.CLOSED, ServerState.CLOSED)


def client_receive(conn: ClientConnection, data: bytes) -> Tuple[List[ev.Event], Optional[ProtocolError], bytes]:
    """(events, error, answer): every event the bytes made, the good ones before a fault included;
    the error that ended the connection, if any; the bytes the machine answered by itself."""
    try:
        events = conn.receive_data(data)
        error = None
    except ProtocolError as exc:
        events, error = list(exc.events), exc
    return events, error, conn.data_to_send()


def server_receive(session: ServerSession, data: bytes) -> Tuple[List[ss.ServerEvent], Optional[ProtocolError], bytes]:
    """As client_receive, for the server session."""
    try:
        events = session.receive_data(data)
        error = None
    except ProtocolError as exc:
        events, error = list(exc.events), exc
    return events, error, session.data_to_send()


#: The states in which the core accepts an application's sends; elsewhere it refuses them.
CLIENT_SENDS_ALLOWED = frozenset({ClientState.CONNECTED})


def server_sends_allowed(what: str) -> frozenset:
    return frozenset({ServerState.DISCONNECTING if what == "disconnect_ack" else ServerState.CONNECTED})


def client_send(conn: ClientConnection, what: str, *args: Any) -> Any:
    """One client send (contacts, add, remove, status, message, typing, ping, logoff): its bytes
    ((bytes, seq) for a message, as the core returns them), or None when the core refused it."""
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
