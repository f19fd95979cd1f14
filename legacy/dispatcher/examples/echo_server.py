"""Echo server: accept connections, send every byte back, say who came and went (no GG, bare I/O).

The talk's socket echo server (docs/talk.md#slide-12): nothing here but the loop and the sockets, so the style
is all there is.

asyncore and asynchat: a listening dispatcher makes one channel per client; a channel without a
terminator hands every byte read to collect_incoming_data, which pushes it back. `done(exit_code)` ends it.
"""
from __future__ import annotations

import argparse
import socket
import sys
from typing import Any, Callable, Dict, List, Optional

from compat import asynchat, asyncore

__all__ = ["EchoChannel", "EchoServer", "main", "parse_args"]


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


class EchoChannel(asynchat.async_chat):
    def __init__(self, sock: socket.socket, number: int, server: EchoServer) -> None:
        super().__init__(sock, map=server.socket_map)
        self.set_terminator(None)  # no framing: every byte read goes to collect_incoming_data
        self.number, self.server, self.echoed = number, server, 0

    def collect_incoming_data(self, data: bytes) -> None:
        self.push(data)
        self.echoed += len(data)

    def handle_close(self) -> None:
        self.close()
        print(f"client {self.number} left after {self.echoed} bytes")
        self.server.client_left()


class EchoServer(asyncore.dispatcher):
    def __init__(self, args: argparse.Namespace, done: Callable[[int], Any], map: Dict[int, Any]) -> None:
        super().__init__(map=map)
        self.socket_map, self.max_clients, self.done = map, args.max_clients, done
        self.accepted = self.connected_clients = 0
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.set_reuse_addr()
        self.bind((args.host, args.port))
        self.listen(5)
        print(f"listening on {args.host}:{self.socket.getsockname()[1]}")

    def handle_accepted(self, sock: socket.socket, address: Any) -> None:
        self.accepted += 1
        self.connected_clients += 1
        print(f"client {self.accepted} connected")
        EchoChannel(sock, self.accepted, self)
        if self.accepted == self.max_clients:
            self.close()  # stop listening; the clients already here are served to the end

    def client_left(self) -> None:
        self.connected_clients -= 1
        if not self.connected_clients and self.accepted == self.max_clients:
            print(f"served {self.accepted} client(s)")
            self.done(0)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    socket_map, exit_codes = {}, []
    EchoServer(args, exit_codes.append, map=socket_map)
    asyncore.loop(map=socket_map)  # until the map is empty: the listener and every channel closed
    return exit_codes[0]


if __name__ == "__main__":
    sys.exit(main())
