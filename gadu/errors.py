"""Every error a user of the core or of any of the four clients catches, in one module.

ProtocolError and its subclasses say who broke a rule of the protocol (every error the core raises
on bad input is one of these, never a bare struct.error); LoginError, CloseTimeout, ConnectionClosed
and WriteBufferFull say how a session ended or why a send was refused, the same in every client.
"""
from __future__ import annotations

from typing import Any

__all__ = [
    "CloseTimeout",
    "ConnectionClosed",
    "DescriptionTooLong",
    "FrameTooLarge",
    "LocalProtocolError",
    "LoginError",
    "LoginRefused",
    "LoginTimeout",
    "MalformedPacket",
    "MessageTooLong",
    "ProtocolError",
    "RemoteProtocolError",
    "TruncatedFrame",
    "WriteBufferFull",
]


class ProtocolError(Exception):
    """Base of every error the Gadu-Gadu core raises about the protocol.

    Bytes that came whole before the error, in the same read, are not lost with it: the parser puts
    the frames it completed in `frames` and the packets it decoded in `packets`, for the state
    machines, which act on them and then end the session with a Closed event that carries the error.
    """

    frames: tuple = ()
    packets: tuple = ()


class LocalProtocolError(ProtocolError):
    """Our side tried something the protocol forbids (a send in the wrong state, a field out of range)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids; the connection cannot go on."""


class DescriptionTooLong(LocalProtocolError, ValueError):
    """A status description longer than the protocol allows (GG_STATUS_DESCR_MAXSIZE, protocol.html 1.4)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"status description is {size} bytes in UTF-8, the protocol allows at most {limit}; shorten it"
        )
        self.size = size
        self.limit = limit


class MessageTooLong(LocalProtocolError, ValueError):
    """A message longer than the official client allows (GG_MSG_MAXSIZE, protocol.html 1.6)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message is {size} characters, the protocol allows at most {limit}; split it")
        self.size = size
        self.limit = limit


class FrameTooLarge(RemoteProtocolError):
    """A header announced a body above the frame limit; raised before any of that body is buffered."""

    def __init__(self, packet_type: int, length: int, limit: int) -> None:
        super().__init__(
            f"packet type 0x{packet_type:04x} announces a {length}-byte body, above the {limit}-byte limit "
            f"libgadu enforces; the peer is broken or not speaking Gadu-Gadu"
        )
        self.packet_type = packet_type
        self.length = length
        self.limit = limit


class TruncatedFrame(RemoteProtocolError):
    """The stream ended in the middle of a packet."""

    def __init__(self, received: int, expected: int) -> None:
        if expected:
            detail = f"{received} of {expected} bytes of a packet (header included) had arrived"
        else:
            detail = f"only {received} of the 8 header bytes had arrived"
        super().__init__(f"the connection closed mid-packet: {detail}")
        self.received = received
        self.expected = expected


class MalformedPacket(RemoteProtocolError):
    """A packet of a known type whose body does not decode."""

    def __init__(self, packet_name: str, reason: str) -> None:
        super().__init__(f"malformed {packet_name}: {reason}")
        self.packet_name = packet_name
        self.reason = reason


class LoginError(Exception):
    """The login did not succeed; `reason` says why. The connection is closed or closing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LoginRefused(LoginError):
    """The server said no (GG_LOGIN80_FAILED or GG_LOGIN_FAILED): wrong password or unknown uin."""

    def __init__(self, uin: int, why: str = "wrong password or unknown uin") -> None:
        super().__init__(f"the server refused the login of uin {uin}: {why}")
        self.uin = uin


class LoginTimeout(LoginError, TimeoutError):
    """No login verdict within the login timeout (gadu.limits.LOGIN_TIMEOUT by default); the
    connection has been closed."""


class CloseTimeout(TimeoutError):
    """The server did not close the connection within gadu.limits.CLOSE_TIMEOUT of the end of the
    session (our logoff, a refused login, its GG_DISCONNECTING); the client closed it."""


class ConnectionClosed(ConnectionError):
    """The connection is over (or never began): nothing more can be sent or awaited on it.

    `closed` is the connection's gadu.events.Closed when it is known (clean or not, and why);
    `__cause__` is the socket or protocol error behind it, if any.
    """

    def __init__(self, reason: str, closed: Any = None) -> None:
        super().__init__(reason)
        self.closed = closed


class WriteBufferFull(ConnectionError):
    """More than gadu.limits.WRITE_LIMIT bytes wait for a server that does not read."""
