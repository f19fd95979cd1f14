"""The GG variants of the bench: one small adapter per client, each driving it in its own idiom.

Dispatchers override on_* handlers, the callbacks client takes callback(result, error), the coroutine
clients read next_event(). Every adapter does the same work: log in, then round trips of SEND_MSG80
out and SEND_MSG_ACK plus the echoed RECV_MSG80 in, pings, and nothing else. The naive streams client
(open_connection, readexactly, write + drain around gadu's core) is the migration's obvious first try.
"""
from __future__ import annotations

import asyncio
import functools
from typing import Any, Callable, List, Optional, Tuple

import modern.loop
from compat import asyncore, coroutine
from compat.bridge import AsyncioBridge
from gadu import events as ev
from gadu.client import ClientConnection, ClientState
from gadu.errors import LoginRefused
from gadu.packets import HEADER
from legacy.callbacks import GGClient as CallbacksClient
from legacy.callbacks.reactor import Reactor
from legacy.dispatcher import GaduClient, Timers, run
from modern.aio import GGClient as AioClient
from modern.yieldfrom import GGClient as YieldFromClient

from .base import (
    LOGIN_TIMEOUT,
    OPEN_CONCURRENCY,
    PASSWORD,
    PHASE_GRACE,
    TEXT,
    BenchError,
    CallbackVariant,
    NotPossible,
    Variant,
    Window,
)

__all__ = [
    "AioVariant",
    "BridgedDispatcherVariant",
    "CallbacksVariant",
    "DispatcherVariant",
    "NaiveStreamsVariant",
    "SelectDispatcherVariant",
    "YieldFromOnAsyncioVariant",
    "YieldFromVariant",
    "join",
]

#: Seconds aborted connections get to report their end before the loop is stopped regardless.
_STOP_AFTER_ABORT = 10.0

_MessageAck = ev.MessageAck
_MessageReceived = ev.MessageReceived
_Pong = ev.Pong
_Closed = ev.Closed


# --- dispatcher: asynchat, on asyncore's select() or poll(), or inside asyncio through the bridge ---

class _GaduSession(GaduClient):
    """GaduClient as pygadu users wrote it: the handlers count answers and start the next round trip."""

    def __init__(self, variant: DispatcherVariant, uin: int) -> None:
        super().__init__(uin, PASSWORD, map=variant.map, timers=variant.timers, login_timeout=LOGIN_TIMEOUT)
        self.variant = variant
        self.recipient = variant.target(uin)
        self.window: Optional[Window] = None
        self.acks = self.echoes = self.want = self.want_echoes = 0

    def burst(self, depth: int) -> None:
        self.acks = self.echoes = 0
        self.want = depth
        self.want_echoes = depth if self.variant.expect_echo else 0
        for _ in range(depth):
            self.send_message(self.recipient, TEXT)

    def on_login_ok(self) -> None:
        self.variant._opened(self)

    def on_login_failed(self, reason: str) -> None:
        self.variant._failed(f"uin {self.uin}: {reason}")

    def on_ack(self, event: ev.MessageAck) -> None:
        self.acks += 1
        if self.acks == self.want and self.echoes >= self.want_echoes:
            self.variant._burst_done(self, self.want)

    def on_message(self, event: ev.MessageReceived) -> None:
        self.echoes += 1
        if self.echoes == self.want_echoes and self.acks >= self.want:
            self.variant._burst_done(self, self.want)

    def on_pong(self) -> None:
        self.variant._pong()

    def on_disconnect(self, closed: ev.Closed) -> None:
        self.variant._failed(f"uin {self.uin}: {closed.reason}")


class DispatcherVariant(CallbackVariant):
    """asynchat channels on the module's own run(): asyncore.loop with poll(), timers between passes."""

    name = "dispatcher-poll"
    waits_with = "poll()"
    use_poll = True

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        super().__init__(address, route=route)
        self.map: dict = {}
        self.timers: Any = Timers()

    def _start_session(self) -> None:
        _GaduSession(self, self.take_uin()).connect_to(self.address)

    def _send_burst(self, session: _GaduSession, depth: int) -> None:
        session.burst(depth)

    def _send_ping(self, session: _GaduSession) -> None:
        session.ping()

    def _call_later(self, delay: float, callback: Callable[[], None]) -> Any:
        return self.timers.call_later(delay, callback)

    def _run_phase(self) -> None:
        run(self.map, self.timers, use_poll=self.use_poll, until=self._is_phase_over)

    def _is_phase_over(self) -> bool:
        return self._phase_over

    def _stop_loop(self) -> None:
        pass  # run() asks _is_phase_over after every pass

    def close(self) -> None:
        self.closing = True
        asyncore.close_all(self.map)


class SelectDispatcherVariant(DispatcherVariant):
    """The same on select(), asyncore's default: it cannot watch a descriptor numbered 1024 or above."""

    name = "dispatcher-select"
    waits_with = "select()"
    use_poll = False

    def _run_phase(self) -> None:
        try:
            super()._run_phase()
        except ValueError as exc:  # "filedescriptor out of range in select()"
            raise NotPossible(f"not possible: select() limit ({exc}; {len(self.map)} sockets open, "
                              f"select() watches descriptors below 1024 only)") from None


class BridgedDispatcherVariant(DispatcherVariant):
    """The same channels inside an asyncio loop: compat.bridge.AsyncioBridge serves their map."""

    name = "dispatcher@asyncio"
    waits_with = "epoll"

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        super().__init__(address, route=route)
        self.loop = asyncio.SelectorEventLoop()
        self.bridge = AsyncioBridge(self.loop)
        self.map = self.bridge.map
        # Sends made from the timers, outside the channels' handlers, reach the bridge by themselves.
        self.timers = self.loop

    def _run_phase(self) -> None:
        self.loop.run_forever()

    def _stop_loop(self) -> None:
        self.loop.stop()

    def close(self) -> None:
        self.closing = True
        self.bridge.close_all()
        self.loop.close()


# --- callbacks: GGClient on the selectors Reactor, callback(result, error) ------------------------------

class _CallbackSession:
    """One callbacks client and the counts its callbacks keep."""

    __slots__ = ("acks", "client", "echoes", "recipient", "variant", "want", "want_echoes", "window")

    def __init__(self, variant: CallbacksVariant, client: CallbacksClient, recipient: int) -> None:
        self.variant = variant
        self.client = client
        self.recipient = recipient
        self.window: Optional[Window] = None
        self.acks = self.echoes = self.want = self.want_echoes = 0

    def burst(self, depth: int) -> None:
        self.acks = self.echoes = 0
        self.want = depth
        self.want_echoes = depth if self.variant.expect_echo else 0
        for _ in range(depth):
            self.client.send_message(self.recipient, TEXT, self.on_ack)

    def on_ack(self, ack: Any, error: Optional[BaseException]) -> None:
        if error is not None:
            self.variant._failed(f"uin {self.client.uin}: {error}")
            return
        self.acks += 1
        if self.acks == self.want and self.echoes >= self.want_echoes:
            self.variant._burst_done(self, self.want)

    def on_event(self, event: Any) -> None:
        kind = type(event)
        if kind is _MessageReceived:
            self.echoes += 1
            if self.echoes == self.want_echoes and self.acks >= self.want:
                self.variant._burst_done(self, self.want)
        elif kind is _Closed:
            self.variant._failed(f"uin {self.client.uin}: {event.reason}")

    def on_pong(self, pong: Any, error: Optional[BaseException]) -> None:
        if error is not None:
            self.variant._failed(f"uin {self.client.uin}: {error}")
        else:
            self.variant._pong()


class CallbacksVariant(CallbackVariant):
    """legacy.callbacks.GGClient on its Reactor (selectors: epoll here)."""

    name = "callbacks"

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        super().__init__(address, route=route)
        self.reactor = Reactor()
        self._clients: List[CallbacksClient] = []

    def _start_session(self) -> None:
        uin = self.take_uin()
        client = CallbacksClient(self.reactor)
        self._clients.append(client)
        session = _CallbackSession(self, client, self.target(uin))
        client.on_event(session.on_event)
        client.login(self.address, uin, PASSWORD, functools.partial(self._logged_in, session),
                     login_timeout=LOGIN_TIMEOUT)

    def _logged_in(self, session: _CallbackSession, result: Any, error: Optional[BaseException]) -> None:
        if error is not None:
            self._failed(f"uin {session.client.uin}: {error}")
        else:
            self._opened(session)

    def _send_burst(self, session: _CallbackSession, depth: int) -> None:
        session.burst(depth)

    def _send_ping(self, session: _CallbackSession) -> None:
        session.client.ping(session.on_pong)

    def _call_later(self, delay: float, callback: Callable[[], None]) -> Any:
        return self.reactor.call_later(delay, callback)

    def _run_phase(self) -> None:
        self.reactor.run()

    def _stop_loop(self) -> None:
        self.reactor.stop()

    def close(self) -> None:
        self.closing = True
        for client in self._clients:
            client.abort()  # closes the socket now; the reports it defers are dropped with the reactor
        self.reactor.close()


# --- the coroutine variants: a phase is a set of coroutines run to the end -----------------------------

def join(loop: Any, coroutines: List[Any]) -> Any:
    """A future done when every coroutine has ended (as a task on `loop`); the first error is its error.

    Written against the loop API only, so that it serves modern.loop and asyncio alike.
    """
    done = loop.create_future()
    tasks = [loop.create_task(coro) for coro in coroutines]
    remaining = [len(tasks)]

    def task_done(task: Any) -> None:
        remaining[0] -= 1
        if remaining[0] or done.done():
            return
        for each in tasks:
            error = None if each.cancelled() else each.exception()
            if error is not None:
                done.set_exception(error)
                return
        done.set_result(None)

    for task in tasks:
        task.add_done_callback(task_done)
    if not tasks:
        done.set_result(None)
    return done


class _CoroutineVariant(Variant):
    """Phases as coroutines on `self.loop`; a guard aborts every client when a phase overruns."""

    loop: Any

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        super().__init__(address, route=route)
        self.clients: List[Any] = []

    def _run(self, coroutines: List[Any], grace: float) -> None:
        stalled: List[bool] = []
        timers: List[Any] = []

        def overrun() -> None:
            stalled.append(True)
            for client in self.clients:
                client.abort()
            # Aborted clients end their coroutines; if one still hangs, the loop stops regardless.
            timers.append(self.loop.call_later(_STOP_AFTER_ABORT, self.loop.stop))

        timers.append(self.loop.call_later(grace, overrun))
        try:
            self.loop.run_until_complete(join(self.loop, coroutines))
        except Exception as exc:
            if stalled:
                raise BenchError(f"stalled: the phase did not finish within {grace:g} s") from None
            raise BenchError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            for timer in timers:
                timer.cancel()

    def _window(self, sessions: List[Any], seconds: float, make: Callable[[Any, Window], Any]) -> int:
        window = Window(len(sessions), lambda: None)
        timer = self.loop.call_later(seconds, window.close)
        try:
            self._run([make(session, window) for session in sessions], seconds + PHASE_GRACE)
        finally:
            timer.cancel()
        return window.count

    def _openers(self, count: int, open_one: Callable[[int], Any]) -> List[Any]:
        """OPEN_CONCURRENCY coroutines that open `count` sessions between them; returns the sessions."""
        opened: List[Any] = []
        todo = [count]

        @coroutine
        def opener() -> Any:
            while todo[0] > 0:
                todo[0] -= 1
                opened.append((yield from open_one(self.take_uin())))

        self._run([opener() for _ in range(min(OPEN_CONCURRENCY, count))], PHASE_GRACE)
        return opened


class YieldFromVariant(_CoroutineVariant):
    """modern.yieldfrom.GGClient on modern.loop: generator coroutines, `yield from client.next_event()`."""

    name = "yieldfrom"

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        super().__init__(address, route=route)
        self.loop = self._new_loop()

    def _new_loop(self) -> Any:
        return modern.loop.new_event_loop(debug=False)

    def open(self, count: int) -> List[Any]:
        return self._openers(count, self._open_one)

    @coroutine
    def _open_one(self, uin: int) -> Any:
        client = YieldFromClient(self.loop)
        self.clients.append(client)
        yield from client.connect(*self.address)
        try:
            yield from client.login(uin, PASSWORD, login_timeout=LOGIN_TIMEOUT)
        except LoginRefused:
            raise BenchError(f"uin {uin}: the server refused the login") from None
        return client, self.target(uin)

    def round_trips(self, sessions: List[Any], seconds: float) -> int:
        return self._window(sessions, seconds, lambda session, window: self._bursts(session, 1, window))

    def pipeline(self, session: Any, depth: int, seconds: float) -> int:
        return self._window([session], seconds, lambda session, window: self._bursts(session, depth, window))

    @coroutine
    def _bursts(self, session: Tuple[Any, int], depth: int, window: Window) -> Any:
        client, recipient = session
        want_echoes = depth if self.expect_echo else 0
        while True:
            for _ in range(depth):
                client.send_message(recipient, TEXT)
            acks = echoes = 0
            while acks < depth or echoes < want_echoes:
                event = yield from client.next_event()
                kind = type(event)
                if kind is _MessageAck:
                    acks += 1
                elif kind is _MessageReceived:
                    echoes += 1
                elif kind is _Closed:
                    raise BenchError(event.reason)
            window.count += depth
            if not window.open:
                return

    def ping_round(self, sessions: List[Any]) -> None:
        self._run([self._ping_all(sessions)], PHASE_GRACE)

    @coroutine
    def _ping_all(self, sessions: List[Any]) -> Any:
        for client, _ in sessions:
            client.ping()
        for client, _ in sessions:
            while True:
                event = yield from client.next_event()
                if type(event) is _Pong:
                    break
                if type(event) is _Closed:
                    raise BenchError(event.reason)

    def close(self) -> None:
        for client in self.clients:
            client.abort()
        closing = [client.wait_closed() for client in self.clients]
        try:
            self._run([_wait(future) for future in closing], _STOP_AFTER_ABORT)
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        self.loop.close()


@coroutine
def _wait(future: Any) -> Any:
    yield from future


async def _gather(awaitables: List[Any]) -> None:
    """Wait for every closing connection, whatever each one ends with."""
    await asyncio.gather(*awaitables, return_exceptions=True)


class YieldFromOnAsyncioVariant(YieldFromVariant):
    """The same client and the same generators on asyncio, through compat.coroutine."""

    name = "yieldfrom@asyncio"

    def _new_loop(self) -> Any:
        return asyncio.new_event_loop()


class AioVariant(_CoroutineVariant):
    """modern.aio.GGClient on asyncio: async/await, `await client.next_event()`."""

    name = "aio"

    def __init__(self, address: Tuple[str, int], *, route: bool = False) -> None:
        super().__init__(address, route=route)
        self.loop = asyncio.new_event_loop()

    def open(self, count: int) -> List[Any]:
        return self._openers(count, self._open_one)

    async def _open_one(self, uin: int) -> Any:
        client = AioClient(*self.address, connect_timeout=LOGIN_TIMEOUT)
        self.clients.append(client)
        await client.open()
        await client.login(uin, PASSWORD, login_timeout=LOGIN_TIMEOUT)
        return client, self.target(uin)

    def round_trips(self, sessions: List[Any], seconds: float) -> int:
        return self._window(sessions, seconds, lambda session, window: self._bursts(session, 1, window))

    def pipeline(self, session: Any, depth: int, seconds: float) -> int:
        return self._window([session], seconds, lambda session, window: self._bursts(session, depth, window))

    async def _bursts(self, session: Tuple[AioClient, int], depth: int, window: Window) -> None:
        client, recipient = session
        want_echoes = depth if self.expect_echo else 0
        while True:
            for _ in range(depth):
                await client.send_message(recipient, TEXT)
            acks = echoes = 0
            while acks < depth or echoes < want_echoes:
                event = await client.next_event()
                kind = type(event)
                if kind is _MessageAck:
                    acks += 1
                elif kind is _MessageReceived:
                    echoes += 1
                elif kind is _Closed:
                    raise BenchError(event.reason)
            window.count += depth
            if not window.open:
                return

    def ping_round(self, sessions: List[Any]) -> None:
        self._run([self._ping_all(sessions)], PHASE_GRACE)

    async def _ping_all(self, sessions: List[Any]) -> None:
        for client, _ in sessions:
            await client.ping()
        for client, _ in sessions:
            while True:
                event = await client.next_event()
                if type(event) is _Pong:
                    break
                if type(event) is _Closed:
                    raise BenchError(event.reason)

    def close(self) -> None:
        for client in self.clients:
            client.abort("the bench is done")
        try:
            self._run([_gather([client.wait_closed() for client in self.clients])], _STOP_AFTER_ABORT)
        finally:
            self.loop.close()


# --- naive streams: what a first migration writes around gadu's core ------------------------------------

class _StreamSession:
    __slots__ = ("conn", "reader", "recipient", "writer")

    def __init__(self, conn: ClientConnection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 recipient: int) -> None:
        self.conn = conn
        self.reader = reader
        self.writer = writer
        self.recipient = recipient

    async def next_events(self) -> List[Any]:
        """Read one frame the naive way (header, then body), feed it to the core, write its answer."""
        header = await self.reader.readexactly(8)
        length = HEADER.unpack(header)[1]
        frame = header + await self.reader.readexactly(length) if length else header
        events = self.conn.receive_data(frame)
        answer = self.conn.data_to_send()
        if answer:
            self.writer.write(answer)
            await self.writer.drain()
        return events

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def abort(self) -> None:
        self.writer.transport.abort()


class NaiveStreamsVariant(AioVariant):
    """gadu.client.ClientConnection over asyncio streams: open_connection, readexactly(8) then
    readexactly(length), write + drain. Not a client of the project: the bench's comparison row."""

    name = "naive-streams"

    async def _open_one(self, uin: int) -> Any:
        reader, writer = await asyncio.open_connection(*self.address)
        session = _StreamSession(ClientConnection(uin, PASSWORD), reader, writer, self.target(uin))
        self.clients.append(session)
        while session.conn.state is not ClientState.CONNECTED:
            for event in await session.next_events():
                if type(event) is not ev.LoginOk:
                    raise BenchError(f"uin {uin}: no login: {event}")
        return session

    async def _bursts(self, session: _StreamSession, depth: int, window: Window) -> None:  # type: ignore[override]
        conn = session.conn
        want_echoes = depth if self.expect_echo else 0
        while True:
            for _ in range(depth):
                data, _seq = conn.send_message(session.recipient, TEXT)
                await session.send(data)
            acks = echoes = 0
            while acks < depth or echoes < want_echoes:
                for event in await session.next_events():
                    kind = type(event)
                    if kind is _MessageAck:
                        acks += 1
                    elif kind is _MessageReceived:
                        echoes += 1
            window.count += depth
            if not window.open:
                return

    async def _ping_all(self, sessions: List[Any]) -> None:  # type: ignore[override]
        for session in sessions:
            await session.send(session.conn.send_ping())
        for session in sessions:
            while not any(type(event) is _Pong for event in await session.next_events()):
                pass

    def close(self) -> None:
        for session in self.clients:
            session.abort()
        try:
            self._run([_gather([session.writer.wait_closed() for session in self.clients])], _STOP_AFTER_ABORT)
        finally:
            self.loop.close()
