"""Every GG 8.0 packet this project speaks, one frozen dataclass each, plus the constants they carry.

`encode()` gives the whole frame (8-byte `<II` header, then the body); `decode(body)` takes the body only.
Decoding a known type with a bad body raises MalformedPacket; an unknown type decodes to Unknown.
Fixed-layout bodies may carry trailing bytes (ignored, as libgadu does with a long WELCOME);
variable-layout bodies (descriptions, lists, messages) must account for every byte.
"""
from __future__ import annotations

import encodings.cp1250
import enum
import re
import struct
from codecs import charmap_decode as _charmap_decode
from codecs import charmap_encode as _charmap_encode
from dataclasses import dataclass
from typing import Callable, ClassVar, Dict, Iterable, List, Tuple, Type, TypeVar

from .errors import DescriptionTooLong, LocalProtocolError, MalformedPacket, MessageTooLong
from .limits import HASH_FIELD_SIZE, MAX_DESCRIPTION, MAX_FRAME, MAX_MESSAGE

__all__ = [
    "DEFAULT_ATTRIBUTES",
    "GG8_FEATURES",
    "GG8_FLAGS",
    "GG8_VERSION",
    "GG_ACK_BLOCKED",
    "GG_ACK_DELIVERED",
    "GG_ACK_MBOXFULL",
    "GG_ACK_NOT_DELIVERED",
    "GG_ACK_QUEUED",
    "GG_ADD_NOTIFY",
    "GG_CLASS_ACK",
    "GG_CLASS_CHAT",
    "GG_CLASS_CTCP",
    "GG_CLASS_MSG",
    "GG_CLASS_QUEUED",
    "GG_DISCONNECTING",
    "GG_DISCONNECT_ACK",
    "GG_FEATURE_DND_FFC",
    "GG_FEATURE_IMAGE_DESCR",
    "GG_FEATURE_MSG80",
    "GG_FEATURE_MSG_ACK",
    "GG_FEATURE_MULTILOGON",
    "GG_FEATURE_STATUS80",
    "GG_FEATURE_STATUS80BETA",
    "GG_FEATURE_TYPING_NOTIFICATION",
    "GG_FEATURE_UNKNOWN_40",
    "GG_FEATURE_UNKNOWN_100",
    "GG_FEATURE_USER_DATA",
    "GG_FONT_BOLD",
    "GG_FONT_COLOR",
    "GG_FONT_IMAGE",
    "GG_FONT_ITALIC",
    "GG_FONT_UNDERLINE",
    "GG_LIST_EMPTY",
    "GG_LOGIN80",
    "GG_LOGIN80_FAILED",
    "GG_LOGIN80_OK",
    "GG_LOGIN_FAILED",
    "GG_LOGIN_HASH_TYPE_INVALID",
    "GG_LOGIN_OK",
    "GG_NEED_EMAIL",
    "GG_NEW_STATUS80",
    "GG_NOTIFY_FIRST",
    "GG_NOTIFY_LAST",
    "GG_NOTIFY_REPLY80",
    "GG_PING",
    "GG_PONG",
    "GG_RECV_MSG80",
    "GG_RECV_MSG_ACK",
    "GG_REMOVE_NOTIFY",
    "GG_SEND_MSG80",
    "GG_SEND_MSG_ACK",
    "GG_STATUS80",
    "GG_STATUS_AVAIL",
    "GG_STATUS_AVAIL_DESCR",
    "GG_STATUS_BLOCKED",
    "GG_STATUS_BUSY",
    "GG_STATUS_BUSY_DESCR",
    "GG_STATUS_DESCR_MASK",
    "GG_STATUS_DND",
    "GG_STATUS_DND_DESCR",
    "GG_STATUS_FFC",
    "GG_STATUS_FFC_DESCR",
    "GG_STATUS_FLAG_MOBILE",
    "GG_STATUS_FLAG_SPAM",
    "GG_STATUS_FLAG_UNKNOWN",
    "GG_STATUS_FLAG_VIDEO",
    "GG_STATUS_FRIENDS_MASK",
    "GG_STATUS_IMAGE_MASK",
    "GG_STATUS_INVISIBLE",
    "GG_STATUS_INVISIBLE_DESCR",
    "GG_STATUS_MASK",
    "GG_STATUS_NOT_AVAIL",
    "GG_STATUS_NOT_AVAIL_DESCR",
    "GG_TYPING_NOTIFY",
    "GG_USER_BLOCKED",
    "GG_USER_BUDDY",
    "GG_USER_FRIEND",
    "GG_USER_NORMAL",
    "GG_USER_OFFLINE",
    "GG_WELCOME",
    "HEADER",
    "AddNotify",
    "Direction",
    "DisconnectAck",
    "Disconnecting",
    "ListEmpty",
    "Login80",
    "Login80Failed",
    "Login80Ok",
    "LoginFailed",
    "LoginHashTypeInvalid",
    "LoginOk",
    "NeedEmail",
    "NewStatus80",
    "NotifyEntry",
    "NotifyFirst",
    "NotifyLast",
    "NotifyReply80",
    "Packet",
    "Ping",
    "Pong",
    "RecvMsg80",
    "RecvMsgAck",
    "RemoveNotify",
    "SendMsg80",
    "SendMsgAck",
    "Status80",
    "StatusEntry",
    "TypingNotify",
    "Unknown",
    "Welcome",
    "decode_packet",
    "html_from_text",
    "message_text",
    "packet_class",
    "packet_name",
    "plain_from_text",
    "relay_recv_msg80",
    "relayable",
    "split_notify_reply",
    "status_has_description",
    "text_from_html",
]

# Packet types (protocol.html 1.3 to 1.9; libgadu.h). 0x000b and 0x000d mean different things
# in the two directions, hence the registry keyed by (direction, type) below.
GG_WELCOME = 0x0001  # S->C 1.3
GG_LOGIN_OK = 0x0003  # S->C 1.3 (older servers; libgadu takes it as success)
GG_SEND_MSG_ACK = 0x0005  # S->C 1.6
GG_PONG = 0x0007  # S->C 1.9
GG_PING = 0x0008  # C->S 1.9
GG_LOGIN_FAILED = 0x0009  # S->C 1.3
GG_DISCONNECTING = 0x000B  # S->C 1.12
GG_ADD_NOTIFY = 0x000D  # C->S 1.5
GG_DISCONNECT_ACK = 0x000D  # S->C 1.12 (after NOT_AVAIL)
GG_REMOVE_NOTIFY = 0x000E  # C->S 1.5
GG_NOTIFY_FIRST = 0x000F  # C->S 1.5
GG_NOTIFY_LAST = 0x0010  # C->S 1.5
GG_LIST_EMPTY = 0x0012  # C->S 1.5
GG_NEED_EMAIL = 0x0014  # S->C 1.3 (logged in; the account has no e-mail: libgadu takes it as success)
GG_LOGIN_HASH_TYPE_INVALID = 0x0016  # S->C 1.3 (the server does not know our hash type)
GG_SEND_MSG80 = 0x002D  # C->S 1.6
GG_RECV_MSG80 = 0x002E  # S->C 1.7
GG_LOGIN80 = 0x0031  # C->S 1.3
GG_LOGIN80_OK = 0x0035  # S->C 1.3
GG_STATUS80 = 0x0036  # S->C 1.5
GG_NOTIFY_REPLY80 = 0x0037  # S->C 1.5
GG_NEW_STATUS80 = 0x0038  # C->S 1.4
GG_LOGIN80_FAILED = 0x0043  # S->C 1.3
GG_RECV_MSG_ACK = 0x0046  # C->S 1.7
GG_TYPING_NOTIFY = 0x0059  # both 1.8

# Statuses (protocol.html 1.4).
GG_STATUS_NOT_AVAIL = 0x0001
GG_STATUS_NOT_AVAIL_DESCR = 0x0015
GG_STATUS_FFC = 0x0017
GG_STATUS_FFC_DESCR = 0x0018
GG_STATUS_AVAIL = 0x0002
GG_STATUS_AVAIL_DESCR = 0x0004
GG_STATUS_BUSY = 0x0003
GG_STATUS_BUSY_DESCR = 0x0005
GG_STATUS_DND = 0x0021
GG_STATUS_DND_DESCR = 0x0022
GG_STATUS_INVISIBLE = 0x0014
GG_STATUS_INVISIBLE_DESCR = 0x0016
GG_STATUS_BLOCKED = 0x0006
GG_STATUS_IMAGE_MASK = 0x0100
GG_STATUS_DESCR_MASK = 0x4000
GG_STATUS_FRIENDS_MASK = 0x8000
#: The status proper, without the masks above (libgadu.h GG_STATUS_MASK).
GG_STATUS_MASK = 0x00FF

# Status flags, sent in GG_LOGIN80 and GG_NEW_STATUS80 (protocol.html 1.4; libgadu.h).
GG_STATUS_FLAG_UNKNOWN = 0x00000001
GG_STATUS_FLAG_VIDEO = 0x00000002
GG_STATUS_FLAG_MOBILE = 0x00100000
GG_STATUS_FLAG_SPAM = 0x00800000

# Protocol features of GG_LOGIN80 (protocol.html 1.3, as they appear on the wire).
GG_FEATURE_STATUS80BETA = 0x0001
GG_FEATURE_MSG80 = 0x0002
GG_FEATURE_STATUS80 = 0x0004
GG_FEATURE_DND_FFC = 0x0010
GG_FEATURE_IMAGE_DESCR = 0x0020
#: Without it a failed login is answered with GG_LOGIN_FAILED instead of GG_LOGIN80_FAILED.
GG_FEATURE_UNKNOWN_40 = 0x0040
GG_FEATURE_UNKNOWN_100 = 0x0100
GG_FEATURE_USER_DATA = 0x0200
GG_FEATURE_MSG_ACK = 0x0400
GG_FEATURE_TYPING_NOTIFICATION = 0x2000
GG_FEATURE_MULTILOGON = 0x4000

# What libgadu 1.12.2 puts in GG_LOGIN80 with protocol 0x2e (docs/protocol.md#gg_login80-exactly).
GG8_FEATURES = 0x00002737
GG8_FLAGS = GG_STATUS_FLAG_SPAM | GG_STATUS_FLAG_UNKNOWN
GG8_VERSION = "Gadu-Gadu Client Build 10.1.0.11070"
_LOGIN80_UNKNOWN = 0x64

# Message classes (protocol.html 1.6).
GG_CLASS_QUEUED = 0x0001
GG_CLASS_MSG = 0x0004
GG_CLASS_CHAT = 0x0008
GG_CLASS_CTCP = 0x0010
GG_CLASS_ACK = 0x0020

# GG_SEND_MSG_ACK statuses (protocol.html 1.6; libgadu.h).
GG_ACK_BLOCKED = 0x0001
GG_ACK_DELIVERED = 0x0002
GG_ACK_QUEUED = 0x0003
GG_ACK_MBOXFULL = 0x0004
GG_ACK_NOT_DELIVERED = 0x0006

# Contact types of GG_NOTIFY_* and GG_ADD/REMOVE_NOTIFY (protocol.html 1.5).
GG_USER_BUDDY = 0x01
GG_USER_OFFLINE = 0x01
GG_USER_FRIEND = 0x02
GG_USER_NORMAL = 0x03
GG_USER_BLOCKED = 0x04

# Rich-text attribute flags (protocol.html 1.6; libgadu.h GG_FONT_*).
GG_FONT_BOLD = 0x01
GG_FONT_ITALIC = 0x02
GG_FONT_UNDERLINE = 0x04
GG_FONT_COLOR = 0x08
GG_FONT_IMAGE = 0x80

#: The attribute block libgadu adds to every plain-text message: rich-text flag 0x02, block length 6,
#: then "from position 0, colour black" (protocol.html 1.6; docs/protocol.md#gg_send_msg80-exactly).
DEFAULT_ATTRIBUTES = b"\x02\x06\x00\x00\x00\x08\x00\x00\x00"

_DESCRIBED_STATUSES = frozenset(
    {
        GG_STATUS_NOT_AVAIL_DESCR,
        GG_STATUS_FFC_DESCR,
        GG_STATUS_AVAIL_DESCR,
        GG_STATUS_BUSY_DESCR,
        GG_STATUS_DND_DESCR,
        GG_STATUS_INVISIBLE_DESCR,
    }
)


def status_has_description(status: int) -> bool:
    """Whether a status value is one of the *_DESCR statuses (libgadu's GG_S_D)."""
    return (status & GG_STATUS_MASK) in _DESCRIBED_STATUSES


class Direction(enum.Enum):
    """Which way a packet travels; the same type number can mean two things (0x000b, 0x000d)."""

    CLIENT_TO_SERVER = "client->server"
    SERVER_TO_CLIENT = "server->client"

    # Members are singletons compared by identity: hashing by identity is consistent with that, and
    # runs in C, where Enum's own __hash__ (a Python method) costs a call on every registry lookup.
    __hash__ = object.__hash__


HEADER = struct.Struct("<II")
_U32 = struct.Struct("<I")
_U32X2 = struct.Struct("<II")
_U32X3 = struct.Struct("<III")
_NOTIFY = struct.Struct("<IB")
_TYPING = struct.Struct("<HI")
_LOGIN80 = struct.Struct("<I2sB64sIIIIHIHBB")
_STATUS_ENTRY = struct.Struct("<IIIIHBBII")
_SEND_MSG80 = struct.Struct("<IIIII")
_SEND_MSG80_FRAME = struct.Struct("<IIIIIII")  # the header, then the SEND_MSG80 head
_RECV_MSG80 = struct.Struct("<IIIIII")
_pack_send_msg80_frame = _SEND_MSG80_FRAME.pack
_pack_recv_msg80_frame = struct.Struct("<IIIIIIII").pack
_unpack_send_msg80 = _SEND_MSG80.unpack_from
_new = object.__new__
_setattr = object.__setattr__  # for frozen dataclasses built without __init__


class Packet:
    """Base of every packet: TYPE and NAME, body() for the payload, encode() for the whole frame."""

    TYPE: ClassVar[int]
    NAME: ClassVar[str]
    DIRECTIONS: ClassVar[Tuple[Direction, ...]]

    def body(self) -> bytes:
        """The payload, without the 8-byte header."""
        return b""

    def encode(self) -> bytes:
        """The whole frame: `<II` type and length, then the body."""
        try:
            body = self.body()
        except struct.error as exc:
            raise LocalProtocolError(f"cannot encode {self.NAME}: a field is out of range ({exc})") from None
        if len(body) > MAX_FRAME:
            raise LocalProtocolError(
                f"{self.NAME} body would be {len(body)} bytes, above the {MAX_FRAME}-byte frame limit"
            )
        return HEADER.pack(self.TYPE, len(body)) + body

    @classmethod
    def decode(cls: Type[_P], payload: bytes) -> _P:
        """Build the packet from its body; raises MalformedPacket when the body does not decode."""
        return cls()


_P = TypeVar("_P", bound=Packet)
_REGISTRY: Dict[Tuple[Direction, int], Type[Packet]] = {}
_C2S = (Direction.CLIENT_TO_SERVER,)
_S2C = (Direction.SERVER_TO_CLIENT,)
_BOTH = (Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT)


def _register(packet_type: int, name: str, directions: Tuple[Direction, ...]) -> Callable[[Type[_P]], Type[_P]]:
    def add(cls: Type[_P]) -> Type[_P]:
        cls.TYPE = packet_type
        cls.NAME = name
        cls.DIRECTIONS = directions
        for direction in directions:
            key = (direction, packet_type)
            assert key not in _REGISTRY, f"{name} clashes with {_REGISTRY[key].NAME}"
            _REGISTRY[key] = cls
        return cls

    return add


def _need(name: str, payload: bytes, size: int, what: str = "body") -> None:
    if len(payload) < size:
        raise MalformedPacket(name, f"{what} is {len(payload)} bytes, at least {size} are needed")


def _utf8(name: str, raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPacket(name, f"{what} is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def _description_bytes(description: str) -> bytes:
    raw = description.encode("utf-8")
    if len(raw) > MAX_DESCRIPTION:
        raise DescriptionTooLong(len(raw), MAX_DESCRIPTION)
    return raw


def _decode_description(name: str, raw: bytes) -> str:
    if len(raw) > MAX_DESCRIPTION:
        raise MalformedPacket(name, f"description is {len(raw)} bytes, the limit is {MAX_DESCRIPTION}")
    return _utf8(name, raw, "description")


# --- server -> client: login ---------------------------------------------------------------------


@_register(GG_WELCOME, "GG_WELCOME", _S2C)
@dataclass(frozen=True)
class Welcome(Packet):
    """The server's first packet: the seed the login hash is computed with."""

    seed: int

    def body(self) -> bytes:
        return _U32.pack(self.seed)

    @classmethod
    def decode(cls, payload: bytes) -> Welcome:
        _need(cls.NAME, payload, 4)
        return cls(_U32.unpack_from(payload)[0])


@_register(GG_LOGIN80_OK, "GG_LOGIN80_OK", _S2C)
@dataclass(frozen=True)
class Login80Ok(Packet):
    """Login accepted. The body is `<I` 1; libgadu ignores it, so any body decodes."""

    def body(self) -> bytes:
        return _U32.pack(1)


@_register(GG_LOGIN80_FAILED, "GG_LOGIN80_FAILED", _S2C)
@dataclass(frozen=True)
class Login80Failed(Packet):
    """Wrong password or unknown uin, for clients whose features include 0x40."""

    def body(self) -> bytes:
        return _U32.pack(1)


@_register(GG_LOGIN_FAILED, "GG_LOGIN_FAILED", _S2C)
@dataclass(frozen=True)
class LoginFailed(Packet):
    """Wrong password or unknown uin, for clients without feature 0x40 (libgadu among them)."""


@_register(GG_LOGIN_OK, "GG_LOGIN_OK", _S2C)
@dataclass(frozen=True)
class LoginOk(Packet):
    """Login accepted, as servers before GG 8 said it; libgadu 1.12 takes it as success. Any body."""


@_register(GG_NEED_EMAIL, "GG_NEED_EMAIL", _S2C)
@dataclass(frozen=True)
class NeedEmail(Packet):
    """Login accepted, the account has no e-mail address; libgadu 1.12 takes it as success. Any body."""


@_register(GG_LOGIN_HASH_TYPE_INVALID, "GG_LOGIN_HASH_TYPE_INVALID", _S2C)
@dataclass(frozen=True)
class LoginHashTypeInvalid(Packet):
    """The server does not accept the login's hash type: the login failed. Any body."""


# --- client -> server: login and status -----------------------------------------------------------


@_register(GG_LOGIN80, "GG_LOGIN80", _C2S)
@dataclass(frozen=True)
class Login80(Packet):
    """The login (protocol.html 1.3); `login_hash` is the 64-byte padded field (hashing.login_hash_field)."""

    uin: int
    hash_type: int
    login_hash: bytes
    status: int = GG_STATUS_AVAIL
    flags: int = GG8_FLAGS
    features: int = GG8_FEATURES
    version: str = GG8_VERSION
    description: str = ""
    language: bytes = b"pl"
    local_ip: int = 0
    local_port: int = 0
    external_ip: int = 0
    external_port: int = 0
    image_size: int = 0
    unknown: int = _LOGIN80_UNKNOWN

    def body(self) -> bytes:
        if len(self.login_hash) != HASH_FIELD_SIZE:
            raise LocalProtocolError(
                f"GG_LOGIN80 hash field must be {HASH_FIELD_SIZE} bytes, got {len(self.login_hash)}; "
                "build it with gadu.hashing.login_hash_field()"
            )
        if len(self.language) != 2:
            raise LocalProtocolError(f"GG_LOGIN80 language must be 2 bytes, got {self.language!r}")
        version = self.version.encode("utf-8")
        description = _description_bytes(self.description)
        fixed = _LOGIN80.pack(
            self.uin, self.language, self.hash_type, self.login_hash, self.status, self.flags,
            self.features, self.local_ip, self.local_port, self.external_ip, self.external_port,
            self.image_size, self.unknown,
        )
        return b"".join((fixed, _U32.pack(len(version)), version, _U32.pack(len(description)), description))

    @classmethod
    def decode(cls, payload: bytes) -> Login80:
        name = cls.NAME
        _need(name, payload, _LOGIN80.size + 4)
        (uin, language, hash_type, login_hash, status, flags, features, local_ip, local_port,
         external_ip, external_port, image_size, unknown) = _LOGIN80.unpack_from(payload)
        offset = _LOGIN80.size
        (version_len,) = _U32.unpack_from(payload, offset)
        offset += 4
        if version_len > len(payload) - offset:
            raise MalformedPacket(name, f"version length {version_len} runs past the end of the body")
        version = _utf8(name, payload[offset : offset + version_len], "version")
        offset += version_len
        description = ""
        # protocol.html says the description "need not appear"; libgadu always sends its length.
        if offset < len(payload):
            _need(name, payload, offset + 4, "body with a description length")
            (description_len,) = _U32.unpack_from(payload, offset)
            offset += 4
            if description_len != len(payload) - offset:
                raise MalformedPacket(
                    name, f"description length {description_len} but {len(payload) - offset} bytes follow"
                )
            description = _decode_description(name, payload[offset:])
        return cls(
            uin, hash_type, login_hash, status, flags, features, version, description, language,
            local_ip, local_port, external_ip, external_port, image_size, unknown,
        )


@_register(GG_NEW_STATUS80, "GG_NEW_STATUS80", _C2S)
@dataclass(frozen=True)
class NewStatus80(Packet):
    """A status change, with a UTF-8 description of at most 255 bytes (protocol.html 1.4)."""

    status: int
    flags: int = GG8_FLAGS
    description: str = ""

    def body(self) -> bytes:
        description = _description_bytes(self.description)
        return _U32X3.pack(self.status, self.flags, len(description)) + description

    @classmethod
    def decode(cls, payload: bytes) -> NewStatus80:
        _need(cls.NAME, payload, 12)
        status, flags, size = _U32X3.unpack_from(payload)
        if size != len(payload) - 12:
            raise MalformedPacket(cls.NAME, f"description length {size} but {len(payload) - 12} bytes follow")
        return cls(status, flags, _decode_description(cls.NAME, payload[12:]))


# --- presence ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusEntry:
    """One contact's status: the body of GG_STATUS80 and each entry of GG_NOTIFY_REPLY80."""

    uin: int
    status: int
    description: str = ""
    features: int = 0
    remote_ip: int = 0
    remote_port: int = 0
    image_size: int = 0
    unknown: int = 0
    flags: int = 0

    def encode_entry(self) -> bytes:
        description = _description_bytes(self.description)
        return (
            _STATUS_ENTRY.pack(
                self.uin, self.status, self.features, self.remote_ip, self.remote_port,
                self.image_size, self.unknown, self.flags, len(description),
            )
            + description
        )

    @classmethod
    def decode_from(cls, name: str, payload: bytes, offset: int) -> Tuple[StatusEntry, int]:
        """One entry at `offset`; returns it and the offset after it."""
        _need(name, payload, offset + _STATUS_ENTRY.size, "entry")
        uin, status, features, ip, port, image_size, unknown, flags, size = _STATUS_ENTRY.unpack_from(
            payload, offset
        )
        start = offset + _STATUS_ENTRY.size
        if size > len(payload) - start:
            raise MalformedPacket(name, f"description length {size} of uin {uin} runs past the end of the body")
        description = _decode_description(name, payload[start : start + size])
        entry = cls(uin, status, description, features, ip, port, image_size, unknown, flags)
        return entry, start + size


@_register(GG_STATUS80, "GG_STATUS80", _S2C)
@dataclass(frozen=True)
class Status80(Packet):
    """One contact changed status (same layout as a GG_NOTIFY_REPLY80 entry)."""

    entry: StatusEntry

    def body(self) -> bytes:
        return self.entry.encode_entry()

    @classmethod
    def decode(cls, payload: bytes) -> Status80:
        entry, end = StatusEntry.decode_from(cls.NAME, payload, 0)
        if end != len(payload):
            raise MalformedPacket(cls.NAME, f"{len(payload) - end} bytes after the entry")
        return cls(entry)


@_register(GG_NOTIFY_REPLY80, "GG_NOTIFY_REPLY80", _S2C)
@dataclass(frozen=True)
class NotifyReply80(Packet):
    """The statuses of the online contacts of a just-sent list (protocol.html 1.5)."""

    entries: Tuple[StatusEntry, ...] = ()

    def body(self) -> bytes:
        return b"".join(entry.encode_entry() for entry in self.entries)

    @classmethod
    def decode(cls, payload: bytes) -> NotifyReply80:
        entries = []
        offset = 0
        while offset < len(payload):
            entry, offset = StatusEntry.decode_from(cls.NAME, payload, offset)
            entries.append(entry)
        return cls(tuple(entries))


def split_notify_reply(entries: Iterable[StatusEntry], max_body: int = MAX_FRAME) -> List[NotifyReply80]:
    """As few GG_NOTIFY_REPLY80 packets as hold the entries, in order, no body above `max_body`.

    232 entries with full descriptions already pass 65535 bytes, so a server must split.
    """
    packets: List[NotifyReply80] = []
    chunk: List[StatusEntry] = []
    size = 0
    for entry in entries:
        entry_size = _STATUS_ENTRY.size + len(_description_bytes(entry.description))
        if entry_size > max_body:
            raise LocalProtocolError(f"one entry is {entry_size} bytes, above the {max_body}-byte limit")
        if chunk and size + entry_size > max_body:
            packets.append(NotifyReply80(tuple(chunk)))
            chunk, size = [], 0
        chunk.append(entry)
        size += entry_size
    if chunk:
        packets.append(NotifyReply80(tuple(chunk)))
    return packets


@dataclass(frozen=True)
class NotifyEntry:
    """One contact of a sent list: uin and type (GG_USER_NORMAL, GG_USER_BLOCKED, ...)."""

    uin: int
    user_type: int = GG_USER_NORMAL


def _encode_notify(entries: Tuple[NotifyEntry, ...]) -> bytes:
    return b"".join(_NOTIFY.pack(entry.uin, entry.user_type) for entry in entries)


def _decode_notify(name: str, payload: bytes) -> Tuple[NotifyEntry, ...]:
    if len(payload) % _NOTIFY.size:
        raise MalformedPacket(name, f"body of {len(payload)} bytes is not a whole number of 5-byte entries")
    return tuple(NotifyEntry(uin, kind) for uin, kind in _NOTIFY.iter_unpack(payload))


@_register(GG_NOTIFY_FIRST, "GG_NOTIFY_FIRST", _C2S)
@dataclass(frozen=True)
class NotifyFirst(Packet):
    """A full chunk of 400 contacts, more to follow."""

    entries: Tuple[NotifyEntry, ...] = ()

    def body(self) -> bytes:
        return _encode_notify(self.entries)

    @classmethod
    def decode(cls, payload: bytes) -> NotifyFirst:
        return cls(_decode_notify(cls.NAME, payload))


@_register(GG_NOTIFY_LAST, "GG_NOTIFY_LAST", _C2S)
@dataclass(frozen=True)
class NotifyLast(Packet):
    """The last (or only) chunk of the contact list."""

    entries: Tuple[NotifyEntry, ...] = ()

    def body(self) -> bytes:
        return _encode_notify(self.entries)

    @classmethod
    def decode(cls, payload: bytes) -> NotifyLast:
        return cls(_decode_notify(cls.NAME, payload))


@_register(GG_LIST_EMPTY, "GG_LIST_EMPTY", _C2S)
@dataclass(frozen=True)
class ListEmpty(Packet):
    """The contact list is empty."""


@_register(GG_ADD_NOTIFY, "GG_ADD_NOTIFY", _C2S)
@dataclass(frozen=True)
class AddNotify(Packet):
    """Add type bits for one contact during the session."""

    uin: int
    user_type: int = GG_USER_NORMAL

    def body(self) -> bytes:
        return _NOTIFY.pack(self.uin, self.user_type)

    @classmethod
    def decode(cls, payload: bytes) -> AddNotify:
        _need(cls.NAME, payload, _NOTIFY.size)
        return cls(*_NOTIFY.unpack_from(payload))


@_register(GG_REMOVE_NOTIFY, "GG_REMOVE_NOTIFY", _C2S)
@dataclass(frozen=True)
class RemoveNotify(Packet):
    """Remove type bits for one contact during the session."""

    uin: int
    user_type: int = GG_USER_NORMAL

    def body(self) -> bytes:
        return _NOTIFY.pack(self.uin, self.user_type)

    @classmethod
    def decode(cls, payload: bytes) -> RemoveNotify:
        _need(cls.NAME, payload, _NOTIFY.size)
        return cls(*_NOTIFY.unpack_from(payload))


# --- messages ------------------------------------------------------------------------------------

# libgadu's CP1250 table maps the five bytes CP1250 leaves undefined to '?' (encoding.c).
_CP1250_UNDEFINED = bytes.maketrans(b"\x81\x83\x88\x90\x98", b"?????")
# The tables the cp1250 codec itself hands to these C functions: called directly, a message's CP1250
# part skips the codec's Python-level encode()/decode() and its lookup by name.
_CP1250_ENCODING, _CP1250_DECODING = encodings.cp1250.encoding_table, encodings.cp1250.decoding_table
#: The decoding table with libgadu's '?' in the five undefined places: one decode, no translate() first
#: (for codecs.charmap_decode; gadu.events decodes a message's plain part with it too).
CP1250_LIBGADU_DECODING = "".join("?" if i in b"\x81\x83\x88\x90\x98" else ch for i, ch in enumerate(_CP1250_DECODING))
_HTML_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("'"): "&apos;",
                 ord('"'): "&quot;", ord("\n"): "<br>", ord("\r"): None}
_SPAN = "<span style=\"color:#000000; font-family:'MS Shell Dlg 2'; font-size:9pt; \">"
# encode_text()'s pieces: the span around the escaped text (its end with the HTML part's NUL), the
# offset of the plain part less the escaped text's length, the plain part's NUL with the attributes.
_SPAN_UTF8, _SPAN_END_NUL = _SPAN.encode("utf-8"), b"</span>\x00"
_HTML_FRAME_SIZE = 20 + len(_SPAN_UTF8) + len(_SPAN_END_NUL)
_NUL_ATTRIBUTES = b"\x00" + DEFAULT_ATTRIBUTES
_NEEDS_ESCAPE = re.compile("[&<>'\"\n\r]").search
_HTML_TOKEN = re.compile(r"<[^>]*(?:>|$)|&[A-Za-z0-9#]*;")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'", "&amp;": "&", "&nbsp;": "\xa0"}


def html_from_text(text: str) -> str:
    """The HTML part libgadu builds from plain text (message.c gg_message_text_to_html).

    The text is escaped (& < > ' "), newlines become <br>, carriage returns are dropped, and the
    whole is wrapped in the default black span. Empty text gives an empty HTML part.
    """
    if not text:
        return ""
    if _NEEDS_ESCAPE(text) is None:  # most texts: nothing for translate()'s per-character lookups to do
        return _SPAN + text + "</span>"
    return _SPAN + text.translate(_HTML_ESCAPES) + "</span>"


def plain_from_text(text: str) -> str:
    """The text as the CP1250 plain part can carry it: characters CP1250 lacks become '?',
    a byte order mark is dropped (libgadu encoding.c)."""
    if text.isascii():  # CP1250 agrees with ASCII, and ASCII has no byte order mark
        return text
    return text.replace("\ufeff", "").encode("cp1250", "replace").decode("cp1250")


def _replace_html_token(match: re.Match) -> str:
    token = match.group(0)
    if token.startswith("&"):
        return _ENTITIES.get(token, "?")
    if token.startswith("<br"):
        return "\n"
    if token.startswith("<img name="):
        return "\xa0"
    return ""


def text_from_html(html: str) -> str:
    """Plain text from an HTML part, the way libgadu reads it (message.c gg_message_html_to_text):
    tags dropped, <br> as a newline, an image as a no-break space, the five entities and &nbsp;
    decoded, any other entity as '?'."""
    if html.startswith(_SPAN) and html.endswith("</span>"):
        # What html_from_text() (and libgadu) make of one line of text with nothing to escape: the
        # inside is the text itself, with no tag or entity for the pattern below to find.
        inner = html[len(_SPAN) : -len("</span>")]
        if "<" not in inner and "&" not in inner:
            return inner
    return _HTML_TOKEN.sub(_replace_html_token, html)


def message_text(html: str, plain: str) -> str:
    """The text of a received message: from the HTML part when there is one, else the plain part.

    That is what a UTF-8 libgadu session does (docs/protocol.md#message-flow): the HTML part is UTF-8 and
    lossless, the plain part is CP1250 and loses every character outside Central European scripts.
    """
    return text_from_html(html) if html else plain


def _encode_message(name: str, head_size: int, html: str, plain: str) -> Tuple[bytes, int, int]:
    html_raw = html.encode("utf-8")
    if b"\x00" in html_raw:
        raise LocalProtocolError(f"{name} HTML part cannot contain NUL")
    try:
        plain_raw = plain.encode("cp1250")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(
            f"{name} plain part has {exc.object[exc.start:exc.end]!r}, which CP1250 cannot carry; "
            "pass it through plain_from_text()"
        ) from None
    if b"\x00" in plain_raw:
        raise LocalProtocolError(f"{name} plain part cannot contain NUL")
    # An empty HTML part is left out (offset_plain == header size) rather than sent as a lone NUL:
    # a UTF-8 libgadu shows "\0" as an empty message but falls back to the plain part when it is absent.
    html_part = html_raw + b"\x00" if html_raw else b""
    offset_plain = head_size + len(html_part)
    offset_attr = offset_plain + len(plain_raw) + 1
    return html_part + plain_raw + b"\x00", offset_plain, offset_attr


def message_parts(name: str, payload: bytes, head_size: int, offset_plain: int,
                  offset_attr: int) -> Tuple[bytes, bytes]:
    """The raw HTML and plain parts of a message body, checked as _decode_message checks them (the
    HTML's UTF-8 aside): the one place the layout rules live, for the general and the fast decoders."""
    if not head_size <= offset_plain < offset_attr <= len(payload):
        raise MalformedPacket(
            name,
            f"offsets out of range (offset_plain={offset_plain}, offset_attr={offset_attr}, "
            f"body {len(payload)} bytes; need {head_size} <= offset_plain < offset_attr <= body)",
        )
    if offset_plain == head_size:
        html_raw = b""
    else:
        html_raw = payload[head_size : offset_plain - 1]
        if payload[offset_plain - 1] != 0 or b"\x00" in html_raw:
            raise MalformedPacket(name, "the HTML part is not one NUL-terminated string")
    plain_raw = payload[offset_plain : offset_attr - 1]
    if payload[offset_attr - 1] != 0 or b"\x00" in plain_raw:
        raise MalformedPacket(name, "the plain part is not one NUL-terminated string")
    return html_raw, plain_raw


def decode_plain(raw: bytes) -> str:
    """A plain part's CP1250 bytes as text (the five undefined bytes as '?', as libgadu reads them)."""
    if raw.isascii():  # CP1250 agrees with ASCII, whose decoder skips the codec's Python layer
        return raw.decode("ascii")
    return _charmap_decode(raw, "strict", CP1250_LIBGADU_DECODING)[0]


def check_html(name: str, raw: bytes) -> None:
    """Raise MalformedPacket unless `raw` is UTF-8 (ASCII is, and is checked without decoding)."""
    if not raw.isascii():
        _utf8(name, raw, "HTML part")


def _decode_message(name: str, payload: bytes, head_size: int, offset_plain: int,
                    offset_attr: int) -> Tuple[str, str, bytes]:
    html_raw, plain_raw = message_parts(name, payload, head_size, offset_plain, offset_attr)
    html = _utf8(name, html_raw, "HTML part") if html_raw else ""
    return html, decode_plain(plain_raw), bytes(payload[offset_attr:])


@_register(GG_SEND_MSG80, "GG_SEND_MSG80", _C2S)
@dataclass(frozen=True)
class SendMsg80(Packet):
    """A message to send (protocol.html 1.6): HTML (UTF-8), plain (CP1250) and rich-text attributes.

    Offsets are computed on encode from the 20-byte header, as libgadu does.
    """

    recipient: int
    seq: int
    msgclass: int
    html: str
    plain: str
    attributes: bytes = b""

    @classmethod
    def from_text(cls, recipient: int, seq: int, text: str, msgclass: int = GG_CLASS_CHAT) -> SendMsg80:
        """The message libgadu's gg_send_message() builds from plain text."""
        if len(text) > MAX_MESSAGE:
            raise MessageTooLong(len(text), MAX_MESSAGE)
        if "\x00" in text:
            raise LocalProtocolError("a message cannot contain NUL")
        return cls(recipient, seq, msgclass, html_from_text(text), plain_from_text(text), DEFAULT_ATTRIBUTES)

    @property
    def text(self) -> str:
        """The text, read as message_text() does."""
        return message_text(self.html, self.plain)

    def body(self) -> bytes:
        parts, offset_plain, offset_attr = _encode_message(self.NAME, _SEND_MSG80.size, self.html, self.plain)
        head = _SEND_MSG80.pack(self.recipient, self.seq, self.msgclass, offset_plain, offset_attr)
        return head + parts + self.attributes

    @classmethod
    def encode_text(cls, recipient: int, seq: int, text: str, msgclass: int = GG_CLASS_CHAT) -> bytes:
        """`from_text(...).encode()` without the packet object: what a client sends for every message.

        The text is encoded to UTF-8 once and escaped as bytes (the escaped characters are ASCII, so
        each is one byte in UTF-8 and nowhere inside another character): a replace() per escape scans
        at C speed, where str.translate() of a non-ASCII text looks up each character in a dict.
        """
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the packet object's encode() says where
            return cls.from_text(recipient, seq, text, msgclass).encode()
        if len(text) > MAX_MESSAGE:
            raise MessageTooLong(len(text), MAX_MESSAGE)
        if b"\x00" in raw:
            raise LocalProtocolError("a message cannot contain NUL")
        if not raw:
            return cls.from_text(recipient, seq, text, msgclass).encode()  # no HTML part at all
        # The text has no NUL, so neither part can have one; the plain part encoded once, not
        # narrowed to CP1250 by plain_from_text() and then encoded again. & is replaced first, so
        # that the ampersands of the other escapes stay; \n after < and >, so that <br> stays a tag.
        plain = raw if text.isascii() else _charmap_encode(text.replace("\ufeff", ""), "replace", _CP1250_ENCODING)[0]
        html = (raw.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;").replace(b"'", b"&apos;")
                .replace(b'"', b"&quot;").replace(b"\r", b"").replace(b"\n", b"<br>"))
        offset_plain = _HTML_FRAME_SIZE + len(html)
        offset_attr = offset_plain + len(plain) + 1
        length = offset_attr + len(DEFAULT_ATTRIBUTES)
        if length > MAX_FRAME:
            raise LocalProtocolError(f"{cls.NAME} body would be {length} bytes, above the {MAX_FRAME}-byte frame limit")
        try:
            head = _pack_send_msg80_frame(cls.TYPE, length, recipient, seq, msgclass, offset_plain, offset_attr)
        except struct.error as exc:
            raise LocalProtocolError(f"cannot encode {cls.NAME}: a field is out of range ({exc})") from None
        return b"".join((head, _SPAN_UTF8, html, _SPAN_END_NUL, plain, _NUL_ATTRIBUTES))

    @classmethod
    def from_wire(cls, payload: bytes) -> SendMsg80:
        """decode(payload), faster, remembering the parts as they came when re-encoding them would give
        the same bytes (RecvMsg80.from_send then delivers them without encoding them again)."""
        if len(payload) < 21:
            _need(cls.NAME, payload, 21)
        recipient, seq, msgclass, offset_plain, offset_attr = _unpack_send_msg80(payload)
        html_raw, plain_raw = message_parts(cls.NAME, payload, 20, offset_plain, offset_attr)
        html = _utf8(cls.NAME, html_raw, "HTML part") if html_raw else ""
        made = _new(cls)
        fields = {"recipient": recipient, "seq": seq, "msgclass": msgclass, "html": html,
                  "plain": decode_plain(plain_raw), "attributes": payload[offset_attr:]}
        if relayable(offset_plain, plain_raw):
            fields["_wire"] = (offset_plain, offset_attr, payload[20:])
        _setattr(made, "__dict__", fields)
        return made

    @classmethod
    def decode(cls, payload: bytes) -> SendMsg80:
        _need(cls.NAME, payload, _SEND_MSG80.size + 1)
        recipient, seq, msgclass, offset_plain, offset_attr = _SEND_MSG80.unpack_from(payload)
        html, plain, attributes = _decode_message(cls.NAME, payload, _SEND_MSG80.size, offset_plain, offset_attr)
        return cls(recipient, seq, msgclass, html, plain, attributes)


@_register(GG_RECV_MSG80, "GG_RECV_MSG80", _S2C)
@dataclass(frozen=True)
class RecvMsg80(Packet):
    """A message delivered by the server (protocol.html 1.7): the SEND_MSG80 body behind a 24-byte
    header, so both offsets are 4 larger."""

    sender: int
    seq: int
    time: int
    msgclass: int
    html: str
    plain: str
    attributes: bytes = b""

    @classmethod
    def from_send(cls, message: SendMsg80, sender: int, time: int, msgclass: int = -1) -> RecvMsg80:
        """What the server delivers for a sent message (class kept unless given, e.g. | GG_CLASS_QUEUED)."""
        wire = message.__dict__.get("_wire")
        if wire is None:
            return cls(sender, message.seq, time, message.msgclass if msgclass < 0 else msgclass,
                       message.html, message.plain, message.attributes)
        # The parts as they came, which encode() sends as they are; built as __init__ would build it.
        made = _new(cls)
        _setattr(made, "__dict__", {
            "sender": sender, "seq": message.seq, "time": time,
            "msgclass": message.msgclass if msgclass < 0 else msgclass, "html": message.html,
            "plain": message.plain, "attributes": message.attributes, "_wire": wire})
        return made

    @property
    def text(self) -> str:
        """The text, read as message_text() does."""
        return message_text(self.html, self.plain)

    def body(self) -> bytes:
        parts, offset_plain, offset_attr = _encode_message(self.NAME, _RECV_MSG80.size, self.html, self.plain)
        head = _RECV_MSG80.pack(self.sender, self.seq, self.time, self.msgclass, offset_plain, offset_attr)
        return head + parts + self.attributes

    def encode(self) -> bytes:
        wire = self.__dict__.get("_wire")
        if wire is None:
            return Packet.encode(self)
        # Delivered from a SendMsg80 that came off the wire: its parts are the bytes that encoding
        # its html, plain and attributes would give (SendMsg80.from_wire makes sure), offsets 4 larger.
        offset_plain, offset_attr, parts = wire
        return relay_recv_msg80(self.sender, self.seq, self.time, self.msgclass, offset_plain, offset_attr, parts)

    @classmethod
    def decode(cls, payload: bytes) -> RecvMsg80:
        _need(cls.NAME, payload, _RECV_MSG80.size + 1)
        sender, seq, time, msgclass, offset_plain, offset_attr = _RECV_MSG80.unpack_from(payload)
        html, plain, attributes = _decode_message(cls.NAME, payload, _RECV_MSG80.size, offset_plain, offset_attr)
        return cls(sender, seq, time, msgclass, html, plain, attributes)


def relayable(offset_plain: int, plain_raw: bytes) -> bool:
    """Whether a SEND_MSG80's parts (checked by message_parts, HTML part at offset 20) are the bytes
    that encoding their decoded html and plain would give, so that they may be relayed as they came.

    A lone NUL for an HTML part and the five bytes CP1250 lacks do not survive a round trip.
    """
    return offset_plain != 21 and (plain_raw.isascii() or plain_raw.translate(_CP1250_UNDEFINED) == plain_raw)


def relay_recv_msg80(sender: int, seq: int, time: int, msgclass: int, offset_plain: int, offset_attr: int,
                     parts: bytes) -> bytes:
    """The GG_RECV_MSG80 frame delivering the relayable `parts` of a SEND_MSG80 body (all that follows
    its 20-byte header, offsets as it gave them): what RecvMsg80.from_send(...).encode() gives."""
    length = _RECV_MSG80.size + len(parts)
    try:
        head = _pack_recv_msg80_frame(GG_RECV_MSG80, length, sender, seq, time, msgclass,
                                      offset_plain + 4, offset_attr + 4)
    except struct.error as exc:
        raise LocalProtocolError(f"cannot encode GG_RECV_MSG80: a field is out of range ({exc})") from None
    if length > MAX_FRAME:
        raise LocalProtocolError(f"GG_RECV_MSG80 body would be {length} bytes, above the {MAX_FRAME}-byte frame limit")
    return head + parts


@_register(GG_SEND_MSG_ACK, "GG_SEND_MSG_ACK", _S2C)
@dataclass(frozen=True)
class SendMsgAck(Packet):
    """The server's answer to a sent message: status (GG_ACK_*), recipient, seq."""

    status: int
    recipient: int
    seq: int

    def body(self) -> bytes:
        return _U32X3.pack(self.status, self.recipient, self.seq)

    @classmethod
    def decode(cls, payload: bytes) -> SendMsgAck:
        _need(cls.NAME, payload, 12)
        return cls(*_U32X3.unpack_from(payload))


@_register(GG_RECV_MSG_ACK, "GG_RECV_MSG_ACK", _C2S)
@dataclass(frozen=True)
class RecvMsgAck(Packet):
    """The client confirms a received message by its seq (feature 0x400)."""

    seq: int

    def body(self) -> bytes:
        return _U32.pack(self.seq)

    @classmethod
    def encode_seq(cls, seq: int) -> bytes:
        """`RecvMsgAck(seq).encode()` without the packet object: a client sends one per message received."""
        try:
            return _U32X3.pack(cls.TYPE, 4, seq)
        except struct.error as exc:
            raise LocalProtocolError(f"cannot encode {cls.NAME}: a field is out of range ({exc})") from None

    @classmethod
    def decode(cls, payload: bytes) -> RecvMsgAck:
        _need(cls.NAME, payload, 4)
        return cls(_U32.unpack_from(payload)[0])


@_register(GG_TYPING_NOTIFY, "GG_TYPING_NOTIFY", _BOTH)
@dataclass(frozen=True)
class TypingNotify(Packet):
    """Typing notification (protocol.html 1.8): `length` typed characters (0: stopped); `uin` is the
    recipient when a client sends it and the typist when the server delivers it."""

    length: int
    uin: int

    def body(self) -> bytes:
        return _TYPING.pack(self.length, self.uin)

    @classmethod
    def decode(cls, payload: bytes) -> TypingNotify:
        _need(cls.NAME, payload, _TYPING.size)
        return cls(*_TYPING.unpack_from(payload))


# --- keep-alive and disconnect ---------------------------------------------------------------------


@_register(GG_PING, "GG_PING", _C2S)
@dataclass(frozen=True)
class Ping(Packet):
    """Keep-alive from the client; libgadu only sends it when the application asks."""


@_register(GG_PONG, "GG_PONG", _S2C)
@dataclass(frozen=True)
class Pong(Packet):
    """The server's optional answer to GG_PING."""


@_register(GG_DISCONNECTING, "GG_DISCONNECTING", _S2C)
@dataclass(frozen=True)
class Disconnecting(Packet):
    """The server is about to drop us (another login on the same uin, for example)."""


@_register(GG_DISCONNECT_ACK, "GG_DISCONNECT_ACK", _S2C)
@dataclass(frozen=True)
class DisconnectAck(Packet):
    """The server confirms a NOT_AVAIL logoff before it closes."""


@dataclass(frozen=True)
class Unknown(Packet):
    """A packet of a type not in the registry for its direction, kept as raw bytes."""

    packet_type: int
    payload: bytes

    NAME = "unknown"

    def body(self) -> bytes:
        return self.payload

    def encode(self) -> bytes:
        return HEADER.pack(self.packet_type, len(self.payload)) + self.payload


def packet_class(direction: Direction, packet_type: int) -> Type[Packet]:
    """The class registered for a type in a direction; KeyError when there is none."""
    return _REGISTRY[(direction, packet_type)]


def packet_name(direction: Direction, packet_type: int) -> str:
    """The protocol's name for a type in a direction, e.g. 'GG_WELCOME', or 'unknown 0x0099'."""
    cls = _REGISTRY.get((direction, packet_type))
    return cls.NAME if cls is not None else f"unknown 0x{packet_type:04x}"


def decode_packet(direction: Direction, packet_type: int, payload: bytes) -> Packet:
    """Decode one body travelling in `direction`: the packet, or Unknown for an unregistered type.

    Raises MalformedPacket (and nothing else) when a known type's body does not decode.
    """
    cls = _REGISTRY.get((direction, packet_type))
    if cls is None:
        return Unknown(packet_type, bytes(payload))
    try:
        return cls.decode(payload)
    except MalformedPacket:
        raise
    except (struct.error, ValueError, IndexError) as exc:
        raise MalformedPacket(cls.NAME, str(exc)) from None
