"""The raw ceilings' server: every byte a client sends comes straight back, so every frame is echoed whole.

Written for speed on one core, as plainly as Python allows: one `select.epoll` (level-triggered), one
reused receive buffer, `recv_into` and `send` on it, and a queue only for what the kernel did not take.
It parses nothing: a frame echoed byte for byte is a frame. Run as
`python -m workbench.bench.echo_server --port-file F`; SIGTERM stops it.
"""
from __future__ import annotations

import argparse
import select
import signal
import socket
import sys
from typing import Dict, List, Optional

from .machine import raise_file_limit

__all__ = ["BACKLOG", "main", "serve"]

#: listen() backlog: 10,000 connections may arrive in one burst (the kernel caps it at somaxconn).
BACKLOG = 16384
_READ = select.EPOLLIN if hasattr(select, "EPOLLIN") else 1
_WRITE = select.EPOLLOUT if hasattr(select, "EPOLLOUT") else 4


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(listener: socket.socket) -> None:
    """Echo on every connection `listener` accepts, until SystemExit (SIGTERM)."""
    poller = select.epoll()
    listener.setblocking(False)
    listen_fd = listener.fileno()
    poller.register(listen_fd, _READ)
    sockets: Dict[int, socket.socket] = {}
    queued: Dict[int, bytearray] = {}
    buffer = bytearray(256 * 1024)
    view = memoryview(buffer)

    def drop(fd: int) -> None:
        poller.unregister(fd)
        queued.pop(fd, None)
        sockets.pop(fd).close()

    try:
        while True:
            for fd, events in poller.poll():
                if fd == listen_fd:
                    _accept(listener, poller, sockets)
                    continue
                sock = sockets.get(fd)
                if sock is None:
                    continue
                if events & _WRITE:
                    pending = queued[fd]
                    try:
                        sent = sock.send(pending)
                    except (BlockingIOError, InterruptedError):
                        sent = 0
                    except OSError:
                        drop(fd)
                        continue
                    del pending[:sent]
                    if not pending:
                        del queued[fd]
                        poller.modify(fd, _READ)
                    continue
                try:
                    nbytes = sock.recv_into(buffer)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    drop(fd)
                    continue
                if not nbytes:
                    drop(fd)
                    continue
                try:
                    sent = sock.send(view[:nbytes])
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError:
                    drop(fd)
                    continue
                if sent < nbytes:
                    # The client is not reading: hold the rest and read nothing more from it until
                    # that is written, so the hold never exceeds one read.
                    queued[fd] = bytearray(view[sent:nbytes])
                    poller.modify(fd, _WRITE)
    finally:
        for sock in sockets.values():
            sock.close()
        poller.close()


def _accept(listener: socket.socket, poller: select.epoll, sockets: Dict[int, socket.socket]) -> None:
    for _ in range(BACKLOG):
        try:
            conn, _address = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # out of descriptors: the backlog waits until a client leaves
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sockets[conn.fileno()] = conn
        poller.register(conn.fileno(), _READ)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.bench.echo_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if not hasattr(select, "epoll"):
        print("echo server: needs select.epoll (Linux)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop)
    raise_file_limit()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(BACKLOG)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    try:
        serve(listener)
    finally:
        listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
