"""Faux sync: a callback API, whose calls answer through callback(result, error), made to read like plain calls.

The talk's bridge (docs/talk.md#slide-14): create a Future, hand the call a callback that sets the Future's
result or exception, and wait on the Future. The steps: log in, send a text to the echo contact, take its
answer, ping, log off.

Here, the callback version itself on legacy.callbacks.Reactor: each step starts inside the callback of
the step before, so the program reads from the outside in (the talk's "callback hell", docs/talk.md#slide-3).
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from gadu import events as ev
from gadu import packets as pk
from legacy.callbacks import GGClient, Reactor

__all__ = ["ECHO_UIN", "delivery", "faux_sync", "main", "parse_args"]


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


def faux_sync(reactor: Reactor, args: argparse.Namespace) -> int:
    client = GGClient(reactor)
    exit_code = 1

    def on_login(result, error):
        if error is not None:
            print(f"failed: {error}")  # the Closed event follows, and stops the reactor
            return
        print(f"logged in as {args.uin}")

        def on_ack(ack, error):
            if error is not None:
                print(f"failed: {error}")
                return
            print(f"sent {args.text!r} to {ECHO_UIN}: {delivery(ack)}")
            if ack.status != pk.GG_ACK_DELIVERED:
                client.abort()

        client.send_message(ECHO_UIN, args.text, on_ack)

    def on_answer(text):
        print(f"{ECHO_UIN} answered: {text}")

        def on_pong(pong, error):
            if error is not None:
                print(f"failed: {error}")
                return
            print("ping: pong")

            def on_logoff(closed, error):
                nonlocal exit_code
                if error is not None:
                    print(f"failed: {error}")
                    return
                print("logged off")
                exit_code = 0

            client.logoff("", on_logoff)

        client.ping(on_pong)

    @client.on_event
    def on_event(event):
        if isinstance(event, ev.MessageReceived):
            on_answer(event.text)
        elif isinstance(event, ev.Closed):
            reactor.stop()

    client.login(args.address, args.uin, args.password, on_login)
    reactor.run()
    return exit_code


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    with Reactor() as reactor:
        return faux_sync(reactor, args)


if __name__ == "__main__":
    sys.exit(main())
