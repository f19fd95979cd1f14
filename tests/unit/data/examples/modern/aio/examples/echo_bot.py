"""Echo bot, async/await style: a Protocol feeds the sans-I/O client and writes its answers (fixture)."""
from __future__ import annotations

import asyncio

from modern.aio.client import GGClient

HOST, PORT = "127.0.0.1", 8074
MAX_ECHO = 200


class EchoBot(asyncio.BufferedProtocol):
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.client = GGClient()
        self.buffer = bytearray(4096)

    def get_buffer(self, sizehint: int) -> bytearray:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        for event in self.client.receive_data(bytes(self.buffer[:nbytes])):
            if len(event.text) < MAX_ECHO and "&" not in event.text:  # a < b & c > d
                self.transport.write(self.client.reply(event.sender, event.text))


async def main() -> None:
    loop = asyncio.get_running_loop()
    transport, bot = await loop.create_connection(EchoBot, HOST, PORT)
    task = asyncio.create_task(bot.client.login_done())
    await task
    transport.close()


if __name__ == "__main__":
    asyncio.run(main())
