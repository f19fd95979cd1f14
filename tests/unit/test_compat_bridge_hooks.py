"""compat.bridge_hooks: the hooked subclass calls what the original class has at call time, then touches.

The hook calls a plain function straight from the class (no super object per call) and anything else
through super(); both must run the method the class has when the call is made, and report the
dispatcher to its map afterwards, exactly once per call.
"""
from __future__ import annotations

import functools
from typing import Any, List

from compat import asynchat
from compat.bridge_hooks import hook_class, unhook_class


class RecordingMap(dict):
    """A socket map that keeps what touched it (the bridge's BridgeMap has the same method)."""

    def __init__(self) -> None:
        super().__init__()
        self.touched: List[Any] = []

    def touch(self, dispatcher: Any) -> None:
        self.touched.append(dispatcher)


class Calls:
    """A callable that is not a function: the hook reaches it through super()."""

    def __init__(self, log: List[Any]) -> None:
        self.log = log

    def __call__(self, obj: Any) -> None:
        self.log.append(obj)

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return functools.partial(self.log.append, obj) if obj is not None else self


def _channel(cls: type) -> Any:
    socket_map = RecordingMap()
    channel = cls(map=socket_map)
    assert hook_class(channel)
    return channel, socket_map


def test_a_method_patched_on_the_class_after_hooking_is_the_one_that_runs() -> None:
    log: List[Any] = []

    class Chat(asynchat.async_chat):
        def push(self, data: bytes) -> None:
            log.append(("old", data))

    channel, socket_map = _channel(Chat)
    channel.push(b"a")
    Chat.push = lambda self, data: log.append(("new", data))  # type: ignore[method-assign]
    channel.push(b"b")
    assert log == [("old", b"a"), ("new", b"b")]
    assert socket_map.touched == [channel, channel]
    unhook_class(channel)
    assert type(channel) is Chat


def test_a_hooked_attribute_that_is_not_a_function_goes_through_super() -> None:
    log: List[Any] = []

    class Chat(asynchat.async_chat):
        close_when_done = Calls(log)

    channel, socket_map = _channel(Chat)
    channel.close_when_done()
    channel.close_when_done()
    assert log == [channel, channel]
    assert socket_map.touched == [channel, channel]
    unhook_class(channel)


def test_the_hook_returns_the_result_and_passes_keyword_arguments() -> None:
    class Chat(asynchat.async_chat):
        def discard_buffers(self, *, reason: str = "") -> str:  # type: ignore[override]
            return f"discarded {reason}"

    channel, socket_map = _channel(Chat)
    assert channel.discard_buffers(reason="now") == "discarded now"
    assert socket_map.touched == [channel]
