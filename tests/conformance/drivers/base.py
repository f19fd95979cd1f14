"""The one blocking test interface every variant is driven through.

A driver runs its variant's own loop in a background thread and hands every call to that thread
through the loop's own thread-safe wake-up (`call_soon_threadsafe`, or a socketpair the dispatcher
map watches). It never touches a client, a dispatcher or a future from the test thread. Drivers
translate and hold nothing else: timeouts, keep-alive and ack matching live in the clients.

A variant's driver subclasses `Driver` and implements the `_loop_*` methods (run on the loop thread)
and the `client_*` methods (each runs on the loop thread with the variant's client object).
Events reach the test as `gadu.events` objects through `Session.events`.
"""
from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from typing import Any, Callable, List, Optional, Sequence, Tuple, Type, Union

from gadu.limits import CLOSE_TIMEOUT

__all__ = ["WAIT", "Driver", "Session", "SessionOptions"]

#: The longest any single wait in the suite may take; a case that needs more is broken.
WAIT = 5.0


class SessionOptions:
    """How one client session connects and logs in (all variants understand every option)."""

    __slots__ = ("close_timeout", "description", "hash_type", "log_packets", "login_timeout", "password",
                 "ping_interval", "status", "uin")

    def __init__(self, uin: int, password: str, *, hash_type: str = "sha1", status: Optional[int] = None,
                 description: str = "", login_timeout: float = 5.0, ping_interval: Optional[float] = None,
                 log_packets: bool = False, close_timeout: float = CLOSE_TIMEOUT) -> None:
        self.uin = uin
        self.password = password
        self.hash_type = hash_type
        self.status = status
        self.description = description
        self.login_timeout = login_timeout
        self.close_timeout = close_timeout
        self.ping_interval = ping_interval
        self.log_packets = log_packets


class Session:
    """The test thread's handle on one client: actions are calls into the loop thread, events a queue."""

    def __init__(self, driver: Driver, options: SessionOptions) -> None:
        self.driver = driver
        self.options = options
        self.events: queue.Queue[Any] = queue.Queue()
        self.seen: List[Any] = []
        self._backlog: List[Any] = []
        self.client: Any = None  # owned by the loop thread; the test thread never uses it

    # Called from the loop thread by the driver's client glue.
    def deliver(self, event: Any) -> None:
        self.events.put(event)

    # Waiting, from the test thread.
    def wait(self, kind: Union[Type[Any], Tuple[Type[Any], ...]], predicate: Optional[Callable[[Any], bool]] = None,
             timeout: float = WAIT) -> Any:
        """The first event of `kind` (matching `predicate`), seen now or within `timeout` seconds.

        Events of other kinds are kept for later waits, in order.
        """
        for index, event in enumerate(self._backlog):
            if isinstance(event, kind) and (predicate is None or predicate(event)):
                del self._backlog[index]
                return event
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                wanted = "/".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__
                raise TimeoutError(
                    f"{self.driver.name}: no {wanted} within {timeout} s; "
                    f"events seen: {[type(e).__name__ for e in self.seen][-12:]}"
                )
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if isinstance(event, kind) and (predicate is None or predicate(event)):
                return event
            self._backlog.append(event)

    def drain(self) -> List[Any]:
        """Every event that has arrived and not been waited for."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            self.seen.append(event)
            self._backlog.append(event)
        pending, self._backlog = self._backlog, []
        return pending

    # Actions, each run on the loop thread by the driver.
    def send_message(self, recipient: int, text: str) -> int:
        """Send a chat message; returns the seq the client put on the wire."""
        return self.driver.call(self.driver.client_send_message, self, recipient, text)

    def change_status(self, status: int, description: str = "") -> None:
        self.driver.call(self.driver.client_change_status, self, status, description)

    def notify(self, contacts: Sequence[int]) -> None:
        self.driver.call(self.driver.client_notify, self, list(contacts))

    def add_contact(self, uin: int) -> None:
        self.driver.call(self.driver.client_add_contact, self, uin)

    def remove_contact(self, uin: int) -> None:
        self.driver.call(self.driver.client_remove_contact, self, uin)

    def typing(self, recipient: int, length: int) -> None:
        self.driver.call(self.driver.client_typing, self, recipient, length)

    def ping(self) -> None:
        self.driver.call(self.driver.client_ping, self)

    def logoff(self, description: str = "") -> None:
        self.driver.call(self.driver.client_logoff, self, description)

    def abort(self) -> None:
        """Drop the connection at once, as a crash would."""
        self.driver.call(self.driver.client_abort, self)


class Driver:
    """One variant's loop in a background thread, and the glue between tests and its clients."""

    name = "abstract"

    def __init__(self) -> None:
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._failure: Optional[BaseException] = None
        self.sessions: List[Session] = []

    # Lifecycle, from the test thread.
    def start(self) -> Driver:
        self._thread = threading.Thread(target=self._thread_main, name=f"driver-{self.name}", daemon=True)
        self._thread.start()
        if not self._ready.wait(WAIT):
            raise RuntimeError(f"{self.name}: the loop thread did not start within {WAIT} s")
        if self._failure is not None:
            raise RuntimeError(f"{self.name}: the loop thread failed to start") from self._failure
        return self

    def stop(self) -> None:
        """Close every client, stop the loop, join its thread."""
        if self._thread is None:
            return
        if self._thread.is_alive():
            try:
                self.call(self._close_all, timeout=WAIT)
            finally:
                self._loop_stop()
                self._thread.join(WAIT)
        if self._thread.is_alive():
            raise RuntimeError(f"{self.name}: the loop thread did not stop within {WAIT} s")
        self._thread = None
        if self._failure is not None:
            raise RuntimeError(f"{self.name}: the loop thread crashed") from self._failure

    def _thread_main(self) -> None:
        try:
            self._loop_run(self._ready.set)
        except BaseException as exc:  # the test thread reports it from stop()
            self._failure = exc
            self._ready.set()

    def call(self, func: Callable[..., Any], *args: Any, timeout: float = WAIT) -> Any:
        """Run `func(*args)` on the loop thread and return its result (or raise its exception)."""
        if self._thread is None or not self._thread.is_alive():
            raise RuntimeError(f"{self.name}: the loop thread is not running")
        result: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            if not result.set_running_or_notify_cancel():
                return
            try:
                result.set_result(func(*args))
            except BaseException as exc:
                result.set_exception(exc)

        self._loop_submit(run)
        return result.result(timeout)

    def open(self, address: Any, uin: int, password: str, **options: Any) -> Session:
        """Start a client that connects to `address` and logs in; its LoginOk/LoginFailed is an event."""
        session = Session(self, SessionOptions(uin, password, **options))
        self.call(self._open_on_loop, session, address)
        self.sessions.append(session)
        return session

    def _open_on_loop(self, session: Session, address: Any) -> None:
        session.client = self.client_open(session, address)

    def _close_all(self) -> None:
        for session in self.sessions:
            if session.client is not None:
                self.client_abort(session)

    # What each variant implements. `_loop_*` run in the driver's own thread.
    def _loop_run(self, ready: Callable[[], None]) -> None:
        """Create the loop, call `ready()`, run until `_loop_stop`, then close the loop."""
        raise NotImplementedError

    def _loop_submit(self, func: Callable[[], None]) -> None:
        """From any thread: have the loop thread run `func` soon (thread-safe wake-up)."""
        raise NotImplementedError

    def _loop_stop(self) -> None:
        """From any thread: make `_loop_run` return."""
        raise NotImplementedError

    # Each runs on the loop thread with the session whose client it acts on.
    def client_open(self, session: Session, address: Any) -> Any:
        raise NotImplementedError

    def client_send_message(self, session: Session, recipient: int, text: str) -> int:
        raise NotImplementedError

    def client_change_status(self, session: Session, status: int, description: str) -> None:
        raise NotImplementedError

    def client_notify(self, session: Session, contacts: List[int]) -> None:
        raise NotImplementedError

    def client_add_contact(self, session: Session, uin: int) -> None:
        raise NotImplementedError

    def client_remove_contact(self, session: Session, uin: int) -> None:
        raise NotImplementedError

    def client_typing(self, session: Session, recipient: int, length: int) -> None:
        raise NotImplementedError

    def client_ping(self, session: Session) -> None:
        raise NotImplementedError

    def client_logoff(self, session: Session, description: str) -> None:
        raise NotImplementedError

    def client_abort(self, session: Session) -> None:
        raise NotImplementedError
