"""The GG variants' server: gadu.server.ReferenceServer in its own process, sized for the bench.

The bench's accounts (base.FIRST_UIN on, password base.PASSWORD), room for 10,000 sessions and more,
a listen backlog for 10,000 connections arriving in a burst, the echo contact as `gg-workbench serve`
has it. The server itself is unchanged; only its config is sized (listen_backlog and the caps).
Run as `python -m workbench.bench.gg_server --users N`; SIGTERM stops it.
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import List, Optional

from gadu.server import ReferenceServer
from gadu.server.config import ServerConfig

from .base import FIRST_UIN, PASSWORD
from .echo_server import BACKLOG
from .machine import raise_file_limit

__all__ = ["DEFAULT_USERS", "main"]

#: Accounts created by default: the largest scenario (E2: 10,000 idle and one busy) with room to spare.
DEFAULT_USERS = 12000
#: Offline messages kept per user: far more than a run of scenario G sends to one.
MAILBOX_SIZE = 10_000_000


async def _serve(users: int, state: Optional[str]) -> None:
    config = ServerConfig(
        state_path=state,
        # Scenario G queues for offline users as fast as it can: no mailbox may fill up in a run.
        mailbox_size=MAILBOX_SIZE,
        max_unconfirmed=MAILBOX_SIZE + 1,
        users={FIRST_UIN + index: PASSWORD for index in range(users)},
        host="127.0.0.1",
        port=0,
        max_connections=users + 1000,
        listen_backlog=BACKLOG,
        login_timeout=120.0,
    )
    server = ReferenceServer(config)
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"PORT {server.port}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop(timeout=2.0)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.bench.gg_server", description=__doc__)
    parser.add_argument("--users", type=int, default=DEFAULT_USERS)
    parser.add_argument("--state", metavar="FILE", help="sqlite3 file for the offline queue (scenario G)")
    args = parser.parse_args(argv)
    raise_file_limit()
    asyncio.run(_serve(args.users, args.state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
