"""Tulip-era echo over 127.0.0.1: @asyncio.coroutine, yield from, loop= (ran up to 3.9; 3.8 here)."""
import asyncio

LINES = [b"hello\n", b"tulip\n", b"bye\n"]


async def handle(reader, writer):
    # The server side: upper-cases each line, and hangs up after "bye".
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line.upper())
        await writer.drain()
        if line == LINES[-1]:
            break
    writer.close()


async def exchange(port, loop):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies = []
    for line in LINES:
        writer.write(line)
        await writer.drain()
        reply = await asyncio.wait_for(reader.readline(), 5)
        replies.append(reply.decode().strip())
    await reader.read()  # the server's hang-up: its handler has finished
    writer.close()
    return replies


async def main(loop):
    lock = asyncio.Lock()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with lock:  # one exchange at a time
        replies = await exchange(port, loop)
    server.close()
    await server.wait_closed()
    running = asyncio.get_running_loop() is loop
    return replies, running


if __name__ == "__main__":
    event_loop = asyncio.new_event_loop()
    try:
        replies, running = event_loop.run_until_complete(main(event_loop))
    finally:
        event_loop.close()
    for reply in replies:
        print("echo:", reply)
    print("loop seen from inside:", running)
