"""Tulip-era echo over 127.0.0.1: @asyncio.coroutine, yield from, loop= (ran up to 3.9; 3.8 here)."""
import asyncio
from asyncio import coroutine

LINES = [b"hello\n", b"tulip\n", b"bye\n"]


@coroutine
def handle(reader, writer):
    # The server side: upper-cases each line, and hangs up after "bye".
    while True:
        line = yield from reader.readline()
        if not line:
            break
        writer.write(line.upper())
        yield from writer.drain()
        if line == LINES[-1]:
            break
    writer.close()


@asyncio.coroutine
def exchange(port, loop):
    reader, writer = yield from asyncio.open_connection("127.0.0.1", port, loop=loop)
    replies = []
    for line in LINES:
        writer.write(line)
        yield from writer.drain()
        reply = yield from asyncio.wait_for(reader.readline(), 5, loop=loop)
        replies.append(reply.decode().strip())
    yield from reader.read()  # the server's hang-up: its handler has finished
    writer.close()
    return replies


@asyncio.coroutine
def main(loop):
    lock = asyncio.Lock(loop=loop)
    server = yield from asyncio.start_server(handle, "127.0.0.1", 0, loop=loop)
    port = server.sockets[0].getsockname()[1]
    with (yield from lock):  # one exchange at a time
        replies = yield from exchange(port, loop)
    server.close()
    yield from server.wait_closed()
    running = asyncio.get_event_loop() is loop
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
