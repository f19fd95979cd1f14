"""Fan-out: ask many questions at once, wait until every one is answered or failed, then report.

The talk's update_index (docs/talk.md#slide-6): start N requests together, wait for all, then process the
results; a request that fails is reported with the others, not lost. Here a request is a message to the echo
contact.

Native coroutines on asyncio: one task per question, asyncio.gather waits for them all.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Dict, List, Optional, Tuple

from gadu import events as ev
from gadu import packets as pk
from gadu.errors import LoginError
from modern.aio import GGClient

__all__ = ["ask", "fan_out", "main", "parse_args", "questions", "read_answers", "report"]


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


async def ask(client: GGClient, answers: Dict[str, Any], recipient: int, text: str) -> str:
    """One request: the question goes out, the server acks it, the answer comes back."""
    answer = answers[text] = asyncio.get_running_loop().create_future()
    seq = await client.send_message(recipient, text)
    ack = await client.wait_ack(seq)
    if ack.status != pk.GG_ACK_DELIVERED:
        raise LookupError(f"not delivered (ack status {ack.status})")
    return await answer


async def read_answers(client: GGClient, answers: Dict[str, Any]) -> None:
    async for event in client.events():
        answer = answers.pop(event.text, None) if isinstance(event, ev.MessageReceived) else None
        if answer is not None and not answer.done():  # done: it timed out already
            answer.set_result(event.text)


async def fan_out(args: argparse.Namespace) -> int:
    async with GGClient(*args.address) as client:
        await client.login(args.uin, args.password)
        print(f"logged in as {args.uin}")
        asked, answers = questions(args), {}
        print(f"asking {len(asked)} questions at once")
        reader = asyncio.create_task(read_answers(client, answers))
        requests = [asyncio.wait_for(ask(client, answers, *question), args.timeout) for question in asked]
        results = await asyncio.gather(*requests, return_exceptions=True)
        reader.cancel()
        exit_code = report(asked, results)
        await client.logoff()
    return exit_code


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(fan_out(args))
    except (OSError, LoginError) as exc:
        print(f"failed: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
