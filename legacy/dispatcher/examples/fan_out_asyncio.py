"""Fan-out: ask many questions at once, wait until every one is answered or failed, then report.

The talk's update_index (docs/talk.md#slide-6): start N requests together, wait for all, then process the
results; a request that fails is reported with the others, not lost. Here a request is a message to the echo
contact.

The same dispatchers, unchanged, inside asyncio: the bridge in compat serves their socket map from
asyncio's selector (and their timers from call_later), so new asyncio code can share the loop.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

from compat.bridge import AsyncioBridge
from gadu import events as ev
from gadu import packets as pk
from legacy.dispatcher import GaduClient

__all__ = ["FanOut", "fan_out", "main", "parse_args", "questions", "report"]


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


class FanOut(GaduClient):
    def __init__(self, args: argparse.Namespace, done: Callable[[int], Any], **options: Any) -> None:
        super().__init__(args.uin, args.password, **options)
        self.asked, self.timeout, self.done = questions(args), args.timeout, done
        self.results: List[Any] = [None] * len(self.asked)
        self.by_seq: Dict[int, int] = {}  # message seq -> question index, until its ack
        self.by_text: Dict[str, int] = {}  # question text -> index, until its answer
        self.deadlines: List[Any] = []
        self.exit_code, self.failure = 1, ""

    def on_login_ok(self) -> None:
        print(f"logged in as {self.uin}")
        print(f"asking {len(self.asked)} questions at once")
        for index, (recipient, text) in enumerate(self.asked):
            self.by_text[text] = index
            self.by_seq[self.send_message(recipient, text)] = index
            self.deadlines.append(self.timers.call_later(self.timeout, self.finish, index, TimeoutError()))

    def on_login_failed(self, reason: str) -> None:
        self.failure = reason

    def on_ack(self, event: ev.MessageAck) -> None:
        index = self.by_seq.pop(event.seq, None)
        if index is not None and event.status != pk.GG_ACK_DELIVERED:
            self.finish(index, LookupError(f"not delivered (ack status {event.status})"))

    def on_message(self, event: ev.MessageReceived) -> None:
        if event.text in self.by_text:
            self.finish(self.by_text.pop(event.text), event.text)

    def finish(self, index: int, result: Any) -> None:
        if self.results[index] is None:
            self.results[index] = result
            if None not in self.results:
                self.exit_code = report(self.asked, self.results)
                self.logoff()

    def on_disconnect(self, closed: ev.Closed) -> None:
        for deadline in self.deadlines:
            deadline.cancel()
        if not self.logged_in:
            print(f"failed: {self.failure or closed.reason}")
        elif not closed.clean:
            print(f"disconnected: {closed.reason}")
        self.done(self.exit_code if closed.clean else 1)


async def fan_out(args: argparse.Namespace) -> int:
    bridge, exit_code = AsyncioBridge(), asyncio.get_running_loop().create_future()
    client = FanOut(args, exit_code.set_result, map=bridge.map, timers=bridge)
    client.connect_to(args.address)
    return await exit_code


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return asyncio.run(fan_out(args))


if __name__ == "__main__":
    sys.exit(main())
