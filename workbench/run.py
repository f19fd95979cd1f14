"""`gg-workbench run EXAMPLE --style STYLE`: one example against the embedded reference server, its output live.

Each example has a scenario: the arguments that bound it (so that it ends) and, where it needs someone
to talk to, a scripted counterpart played by the aio client in a thread (ScriptedUser). The example runs
as `python -m ...` in a subprocess, so that a crash cannot take the command down. `trace` and `demo`
reuse the scenarios, the counterparts, OutputWatch and the process helpers kept here.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import contextvars
import functools
import importlib
import io
import itertools
import os
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Awaitable, Callable, Deque, Dict, Iterable, List, NamedTuple, Optional, Sequence, TextIO, Tuple

from gadu import events as ev
from gadu import packets as pk
from gadu.server import ServerThread
from gadu.server.config import DEMO_USERS, ECHO_UIN, ServerConfig
from modern.aio import GGClient
from workbench.examples import STYLES, ExampleError, Examples

__all__ = [
    "ECHO_TEXTS",
    "RUN_TIMEOUT",
    "SCENARIOS",
    "STEP_TIMEOUT",
    "Console",
    "CounterpartError",
    "CounterpartThread",
    "LineTap",
    "OutputWatch",
    "Scenario",
    "ScriptedUser",
    "add_parser",
    "example_environment",
    "module_name",
    "parse_address",
    "parse_example_args",
    "run",
    "run_example",
    "split_words",
    "stop_process",
    "tapped_stdout",
    "within",
]

#: How long a counterpart waits for any one thing: a contact to appear, an echo, a line of output.
STEP_TIMEOUT = 10.0
#: How long `run` lets an example take before it stops it (--timeout).
RUN_TIMEOUT = 60.0
#: What scripted users say: Polish letters included, so that every client shows it gets UTF-8 right.
ECHO_TEXTS = ("Dzień dobry!", "Zażółć gęślą jaźń", "Pchnąć w tę łódź jeża i ośm skrzyń fig")
#: The presence counterpart logs in with this, and once the watcher sees it, goes through these, then logs off.
PRESENCE_LOGIN = (pk.GG_STATUS_AVAIL_DESCR, "dzień dobry")
PRESENCE_STEPS = ((pk.GG_STATUS_BUSY_DESCR, "zajęty, piszę kod"), (pk.GG_STATUS_AVAIL_DESCR, "już jestem"))
PRESENCE_LOGOFF = "do jutra"
#: What the echo server's client sends, one connection after another.
ECHO_SERVER_LINES = (b"hello, echo\n", "zażółć gęślą jaźń\n".encode())

Address = Tuple[str, int]


class CounterpartError(RuntimeError):
    """The scripted counterpart could not play its part: a contact never came, an answer never came back."""


def parse_address(text: str) -> Address:
    """`HOST:PORT` -> (host, port); argparse.ArgumentTypeError otherwise."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT with a port in 1..65535, got {text!r}")
    return host, int(port)


class Console:
    """Whole lines from several threads to one stream, never cut into each other."""

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()


class OutputWatch:
    """The lines an example has printed so far, and coroutines (on any loop, in any thread) waiting for one."""

    #: Lines kept; an example that prints more keeps only its latest (a long --keep-running session).
    MAX_LINES = 10000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: Deque[str] = collections.deque(maxlen=self.MAX_LINES)
        self._waiters: List[Tuple[Any, Any, Any]] = []  # (compiled pattern, loop, future)

    @property
    def lines(self) -> List[str]:
        with self._lock:
            return list(self._lines)

    def feed(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            for waiter in list(self._waiters):
                match = waiter[0].search(line)
                if match is not None:
                    self._waiters.remove(waiter)
                    waiter[1].call_soon_threadsafe(_resolve, waiter[2], match)

    async def wait_for(self, pattern: str, timeout: float = STEP_TIMEOUT) -> Any:
        """The match of the first line (printed so far, or still to come) that `pattern` finds something in."""
        regex = re.compile(pattern)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            for line in self._lines:
                match = regex.search(line)
                if match is not None:
                    return match
            waiter = (regex, loop, future)
            self._waiters.append(waiter)
        try:
            return await within(future, timeout,
                                 f"the example printed no line matching {pattern!r} within {timeout:g} s")
        finally:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)


#: Set by CounterpartThread in its task's context: done once stop() has been called.
_stopping: contextvars.ContextVar[Any] = contextvars.ContextVar("counterpart_stopping")


async def within(awaitable: Any, timeout: float, message: str) -> Any:
    """`await awaitable`, or CounterpartError(message) after `timeout` seconds, or as soon as the
    counterpart is stopped.

    Cancelling alone is not enough to stop a counterpart: asyncio.wait_for before 3.12 (the aio client
    uses it) swallows a cancellation that arrives as its future completes, and the counterpart would go on
    waiting here. So every wait also watches the stop signal.
    """
    future = asyncio.ensure_future(awaitable)
    stopping = _stopping.get(None)
    try:
        done, _ = await asyncio.wait([future] if stopping is None else [future, stopping], timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        future.cancel()
        raise
    if future in done:
        return future.result()
    future.cancel()
    if stopping is not None and stopping in done:
        raise CounterpartError("the counterpart was stopped")
    raise CounterpartError(message)


def _resolve(future: Any, value: Any) -> None:
    if not future.done():
        future.set_result(value)


class LineTap(io.TextIOBase):
    """A text stream that passes writes on and hands each complete line to a callback (for in-process runs)."""

    def __init__(self, target: TextIO, on_line: Callable[[str], None]) -> None:
        super().__init__()
        self._target, self._on_line, self._partial = target, on_line, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._target.write(text)
        *complete, self._partial = (self._partial + text).split("\n")
        for line in complete:
            self._on_line(line)
        return len(text)

    def flush(self) -> None:
        self._target.flush()


@contextlib.contextmanager
def tapped_stdout(on_line: Callable[[str], None], target: Optional[TextIO] = None) -> Any:
    """sys.stdout goes on to `target` (the current sys.stdout by default) and feeds `on_line` with each line
    printed meanwhile, by any thread."""
    tap = LineTap(sys.stdout if target is None else target, on_line)
    with contextlib.redirect_stdout(tap):  # type: ignore[type-var]
        yield tap


class ScriptedUser:
    """A person played by the aio client: watches contacts, says things and waits for the answers.

    A reader task takes every event: messages go to whoever waits for that (sender, text), status
    changes to whoever waits for that contact to come online.
    """

    def __init__(self, client: GGClient, uin: int) -> None:
        self.client = client
        self.uin = uin
        self._answers: Dict[Tuple[int, str], Deque[Any]] = {}
        self._online: Dict[int, List[Any]] = {}
        self._reader: Optional[asyncio.Task[None]] = None

    @classmethod
    async def login(cls, address: Address, uin: int, password: str, *, status: int = pk.GG_STATUS_AVAIL,
                    description: str = "", label: str = "scripted user") -> ScriptedUser:
        client = GGClient(address[0], address[1], label=label, connect_timeout=STEP_TIMEOUT)
        try:
            await client.open()
            await client.login(uin, password, status=status, description=description, login_timeout=STEP_TIMEOUT)
        except BaseException:
            await client.aclose()
            raise
        user = cls(client, uin)
        user._reader = asyncio.get_running_loop().create_task(user._read())
        return user

    async def _read(self) -> None:
        async for event in self.client.events():
            if isinstance(event, ev.MessageReceived):
                waiting = self._answers.get((event.sender, event.text))
                while waiting:
                    future = waiting.popleft()
                    if not future.done():
                        future.set_result(asyncio.get_running_loop().time())
                        break
            for change in event.entries if isinstance(event, ev.ContactsReply) else [event]:
                if isinstance(change, ev.StatusChanged) and change.status & pk.GG_STATUS_MASK not in _OFFLINE:
                    for future in self._online.pop(change.uin, []):
                        _resolve(future, None)
        gone = CounterpartError(f"uin {self.uin}: the connection ended")
        for futures in itertools.chain(self._answers.values(), self._online.values()):
            for future in futures:
                if not future.done():
                    future.set_exception(gone)

    async def watch(self, contacts: Iterable[int]) -> None:
        await self.client.send_contacts(list(contacts))

    def online_soon(self, uin: int) -> Any:
        """A future done when `uin` is next seen online; ask for it before sending the list that shows it."""
        future = asyncio.get_running_loop().create_future()
        self._online.setdefault(uin, []).append(future)
        return future

    async def say(self, to: int, text: str, timeout: float = STEP_TIMEOUT) -> float:
        """Send `text` to `to` and wait until `to` sends the same text back; the round trip in seconds."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._answers.setdefault((to, text), collections.deque()).append(future)
        started = loop.time()
        await self.client.send_message(to, text)
        answered = await within(future, timeout, f"{to} did not answer {text!r} within {timeout:g} s")
        return float(answered - started)

    async def change_status(self, status: int, description: str = "") -> None:
        await self.client.change_status(status, description)

    async def close(self, description: str = "") -> None:
        """Log off (when still connected), close, and let the reader end; whatever happens on the way."""
        try:
            if not self.client.is_closed:
                await within(self.client.logoff(description), STEP_TIMEOUT, "no close after the logoff")
        except Exception:
            pass  # it ended meanwhile, the server is gone, or we are stopping: aclose() closes what is left
        finally:
            try:
                await self.client.aclose()
            finally:
                if self._reader is not None:
                    self._reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._reader


_OFFLINE = frozenset((pk.GG_STATUS_NOT_AVAIL, pk.GG_STATUS_NOT_AVAIL_DESCR))


def _someone_else(*taken: int) -> Tuple[int, str]:
    """A demo account (uin, password) that is none of `taken`."""
    for uin, password in DEMO_USERS.items():
        if uin not in taken:
            return uin, password
    raise CounterpartError(f"no demo account left besides {taken}")  # pragma: no cover - there are four


def _password_of(uin: int) -> str:
    if uin not in DEMO_USERS:
        raise CounterpartError(f"uin {uin} is not a demo account, so the scripted counterpart cannot log in as it")
    return DEMO_USERS[uin]


# The counterparts: each plays the other side of one example, says what it does, and returns a summary.
# `ready()` is called once the example may start (for those that must be there first).

Counterpart = Callable[[Address, argparse.Namespace, OutputWatch, Console, Callable[[], None]], Awaitable[str]]


async def chat_with_echo_bot(address: Address, args: argparse.Namespace, watch: OutputWatch, console: Console,
                             ready: Callable[[], None]) -> str:
    """Log in as another demo user, wait for the bot to come online, say one line at a time, check each echo."""
    bot = args.uin
    uin, password = _someone_else(bot)
    user = await ScriptedUser.login(address, uin, password)
    try:
        ready()
        online = user.online_soon(bot)
        await user.watch([bot])
        await within(online, STEP_TIMEOUT, f"the bot {bot} did not come online within {STEP_TIMEOUT:g} s")
        count = args.max_messages or len(ECHO_TEXTS)
        for text in itertools.islice(itertools.cycle(ECHO_TEXTS), count):
            took = await user.say(bot, text)
            console.line(f"run: scripted user {uin} said {text!r} to {bot}; the echo came back in {took * 1000:.1f} ms")
        return f"scripted user {uin} got {count} of {count} echoes from {bot}"
    finally:
        await user.close()


async def change_statuses(address: Address, args: argparse.Namespace, watch: OutputWatch, console: Console,
                          ready: Callable[[], None]) -> str:
    """Be the first watched contact: online before the watcher starts, then a few changes once it sees us."""
    contact, watcher = args.contacts[0], args.uin
    user = await ScriptedUser.login(address, contact, _password_of(contact), status=PRESENCE_LOGIN[0],
                                    description=PRESENCE_LOGIN[1])
    try:
        online = user.online_soon(watcher)
        await user.watch([watcher])
        ready()
        # The watcher is "friends only": it shows up here once its list, which names us, has reached the
        # server. From then on it sees every change we make.
        await within(online, STEP_TIMEOUT, f"the watcher {watcher} did not appear within {STEP_TIMEOUT:g} s")
        for status, description in PRESENCE_STEPS:
            await user.change_status(status, description)
            console.line(f"run: contact {contact} set status 0x{status:x} {description!r}")
        await user.close(PRESENCE_LOGOFF)
        console.line(f"run: contact {contact} logged off with {PRESENCE_LOGOFF!r}")
        return f"contact {contact} made {len(PRESENCE_STEPS) + 1} changes after logging in"
    finally:
        await user.close()


async def talk_to_echo_server(address: Address, args: argparse.Namespace, watch: OutputWatch, console: Console,
                              ready: Callable[[], None]) -> str:
    """Connect to the port the example printed, one client after another, and check every byte comes back."""
    match = await watch.wait_for(r"listening on (\S+):(\d+)")
    host = "127.0.0.1" if match.group(1) in ("0.0.0.0", "") else match.group(1)
    port = int(match.group(2))
    clients = args.max_clients or 2
    for number in range(1, clients + 1):
        late = f"the echo server did not answer client {number} within {STEP_TIMEOUT:g} s"
        reader, writer = await within(asyncio.open_connection(host, port), STEP_TIMEOUT, late)
        try:
            for line in ECHO_SERVER_LINES:
                writer.write(line)
                await writer.drain()
                echoed = await within(reader.readexactly(len(line)), STEP_TIMEOUT, late)
                if echoed != line:
                    raise CounterpartError(f"sent {line!r}, got back {echoed!r}")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        sent = sum(map(len, ECHO_SERVER_LINES))
        console.line(f"run: echo client {number} sent {sent} bytes and got them back")
        # One client at a time, so that the server's lines come in one order whatever its loop does.
        await watch.wait_for(rf"client {number} left")
    return f"{clients} echo client(s), every byte came back"


class Scenario(NamedTuple):
    """How `run`, `trace` and the tests run one example: its bounding arguments and its counterpart."""

    #: The example's arguments, given the server's address.
    arguments: Callable[[Address], List[str]]
    #: The other side, if the example needs one.
    counterpart: Optional[Counterpart] = None
    #: True when the counterpart must be in place before the example starts.
    starts_first: bool = False
    #: False for an example that does not speak GG (no server to start).
    needs_server: bool = True


def _gg_arguments(*more: str) -> Callable[[Address], List[str]]:
    uin, password = next(iter(DEMO_USERS.items()))
    return lambda address: ["--server", f"{address[0]}:{address[1]}", "--uin", str(uin), "--password", password,
                            *more]


SCENARIOS: Dict[str, Scenario] = {
    "echo_bot": Scenario(_gg_arguments("--max-messages", str(len(ECHO_TEXTS))), chat_with_echo_bot),
    "echo_server": Scenario(lambda address: ["--port", "0", "--max-clients", "2"], talk_to_echo_server,
                            needs_server=False),
    "fan_out": Scenario(_gg_arguments("--count", "5")),
    "faux_sync": Scenario(_gg_arguments()),
    "presence_watch": Scenario(_gg_arguments("--contacts", "1002", "--max-changes", str(len(PRESENCE_STEPS) + 2)),
                               change_statuses, starts_first=True),
}
#: An example without a scenario of its own (a new one) gets the server and nothing else.
DEFAULT_SCENARIO = Scenario(lambda address: ["--server", f"{address[0]}:{address[1]}"])


class CounterpartThread:
    """One counterpart coroutine on its own asyncio loop, in a daemon thread; `stop()` cancels it."""

    def __init__(self, play: Callable[[Callable[[], None]], Awaitable[str]], name: str = "counterpart",
                 on_finish: Optional[Callable[[], None]] = None) -> None:
        self._play = play
        self._on_finish = on_finish
        self.ready = threading.Event()
        self.finished = threading.Event()
        self.summary: Optional[str] = None
        self.error: Optional[BaseException] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._task: Optional[asyncio.Task[str]] = None
        self._stopping = False
        self._stop_signal: Any = None
        self._lock = threading.Lock()  # stop() may come before the task exists
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> CounterpartThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            stopping = self._stop_signal = loop.create_future()
            _stopping.set(stopping)  # this thread's context, which the task below copies
            with self._lock:
                task = self._task = loop.create_task(self._play(lambda: loop.call_soon_threadsafe(self.ready.set)))
                if self._stopping:
                    self._stop_now()
            self.summary = loop.run_until_complete(task)
        except asyncio.CancelledError:
            self.error = CounterpartError("the counterpart was stopped")
        except BaseException as exc:
            self.error = exc
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                self.ready.set()  # nobody waits for a counterpart that has already ended
                self.finished.set()
                if self._on_finish is not None:
                    self._on_finish()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            loop, task = self._loop, self._task
        if loop is not None and task is not None and not self.finished.is_set():
            with contextlib.suppress(RuntimeError):  # closed meanwhile: it has ended by itself
                loop.call_soon_threadsafe(self._stop_now)

    def _stop_now(self) -> None:
        if not self._stop_signal.done():
            self._stop_signal.set_result(None)
        if self._task is not None:
            self._task.cancel()

    def join(self, timeout: float = STEP_TIMEOUT) -> None:
        self._thread.join(timeout)


def module_name(root: Path, path: Path) -> str:
    """`legacy/dispatcher/examples/echo_bot.py` under `root` -> `legacy.dispatcher.examples.echo_bot`."""
    return ".".join(path.resolve().relative_to(root.resolve()).with_suffix("").parts)


def example_environment(root: Path, base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of an example's process: `root` importable first, output unbuffered and in UTF-8."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def parse_example_args(module: str, argv: Sequence[str]) -> Optional[argparse.Namespace]:
    """The example's own parse_args(argv), quietly: None when it would refuse them or print help."""
    try:
        parse = importlib.import_module(module).parse_args
        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull), contextlib.redirect_stdout(devnull):
            return parse(list(argv))  # type: ignore[no-any-return]
    except SystemExit:
        return None
    except AttributeError:
        return None  # an example without parse_args: it runs, but without a counterpart


def _pump(stream: TextIO, console: Console, watch: OutputWatch, *done: threading.Event) -> None:
    try:
        for line in stream:
            line = line.rstrip("\n")
            console.line(line)
            watch.feed(line)
    finally:
        for event in done:
            event.set()


def stop_process(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Terminate a child that is still running, kill it if it lingers, and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_example(
    name: str,
    style: str,
    extra: Sequence[str] = (),
    *,
    server: Optional[Address] = None,
    timeout: float = RUN_TIMEOUT,
    stream: Optional[TextIO] = None,
    examples: Optional[Examples] = None,
) -> int:
    """Run one example in a subprocess, with the embedded server (unless `server`) and its counterpart.

    Returns the example's exit code, or 1 when it ran out of time or its counterpart failed.
    ExampleError for an unknown example or style.
    """
    examples = examples if examples is not None else Examples()
    path = examples.path(name, style)
    module = module_name(examples.root, path)
    console = Console(stream)
    scenario = SCENARIOS.get(name, DEFAULT_SCENARIO)
    with contextlib.ExitStack() as stack:
        if server is None and scenario.needs_server:
            thread = stack.enter_context(ServerThread(ServerConfig(port=0)))
            server = ("127.0.0.1", thread.port)
            users = ", ".join(f"{uin}/{password}" for uin, password in DEMO_USERS.items())
            console.line(f"run: reference server on 127.0.0.1:{thread.port} (users {users}; echo contact {ECHO_UIN})")
        server = server or ("127.0.0.1", 0)  # unused by an example without GG
        argv = scenario.arguments(server) + list(extra)
        args = parse_example_args(module, argv)
        watch = OutputWatch()
        # Set when the example's output ends, its time runs out, or its counterpart ends badly.
        wake, deadline = threading.Event(), threading.Event()
        counterpart: Optional[CounterpartThread] = None
        if scenario.counterpart is not None and args is not None:
            counterpart = CounterpartThread(functools.partial(scenario.counterpart, server, args, watch, console),
                                            on_finish=lambda: counterpart.error is not None and wake.set())
            stack.callback(counterpart.join)
            stack.callback(counterpart.stop)
            counterpart.start()
            if scenario.starts_first:
                counterpart.ready.wait(STEP_TIMEOUT)
        console.line(f"run: python -m {module} {' '.join(shlex.quote(arg) for arg in argv)}")
        process = subprocess.Popen(
            [sys.executable, "-m", module, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=example_environment(examples.root), text=True, encoding="utf-8",
            errors="replace",
        )
        stack.callback(stop_process, process)
        output_done = threading.Event()
        pump = threading.Thread(target=_pump, args=(process.stdout, console, watch, output_done, wake), daemon=True)
        pump.start()
        timer = threading.Timer(timeout, lambda: (deadline.set(), wake.set()))
        timer.daemon = True
        timer.start()
        stack.callback(timer.cancel)
        wake.wait()
        stopped = not output_done.is_set()
        if stopped:
            why = "ran out of time" if deadline.is_set() else "lost its counterpart"
            console.line(f"run: {name} ({style}) {why}; stopping it")
            stop_process(process)
        code = process.wait()
        pump.join(STEP_TIMEOUT)
        process.stdout.close()  # type: ignore[union-attr]
        if counterpart is not None:
            if code != 0:
                counterpart.stop()  # nobody will answer it any more
            counterpart.join(STEP_TIMEOUT if code == 0 else 1.0)
            counterpart.stop()
            counterpart.join()
            if counterpart.error is not None:
                console.line(f"run: the scripted counterpart failed: {counterpart.error}")
            elif counterpart.summary:
                console.line(f"run: {counterpart.summary}")
        console.line(f"run: {name} ({style}) exited with {code}")
        if stopped or code < 0:  # stopped by us, or killed by a signal
            return 1
        if code == 0 and counterpart is not None and counterpart.error is not None:
            return 1
        return code


def split_words(words: Sequence[str]) -> Tuple[List[str], List[str]]:
    """The command's own words, and those after the first `--`, which go to the example."""
    words = list(words)
    if "--" in words:
        at = words.index("--")
        return words[:at], words[at + 1:]
    return words, []


def _options() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gg-workbench run",
        usage="gg-workbench run EXAMPLE --style STYLE [--server HOST:PORT] [--timeout SECONDS] [-- EXAMPLE ARGS]",
        description="Run one example in one style: the reference server starts on a free loopback port "
        "(unless --server), the example gets arguments that make it end, and where it needs someone to talk "
        "to, a scripted user (the aio client) plays that part. Arguments after -- go to the example, after "
        "the defaults, so they win.",
        epilog="styles: " + ", ".join(style.name for style in STYLES)
        + ". Example: gg-workbench run echo_bot --style dispatcher -- --max-messages 2",
    )
    parser.add_argument("example", help="example name (gg-workbench diff --list shows them)")
    parser.add_argument("--style", required=True, help="which version of the example to run")
    parser.add_argument("--server", type=parse_address, metavar="HOST:PORT",
                        help="use this GG server instead of starting one (its demo users must exist)")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT, metavar="SECONDS",
                        help=f"stop the example after this long (default {RUN_TIMEOUT:g})")
    return parser


def add_parser(subparsers) -> None:  # type: ignore[no-untyped-def]
    # Everything after the command word is parsed in run(): argparse cannot both take options after a
    # positional and hand everything after `--` to someone else.
    parser = subparsers.add_parser("run", help="run one example against the embedded reference server",
                                   add_help=False, usage=_options().usage)
    parser.add_argument("-h", "--help", action="store_true")
    parser.add_argument("words", nargs=argparse.REMAINDER)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    own, extra = split_words(args.words)
    if args.help:
        own = ["--help"]
    options = _options()
    parsed = options.parse_args(own)
    if not parsed.timeout > 0:
        options.error("--timeout must be positive")
    try:
        return run_example(parsed.example, parsed.style, extra, server=parsed.server, timeout=parsed.timeout)
    except ExampleError as exc:
        print(f"gg-workbench run: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gg-workbench run: interrupted", file=sys.stderr)
        return 130
