"""A small program for the trace tests: two timers, one socket pair, two tasks, in a known order."""
from __future__ import annotations

import socket
from typing import Any

from modern.loop import sleep


async def reader(loop: Any, sock: socket.socket) -> bytes:
    data = await loop.sock_recv(sock, 16)  # READ
    return data


async def main(loop: Any, a: socket.socket, b: socket.socket) -> bytes:
    task = loop.create_task(reader(loop, a))  # CREATE
    # Long enough that a loaded machine still finds each timer in the future when it computes its wait.
    await sleep(0.1)  # FIRST TIMER
    await sleep(0.1)  # SECOND TIMER
    await loop.sock_sendall(b, b"ping")  # SEND
    return await task  # JOIN
