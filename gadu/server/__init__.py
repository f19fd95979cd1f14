"""The reference GG 8.0 server on asyncio: the one part of gadu that does I/O.

reference.py holds ReferenceServer and ServerThread, config.py what the server is told (ServerConfig),
offline_queue.py the sqlite3 queue for users who are not logged in. The protocol of one connection is
the sans-I/O gadu.server_session, which this package drives.
"""
from __future__ import annotations

from .reference import ECHO_DESCRIPTION, READ_BUFFER_SIZE, ReferenceServer, ServerThread

__all__ = ["ECHO_DESCRIPTION", "READ_BUFFER_SIZE", "ReferenceServer", "ServerThread"]
