"""The reference server's offline queue: messages for users who are not logged in, in sqlite3.

With a file the queue survives a restart; without one it lives in memory. Messages are keyed by
(recipient, sender, seq), because seq values repeat across senders (libgadu uses time(NULL)).
No network code here.

The promise, with a file: one commit per message. put() commits before it returns, and the server
tells the sender GG_ACK_QUEUED only after that, so an acknowledged message survives the server
process being killed at any moment (kill -9; not a power loss: commits are not fsynced). remove()
commits as the recipient confirms each message, so after a crash only messages written to the
recipient and not yet confirmed can come again. tests/unit/test_server_durability.py kills a real
server in both phases.
"""
from __future__ import annotations

import sqlite3
from typing import List, NamedTuple, Optional

__all__ = ["OfflineQueue", "QueuedMessage"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS offline_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient INTEGER NOT NULL,
    sender INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    msgclass INTEGER NOT NULL,
    html TEXT NOT NULL,
    plain TEXT NOT NULL,
    attributes BLOB NOT NULL,
    UNIQUE (recipient, sender, seq)
)
"""


class QueuedMessage(NamedTuple):
    """One message waiting for its recipient: the fields of the GG_RECV_MSG80 it will become."""

    recipient: int
    sender: int
    seq: int
    time: int
    msgclass: int
    html: str
    plain: str
    attributes: bytes


class OfflineQueue:
    """Messages waiting for offline recipients, oldest first per recipient.

    Create and use it on one thread (sqlite3's rule): the server opens it inside its event loop.
    """

    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path
        # Autocommit off by default in sqlite3: each put() commits explicitly before returning.
        self._db = sqlite3.connect(path or ":memory:")
        self._db.execute("PRAGMA journal_mode=WAL" if path else "PRAGMA journal_mode=MEMORY")
        # A commit in WAL mode with synchronous=NORMAL is written to the WAL file without fsync: it
        # survives the process being killed (the kernel has it), not a power loss, which is what the
        # server promises; it costs about 0.1 ms where FULL's fsync costs milliseconds.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    def put(self, message: QueuedMessage) -> bool:
        """Store a message durably; False if (recipient, sender, seq) is already queued (a resend)."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO offline_messages"
            " (recipient, sender, seq, time, msgclass, html, plain, attributes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            tuple(message),
        )
        self._db.commit()
        return cursor.rowcount == 1

    def pending(self, recipient: int) -> List[QueuedMessage]:
        """Everything queued for one recipient, in arrival order (left in the queue)."""
        rows = self._db.execute(
            "SELECT recipient, sender, seq, time, msgclass, html, plain, attributes"
            " FROM offline_messages WHERE recipient = ? ORDER BY id",
            (recipient,),
        ).fetchall()
        return [
            QueuedMessage(recipient, sender, seq, when, msgclass, html, plain, bytes(attributes))
            for recipient, sender, seq, when, msgclass, html, plain, attributes in rows
        ]

    def remove(self, message: QueuedMessage) -> None:
        """Forget one message once it has been handed to its recipient's connection."""
        self._db.execute(
            "DELETE FROM offline_messages WHERE recipient = ? AND sender = ? AND seq = ?",
            (message.recipient, message.sender, message.seq),
        )
        self._db.commit()

    def count(self, recipient: Optional[int] = None) -> int:
        """How many messages wait (for one recipient, or for everyone)."""
        if recipient is None:
            row = self._db.execute("SELECT COUNT(*) FROM offline_messages").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM offline_messages WHERE recipient = ?", (recipient,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()
