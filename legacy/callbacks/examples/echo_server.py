"""Echo server: accept connections, send every byte back, say who came and went (no GG, bare I/O).

The talk's socket echo server (docs/talk.md#slide-12): nothing here but the loop and the sockets, so the style
is all there is.

Plain callbacks on legacy.callbacks.Reactor: a reader callback accepts, another reads; a client's
reader steps aside while what it read is written back, so that nothing piles up in memory.
"""
from __future__ import annotations

import argparse
import socket
import sys
from typing import List, Optional

from legacy.callbacks import Reactor

__all__ = ["echo_server", "main", "parse_args"]


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


def echo_server(reactor: Reactor, args: argparse.Namespace) -> int:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(5)
    listener.setblocking(False)
    print(f"listening on {args.host}:{listener.getsockname()[1]}")
    accepted = connected_clients = 0

    def on_accept():
        nonlocal accepted, connected_clients
        conn, _ = listener.accept()
        conn.setblocking(False)
        accepted += 1
        connected_clients += 1
        print(f"client {accepted} connected")
        serve(conn, accepted)
        if accepted == args.max_clients:
            reactor.remove_reader(listener)  # stop listening; the clients already here are served to the end
            listener.close()

    def serve(conn, number):
        echoed = 0

        def on_readable():
            nonlocal echoed
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""  # a reset ends the client as a close does
            if not data:
                return client_left(conn, number, echoed)
            echoed += len(data)
            reactor.remove_reader(conn)
            send(memoryview(data))

        def send(data):
            try:
                sent = conn.send(data)
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                reactor.add_writer(conn, send, data[sent:])
            else:
                reactor.remove_writer(conn)
                reactor.add_reader(conn, on_readable)

        reactor.add_reader(conn, on_readable)

    def client_left(conn, number, echoed):
        nonlocal connected_clients
        reactor.remove_reader(conn)
        reactor.remove_writer(conn)
        conn.close()
        print(f"client {number} left after {echoed} bytes")
        connected_clients -= 1
        if not connected_clients and accepted == args.max_clients:
            print(f"served {accepted} client(s)")
            reactor.stop()

    reactor.add_reader(listener, on_accept)
    try:
        reactor.run()
    finally:
        listener.close()
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    with Reactor() as reactor:
        return echo_server(reactor, args)


if __name__ == "__main__":
    sys.exit(main())
