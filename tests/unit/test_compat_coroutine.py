"""compat.coroutine: generator coroutines in the old @asyncio.coroutine style, on asyncio, everywhere."""
from __future__ import annotations

import asyncio
import inspect

import pytest

from compat import coroutine
from compat.coroutines import is_legacy_coroutine_function


class Boom(Exception):
    pass


@coroutine
def double_later(value):
    yield from asyncio.sleep(0)
    return value * 2


@coroutine
def fail_later(message):
    yield from asyncio.sleep(0)
    raise Boom(message)


async def native_add(value, extra):
    await asyncio.sleep(0)
    return value + extra


@coroutine
def pipeline(start):
    loop = asyncio.get_event_loop()
    future = loop.create_future()
    loop.call_soon(future.set_result, start)
    from_future = yield from future
    from_generator = yield from double_later(from_future)
    from_native = yield from native_add(from_generator, 1)
    return from_native


def test_decorated_call_is_a_native_coroutine():
    """asyncio.run and create_task accept only native coroutines from 3.12 on."""
    coro = double_later(1)
    try:
        assert inspect.iscoroutine(coro)
    finally:
        coro.close()
    assert is_legacy_coroutine_function(double_later)


def test_yield_from_future_generator_and_native():
    assert asyncio.run(pipeline(5)) == 11


def test_async_def_code_awaits_a_decorated_coroutine():
    async def main():
        return await pipeline(2) + await double_later(10)

    assert asyncio.run(main()) == 25


def test_exception_propagates_through_three_levels():
    @coroutine
    def middle():
        return (yield from fail_later("deep"))

    @coroutine
    def top():
        try:
            yield from middle()
        except Boom as exc:
            return "caught " + str(exc)

    assert asyncio.run(top()) == "caught deep"


def test_exception_reaches_asyncio_run():
    with pytest.raises(Boom, match="out"):
        asyncio.run(fail_later("out"))


def test_create_task_and_gather_accept_decorated_coroutines():
    async def main():
        task = asyncio.create_task(double_later(4))
        results = await asyncio.gather(task, pipeline(1), double_later(0))
        return results

    assert asyncio.run(main()) == [8, 3, 0]


def test_bare_yield_gives_the_loop_a_turn():
    order = []

    @coroutine
    def worker(name):
        for step in range(2):
            order.append((name, step))
            yield
        return name

    async def main():
        return await asyncio.gather(worker("a"), worker("b"))

    assert asyncio.run(main()) == ["a", "b"]
    assert order == [("a", 0), ("b", 0), ("a", 1), ("b", 1)]


def test_cancellation_reaches_the_generator():
    seen = []

    @coroutine
    def sleeper():
        try:
            yield from asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def main():
        task = asyncio.ensure_future(sleeper())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert seen == ["cancelled"]


def test_plain_function_result_is_returned():
    @coroutine
    def not_a_generator(x):
        return x + 1

    assert asyncio.run(not_a_generator(1)) == 2


def test_native_function_passes_through_unchanged():
    assert coroutine(native_add) is native_add


def test_non_callable_is_rejected():
    with pytest.raises(TypeError, match="expects a function"):
        coroutine(42)
