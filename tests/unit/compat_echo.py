"""An asyncore echo server in the old style, shared by the compat tests: one line in, "echo:" + line out."""
from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any, Coroutine

from compat import asynchat, asyncore

__all__ = ["EchoChannel", "EchoServer", "run_on_selector_loop"]


def run_on_selector_loop(main: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run on a selector loop, which the bridge needs: Windows' default is the Proactor."""
    if sys.platform != "win32":
        return asyncio.run(main)
    policy = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())
    try:
        return asyncio.run(main)
    finally:
        asyncio.set_event_loop_policy(policy)


class EchoServer(asyncore.dispatcher):
    def __init__(self, socket_map):
        super().__init__(map=socket_map)
        self.socket_map = socket_map
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.set_reuse_addr()
        self.bind(("127.0.0.1", 0))
        self.listen(5)
        self.channels = []

    def handle_accepted(self, sock, addr):
        self.channels.append(EchoChannel(sock, self.socket_map))


class EchoChannel(asynchat.async_chat):
    def __init__(self, sock, socket_map):
        super().__init__(sock, map=socket_map)
        self.set_terminator(b"\n")
        self.buffer = []

    def collect_incoming_data(self, data):
        self.buffer.append(data)

    def found_terminator(self):
        self.push(b"echo:" + b"".join(self.buffer) + b"\n")
        self.buffer = []
