"""Echo server: accept connections, send every byte back, say who came and went (no GG, bare I/O).

The talk's socket echo server (docs/talk.md#slide-12): nothing here but the loop and the sockets, so the style
is all there is.

Native coroutines on asyncio with its streams: start_server runs one task per client, which reads,
writes back and waits for the write buffer to drain.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import List, Optional

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


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
    echoed = 0
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                break
            writer.write(data)
            await writer.drain()
            echoed += len(data)
    except ConnectionError:
        pass  # a reset ends the client as a close does
    finally:
        writer.close()
    print(f"client {number} left after {echoed} bytes")


async def echo_server(args: argparse.Namespace) -> int:
    accepted, running = 0, set()
    enough = asyncio.get_running_loop().create_future()

    def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        print(f"client {accepted} connected")
        task = asyncio.create_task(serve(reader, writer, accepted))
        running.add(task)
        task.add_done_callback(running.discard)
        if accepted == args.max_clients and not enough.done():
            enough.set_result(None)

    server = await asyncio.start_server(on_client, args.host, args.port)
    async with server:
        print(f"listening on {args.host}:{server.sockets[0].getsockname()[1]}")
        await enough  # never, without --max-clients
    # The listener is closed: the clients already here are served to the end.
    await asyncio.gather(*running)
    print(f"served {accepted} client(s)")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    return asyncio.run(echo_server(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
