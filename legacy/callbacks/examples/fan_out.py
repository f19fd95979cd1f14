"""Fan-out: ask many questions at once, wait until every one is answered or failed, then report.

The talk's update_index (docs/talk.md#slide-6): start N requests together, wait for all, then process the
results; a request that fails is reported with the others, not lost. Here a request is a message to the echo
contact.

Plain callbacks on legacy.callbacks.Reactor: every question gets its callback and its timer, and the
last one to finish counts down to zero and reports.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, List, Optional, Tuple

from gadu import events as ev
from gadu import packets as pk
from legacy.callbacks import GGClient, Reactor

__all__ = ["fan_out", "main", "parse_args", "questions", "report"]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Ask many questions at once over Gadu-Gadu; report every answer.")
    parser.add_argument("--server", default="127.0.0.1:8074", metavar="HOST:PORT", help="the GG server")
    parser.add_argument("--uin", type=int, default=1001, help="our GG number (default 1001)")
    parser.add_argument("--password", default="alice", help="our password (default alice)")
    parser.add_argument("--count", type=int, default=5, metavar="N", help="how many questions (default 5)")
    parser.add_argument("--to", type=int, nargs="+", default=[1000], metavar="UIN",
                        help="whom to ask, in turn (default 1000, the echo contact)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                        help="how long one question may take (default 5)")
    args = parser.parse_args(argv)
    host, _, port = args.server.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"--server {args.server!r}: expected HOST:PORT, e.g. 127.0.0.1:8074")
    if args.count < 1 or not args.timeout > 0:
        parser.error("--count must be at least 1 and --timeout positive")
    args.address = (host, int(port))
    return args


def questions(args: argparse.Namespace) -> List[Tuple[int, str]]:
    """(recipient, text) for each question; the texts differ, so that an answer names its question."""
    return [(args.to[index % len(args.to)], f"question {index + 1}") for index in range(args.count)]


def report(asked: List[Tuple[int, str]], results: List[Any]) -> int:
    """Print each question's outcome in the order asked, then a summary; 1 when any failed."""
    for number, ((recipient, _), result) in enumerate(zip(asked, results), 1):
        if isinstance(result, BaseException):
            print(f"question {number} to {recipient}: failed: {str(result) or 'no answer in time'}")
        else:
            print(f"question {number} to {recipient}: answered {result!r}")
    failed = sum(isinstance(result, BaseException) for result in results)
    print(f"{len(results) - failed} answered, {failed} failed")
    return 1 if failed else 0


def fan_out(reactor: Reactor, args: argparse.Namespace) -> int:
    client = GGClient(reactor)
    asked = questions(args)
    results: List[Any] = [None] * len(asked)
    waiting, deadlines = {}, []  # question text -> its index, until the answer; the timeout timers
    left, exit_code = len(asked), 1

    def on_login(result, error):
        if error is not None:
            print(f"failed: {error}")  # the Closed event follows, and stops the reactor
            return
        print(f"logged in as {args.uin}")
        print(f"asking {len(asked)} questions at once")
        for index, (recipient, text) in enumerate(asked):
            ask(index, recipient, text)

    def ask(index, recipient, text):
        def on_ack(ack, error):
            if error is not None:
                finish(index, error)
            elif ack.status != pk.GG_ACK_DELIVERED:
                finish(index, LookupError(f"not delivered (ack status {ack.status})"))

        waiting[text] = index
        client.send_message(recipient, text, on_ack)
        deadlines.append(reactor.call_later(args.timeout, finish, index, TimeoutError()))

    def finish(index, result):
        nonlocal left, exit_code
        if results[index] is None:
            results[index] = result
            left -= 1
            if left == 0:
                for deadline in deadlines:
                    deadline.cancel()
                exit_code = report(asked, results)
                if client.closed is None:
                    client.logoff()

    @client.on_event
    def on_event(event):
        if isinstance(event, ev.MessageReceived) and event.text in waiting:
            finish(waiting.pop(event.text), event.text)
        elif isinstance(event, ev.Closed):
            reactor.stop()

    client.login(args.address, args.uin, args.password, on_login)
    reactor.run()
    return exit_code


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    with Reactor() as reactor:
        return fan_out(reactor, args)


if __name__ == "__main__":
    sys.exit(main())
