"""Each construct the migration handles, beside its true negatives (compiled, never run)."""
import asyncio as aio
from compat import asyncore
import smtpd
from asyncio import JoinableQueue

from tulip_echo import exchange
import compat


def coroutine(func):  # the user's own `coroutine`: not asyncio's
    return func


@coroutine
def own_decorator():
    yield 1


class Options:
    async_ = True  # an attribute named async_ is not asyncio.async


# A comment above the decorator stays with the function.
async def converted(loop):
    queue = aio.Queue()
    event = aio.Event()
    future = aio.Future(loop=loop)  # Future kept its loop=
    task = aio.ensure_future(exchange(1, loop), loop=loop)  # so did ensure_future
    await aio.sleep(0, loop)  # a positional loop: the user's to move
    await queue.put(1)
    await event.wait()
    await future
    await task
    await exchange(2, loop)  # a coroutine of another file being migrated
    running = aio.get_running_loop()
    return running, aio.all_tasks()


async def no_yield():
    return 42


@compat.coroutine
def returns_awaitable(loop):
    return aio.sleep(1)


@compat.coroutine
def unknown(stream):
    data = yield from stream.read()  # a parameter: what it is cannot be known
    return data


@compat.coroutine
def bare_yield():
    yield
    return None


@compat.coroutine
def locked_fallback(lock, source):
    yield from lock.acquire()
    try:
        yield from source.fetch()
    finally:
        lock.release()


async def native(lock):
    async with lock:
        return aio.get_running_loop()


async def waits_on_coroutines():
    await aio.wait([aio.ensure_future(converted(None)), aio.ensure_future(no_yield())])


def nested_scopes():
    async def inner():
        def helper():
            yield 2  # a plain generator inside: not the coroutine's yield
        await aio.sleep(0)
        return list(helper())
    return inner


def plain_loop_user(loop):
    loop.run_until_complete(aio.sleep(0))  # `loop` passed positionally is fine
    return aio.get_event_loop()


def legacy_map():
    return len(asyncore.socket_map), smtpd.SMTPServer


def joinable():
    return JoinableQueue()


def sleep(delay, loop=None):  # the user's own sleep keeps its loop=
    return delay, loop


async def keyword_loops(loop):
    from asyncio import sleep as nap
    reader = aio.StreamReader(loop=loop)  # StreamReader kept its loop=
    sleep(1, loop=loop)
    await nap(0)  # asyncio's sleep under another name loses it
    return reader
