"""`coroutine`: what `@asyncio.coroutine` did, for every Python from 3.8 to 3.13.

3.11 removed `asyncio.coroutine`, and from 3.12 `asyncio.run` and `create_task` accept native
coroutines only. So the decorated function returns a native coroutine that drives the old generator;
inside, the generator may `yield from` futures, other decorated coroutines and `async def` ones.
"""
from __future__ import annotations

import functools
import inspect
import types
from typing import Any, Callable

__all__ = ["coroutine", "is_legacy_coroutine_function"]


def coroutine(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a generator-based coroutine function into one that returns a native coroutine."""
    if inspect.iscoroutinefunction(func):
        return func
    if not callable(func):
        raise TypeError(f"coroutine() expects a function, got {type(func).__name__}")
    # types.coroutine flags the generator's code CO_ITERABLE_COROUTINE, which is what allows it to
    # `yield from` a native coroutine object (a plain generator gets a TypeError there).
    iterable = types.coroutine(func)

    if type(iterable) is types.FunctionType and iterable.__code__.co_flags & inspect.CO_ITERABLE_COROUTINE:
        # A generator function, flagged in place: every call gives an awaitable generator, so the
        # wrapper, which runs on every call of a coroutine, need not ask.
        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await iterable(*args, **kwargs)
    else:
        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = iterable(*args, **kwargs)
            if inspect.isawaitable(result):
                return await result
            # A decorated plain function was allowed to return a value straight away.
            return result

    wrapper._legacy_coroutine = True  # type: ignore[attr-defined]
    return wrapper


def is_legacy_coroutine_function(func: Any) -> bool:
    """True for a function decorated with `coroutine`."""
    return getattr(func, "_legacy_coroutine", False)
