"""Coroutines as the talk defines them (docs/talk.md#slide-11): generator functions that `yield from`
futures and other coroutines.

`coroutine` marks a generator function with `types.coroutine`, which lets it `yield from` native
(async def) coroutines and lets async def code `await` it. `iscoroutine` says what a Task can drive.
"""
from __future__ import annotations

import collections.abc
import functools
import inspect
import types
from typing import Any, Callable

from . import debug

__all__ = ["coroutine", "iscoroutine", "iscoroutinefunction"]

# Checked by type first (the common case costs one set lookup), by the ABC only for other objects.
_COROUTINE_TYPES = frozenset((types.GeneratorType, types.CoroutineType, debug.CoroWrapper))

#: Marks a function decorated by `coroutine`, so that iscoroutinefunction knows it.
_is_coroutine = object()


def coroutine(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a generator function (or a plain function returning an awaitable) as a coroutine.

    An `async def` function is returned unchanged. In debug mode (GG_LOOP_DEBUG=1 when this module was
    imported, or `debug.COROUTINE_DEBUG` set before decorating) each call returns a CoroWrapper, which
    logs an error if the coroutine is garbage collected without ever having run.
    """
    if inspect.iscoroutinefunction(func):
        return func
    if not callable(func):
        raise TypeError(f"coroutine() expects a function, got {type(func).__name__}")
    if inspect.isgeneratorfunction(func):
        gen_func = func
    else:
        @functools.wraps(func)
        def gen_func(*args: Any, **kwargs: Any) -> Any:
            # A decorated plain function may return a value, a future, or another coroutine.
            result = func(*args, **kwargs)
            if inspect.isgenerator(result) or isinstance(result, debug.CoroWrapper):
                result = yield from result
            elif inspect.isawaitable(result):
                result = yield from result.__await__()
            return result

    gen_func = types.coroutine(gen_func)
    if not debug.COROUTINE_DEBUG:
        wrapper = gen_func
    else:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return debug.CoroWrapper(gen_func(*args, **kwargs), func=func)

    wrapper._is_coroutine = _is_coroutine  # type: ignore[attr-defined]
    return wrapper


def iscoroutinefunction(func: Any) -> bool:
    """True for an `async def` function or one decorated with `coroutine`."""
    return inspect.iscoroutinefunction(func) or getattr(func, "_is_coroutine", None) is _is_coroutine


def iscoroutine(obj: Any) -> bool:
    """True for what a Task can drive: a generator, a native coroutine, or another Coroutine object."""
    return type(obj) in _COROUTINE_TYPES or isinstance(obj, collections.abc.Coroutine)
