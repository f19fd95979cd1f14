"""`gg-workbench trace EXAMPLE`: watch the loop turn. The yield-from version of an example runs on modern.loop
with the loop's trace hook on, and each pass of `_run_once` is printed as it happens (PassRecord.describe),
or with `--html FILE` recorded (trace_model.py) and drawn as one page (trace_page.py).

The example runs in this process, on a loop made here (the yield-from examples take one: `main(argv, loop)`);
the reference server and the example's scripted counterpart (workbench.run) run in threads beside it.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import io
import logging
import sys
import time
from pathlib import Path
from typing import Any, Iterator, List, Optional, Sequence, TextIO, Tuple, Union

import modern.loop
from gadu.server import ServerThread
from gadu.server.config import ServerConfig
from workbench.examples import ExampleError, Examples
from workbench.run import (
    DEFAULT_SCENARIO,
    SCENARIOS,
    STEP_TIMEOUT,
    Address,
    Console,
    CounterpartThread,
    OutputWatch,
    module_name,
    parse_address,
    split_words,
    tapped_stdout,
)
from workbench.trace_model import DEFAULT_HTML_LIMIT, TraceRecorder
from workbench.trace_page import render_page

__all__ = ["TRACED_STYLE", "add_parser", "run", "trace_example"]

#: The style whose loop is ours to watch: the yield-from examples on modern.loop.
TRACED_STYLE = "yieldfrom"


def _cancel_every_task(loop: modern.loop.EventLoop) -> None:
    # Cancelled, each coroutine runs its `finally` and closes its sockets in the passes that follow.
    for task in modern.loop.all_tasks(loop):
        task.cancel()


class _PassPrinter:
    """The trace hook: one line per pass; after `limit` passes it cancels every task of the loop."""

    def __init__(self, loop: modern.loop.EventLoop, console: Console, limit: Optional[int]) -> None:
        self.loop, self.console, self.limit = loop, console, limit
        self.passes = self.callbacks = 0
        self.select_time = self.callback_time = 0.0
        self.stopped = False

    def __call__(self, record: modern.loop.PassRecord) -> None:
        self.passes += 1
        self.callbacks += len(record.callbacks)
        self.select_time += record.select_time
        self.callback_time += record.callback_time
        self.console.line(record.describe())
        if self.limit is not None and self.passes >= self.limit:
            self.loop.set_trace(None)
            self.stopped = True
            _cancel_every_task(self.loop)


class _WireLog(logging.Handler):
    """The reference server's packet log (gadu.packetlog) as (time.perf_counter(), text), for the page."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.events: List[Tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        # PacketLog's arguments: owner, "in" or "out", the packet's name, its length, its body in hex.
        args: Any = record.args
        owner, way, name, length = args[:4]
        told = f"received {name} from" if way == "in" else f"sent {name} to"
        self.events.append((time.perf_counter(), f"the server {told} {owner} ({length} bytes of body)"))


@contextlib.contextmanager
def _server_packets(wire: _WireLog) -> Iterator[None]:
    logger = logging.getLogger("gadu.server.packets")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False  # to the page only, not to whatever prints the root logger's records
    logger.addHandler(wire)
    try:
        yield
    finally:
        logger.removeHandler(wire)
        logger.setLevel(level)
        logger.propagate = propagate


def trace_example(
    name: str,
    *,
    limit: Optional[int] = None,
    server: Optional[Address] = None,
    extra: Sequence[str] = (),
    stream: Optional[TextIO] = None,
    examples: Optional[Examples] = None,
    html: Union[str, Path, None] = None,
) -> int:
    """Run the yield-from version of `name` on a traced modern.loop; the example's exit code (0 when stopped
    at `limit`). With `html`, the passes are recorded (at most `limit`, DEFAULT_HTML_LIMIT when None) and
    drawn on that page instead of printed. ExampleError when there is no such example in the yield-from style."""
    examples = examples if examples is not None else Examples()
    path = examples.path(name, TRACED_STYLE)
    module = importlib.import_module(module_name(examples.root, path))
    console = Console(stream)
    scenario = SCENARIOS.get(name, DEFAULT_SCENARIO)
    with contextlib.ExitStack() as stack:
        wire = _WireLog()
        if server is None and scenario.needs_server:
            if html is not None:
                # The server runs in this process: its packets go on the page, above the passes that saw them.
                stack.enter_context(_server_packets(wire))
            thread = stack.enter_context(ServerThread(ServerConfig(port=0, log_packets=html is not None)))
            server = ("127.0.0.1", thread.port)
            console.line(f"trace: reference server on 127.0.0.1:{thread.port}")
        argv = scenario.arguments(server or ("127.0.0.1", 0)) + list(extra)
        try:
            args = module.parse_args(argv)
        except SystemExit as exc:  # the example's own parser has said what is wrong
            return int(exc.code or 0)
        watch = OutputWatch()
        counterpart: Optional[CounterpartThread] = None
        if scenario.counterpart is not None:
            # Quiet: its lines would come from another thread, in the middle of the trace.
            quiet = Console(io.StringIO())
            counterpart = CounterpartThread(functools.partial(scenario.counterpart, server, args, watch, quiet))
            stack.callback(counterpart.join)
            stack.callback(counterpart.stop)
            counterpart.start()
            if scenario.starts_first:
                counterpart.ready.wait(STEP_TIMEOUT)
        loop = modern.loop.new_event_loop()
        printer = _PassPrinter(loop, console, None if html is not None else limit)
        recorder: Optional[TraceRecorder] = None
        if html is not None:
            target = Path(html)
            limit = DEFAULT_HTML_LIMIT if limit is None else limit
            recorder = TraceRecorder(loop, title=f"{name} ({TRACED_STYLE}) on modern.loop", source_path=str(path),
                                     limit=limit, on_limit=functools.partial(_cancel_every_task, loop),
                                     wire=wire.events)
            loop.set_trace(recorder)
            console.line(f"trace: {module.__name__} on modern.loop, recording at most {limit} passes for {html}")
        else:
            loop.set_trace(printer)
            console.line(f"trace: {module.__name__} on modern.loop, one line per pass of _run_once"
                         + (f", stopping after {limit}" if limit is not None else ""))
        started = time.perf_counter()
        try:
            with tapped_stdout(watch.feed):
                code = module.main(argv, loop=loop)
        except modern.loop.CancelledError:
            if not (printer.stopped or (recorder is not None and recorder.cut)):
                raise
            code = 0
        finally:
            if not loop.is_closed():
                loop.close()
        if recorder is not None:
            trace = recorder.trace()
            page = render_page(trace)
            try:
                target.write_text(page, encoding="utf-8")
            except OSError as exc:
                console.line(f"trace: cannot write {html}: {exc.strerror or exc}")
                return 1
            printer.stopped = trace.cut
            if trace.cut:
                console.line(f"trace: cut at the limit of {limit} passes; the example was cancelled and closed its "
                             "connections")
            console.line(f"trace: {len(trace.passes)} passes ran {trace.callbacks} callbacks in "
                         f"{trace.callback_time:.6f}s, {len(trace.lanes)} tasks; wrote {html} "
                         f"({len(page.encode('utf-8')) / 1024:.1f} KiB) {time.perf_counter() - started:.2f} s "
                         "after the example started")
        else:
            if printer.stopped:
                console.line(f"trace: stopped after {printer.passes} passes; the example was cancelled and closed "
                             "its connections")
            console.line(f"trace: {printer.passes} passes ran {printer.callbacks} callbacks in "
                         f"{printer.callback_time:.6f}s, and waited {printer.select_time:.6f}s in select")
        if counterpart is not None and not printer.stopped:
            counterpart.join(STEP_TIMEOUT)
            if counterpart.error is not None:
                console.line(f"trace: the scripted counterpart failed: {counterpart.error}")
                code = code or 1
        return int(code)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of passes of at least 1, got {value}")
    return value


def _options() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gg-workbench trace",
        usage="gg-workbench trace EXAMPLE [--style yieldfrom] [--limit N] [--html FILE] [--server HOST:PORT] "
        "[-- EXAMPLE ARGS]",
        description="Run the yield-from version of an example on the from-scratch loop (modern.loop) with its "
        "trace hook on: each pass of _run_once prints its number, how long select waited and which file "
        "descriptors it reported, how many timers fell due, and which callbacks ran in how long. The "
        "reference server and the example's scripted counterpart run beside it, as for `gg-workbench run`. "
        "With --html the passes are drawn on one self-contained page instead: a timeline, a lane per task, "
        "and the example's source.",
    )
    parser.add_argument("example", help="example name (gg-workbench diff --list shows them)")
    parser.add_argument("--style", choices=[TRACED_STYLE], default=TRACED_STYLE,
                        help="the style to trace: only the yield-from examples run on modern.loop (the default)")
    parser.add_argument("--limit", type=_positive, metavar="N", help="stop after N passes (the example is "
                        f"cancelled); with --html at most {DEFAULT_HTML_LIMIT} unless given")
    parser.add_argument("--html", metavar="FILE", help="record the passes and write them as one HTML page")
    parser.add_argument("--server", type=parse_address, metavar="HOST:PORT",
                        help="use this GG server instead of starting one")
    return parser


def add_parser(subparsers) -> None:  # type: ignore[no-untyped-def]
    # Parsed in run(), as for `gg-workbench run`: options may follow the example, and `--` ends them.
    parser = subparsers.add_parser("trace", help="run an example on modern.loop and print every pass of its "
                                   "_run_once", add_help=False, usage=_options().usage)
    parser.add_argument("-h", "--help", action="store_true")
    parser.add_argument("words", nargs=argparse.REMAINDER)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    own, extra = split_words(args.words)
    if args.help:
        own = ["--help"]
    parsed = _options().parse_args(own)
    try:
        return trace_example(parsed.example, limit=parsed.limit, server=parsed.server, extra=extra,
                             html=parsed.html)
    except ExampleError as exc:
        print(f"gg-workbench trace: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gg-workbench trace: interrupted", file=sys.stderr)
        return 130
