"""Presence watch: log in, send a contact list, print every status change with its description.

Generator coroutines on the from-scratch loop (modern/loop): one coroutine reads the client's
events top to bottom. `main(argv, loop)` runs on the loop it is given (gg-workbench trace passes one).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, List, Optional, Tuple

from compat import coroutine
from gadu import events as ev
from gadu import packets as pk
from gadu.errors import LoginError
from modern.loop import new_event_loop
from modern.yieldfrom import GGClient

__all__ = ["FRIENDS_ONLY", "changes_in", "describe", "main", "parse_args", "presence_watch"]

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


def changes_in(event: ev.Event) -> Tuple[ev.StatusChanged, ...]:
    """The list's answer holds the contacts online now; after it, each change comes as it happens."""
    if isinstance(event, ev.ContactsReply):
        return event.entries
    return (event,) if isinstance(event, ev.StatusChanged) else ()


def describe(change: ev.StatusChanged) -> str:
    name = STATUS_NAMES.get(change.status & pk.GG_STATUS_MASK, f"in status 0x{change.status:x}")
    return f"{change.uin} is {name}: {change.description}" if change.description else f"{change.uin} is {name}"


@coroutine
def presence_watch(loop: Any, args: argparse.Namespace) -> Any:
    client = GGClient(loop)
    try:
        yield from client.connect(*args.address)
        yield from client.login(args.uin, args.password, status=FRIENDS_ONLY)
        print(f"logged in as {args.uin}, watching {' '.join(map(str, args.contacts))}")
        client.send_contacts(args.contacts)
        changes, event = 0, None
        while not isinstance(event, ev.Closed):
            event = yield from client.next_event()
            for change in changes_in(event):
                if changes == args.max_changes:
                    break  # logged off already: what still comes is not watched
                print(describe(change))
                changes += 1
                if changes == args.max_changes:
                    client.logoff()
    finally:
        client.abort()  # nothing to do after Closed; on an error or a cancel, the socket goes now
        yield from client.wait_closed()
    print(f"logged off after {changes} change(s)" if event.clean else f"disconnected: {event.reason}")
    return 0 if event.clean else 1


def main(argv: Optional[List[str]] = None, loop: Any = None) -> int:
    args = parse_args(argv)
    loop = loop or new_event_loop()
    try:
        return loop.run_until_complete(presence_watch(loop, args))
    except (OSError, LoginError) as exc:
        print(f"failed: {exc}")
        return 1
    finally:
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
