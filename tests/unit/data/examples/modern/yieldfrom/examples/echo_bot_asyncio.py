"""Echo bot, yield-from style: one generator coroutine reads events top to bottom (fixture)."""
from __future__ import annotations

import asyncio

from compat import coroutine
from modern.yieldfrom.client import GGClient

HOST, PORT = "127.0.0.1", 8074
MAX_ECHO = 200


@coroutine
def echo(loop):
    client = GGClient(loop=loop)
    yield from client.connect(HOST, PORT)
    yield from client.login(1001, "alice")
    while True:
        event = yield from client.next_event()
        if len(event.text) < MAX_ECHO and "&" not in event.text:  # a < b & c > d
            client.send_message(event.sender, event.text)


def main() -> None:
    loop = asyncio.new_event_loop()
    task = asyncio.ensure_future(echo(loop), loop=loop)
    loop.run_until_complete(task)
