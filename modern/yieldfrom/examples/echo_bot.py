"""Echo bot: log in, send an empty contact list, answer every message with its own text (pygadu's bot).

Generator coroutines on the from-scratch loop (modern/loop): one coroutine reads the client's
events top to bottom. `main(argv, loop)` runs on the loop it is given (gg-workbench trace passes one).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, List, Optional

from compat import coroutine
from gadu import events as ev
from gadu.errors import LoginError
from modern.loop import new_event_loop
from modern.yieldfrom import GGClient

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


@coroutine
def echo_bot(loop: Any, args: argparse.Namespace) -> Any:
    client = GGClient(loop)
    try:
        yield from client.connect(*args.address)
        yield from client.login(args.uin, args.password)
        print(f"logged in as {args.uin}")
        client.send_contacts([])
        echoed, event = 0, None
        while not isinstance(event, ev.Closed):
            event = yield from client.next_event()
            if isinstance(event, ev.MessageReceived):
                client.send_message(event.sender, event.text)
                echoed += 1
                print(f"echoed to {event.sender}: {event.text}")
                if echoed == args.max_messages:
                    client.logoff()
    finally:
        client.abort()  # nothing to do after Closed; on an error or a cancel, the socket goes now
        yield from client.wait_closed()
    print(f"logged off after {echoed} message(s)" if event.clean else f"disconnected: {event.reason}")
    return 0 if event.clean else 1


def main(argv: Optional[List[str]] = None, loop: Any = None) -> int:
    args = parse_args(argv)
    loop = loop or new_event_loop()
    try:
        return loop.run_until_complete(echo_bot(loop, args))
    except (OSError, LoginError) as exc:
        print(f"failed: {exc}")
        return 1
    finally:
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
