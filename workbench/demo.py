"""`gg-workbench demo`: the echo bot in all four styles at once, chatted with by a scripted user, in seconds.

It starts the reference server with accounts for four bots and one scripted user, starts each style's
echo_bot example as its own process, has the scripted user (the aio client) say a few lines to every
bot at the same time, then prints the transcript and a table: style, lines of the example, messages
round-tripped, median round trip. `--keep-running` leaves the server and the bots up for a person
(or libgadu) to talk to, until Ctrl-C.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Deque, Dict, List, NamedTuple, Optional, Sequence, TextIO, Tuple, Union

from gadu.server import ServerThread
from gadu.server.config import DEMO_USERS, ECHO_UIN, ServerConfig
from workbench.examples import Examples
from workbench.run import (
    ECHO_TEXTS,
    STEP_TIMEOUT,
    Address,
    Console,
    CounterpartError,
    ScriptedUser,
    example_environment,
    module_name,
    stop_process,
)

__all__ = [
    "BOT_ACCOUNTS",
    "DEMO_STYLES",
    "SCRIPTED_USER",
    "Bot",
    "Exchange",
    "add_parser",
    "code_lines",
    "run",
    "run_demo",
]

#: The four styles whose echo bots take part, oldest first (the bridge styles are steps between them).
DEMO_STYLES = ("dispatcher", "callbacks", "yieldfrom", "aio")
#: style -> (uin, password) of its bot.
BOT_ACCOUNTS: Dict[str, Tuple[int, str]] = {
    style: (2001 + index, f"{style}-bot") for index, style in enumerate(DEMO_STYLES)
}
#: (uin, password, name) of the scripted user who chats with the bots.
SCRIPTED_USER = (3000, "ola", "ola")
#: Seconds for every bot to start and come online (a cold interpreter imports a fair amount).
START_TIMEOUT = 20.0
#: Lines of each bot's own output kept, to show when it fails.
KEPT_LINES = 20


class Exchange(NamedTuple):
    """One line said to a bot: its round trip in seconds, or why it did not come back."""

    text: str
    seconds: Optional[float]
    error: Optional[str] = None


class Bot:
    """One echo bot: its style, account, example file, and process with the last lines it printed."""

    def __init__(self, style: str, path: Path, module: str) -> None:
        self.style = style
        self.uin, self.password = BOT_ACCOUNTS[style]
        self.path = path
        self.module = module
        self.name = f"{style} bot ({self.uin})"
        self.process: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
        self.output: Deque[str] = collections.deque(maxlen=KEPT_LINES)
        self.live: Optional[Console] = None  # set: each line is also printed as it comes
        self.exchanges: List[Exchange] = []
        #: Called (from the output thread) once the bot's output has ended: it has exited.
        self.on_exit: Optional[Callable[[], None]] = None
        self.exited = False
        self._pump: Optional[threading.Thread] = None

    def start(self, server: Address, root: Path, rounds: Optional[int]) -> None:
        argv = ["--server", f"{server[0]}:{server[1]}", "--uin", str(self.uin), "--password", self.password]
        if rounds is not None:
            argv += ["--max-messages", str(rounds)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=example_environment(root), text=True, encoding="utf-8", errors="replace",
            # Its own session: Ctrl-C in the terminal reaches the demo, which stops the bots itself.
            start_new_session=True,
        )
        self._pump = threading.Thread(target=self._read, name=f"demo {self.style} bot output", daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.output.append(line)
            live = self.live
            if live is not None:
                live.line(f"  [{self.style} bot] {line}")
        self.exited = True
        on_exit = self.on_exit
        if on_exit is not None:
            with contextlib.suppress(RuntimeError):  # the conversation's loop has closed: nobody waits
                on_exit()

    def wait(self, timeout: float) -> Optional[int]:
        """The exit code, or None if it is still running after `timeout` seconds."""
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        process = self.process
        if process is None:
            return
        stop_process(process)
        if self._pump is not None:
            self._pump.join(STEP_TIMEOUT)
        if process.stdout is not None:
            process.stdout.close()

    @property
    def round_trips(self) -> List[float]:
        return [exchange.seconds for exchange in self.exchanges if exchange.seconds is not None]


def code_lines(path: Union[str, Path]) -> int:
    """Lines of code in a Python file: neither blank nor only a comment."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


async def _converse(server: Address, bots: Sequence[Bot], texts: Sequence[str], console: Console) -> None:
    """The scripted user: wait for every bot, then say `texts` to all of them at once, one line at a time each."""
    uin, password, name = SCRIPTED_USER
    user = await ScriptedUser.login(server, uin, password, label="demo scripted user")
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        online = {bot.uin: user.online_soon(bot.uin) for bot in bots}
        for bot in bots:
            online[bot.uin].add_done_callback(
                lambda future, bot=bot: future.cancelled() or future.exception() or console.line(
                    f"demo: {bot.name} is online after {loop.time() - started:.2f} s"))
            # A bot that exits before it comes online fails the demo now, not at the end of the timeout.
            bot.on_exit = functools.partial(loop.call_soon_threadsafe, _gone, online[bot.uin], bot)
            if bot.exited:
                _gone(online[bot.uin], bot)
        await user.watch([bot.uin for bot in bots])
        _, missing = await asyncio.wait(list(online.values()), timeout=START_TIMEOUT)
        for future in online.values():
            if future.done() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        if missing:
            late = [bot.name for bot in bots if online[bot.uin] in missing]
            raise CounterpartError(f"{', '.join(late)} did not come online within {START_TIMEOUT:g} s")
        console.line(f"demo: {name} ({uin}) says {len(texts)} lines to each bot, all bots at once")

        async def chat(bot: Bot) -> None:
            for text in texts:
                try:
                    bot.exchanges.append(Exchange(text, await user.say(bot.uin, text)))
                except CounterpartError as exc:
                    bot.exchanges.append(Exchange(text, None, str(exc)))
                    return  # the bot is gone or stuck: the rest would only wait as long again

        await asyncio.gather(*(chat(bot) for bot in bots))
    finally:
        for bot in bots:
            bot.on_exit = None
        await user.close()


def _gone(online: asyncio.Future[None], bot: Bot) -> None:
    if not online.done():
        online.set_exception(CounterpartError(f"{bot.name} stopped before it came online"))


def _print_transcript(bots: Sequence[Bot], console: Console) -> None:
    _, _, name = SCRIPTED_USER
    you = f"{name} ({SCRIPTED_USER[0]})"
    if not any(bot.exchanges for bot in bots):
        return
    console.line("")
    console.line("Transcript")
    for bot in bots:
        for exchange in bot.exchanges:
            console.line(f"  {you} -> {bot.name}: {exchange.text}")
            if exchange.seconds is not None:
                console.line(f"  {bot.name} -> {you}: {exchange.text}   ({exchange.seconds * 1000:.2f} ms)")
            else:
                console.line(f"  {bot.name} -> {you}: (nothing: {exchange.error})")


def _print_table(bots: Sequence[Bot], rounds: int, console: Console) -> None:
    console.line("")
    console.line(f"{'style':<12}{'lines':>7}{'round trips':>14}{'median rtt':>14}")
    for bot in bots:
        trips = bot.round_trips
        median = f"{statistics.median(trips) * 1000:.2f} ms" if trips else "-"
        console.line(f"{bot.style:<12}{code_lines(bot.path):>7}{f'{len(trips)}/{rounds}':>14}{median:>14}")
    console.line("(lines: non-blank, non-comment lines of the example file; rtt: the scripted user's send to "
                 "the echo's arrival)")


def _print_how_to_connect(server: Address, bots: Sequence[Bot], console: Console) -> None:
    host, port = server
    console.line("")
    console.line(f"The server and the bots keep running on {host}:{port}; press Ctrl-C to stop them.")
    for bot in bots:
        console.line(f"  {bot.name}: uin {bot.uin}, password {bot.password!r}")
    accounts = ", ".join(f"{uin}/{password}" for uin, password in DEMO_USERS.items())
    console.line(f"  log in as one of {accounts} (uin/password) and message a bot: it answers with your text;"
                 f" {ECHO_UIN} is the server's own echo contact")
    console.line(f'  libgadu: gg_login() with .uin = 1001, .password = "alice", .server_addr = inet_addr("{host}"), '
                 f".server_port = {port}, .protocol_version = GG_PROTOCOL_VERSION_100, .tls = GG_SSL_DISABLED")
    console.line("What the bots print follows.")


def run_demo(
    *,
    rounds: int = len(ECHO_TEXTS),
    keep_running: bool = False,
    port: int = 0,
    stream: Optional[TextIO] = None,
    examples: Optional[Examples] = None,
    stop: Optional[threading.Event] = None,
) -> int:
    """The whole demo; 0 when every bot echoed every line and ended cleanly, 1 otherwise (with the reason).

    With `keep_running` it returns only when `stop` is set or on KeyboardInterrupt (Ctrl-C).
    """
    console = Console(stream)
    examples = examples if examples is not None else Examples()
    texts = [ECHO_TEXTS[index % len(ECHO_TEXTS)] for index in range(rounds)]
    bots = [Bot(style, examples.path("echo_bot", style), module_name(examples.root, examples.path("echo_bot", style)))
            for style in DEMO_STYLES]
    users = dict(DEMO_USERS)
    users.update({uin: password for uin, password in BOT_ACCOUNTS.values()})
    users[SCRIPTED_USER[0]] = SCRIPTED_USER[1]
    failures: List[str] = []
    with contextlib.ExitStack() as stack:
        started = time.monotonic()
        thread = stack.enter_context(ServerThread(ServerConfig(users=users, port=port)))
        server = ("127.0.0.1", thread.port)
        console.line(f"demo: reference server on {server[0]}:{server[1]}")
        for bot in bots:
            stack.callback(bot.stop)
            bot.start(server, examples.root, None if keep_running else rounds)
        console.line("demo: started the echo bots: " + ", ".join(
            f"{bot.style} (uin {bot.uin}, pid {bot.process.pid})" for bot in bots if bot.process is not None))
        try:
            asyncio.run(_converse(server, bots, texts, console))
        except CounterpartError as exc:
            failures.append(str(exc))
        except OSError as exc:
            failures.append(f"the scripted user could not talk to the server: {exc}")
        _print_transcript(bots, console)
        _print_table(bots, rounds, console)
        for bot in bots:
            failures += [f"{bot.name} did not echo {exchange.text!r}: {exchange.error}"
                         for exchange in bot.exchanges if exchange.error is not None]
        if keep_running and not failures:
            _print_how_to_connect(server, bots, console)
            for bot in bots:
                for line in list(bot.output):
                    console.line(f"  [{bot.style} bot] {line}")
                bot.live = console
            try:
                (stop or threading.Event()).wait()
            except KeyboardInterrupt:
                console.line("")
            console.line("demo: stopping the bots and the server")
            return 0
        for bot in bots if not failures else ():  # after a failure they are stopped, not waited for
            code = bot.wait(STEP_TIMEOUT)
            if code is None:
                failures.append(f"{bot.name} was still running after its {rounds} messages")
            elif code != 0:
                failures.append(f"{bot.name} exited with {code}")
    console.line("")
    if failures:
        console.line("demo: FAILED")
        for failure in failures:
            console.line(f"  {failure}")
        for bot in bots:
            if any(bot.name in failure for failure in failures) and bot.output:
                console.line(f"  last lines of the {bot.style} bot:")
                for line in bot.output:
                    console.line(f"    {line}")
        return 1
    console.line(f"demo: all {len(bots)} bots echoed all {rounds} lines and logged off, "
                 f"in {time.monotonic() - started:.1f} s")
    return 0


def _rounds(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected 1 to 100 lines per bot, got {value}")
    return value


def add_parser(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "demo", help="the echo bot in all four styles at once, with a scripted user and a table",
        description="Start the reference server and the echo bot in all four styles (dispatcher, callbacks, "
        "yieldfrom, aio), have a scripted user chat with each, and print the transcript and a table of lines "
        "of code, messages round-tripped and median round trip. Ends in a few seconds.",
    )
    parser.add_argument("--keep-running", action="store_true",
                        help="leave the server and the bots up afterwards, and say how to connect (Ctrl-C stops)")
    parser.add_argument("--rounds", type=_rounds, default=len(ECHO_TEXTS), metavar="N",
                        help=f"lines the scripted user says to each bot (default {len(ECHO_TEXTS)})")
    parser.add_argument("--port", type=int, default=0,
                        help="port for the server (default 0: a free one); with --keep-running, 8074 is handy")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 0xFFFF:
        print(f"gg-workbench demo: error: --port {args.port} is not in 0..65535", file=sys.stderr)
        return 2
    if hasattr(sys.stdout, "reconfigure"):
        # The transcript is Polish; a terminal that cannot show it gets escapes rather than a crash.
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        return run_demo(rounds=args.rounds, keep_running=args.keep_running, port=args.port)
    except OSError as exc:
        print(f"gg-workbench demo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gg-workbench demo: interrupted", file=sys.stderr)
        return 130
