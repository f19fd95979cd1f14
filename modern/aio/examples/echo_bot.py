"""Echo bot: log in, send an empty contact list, answer every message with its own text (pygadu's bot).

Native coroutines on asyncio: one coroutine reads the client's events top to bottom.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import List, Optional

from gadu import events as ev
from gadu.errors import LoginError
from modern.aio import GGClient

__all__ = ["echo_bot", "main", "parse_args"]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Answer every Gadu-Gadu message with its own text.")
    parser.add_argument("--server", default="127.0.0.1:8074", metavar="HOST:PORT", help="the GG server")
    parser.add_argument("--uin", type=int, default=1001, help="the bot's GG number (default 1001)")
    parser.add_argument("--password", default="alice", help="the bot's password (default alice)")
    parser.add_argument("--max-messages", type=int, metavar="N", help="log off after N echoes (default never)")
    args = parser.parse_args(argv)
    host, _, port = args.server.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"--server {args.server!r}: expected HOST:PORT, e.g. 127.0.0.1:8074")
    if args.max_messages is not None and args.max_messages < 1:
        parser.error("--max-messages must be at least 1")
    args.address = (host, int(port))
    return args


async def echo_bot(args: argparse.Namespace) -> int:
    async with GGClient(*args.address) as client:
        await client.login(args.uin, args.password)
        print(f"logged in as {args.uin}")
        await client.send_contacts([])
        echoed = 0
        async for event in client.events():
            if isinstance(event, ev.MessageReceived):
                await client.send_message(event.sender, event.text)
                echoed += 1
                print(f"echoed to {event.sender}: {event.text}")
                if echoed == args.max_messages:
                    client.logoff()
    # events() ends after the Closed event, the last one of every connection.
    print(f"logged off after {echoed} message(s)" if event.clean else f"disconnected: {event.reason}")
    return 0 if event.clean else 1


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(echo_bot(args))
    except (OSError, LoginError) as exc:
        print(f"failed: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
