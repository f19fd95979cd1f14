"""Echo server: accept connections, send every byte back, say who came and went (no GG, bare I/O).

The talk's socket echo server (docs/talk.md#slide-12): nothing here but the loop and the sockets, so the style
is all there is.

Generator coroutines on the from-scratch loop (modern/loop), the talk's own echo server: one task
accepts, one task per client reads and writes back. `main(argv, loop)` runs on the loop it is given.
"""
from __future__ import annotations

import argparse
import socket
import sys
from typing import Any, List, Optional

from compat import coroutine
from modern.loop import gather, new_event_loop

__all__ = ["echo_server", "main", "parse_args", "serve"]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A TCP echo server: every byte comes back.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: a free one, printed)")
    parser.add_argument("--max-clients", type=int, metavar="N", help="stop after serving N clients (default never)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: expected 0 to 65535")
    if args.max_clients is not None and args.max_clients < 1:
        parser.error("--max-clients must be at least 1")
    return args


@coroutine
def serve(loop: Any, conn: socket.socket, number: int) -> Any:
    echoed = 0
    with conn:
        try:
            while True:
                data = yield from loop.sock_recv(conn, 4096)
                if not data:
                    break
                yield from loop.sock_sendall(conn, data)
                echoed += len(data)
        except ConnectionError:
            pass  # a reset ends the client as a close does
    print(f"client {number} left after {echoed} bytes")


@coroutine
def echo_server(loop: Any, args: argparse.Namespace) -> Any:
    accepted, running = 0, set()
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((args.host, args.port))
        listener.listen(5)
        listener.setblocking(False)
        print(f"listening on {args.host}:{listener.getsockname()[1]}")
        while accepted != args.max_clients:  # None: for ever
            conn, _ = yield from loop.sock_accept(listener)
            conn.setblocking(False)
            accepted += 1
            print(f"client {accepted} connected")
            task = loop.create_task(serve(loop, conn, accepted))
            running.add(task)
            task.add_done_callback(running.discard)
    # The listener is closed: the clients already here are served to the end.
    yield from gather(*running)
    print(f"served {accepted} client(s)")
    return 0


def main(argv: Optional[List[str]] = None, loop: Any = None) -> int:
    args = parse_args(argv)
    loop = loop or new_event_loop()
    try:
        return loop.run_until_complete(echo_server(loop, args))
    finally:
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
