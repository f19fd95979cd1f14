"""The events a client connection reports, shared by every client implementation (all four styles).

They say what happened in the protocol's terms; they hold no bytes and no I/O. Every session ends
with one Closed, whatever ended it: the server's close, a protocol error (Closed.error), a timeout.
"""
from __future__ import annotations

from codecs import charmap_decode as _decode_cp1250
from dataclasses import FrozenInstanceError, dataclass, field
from operator import itemgetter as _itemgetter
from typing import Optional, Tuple, Union

from .packets import CP1250_LIBGADU_DECODING as _CP1250_LIBGADU
from .packets import message_text

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


class _MessageFields:
    """The slots of MessageReceived, without its frozen __setattr__: from_wire() fills an instance of
    this class with plain slot stores, then makes it a MessageReceived (same layout, so __class__ may
    be assigned), where object.__setattr__ per field costs four times as much."""

    __slots__ = ("_html", "_plain", "_text", "msgclass", "sender", "seq", "time")
    sender: int
    seq: int
    time: int
    msgclass: int
    # bytes from the wire until first read, then the str they decode to
    _html: Union[str, bytes]
    _plain: Union[str, bytes]
    _text: Optional[str]


class MessageReceived(_MessageFields):
    """A message (GG_RECV_MSG80). `text` is read from the HTML part when there is one, else from
    the plain part (gadu.packets.message_text); `msgclass` has GG_CLASS_QUEUED when it waited offline.

    Frozen, compared and hashed by its seven fields, like the other events. The core builds it from
    the wire with `from_wire`: the parts stay bytes until `html` or `plain` is read, and the HTML is
    parsed into `text` only when `text` is read (the bytes were checked when the packet arrived).
    """

    __slots__ = ()

    def __init__(self, sender: int, seq: int, time: int, msgclass: int, html: str, plain: str, text: str) -> None:
        _set = object.__setattr__
        _set(self, "sender", sender)
        _set(self, "seq", seq)
        _set(self, "time", time)
        _set(self, "msgclass", msgclass)
        _set(self, "_html", html)
        _set(self, "_plain", plain)
        _set(self, "_text", text)

    @classmethod
    def from_wire(cls, sender: int, seq: int, time: int, msgclass: int, html: Union[bytes, str],
                  plain: bytes) -> MessageReceived:
        """The event for checked wire parts: `html` valid UTF-8 (or the str it decodes to), `plain`
        CP1250, neither with its NUL."""
        self = _new(_MessageFields)
        self.sender = sender
        self.seq = seq
        self.time = time
        self.msgclass = msgclass
        self._html = html
        self._plain = plain
        self._text = None
        self.__class__ = cls
        return self  # type: ignore[return-value]

    @property
    def html(self) -> str:
        html = self._html
        if type(html) is bytes:
            html = html.decode("utf-8")
            _set_html(self, html)
        return html  # type: ignore[return-value]

    @property
    def plain(self) -> str:
        plain = self._plain
        if type(plain) is bytes:
            plain = plain.decode("ascii") if plain.isascii() else _decode_cp1250(plain, "strict", _CP1250_LIBGADU)[0]
            _set_plain(self, plain)
        return plain  # type: ignore[return-value]

    @property
    def text(self) -> str:
        text = self._text
        if text is None:
            text = message_text(self.html, self.plain)
            object.__setattr__(self, "_text", text)
        return text

    def _fields(self) -> Tuple[int, int, int, int, str, str, str]:
        return (self.sender, self.seq, self.time, self.msgclass, self.html, self.plain, self.text)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return ("MessageReceived(sender={!r}, seq={!r}, time={!r}, msgclass={!r}, html={!r}, plain={!r}, "
                "text={!r})".format(*self._fields()))

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> Tuple[type, Tuple[int, int, int, int, str, str, str]]:
        return (MessageReceived, self._fields())


_new = object.__new__
_new_tuple = tuple.__new__
# The slots' own setters: object.__setattr__ would look each slot up in the class first.
_set_html, _set_plain = vars(_MessageFields)["_html"].__set__, vars(_MessageFields)["_plain"].__set__


class MessageAck(tuple):
    """The server's verdict on a message we sent (GG_SEND_MSG_ACK): status is a GG_ACK_* value.

    Compared, hashed, shown, pickled and frozen like a frozen dataclass of (recipient, seq, status);
    a tuple underneath, in the wire's order (status, recipient, seq), so that the client's hot path
    builds it with one call from what struct unpacks (from_wire).
    """

    __slots__ = ()
    __match_args__ = ("recipient", "seq", "status")

    def __new__(cls, recipient: int, seq: int, status: int) -> MessageAck:
        return _new_tuple(cls, (status, recipient, seq))

    @classmethod
    def from_wire(cls, fields: Tuple[int, int, int]) -> MessageAck:
        """The event for a GG_SEND_MSG_ACK body's (status, recipient, seq)."""
        return _new_tuple(cls, fields)

    recipient: int = property(_itemgetter(1))  # type: ignore[assignment]
    seq: int = property(_itemgetter(2))  # type: ignore[assignment]
    status: int = property(_itemgetter(0))  # type: ignore[assignment]

    def _fields(self) -> Tuple[int, int, int]:
        return (self[1], self[2], self[0])

    # False, not NotImplemented, for other kinds: a plain tuple's own == would then compare the items.
    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__ and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return "MessageAck(recipient={!r}, seq={!r}, status={!r})".format(*self._fields())

    def __reduce__(self) -> Tuple[type, Tuple[int, int, int]]:
        return (MessageAck, self._fields())

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


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
