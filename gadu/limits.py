"""Named limits of the Gadu-Gadu 8.0 protocol, each with where it comes from.

Public API: HEADER_SIZE, MAX_FRAME, MAX_DESCRIPTION, MAX_MESSAGE, NOTIFY_CHUNK, HASH_FIELD_SIZE.
"""
from __future__ import annotations

__all__ = ["HASH_FIELD_SIZE", "HEADER_SIZE", "MAX_DESCRIPTION", "MAX_FRAME", "MAX_MESSAGE", "NOTIFY_CHUNK"]

#: Every packet starts with `<II` type, length (protocol.html 1.2, struct gg_header).
HEADER_SIZE = 8
#: libgadu's gg_recv_packet() refuses a body above this with ERANGE (PROTOCOL-NOTES 0, 4).
MAX_FRAME = 65535
#: GG_STATUS_DESCR_MAXSIZE: UTF-8 bytes of a description (protocol.html 1.4, libgadu.h).
MAX_DESCRIPTION = 255
#: GG_MSG_MAXSIZE: characters the original client lets one send (protocol.html 1.6, libgadu.h).
MAX_MESSAGE = 1989
#: The contact list goes out in GG_NOTIFY_FIRST/LAST packets of this many entries (protocol.html 1.5).
NOTIFY_CHUNK = 400
#: GG_LOGIN80's hash field: the hash, zero padded (protocol.html 1.3, struct gg_login80).
HASH_FIELD_SIZE = 64
