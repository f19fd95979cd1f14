"""Echo server, async/await style: accept, read, send back (fixture)."""
from __future__ import annotations

import asyncio


async def echo(reader, writer) -> None:
    while data := await reader.read(4096):
        writer.write(data)
        await writer.drain()


async def main() -> None:
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    async with server:
        await server.serve_forever()
