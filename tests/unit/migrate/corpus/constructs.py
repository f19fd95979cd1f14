"""Each construct the migration handles, beside its true negatives (compiled, never run)."""
import asyncio as aio
import asyncore
import smtpd
from asyncio import JoinableQueue

from tulip_echo import exchange


def coroutine(func):  # the user's own `coroutine`: not asyncio's
    return func


@coroutine
def own_decorator():
    yield 1


class Options:
    async_ = True  # an attribute named async_ is not asyncio.async


# A comment above the decorator stays with the function.
@aio.coroutine
def converted(loop):
    queue = aio.JoinableQueue(loop=loop)
    event = aio.Event(loop=loop)
    future = aio.Future(loop=loop)  # Future kept its loop=
    task = aio.ensure_future(exchange(1, loop), loop=loop)  # so did ensure_future
    yield from aio.sleep(0, loop)  # a positional loop: the user's to move
    yield from queue.put(1)
    yield from event.wait()
    yield from future
    yield from task
    yield from exchange(2, loop)  # a coroutine of another file being migrated
    running = aio.get_event_loop()
    return running, aio.Task.all_tasks()


@aio.coroutine
def no_yield():
    return 42


@aio.coroutine
def returns_awaitable(loop):
    return aio.sleep(1)


@aio.coroutine
def unknown(stream):
    data = yield from stream.read()  # a parameter: what it is cannot be known
    return data


@aio.coroutine
def bare_yield():
    yield
    return None


@aio.coroutine
def locked_fallback(lock, source):
    with (yield from lock):
        yield from source.fetch()


async def native(lock):
    with (await lock):
        return aio.get_event_loop()


@aio.coroutine
def waits_on_coroutines():
    yield from aio.wait([converted(None), no_yield()])


def nested_scopes():
    @aio.coroutine
    def inner():
        def helper():
            yield 2  # a plain generator inside: not the coroutine's yield
        yield from aio.sleep(0)
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


@aio.coroutine
def keyword_loops(loop):
    from asyncio import sleep as nap
    reader = aio.StreamReader(loop=loop)  # StreamReader kept its loop=
    sleep(1, loop=loop)
    yield from nap(0, loop=loop)  # asyncio's sleep under another name loses it
    return reader
