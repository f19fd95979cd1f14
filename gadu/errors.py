"""The errors of the protocol core: one base class, and a subclass for each thing that can go wrong.

Public API: ProtocolError; LocalProtocolError (our side broke a rule) with DescriptionTooLong and
MessageTooLong; RemoteProtocolError (the peer broke a rule) with FrameTooLarge, TruncatedFrame and
MalformedPacket. Every error the core raises on bad input is one of these, never a bare struct.error.
"""
from __future__ import annotations

__all__ = [
    "DescriptionTooLong",
    "FrameTooLarge",
    "LocalProtocolError",
    "MalformedPacket",
    "MessageTooLong",
    "ProtocolError",
    "RemoteProtocolError",
    "TruncatedFrame",
]


class ProtocolError(Exception):
    """Base of every error the Gadu-Gadu core raises about the protocol.

    Bytes that came whole before the error, in the same read, are not lost with it: the parser puts
    the frames it completed in `frames` and the packets it decoded in `packets`, and the client state
    machine the events those made in `events`. A client delivers `events`, then ends the connection.
    """

    frames: tuple = ()
    packets: tuple = ()
    events: tuple = ()


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
