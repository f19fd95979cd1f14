"""Echo bot: log in, send an empty contact list, answer every message with its own text (pygadu's bot).

The same dispatchers, unchanged, inside asyncio: the bridge in compat serves their socket map from
asyncio's selector (and their timers from call_later), so new asyncio code can share the loop.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Callable, List, Optional

from compat.bridge import AsyncioBridge
from gadu import events as ev
from legacy.dispatcher import GaduClient

__all__ = ["EchoBot", "echo_bot", "main", "parse_args"]


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


class EchoBot(GaduClient):
    def __init__(self, args: argparse.Namespace, done: Callable[[int], Any], **options: Any) -> None:
        super().__init__(args.uin, args.password, **options)
        self.max_messages, self.done = args.max_messages, done
        self.echoed, self.failure = 0, ""

    def on_login_ok(self) -> None:
        print(f"logged in as {self.uin}")
        self.send_contacts([])

    def on_login_failed(self, reason: str) -> None:
        self.failure = reason

    def on_message(self, event: ev.MessageReceived) -> None:
        self.send_message(event.sender, event.text)
        self.echoed += 1
        print(f"echoed to {event.sender}: {event.text}")
        if self.echoed == self.max_messages:
            self.logoff()

    def on_disconnect(self, closed: ev.Closed) -> None:
        if not self.logged_in:
            print(f"failed: {self.failure or closed.reason}")
            self.done(1)
        else:
            print(f"logged off after {self.echoed} message(s)" if closed.clean else f"disconnected: {closed.reason}")
            self.done(0 if closed.clean else 1)


async def echo_bot(args: argparse.Namespace) -> int:
    bridge, exit_code = AsyncioBridge(), asyncio.get_running_loop().create_future()
    bot = EchoBot(args, exit_code.set_result, map=bridge.map, timers=bridge)
    bot.connect_to(args.address)
    return await exit_code


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return asyncio.run(echo_bot(args))


if __name__ == "__main__":
    sys.exit(main())
