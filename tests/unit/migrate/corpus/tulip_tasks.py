"""Tulip-era tasks over 127.0.0.1 with asyncio.async (a SyntaxError from 3.7: checked after migration only)."""
import asyncio


class Upper(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data.upper())


@asyncio.coroutine
def ask(port, word, results):
    reader, writer = yield from asyncio.open_connection("127.0.0.1", port)
    writer.write(word + b"\n")
    results[word] = (yield from reader.readline()).strip()
    me = asyncio.Task.current_task()
    writer.close()
    return me is not None


@asyncio.coroutine
def main():
    loop = asyncio.get_event_loop()
    server = yield from loop.create_server(Upper, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    results = {}
    tasks = [asyncio.async(ask(port, word, results)) for word in (b"one", b"two", b"three")]
    done, _ = yield from asyncio.wait(tasks, timeout=5)
    server.close()
    return results, sum(task.result() for task in done)


if __name__ == "__main__":
    event_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(event_loop)
    results, current = event_loop.run_until_complete(main())
    event_loop.close()
    for word in sorted(results):
        print(word.decode(), "->", results[word].decode())
    print("tasks that saw themselves:", current)
