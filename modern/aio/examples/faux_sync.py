"""Faux sync: a callback API, whose calls answer through callback(result, error), made to read like plain calls.

The talk's bridge (docs/talk.md#slide-14): create a Future, hand the call a callback that sets the Future's
result or exception, and wait on the Future. The steps: log in, send a text to the echo contact, take its
answer, ping, log off.

Native coroutines on asyncio, driving the callbacks client of legacy/callbacks unchanged: asyncio's loop
has the methods its reactor had, so only the way its answers are waited for changes.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Callable, List, Optional

from gadu import events as ev
from gadu import packets as pk
from gadu.errors import LoginError
from legacy.callbacks import GGClient

__all__ = ["ECHO_UIN", "call", "delivery", "faux_sync", "main", "parse_args"]


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


async def call(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args, callback)`, waited for: its result is returned, its error raised."""
    future = asyncio.get_running_loop().create_future()

    def callback(result, error):
        if future.done():
            return  # the waiting coroutine was cancelled
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    function(*args, callback)
    return await future


async def faux_sync(args: argparse.Namespace) -> int:
    client = GGClient(asyncio.get_running_loop())
    answer = asyncio.get_running_loop().create_future()  # events are not calls: a handler fills this one

    @client.on_event
    def on_event(event):
        if isinstance(event, ev.MessageReceived) and not answer.done():
            answer.set_result(event.text)

    try:
        await call(client.login, args.address, args.uin, args.password)
        print(f"logged in as {args.uin}")
        ack = await call(client.send_message, ECHO_UIN, args.text)
        print(f"sent {args.text!r} to {ECHO_UIN}: {delivery(ack)}")
        if ack.status != pk.GG_ACK_DELIVERED:
            return 1
        print(f"{ECHO_UIN} answered: {await answer}")
        await call(client.ping)
        print("ping: pong")
        await call(client.logoff, "")
        print("logged off")
        return 0
    finally:
        client.abort()  # nothing to do after the logoff; on an error or a cancel, the socket goes now


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(faux_sync(args))
    except (OSError, LoginError) as exc:
        print(f"failed: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
