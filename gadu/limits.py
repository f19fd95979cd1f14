"""Every limit and timeout of the project, each with where its value comes from.

The protocol's sizes come from libgadu-doc's protocol.html (docs/protocol.md retells the parts we
use); the timeouts from libgadu where it has one, otherwise the reason for ours is given. The state
machines (gadu.client, gadu.server_session) own the deadlines; the four clients only arm a timer.
"""
from __future__ import annotations

__all__ = [
    "ACK_BACKLOG",
    "CLOSE_TIMEOUT",
    "CONNECT_TIMEOUT",
    "EVENT_BACKLOG",
    "HASH_FIELD_SIZE",
    "HEADER_SIZE",
    "LOGIN_TIMEOUT",
    "MAX_CONTACTS",
    "MAX_DESCRIPTION",
    "MAX_FRAME",
    "MAX_MESSAGE",
    "NOTIFY_CHUNK",
    "READ_SIZE",
    "SERVER_IDLE_TIMEOUT",
    "SERVER_LOGIN_TIMEOUT",
    "WRITE_LIMIT",
]

# --- sizes of the protocol -------------------------------------------------------------------------

#: Every packet starts with `<II` type, length (protocol.html 1.1, struct gg_header).
HEADER_SIZE = 8
#: libgadu's gg_recv_packet() refuses a body above this with ERANGE (docs/protocol.md#limits).
MAX_FRAME = 65535
#: GG_STATUS_DESCR_MAXSIZE: UTF-8 bytes of a description (protocol.html 1.4, libgadu.h).
MAX_DESCRIPTION = 255
#: GG_MSG_MAXSIZE: characters the original client lets one send (protocol.html 1.6, libgadu.h).
MAX_MESSAGE = 1989
#: The contact list goes out in GG_NOTIFY_FIRST/LAST packets of this many entries (protocol.html 1.5).
NOTIFY_CHUNK = 400
#: GG_LOGIN80's hash field: the hash, zero padded (protocol.html 1.3, struct gg_login80).
HASH_FIELD_SIZE = 64

# --- timeouts (seconds) ----------------------------------------------------------------------------

#: From the connection's start to the login verdict, GG_WELCOME included: libgadu's sess->timeout
#: for connecting and logging in (GG_DEFAULT_TIMEOUT, 30 s; docs/protocol.md#timeouts).
LOGIN_TIMEOUT = 30.0
#: The TCP connect alone, where a client times it apart from the login: the same libgadu budget.
CONNECT_TIMEOUT = LOGIN_TIMEOUT
#: The wait for the server to close the stream once the session is over: after our logoff, a
#: refused login or the server's GG_DISCONNECTING. libgadu gives a NOT_AVAIL logoff 5 s
#: (docs/protocol.md#timeouts); we give every end the same, then close the socket ourselves. A
#: client's own close (close(), aclose()) lets its queued bytes drain for as long.
CLOSE_TIMEOUT = 5.0
#: The server drops a connection that has not logged in within this time: the client's own budget,
#: so a slow but legal client is never cut off before it would give up itself.
SERVER_LOGIN_TIMEOUT = LOGIN_TIMEOUT
#: The server drops a logged-in client silent for this long: the 5 minutes protocol.html 1.10 gives
#: the official server (clients that want to stay idle longer ping, as its clients do every minute).
SERVER_IDLE_TIMEOUT = 300.0

# --- buffers and backlogs --------------------------------------------------------------------------

#: Bytes queued for a peer that does not read before we give up on it. Sends that wait for the
#: buffer to drain never get near it; only automatic answers (receipts, pings) and a peer that never
#: reads can fill it. Every client and the reference server use this one value.
WRITE_LIMIT = 4 * 1024 * 1024
#: Bytes asked of one recv() per readable event: about one largest frame (8 + 65535 bytes), so a
#: busy connection cannot keep the loop from the others; a longer frame simply takes two reads.
READ_SIZE = 65536
#: Events kept for an application that has not taken them yet; past it a client stops reading from
#: the server (back-pressure, as asyncio's StreamReader past its limit) until the backlog halves.
EVENT_BACKLOG = 4096
#: Acks of sent messages kept for wait_ack() after they came; the oldest unclaimed one goes first.
ACK_BACKLOG = 4096
#: Contacts one session may list before GG_NOTIFY_LAST: a bound on the server's memory, far above
#: the 400-per-chunk lists real clients send.
MAX_CONTACTS = 20000
