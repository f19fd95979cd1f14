"""What lets the asyncio bridge notice changes it cannot see: writes made outside a dispatcher's handlers,
out-of-band data, and sockets closed behind its back. Used by compat.bridge; general, like it.
"""
from __future__ import annotations

import errno
import select
import selectors
from types import FunctionType
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = ["HOOKED_METHODS", "RecoveringSelector", "UrgentWatcher", "hook_class", "unhook_class"]

#: The methods through which code outside a dispatcher's handlers changes what it waits for: asynchat's
#: output queue, and the base dispatcher's send, connect and listen (connecting and accepting decide
#: whether a socket is watched for writing). A bridged dispatcher's class is a subclass that, after the
#: original method returns, tells the bridge to ask readable()/writable() again.
HOOKED_METHODS = ("push", "push_with_producer", "close_when_done", "initiate_send", "discard_buffers",
                  "send", "connect", "listen")

_hooked: Dict[type, type] = {}


def _make_hook(base: type, name: str, sub: List[type]) -> Callable[..., Any]:
    def hook(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Looked up on each call, so that a method patched on the class later is the one that runs. A
        # plain function (asyncore's methods all are) is called as super() would call it, without
        # building a super object per call: a bridged asynchat write goes through three hooks.
        method = getattr(base, name)
        if type(method) is FunctionType:
            result = method(self, *args, **kwargs)
        else:
            result = getattr(super(sub[0], self), name)(*args, **kwargs)
        # The dispatcher's own map is the bridge's while it is hooked; a copy of asyncore may not say so.
        touch = getattr(self.__dict__.get("_map"), "touch", None)
        if touch is not None:
            touch(self)
        return result

    hook.__name__ = hook.__qualname__ = name
    hook.__doc__ = getattr(base, name).__doc__
    return hook


def hook_class(dispatcher: Any) -> bool:
    """Give `dispatcher` the hooked subclass of its class (cached per class); False if it cannot have one.

    The subclass keeps the original's name, module, qualified name and instance layout (`__slots__ = ()`),
    so repr(), isinstance() and pickle see no difference; `type(d) is C` is the one exception.
    """
    cls = type(dispatcher)
    if "_bridge_original_class" in cls.__dict__:
        return True
    sub = _hooked.get(cls)
    if sub is None:
        names = [name for name in HOOKED_METHODS if callable(getattr(cls, name, None))]
        cell: List[type] = []
        namespace: Dict[str, Any] = {name: _make_hook(cls, name, cell) for name in names}
        namespace.update(__slots__=(), __module__=cls.__module__, __qualname__=cls.__qualname__,
                         _bridge_original_class=cls)
        try:
            sub = type(cls.__name__, (cls,), namespace)
        except Exception:  # a built-in class, or one whose __init_subclass__ wants arguments
            return False  # its writes from outside the handlers need bridge.sync()
        cell.append(sub)
        _hooked[cls] = sub
    try:
        dispatcher.__class__ = sub
    except TypeError:
        return False
    return True


def unhook_class(dispatcher: Any) -> None:
    """Give a hooked dispatcher its own class back."""
    original = type(dispatcher).__dict__.get("_bridge_original_class")
    if original is not None:
        dispatcher.__class__ = original


class RecoveringSelector(selectors.DefaultSelector):
    """The platform's default selector, except that a descriptor closed behind its back is dropped.

    select() and poll() report a closed descriptor on every pass (EBADF, or POLLNVAL), which would
    turn into an endless storm; epoll and kqueue forget it silently. Either way `on_dead(fd)` runs once
    and the descriptor leaves the selector.
    """

    def __init__(self, on_dead: Optional[Callable[[int], None]] = None) -> None:
        super().__init__()
        self.on_dead = on_dead

    def select(self, timeout: Optional[float] = None) -> List[Tuple[selectors.SelectorKey, int]]:
        try:
            return super().select(timeout)
        except (OSError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.errno not in (errno.EBADF, errno.ENOTSOCK, 10038):
                raise
            dead = self.drop_dead()
            if not dead:
                raise
            return []

    def drop_dead(self) -> List[int]:
        """Unregister every descriptor that no longer refers to an open file; return them."""
        dead = [key.fd for key in list(self.get_map().values()) if not _is_open(key.fd)]
        for fd in dead:
            try:
                self.unregister(fd)
            except (KeyError, OSError, ValueError):
                pass
            if self.on_dead is not None:
                self.on_dead(fd)
        return dead


def _is_open(fd: int) -> bool:
    try:
        select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return False
    return True


class UrgentWatcher:
    """Out-of-band data (select()'s third list, poll's POLLPRI) for a loop whose add_reader cannot see it.

    Linux only: an epoll descriptor watches EPOLLPRI on the dispatchers' sockets and is itself watched
    by the loop with add_reader; `on_urgent(fd)` runs for each socket with urgent data.
    """

    available = hasattr(select, "epoll") and hasattr(select, "EPOLLPRI")

    def __init__(self, loop: Any, on_urgent: Callable[[int], None]) -> None:
        self._epoll = select.epoll()
        self._loop = loop
        self._on_urgent = on_urgent
        self._fds: set = set()
        loop.add_reader(self._epoll.fileno(), self._ready)

    def watch(self, fd: int) -> None:
        if fd not in self._fds:
            try:
                # Edge-triggered: epoll always reports hang-ups too, which must not wake the loop forever.
                self._epoll.register(fd, select.EPOLLPRI | select.EPOLLET)
            except OSError:
                return  # not a socket epoll can watch (a pipe's other end, a closed fd)
            self._fds.add(fd)

    def forget(self, fd: int) -> None:
        if fd in self._fds:
            self._fds.discard(fd)
            try:
                self._epoll.unregister(fd)
            except OSError:
                pass  # closed already: epoll forgot it with the file

    def _ready(self) -> None:
        for fd, events in self._epoll.poll(0):
            if events & select.EPOLLPRI and fd in self._fds:
                self._on_urgent(fd)

    def close(self) -> None:
        self._loop.remove_reader(self._epoll.fileno())
        self._epoll.close()
        self._fds.clear()
