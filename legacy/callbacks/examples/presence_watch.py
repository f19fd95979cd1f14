"""Presence watch: log in, send a contact list, print every status change with its description.

Plain callbacks on legacy.callbacks.Reactor: the login calls back with its result or its error, and
everything else that happens arrives at the handler registered with on_event.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Tuple

from gadu import events as ev
from gadu import packets as pk
from legacy.callbacks import GGClient, Reactor

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


def presence_watch(reactor: Reactor, args: argparse.Namespace) -> int:
    client = GGClient(reactor)
    changes, logged_in, exit_code = 0, False, 1

    def on_login(result, error):
        nonlocal logged_in
        if error is not None:
            print(f"failed: {error}")  # the Closed event follows, and stops the reactor
            return
        logged_in = True
        print(f"logged in as {args.uin}, watching {' '.join(map(str, args.contacts))}")
        client.send_contacts(args.contacts)

    @client.on_event
    def on_event(event):
        nonlocal changes, exit_code
        for change in changes_in(event):
            if changes == args.max_changes:
                break  # logged off already: what still comes is not watched
            print(describe(change))
            changes += 1
            if changes == args.max_changes:
                client.logoff()
        if isinstance(event, ev.Closed):
            if logged_in:
                print(f"logged off after {changes} change(s)" if event.clean else f"disconnected: {event.reason}")
                exit_code = 0 if event.clean else 1
            reactor.stop()

    client.login(args.address, args.uin, args.password, on_login, status=FRIENDS_ONLY)
    reactor.run()
    return exit_code


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    with Reactor() as reactor:
        return presence_watch(reactor, args)


if __name__ == "__main__":
    sys.exit(main())
