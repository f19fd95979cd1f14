"""Run asyncore dispatchers and asynchat channels inside an asyncio event loop, unedited.

The first step of a piece-by-piece migration: the legacy code stays as it is, but its socket map is
served by asyncio's selector (`loop.add_reader`/`add_writer`) instead of `asyncore.loop()`, so new
asyncio code and old dispatchers share one loop and one thread. General, not tied to any protocol.

Three ways in. `AsyncioBridge()` gives a fresh map (`bridge.map`) for dispatchers created with
`map=bridge.map`. `adopt()` (or `AsyncioBridge(map=...)`) takes over a map that already exists:
`asyncore.socket_map` by default, or a vendored asyncore copy's; `release()` or leaving the `with`
block gives it back. `loop()` is `asyncore.loop` with the same signature and meaning, on a private
asyncio loop; `install()` puts it in place of `asyncore.loop` for code that cannot be edited.

How readable()/writable() stay in step with the selector: asyncore asks every dispatcher on every
pass, which is what makes it slow with many idle sockets. The bridge asks one dispatcher again after
each event it handles for it, when it joins the map, and after any of the methods that change its
wishes from outside its handlers (`push`, `push_with_producer`, `close_when_done`, `send`, `connect`,
... see compat.bridge_hooks) returns: those calls mark it, and one callback per loop iteration asks
the marked ones. A dispatcher whose readable()/writable() change on their own (on time, or on state
changed without those methods) needs `bridge.sync(dispatcher)` after the change.
"""
from __future__ import annotations

import asyncio
import errno
import socket
import weakref
from typing import Any, Callable, Dict, Optional, Set

from compat.bridge_hooks import RecoveringSelector, UrgentWatcher, hook_class, unhook_class
from compat.sources import load

__all__ = ["AsyncioBridge", "BridgeMap", "BridgeUnsupported", "adopt", "install", "loop"]

asyncore = load("asyncore")

#: The errors asyncore's poll2 treats as the peer going away (handle_close rather than handle_error).
_DISCONNECTED = frozenset({errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN, errno.ECONNABORTED,
                           errno.EPIPE, errno.EBADF})


class BridgeUnsupported(RuntimeError):
    """The asyncio loop cannot watch file descriptors (the Proactor loop on Windows, for one)."""


class BridgeMap(Dict[int, Any]):
    """A socket map that tells its bridge when a dispatcher joins or leaves.

    asyncore's `add_channel` does `map[fd] = self` and `del_channel` does `del map[fd]` before the
    socket is closed, so the bridge drops the fd from the selector while it is still valid.
    """

    def __init__(self, bridge: AsyncioBridge) -> None:
        super().__init__()
        self._bridge: Optional[AsyncioBridge] = bridge

    def __setitem__(self, fd: int, dispatcher: Any) -> None:
        bridge = self._bridge
        if bridge is not None and fd in self:
            bridge._forget(fd, dict.__getitem__(self, fd))
        super().__setitem__(fd, dispatcher)
        if bridge is not None:
            bridge._watch(fd, dispatcher)

    def __delitem__(self, fd: int) -> None:
        bridge = self._bridge
        if bridge is not None:
            bridge._forget(fd, dict.__getitem__(self, fd))
        super().__delitem__(fd)
        if bridge is not None and not self:
            bridge._wake(True)

    def pop(self, fd: int, *default: Any) -> Any:
        if fd in self:
            dispatcher = dict.__getitem__(self, fd)
            del self[fd]
            return dispatcher
        return super().pop(fd, *default)

    def clear(self) -> None:
        for fd in list(self):
            del self[fd]

    def touch(self, dispatcher: Any) -> None:
        """The dispatcher's wishes may have changed outside its handlers (called by its hooked methods)."""
        bridge = self._bridge
        # The dispatcher whose event is being handled is asked anyway, once its handler returns.
        if bridge is not None and dispatcher is not bridge._current:
            bridge._touch(dispatcher)


class AsyncioBridge:
    """Serves an asyncore socket map from an asyncio loop's selector.

    `loop`: the asyncio loop (default: the running one). `map`: an existing socket map to adopt
    (default: a fresh one, `bridge.map`). `module`: the asyncore module whose `socket_map` attribute
    and `ExitNow` apply (default: the one compat loads; pass a vendored copy of asyncore here).
    `urgent`: watch for out-of-band data (handle_expt) through an epoll descriptor of its own, Linux
    only; default: when adopting a map, whose `release()` closes that descriptor again.
    """

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None, map: Optional[Any] = None,
                 module: Any = None, urgent: Optional[bool] = None) -> None:
        self.loop = loop if loop is not None else asyncio.get_running_loop()
        _check_loop_can_watch_fds(self.loop)
        self.module = module if module is not None else asyncore
        self.map = BridgeMap(self)
        self._readers: Set[int] = set()
        self._writers: Set[int] = set()
        self._files: Set[int] = set()
        self._dirty: Dict[int, Any] = {}
        self._flush_scheduled = False
        self._current: Any = None
        self._waiter: Optional[asyncio.Future] = None
        self._failure: Optional[BaseException] = None
        self._poll_semantics = False
        self._gate_closed = False
        self._exit_now = getattr(self.module, "ExitNow", None)
        if urgent is None:
            urgent = map is not None
        self._urgent = UrgentWatcher(self.loop, self._on_urgent) if urgent and UrgentWatcher.available else None
        self._adopted: Any = None
        self._owner: Any = None
        self._members: Any = None
        if map is not None:
            self._adopt(map)

    # Adopting an existing map, and giving it back.

    def _adopt(self, original: Any) -> None:
        if isinstance(original, BridgeMap):
            raise ValueError("this socket map is already served by a bridge; release() it first")
        self._adopted = original
        self._members = weakref.WeakSet()
        if getattr(self.module, "socket_map", None) is original:
            # Dispatchers created later with map=None read the module attribute in __init__.
            self.module.socket_map = self.map
            self._owner = self.module
        contents = list(original.items())
        original.clear()
        for fd, dispatcher in contents:
            if getattr(dispatcher, "_map", None) is original:
                dispatcher._map = self.map
            self.map[fd] = dispatcher

    def release(self) -> None:
        """Stop serving; an adopted map gets back every dispatcher it has now, the module its attribute."""
        for fd, dispatcher in list(self.map.items()):
            self._forget(fd, dispatcher)
        self._dirty.clear()
        if self._urgent is not None:
            self._urgent.close()
            self._urgent = None
        original = self._adopted
        if original is None:
            self.map._bridge = None
            return
        contents = dict(self.map)
        dict.clear(self.map)
        self.map._bridge = None
        original.update(contents)
        for dispatcher in list(self._members) + list(contents.values()):
            if getattr(dispatcher, "_map", None) is self.map:
                dispatcher._map = original
        if self._owner is not None and getattr(self._owner, "socket_map", None) is self.map:
            self._owner.socket_map = original
        self._adopted = self._owner = self._members = None

    def __enter__(self) -> AsyncioBridge:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    # Dispatchers joining and leaving (called by BridgeMap).

    def _watch(self, fd: int, dispatcher: Any) -> None:
        hook_class(dispatcher)
        if self._members is not None:
            self._members.add(dispatcher)
        # add_channel runs inside dispatcher.__init__: readable() may not work before it returns.
        self.loop.call_soon(self._after_event, fd, dispatcher)

    def _forget(self, fd: int, dispatcher: Any) -> None:
        if fd in self._readers:
            self.loop.remove_reader(fd)
            self._readers.discard(fd)
            if self._urgent is not None:
                self._urgent.forget(fd)
        if fd in self._writers:
            self.loop.remove_writer(fd)
            self._writers.discard(fd)
        self._dirty.pop(fd, None)
        self._files.discard(fd)
        unhook_class(dispatcher)

    # Keeping the selector in step with readable()/writable().

    def _update(self, fd: int, dispatcher: Any) -> None:
        wants_read = bool(dispatcher.readable())
        # As in asyncore.poll2: a listening socket is never watched for writing.
        wants_write = bool(dispatcher.writable()) and not getattr(dispatcher, "accepting", False)
        try:
            if wants_read and fd not in self._readers:
                self.loop.add_reader(fd, self._on_readable, fd)
                self._readers.add(fd)
                if self._urgent is not None:
                    self._urgent.watch(fd)
            elif not wants_read and fd in self._readers:
                self.loop.remove_reader(fd)
                self._readers.discard(fd)
                if self._urgent is not None:
                    self._urgent.forget(fd)
            if wants_write and fd not in self._writers:
                self.loop.add_writer(fd, self._on_writable, fd)
                self._writers.add(fd)
            elif not wants_write and fd in self._writers:
                self.loop.remove_writer(fd)
                self._writers.discard(fd)
        except PermissionError:
            self._serve_file(fd)  # a regular file: epoll refuses it, poll() calls it always ready
        except (OSError, ValueError):
            self._dead(fd)  # closed behind the bridge's back: the selector refuses it

    def _serve_file(self, fd: int) -> None:
        if fd not in self._files:
            self._files.add(fd)
            self.loop.call_soon(self._file_ready, fd)

    def _file_ready(self, fd: int) -> None:
        dispatcher = self.map.get(fd)
        if dispatcher is None or fd not in self._files:
            self._files.discard(fd)
            return
        if dispatcher.readable():
            self._dispatch(fd, dispatcher, "handle_read_event")
        still_here = self.map.get(fd) is dispatcher
        if still_here and dispatcher.writable():
            self._dispatch(fd, dispatcher, "handle_write_event")
        if self.map.get(fd) is dispatcher:
            self.loop.call_soon(self._file_ready, fd)
        else:
            self._files.discard(fd)

    def sync(self, dispatcher: Any = None) -> None:
        """Ask one dispatcher (or all) again what it wants to wait for."""
        if dispatcher is not None:
            fd = dispatcher._fileno
            if fd is not None and self.map.get(fd) is dispatcher:
                self._update(fd, dispatcher)
            return
        for fd, each in list(self.map.items()):
            if self.map.get(fd) is each:
                self._update(fd, each)

    def _touch(self, dispatcher: Any) -> None:
        if dispatcher is self._current:
            return  # the event being handled: _after_event asks it anyway
        fd = dispatcher.__dict__.get("_fileno")
        if fd is None:
            return
        self._dirty[fd] = dispatcher
        if not self._flush_scheduled:
            self._flush_scheduled = True
            if asyncio._get_running_loop() is self.loop:
                self.loop.call_soon(self._flush)
            else:
                self.loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, {}
        for fd, dispatcher in dirty.items():
            if self.map.get(fd) is dispatcher:
                self._update(fd, dispatcher)

    # Events: asyncore's handler protocol, with its error handling.

    def _on_readable(self, fd: int) -> None:
        dispatcher = self.map.get(fd)
        if dispatcher is not None:
            self._dispatch(fd, dispatcher, "handle_read_event")

    def _on_writable(self, fd: int) -> None:
        dispatcher = self.map.get(fd)
        if dispatcher is not None:
            self._dispatch(fd, dispatcher, "handle_write_event")

    def _on_urgent(self, fd: int) -> None:
        dispatcher = self.map.get(fd)
        if dispatcher is not None:
            # Not held back between passes: the urgent watcher is edge-triggered and would not repeat it.
            self._dispatch(fd, dispatcher, "handle_expt_event", gated=False)

    def _dispatch(self, fd: int, dispatcher: Any, handler: str, gated: bool = True) -> None:
        if gated and self._gate_closed:
            return  # between loop()'s passes; a level-triggered selector reports it again
        sock = getattr(dispatcher, "socket", None)
        if sock is not None and sock.fileno() != fd:
            self._dead(fd)
            return
        self._run_handler(dispatcher, handler)
        self._after_event(fd, dispatcher)
        self._wake(True)

    def _run_handler(self, dispatcher: Any, handler: str) -> None:
        """One handler of one dispatcher, with the dispatcher marked current and what escapes it failing the loop."""
        self._current = dispatcher
        try:
            self._call(dispatcher, handler)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            self._fail(exc)
        finally:
            self._current = None

    def _call(self, dispatcher: Any, handler: str) -> None:
        # asyncore.read/write (select) and readwrite (poll2): the handler's errors go to handle_error,
        # except ExitNow, which ends loop(); under poll2 a vanished peer goes to handle_close.
        try:
            getattr(dispatcher, handler)()
        except (KeyboardInterrupt, SystemExit):
            raise
        except OSError as exc:
            if self._poll_semantics and exc.errno in _DISCONNECTED:
                dispatcher.handle_close()
            else:
                dispatcher.handle_error()
        except BaseException as exc:
            if self._exit_now is not None and isinstance(exc, self._exit_now):
                raise
            dispatcher.handle_error()

    def _fail(self, exc: BaseException) -> None:
        # What escapes handle_error ends asyncore.loop(); inside a plain asyncio loop, asyncio reports it.
        if self._waiter is not None and not self._waiter.done():
            self._failure = exc
            return
        raise exc

    def _after_event(self, fd: int, dispatcher: Any) -> None:
        # The handler may have closed it, or replaced it with another dispatcher on the same fd.
        if self.map.get(fd) is dispatcher:
            self._update(fd, dispatcher)

    # Sockets closed behind the bridge's back.

    def _dead(self, fd: int) -> None:
        dispatcher = self.map.get(fd)
        if dispatcher is None:
            return
        self._forget(fd, dispatcher)
        self._run_handler(dispatcher, "handle_close")  # as asyncore's poll2 does on POLLNVAL
        if self.map.get(fd) is dispatcher:
            del self.map[fd]  # its handle_close kept it: leave it out rather than poll a dead fd
        self._wake(True)

    def sweep(self) -> int:
        """Drop every dispatcher whose socket was closed without close(); return how many.

        epoll and kqueue say nothing about such a descriptor, so nothing else finds it. loop() sweeps
        after every pass that saw no event; code serving a map from its own asyncio loop may call it.
        """
        dead = [fd for fd, d in list(self.map.items()) if _socket_gone(fd, d)]
        for fd in dead:
            self._dead(fd)
        return len(dead)

    # Passes, as asyncore.loop counts them.

    def _wake(self, event: bool) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if event:
                # Runs before the serving task wakes: events a later select reports wait for the next
                # pass (the selector reports them again), so that `count` passes are `count` selects.
                self.loop.call_soon(self._close_gate)
            waiter.set_result(event)

    def _close_gate(self) -> None:
        self._gate_closed = True

    async def serve(self, timeout: float = 30.0, count: Optional[int] = None, use_poll: bool = False) -> None:
        """asyncore.loop's passes on this bridge's (running) loop: until the map is empty or `count` passes.

        A pass ends with the first event (and the others the same selector call reported) or after
        `timeout` seconds. `use_poll` picks poll2's handling of a vanished peer (handle_close instead of
        handle_error); which system call waits is the asyncio loop's choice.
        """
        try:
            await self._passes(timeout, count, use_poll)
        finally:
            self._gate_closed = False

    async def _passes(self, timeout: float, count: Optional[int], use_poll: bool) -> None:
        self._poll_semantics = bool(use_poll)
        while self.map and (count is None or count > 0):
            waiter = self.loop.create_future()
            self._waiter = waiter
            self._gate_closed = False
            timer = self.loop.call_later(max(timeout, 0.0), self._wake, False)
            try:
                event = await waiter
            finally:
                timer.cancel()
                self._waiter = None
            failure, self._failure = self._failure, None
            if failure is not None:
                raise failure
            if not event:
                self.sweep()
            if count is not None:
                count -= 1
        self._gate_closed = True  # until the loop stops: loop() returns after exactly `count` passes

    def _run_passes(self, timeout: float, count: Optional[int], use_poll: bool) -> None:
        try:
            self.loop.run_until_complete(self._passes(timeout, count, use_poll))
        finally:
            self._gate_closed = False  # the loop has stopped: nothing is dispatched until it runs again

    # Timers: asyncore has none, so legacy code ran its own between passes; here asyncio's serve.

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> asyncio.Handle:
        """Run `callback(*args)` on the loop, then bring every dispatcher's wishes up to date."""
        return self.loop.call_soon(self._run_and_sync, callback, args)

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        """`loop.call_later`, followed by a `sync()` of every dispatcher."""
        return self.loop.call_later(delay, self._run_and_sync, callback, args)

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> asyncio.Handle:
        """From another thread: run `callback(*args)` on the loop's thread, then sync."""
        return self.loop.call_soon_threadsafe(self._run_and_sync, callback, args)

    def _run_and_sync(self, callback: Callable[..., Any], args: tuple) -> None:
        try:
            callback(*args)
        finally:
            self.sync()

    def close_all(self) -> None:
        """Close every dispatcher in the map; the selector forgets each fd before its socket closes."""
        for dispatcher in list(self.map.values()):
            dispatcher.close()
        self.map.clear()

    def __len__(self) -> int:
        return len(self.map)


def adopt(map: Any = None, *, module: Any = None, loop: Optional[asyncio.AbstractEventLoop] = None,
          ) -> AsyncioBridge:
    """Serve an existing socket map (default: `module.socket_map`, asyncore's) from an asyncio loop.

    Use it as a context manager, or call `release()` on the result to give the map back.
    """
    module = module if module is not None else asyncore
    return AsyncioBridge(loop, map=module.socket_map if map is None else map, module=module)


def loop(timeout: float = 30.0, use_poll: bool = False, map: Any = None, count: Optional[int] = None) -> None:
    """`asyncore.loop`, served by asyncio: returns when the map is empty or after `count` passes.

    Which asyncio loop: if the map is already adopted by a bridge whose loop is not running, that loop;
    otherwise a fresh `asyncio.SelectorEventLoop` for this call (never the thread's current loop,
    which stays untouched), closed on return, with the map given back as it is then. Called while an
    asyncio loop runs in this thread it raises RuntimeError, since it blocks, as asyncore.loop did:
    there, adopt the map and let the running loop serve it (or `await bridge.serve(...)`).
    """
    _serve_blocking(asyncore, timeout, use_poll, map, count)


def install(module: Any = None) -> Callable[[], None]:
    """Put `loop()` in place of `module.loop` (default: asyncore's); return the function that undoes it."""
    module = module if module is not None else asyncore
    original = module.loop

    def bridged_loop(timeout: float = 30.0, use_poll: bool = False, map: Any = None,
                     count: Optional[int] = None) -> None:
        _serve_blocking(module, timeout, use_poll, map, count)

    bridged_loop.__doc__ = loop.__doc__
    module.loop = bridged_loop

    def uninstall() -> None:
        if module.loop is bridged_loop:
            module.loop = original

    return uninstall


def _serve_blocking(module: Any, timeout: float, use_poll: bool, map: Any, count: Optional[int]) -> None:
    if map is None:
        map = module.socket_map
    if asyncio._get_running_loop() is not None:
        raise RuntimeError(
            "compat.bridge.loop() blocks, as asyncore.loop() did, so it cannot run inside a running "
            "asyncio loop; there, adopt the map (compat.bridge.adopt()) and the running loop serves it")
    if not map or (count is not None and count <= 0):
        return
    if isinstance(map, BridgeMap) and map._bridge is not None:
        map._bridge._run_passes(timeout, count, use_poll)
        return
    selector = RecoveringSelector()
    event_loop = asyncio.SelectorEventLoop(selector)
    try:
        with AsyncioBridge(event_loop, map=map, module=module) as bridge:
            selector.on_dead = bridge._dead
            bridge._run_passes(timeout, count, use_poll)
    finally:
        event_loop.close()


def _socket_gone(fd: int, dispatcher: Any) -> bool:
    sock = getattr(dispatcher, "socket", None)
    return sock is not None and sock.fileno() != fd


def _check_loop_can_watch_fds(loop: asyncio.AbstractEventLoop) -> None:
    probe, other = socket.socketpair()
    try:
        try:
            loop.add_reader(probe.fileno(), lambda: None)
        except NotImplementedError:
            raise BridgeUnsupported(
                f"{type(loop).__name__} cannot watch sockets with add_reader/add_writer, which the "
                "asyncore bridge needs; use a selector-based loop (asyncio.SelectorEventLoop, the "
                "default on Unix; on Windows set asyncio.WindowsSelectorEventLoopPolicy())"
            ) from None
        loop.remove_reader(probe.fileno())
    finally:
        probe.close()
        other.close()
