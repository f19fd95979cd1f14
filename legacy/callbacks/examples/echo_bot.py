"""Echo bot: log in, send an empty contact list, answer every message with its own text (pygadu's bot).

Plain callbacks on legacy.callbacks.Reactor: the login calls back with its result or its error, and
everything else that happens arrives at the handler registered with on_event.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from gadu import events as ev
from legacy.callbacks import GGClient, Reactor

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


def echo_bot(reactor: Reactor, args: argparse.Namespace) -> int:
    client = GGClient(reactor)
    echoed, logged_in, exit_code = 0, False, 1

    def on_login(result, error):
        nonlocal logged_in
        if error is not None:
            print(f"failed: {error}")  # the Closed event follows, and stops the reactor
            return
        logged_in = True
        print(f"logged in as {args.uin}")
        client.send_contacts([])

    @client.on_event
    def on_event(event):
        nonlocal echoed, exit_code
        if isinstance(event, ev.MessageReceived):
            client.send_message(event.sender, event.text)
            echoed += 1
            print(f"echoed to {event.sender}: {event.text}")
            if echoed == args.max_messages:
                client.logoff()
        elif isinstance(event, ev.Closed):
            if logged_in:
                print(f"logged off after {echoed} message(s)" if event.clean else f"disconnected: {event.reason}")
                exit_code = 0 if event.clean else 1
            reactor.stop()

    client.login(args.address, args.uin, args.password, on_login)
    reactor.run()
    return exit_code


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    with Reactor() as reactor:
        return echo_bot(reactor, args)


if __name__ == "__main__":
    sys.exit(main())
