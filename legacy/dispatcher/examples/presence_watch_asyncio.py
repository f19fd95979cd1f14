"""Presence watch: log in, send a contact list, print every status change with its description.

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

__all__ = ["FRIENDS_ONLY", "PresenceWatch", "describe", "main", "parse_args", "presence_watch"]

#: Seen only by the contacts our list names: they see us appear once the list has reached the server.
FRIENDS_ONLY = pk.GG_STATUS_AVAIL | pk.GG_STATUS_FRIENDS_MASK
STATUS_NAMES = {pk.GG_STATUS_AVAIL: "available", pk.GG_STATUS_AVAIL_DESCR: "available",
                pk.GG_STATUS_BUSY: "busy", pk.GG_STATUS_BUSY_DESCR: "busy",
                pk.GG_STATUS_NOT_AVAIL: "offline", pk.GG_STATUS_NOT_AVAIL_DESCR: "offline"}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Print every status change of some Gadu-Gadu contacts.")
    parser.add_argument("--server", default="127.0.0.1:8074", metavar="HOST:PORT", help="the GG server")
    parser.add_argument("--uin", type=int, default=1001, help="our GG number (default 1001)")
    parser.add_argument("--password", default="alice", help="our password (default alice)")
    parser.add_argument("--contacts", type=int, nargs="+", default=[1002, 1003, 1004], metavar="UIN",
                        help="whom to watch (default 1002 1003 1004)")
    parser.add_argument("--max-changes", type=int, metavar="N", help="log off after N changes (default never)")
    args = parser.parse_args(argv)
    host, _, port = args.server.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"--server {args.server!r}: expected HOST:PORT, e.g. 127.0.0.1:8074")
    if args.max_changes is not None and args.max_changes < 1:
        parser.error("--max-changes must be at least 1")
    args.address = (host, int(port))
    return args


def describe(change: ev.StatusChanged) -> str:
    name = STATUS_NAMES.get(change.status & pk.GG_STATUS_MASK, f"in status 0x{change.status:x}")
    return f"{change.uin} is {name}: {change.description}" if change.description else f"{change.uin} is {name}"


class PresenceWatch(GaduClient):
    def __init__(self, args: argparse.Namespace, done: Callable[[int], Any], **options: Any) -> None:
        super().__init__(args.uin, args.password, status=FRIENDS_ONLY, **options)
        self.contacts, self.max_changes, self.done = args.contacts, args.max_changes, done
        self.changes, self.failure = 0, ""

    def on_login_ok(self) -> None:
        print(f"logged in as {self.uin}, watching {' '.join(map(str, self.contacts))}")
        self.send_contacts(self.contacts)

    def on_login_failed(self, reason: str) -> None:
        self.failure = reason

    def on_contacts(self, event: ev.ContactsReply) -> None:
        for change in event.entries:  # the contacts online now; after this, each change as it happens
            self.on_status(change)

    def on_status(self, event: ev.StatusChanged) -> None:
        if self.changes == self.max_changes:
            return  # logged off already: what still comes is not watched
        print(describe(event))
        self.changes += 1
        if self.changes == self.max_changes:
            self.logoff()

    def on_disconnect(self, closed: ev.Closed) -> None:
        if not self.logged_in:
            print(f"failed: {self.failure or closed.reason}")
            self.done(1)
        else:
            print(f"logged off after {self.changes} change(s)" if closed.clean else f"disconnected: {closed.reason}")
            self.done(0 if closed.clean else 1)


async def presence_watch(args: argparse.Namespace) -> int:
    bridge, exit_code = AsyncioBridge(), asyncio.get_running_loop().create_future()
    watch = PresenceWatch(args, exit_code.set_result, map=bridge.map, timers=bridge)
    watch.connect_to(args.address)
    return await exit_code


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return asyncio.run(presence_watch(args))


if __name__ == "__main__":
    sys.exit(main())
