"""Faux sync: a callback API, whose calls answer through callback(result, error), made to read like plain calls.

The talk's bridge (docs/talk.md#slide-14): create a Future, hand the call a callback that sets the Future's
result or exception, and wait on the Future. The steps: log in, send a text to the echo contact, take its
answer, ping, log off.

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
from gadu import packets as pk
from legacy.dispatcher import GaduClient

__all__ = ["ECHO_UIN", "FauxSync", "delivery", "faux_sync", "main", "parse_args"]


#: The reference server's echo contact: it answers every message with the same text.
ECHO_UIN = 1000


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Talk to the GG echo contact, one step after another.")
    parser.add_argument("--server", default="127.0.0.1:8074", metavar="HOST:PORT", help="the GG server")
    parser.add_argument("--uin", type=int, default=1001, help="our GG number (default 1001)")
    parser.add_argument("--password", default="alice", help="our password (default alice)")
    parser.add_argument("--text", default="Dzień dobry!", help="what to send to the echo contact")
    args = parser.parse_args(argv)
    host, _, port = args.server.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"--server {args.server!r}: expected HOST:PORT, e.g. 127.0.0.1:8074")
    args.address = (host, int(port))
    return args


def delivery(ack: ev.MessageAck) -> str:
    return "delivered" if ack.status == pk.GG_ACK_DELIVERED else f"not delivered (ack status {ack.status})"


class FauxSync(GaduClient):
    def __init__(self, args: argparse.Namespace, done: Callable[[int], Any], **options: Any) -> None:
        super().__init__(args.uin, args.password, **options)
        self.text, self.done = args.text, done
        self.logged_off, self.failure = False, ""

    def on_login_ok(self) -> None:
        print(f"logged in as {self.uin}")
        self.send_message(ECHO_UIN, self.text)

    def on_login_failed(self, reason: str) -> None:
        self.failure = reason

    def on_ack(self, event: ev.MessageAck) -> None:
        print(f"sent {self.text!r} to {ECHO_UIN}: {delivery(event)}")
        if event.status != pk.GG_ACK_DELIVERED:
            self.abort()

    def on_message(self, event: ev.MessageReceived) -> None:
        print(f"{ECHO_UIN} answered: {event.text}")
        self.ping()

    def on_pong(self) -> None:
        print("ping: pong")
        self.logoff()
        self.logged_off = True

    def on_disconnect(self, closed: ev.Closed) -> None:
        if not self.logged_in:
            print(f"failed: {self.failure or closed.reason}")
        elif self.logged_off and closed.clean:
            print("logged off")
        else:
            print(f"failed: {closed.reason}")
        self.done(0 if self.logged_off and closed.clean else 1)


async def faux_sync(args: argparse.Namespace) -> int:
    bridge, exit_code = AsyncioBridge(), asyncio.get_running_loop().create_future()
    client = FauxSync(args, exit_code.set_result, map=bridge.map, timers=bridge)
    client.connect_to(args.address)
    return await exit_code


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return asyncio.run(faux_sync(args))


if __name__ == "__main__":
    sys.exit(main())
