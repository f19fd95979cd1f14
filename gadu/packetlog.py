"""One line per packet in and out of a connection, for every client and the server (`--log-packets`).

Wireshark's dissector mis-decodes GG 8.0 bodies, so each implementation can log its own wire instead:
direction, packet name, body length and the body in hex, read back out of the bytes with gadu's own
parser. The hash in GG_LOGIN80 is zeroed: it stands for the password.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any

from .errors import ProtocolError
from .framing import FrameParser
from .packets import Direction, Login80, Unknown, decode_packet, packet_name

__all__ = ["PacketLog"]


class PacketLog:
    """Logs the frames of one connection at INFO on `logger`; `role` is "client" or "server"."""

    def __init__(self, role: str, owner: Any, logger: logging.Logger) -> None:
        if role not in ("client", "server"):
            raise ValueError(f"role must be 'client' or 'server', not {role!r}")
        incoming = Direction.SERVER_TO_CLIENT if role == "client" else Direction.CLIENT_TO_SERVER
        outgoing = Direction.CLIENT_TO_SERVER if role == "client" else Direction.SERVER_TO_CLIENT
        self.owner = owner
        self.logger = logger
        self.parsers = {"in": FrameParser(incoming), "out": FrameParser(outgoing)}

    def incoming(self, data: bytes) -> None:
        self._record("in", data)

    def outgoing(self, data: bytes) -> None:
        self._record("out", data)

    def _record(self, way: str, data: bytes) -> None:
        if not data:
            return
        parser = self.parsers[way]
        try:
            frames = parser.feed_frames(data)
        except ProtocolError:
            # The connection itself reports the error; the rest of this direction is not shown.
            return
        for kind, body in frames:
            name = packet_name(parser.direction, kind)
            try:
                packet = decode_packet(parser.direction, kind, body)
            except ProtocolError as exc:
                self.logger.info("%s %s %s len=%d undecodable (%s)", self.owner, way, name, len(body), exc)
                continue
            if isinstance(packet, Login80):
                body = dataclasses.replace(packet, login_hash=bytes(len(packet.login_hash))).body()
                name += " (hash zeroed)"
            elif not isinstance(packet, Unknown):
                name = packet.NAME
            self.logger.info("%s %s %s len=%d %s", self.owner, way, name, len(body), bytes(body).hex())
