"""The events a client connection reports, shared by every client implementation (all four styles).

They say what happened in the protocol's terms; they hold no bytes and no I/O. Every session ends
with one Closed, whatever ended it: the server's close, a protocol error (Closed.error), a timeout.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple, Union

__all__ = [
    "Closed",
    "ContactsReply",
    "Disconnecting",
    "Event",
    "LoginFailed",
    "LoginOk",
    "MessageAck",
    "MessageReceived",
    "Pong",
    "StatusChanged",
    "Typing",
]


@dataclass(frozen=True)
class LoginOk:
    """The server accepted the login (GG_LOGIN80_OK, or GG_LOGIN_OK or GG_NEED_EMAIL as libgadu also
    takes them); sends are now allowed."""


@dataclass(frozen=True)
class LoginFailed:
    """The server refused the login: wrong password or unknown uin (GG_LOGIN80_FAILED or
    GG_LOGIN_FAILED), or our hash type (GG_LOGIN_HASH_TYPE_INVALID); `reason` says which."""

    reason: str = "wrong password or unknown uin"


@dataclass(frozen=True)
class MessageReceived:
    """A message (GG_RECV_MSG80). `text` is read from the HTML part when there is one, else from
    the plain part (gadu.packets.message_text); `msgclass` has GG_CLASS_QUEUED when it waited offline."""

    sender: int
    seq: int
    time: int
    msgclass: int
    html: str
    plain: str
    text: str


@dataclass(frozen=True)
class MessageAck:
    """The server's verdict on a message we sent (GG_SEND_MSG_ACK): status is a GG_ACK_* value."""

    recipient: int
    seq: int
    status: int


@dataclass(frozen=True)
class StatusChanged:
    """A contact's status (GG_STATUS80, or one entry of GG_NOTIFY_REPLY80)."""

    uin: int
    status: int
    description: str = ""


@dataclass(frozen=True)
class ContactsReply:
    """The statuses of the online contacts of the list we sent (one GG_NOTIFY_REPLY80 packet;
    a long reply comes as several of these)."""

    entries: Tuple[StatusChanged, ...]


@dataclass(frozen=True)
class Typing:
    """A contact is typing (GG_TYPING_NOTIFY): `length` characters typed so far, 0 when it stopped."""

    uin: int
    length: int


@dataclass(frozen=True)
class Pong:
    """The server answered our ping (GG_PONG)."""


@dataclass(frozen=True)
class Disconnecting:
    """The server announced it will drop us (GG_DISCONNECTING); a clean Closed follows."""


@dataclass(frozen=True)
class Closed:
    """The session is over. `clean` when the server closed as expected (after a logoff, a refused
    login, or GG_DISCONNECTING); otherwise `reason` says what ended it, and `error` is the exception
    behind it when the core ended it itself (a gadu.errors.ProtocolError for bad bytes, LoginTimeout,
    CloseTimeout): the client then closes the socket. Events before it came whole and count."""

    clean: bool
    reason: str
    error: Optional[BaseException] = field(default=None, compare=False, repr=False)


Event = Union[
    LoginOk, LoginFailed, MessageReceived, MessageAck, StatusChanged, ContactsReply, Typing, Pong, Disconnecting,
    Closed,
]
