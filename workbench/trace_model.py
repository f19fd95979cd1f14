"""What `gg-workbench trace --html` draws, as plain data: the passes of `_run_once`, one lane per Task, marks.

TraceRecorder is modern.loop's trace hook: it turns each PassRecord into a PassView while the objects it
names still are what they were, and gives back a Trace of strings and numbers. The page is trace_page.py.
"""
from __future__ import annotations

import os
import reprlib
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Set, Tuple

import modern.loop
from modern.loop.debug import CallbackRun, ScheduleSite

__all__ = [
    "DEFAULT_HTML_LIMIT",
    "MAX_CALLBACKS_SHOWN",
    "MAX_LANES",
    "Lane",
    "Mark",
    "PassView",
    "Trace",
    "TraceRecorder",
]

#: Passes a page holds when no --limit is given: the page stays a few megabytes at most.
DEFAULT_HTML_LIMIT = 1000
#: Callbacks drawn per pass; the others are counted in the pass's summary.
MAX_CALLBACKS_SHOWN = 100
#: Tasks drawn as lanes; later tasks are counted in the trace's note.
MAX_LANES = 200

_short = reprlib.Repr()
_short.maxstring = 30
_short.maxother = 40
_short.maxlist = _short.maxtuple = 3

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LOOP_DIR = os.path.dirname(os.path.abspath(modern.loop.__file__))
_HIDDEN_DIRS = (_LOOP_DIR, os.path.join(_ROOT, "compat"))


class Mark(NamedTuple):
    """One thing drawn: a select wait, a ready fd, a timer due, a callback, a packet, or a task's event."""

    #: "select", "fd", "timer", "callback", "wire"; in lanes "created", "step", "done".
    kind: str
    pass_number: int
    #: The hover text.
    text: str
    #: Seconds, for a select wait or a callback; else None.
    duration: Optional[float] = None
    #: Lines of the example's source this mark concerns (where it was scheduled, resumed or stopped).
    lines: Tuple[int, ...] = ()
    #: For "done": "result", "exception" or "cancelled"; for "callback": "fd", "timer" or "soon".
    outcome: str = ""


class PassView(NamedTuple):
    """One pass of `_run_once`, in the order the loop did it."""

    number: int
    #: Seconds from the start of the first traced pass to the start of this one.
    start: float
    #: This pass's wall time: select, then the callbacks.
    wall: float
    #: The select timeout asked for (0, seconds, or None for "until a socket is ready"), and why.
    timeout: Optional[float]
    why: str
    select: Mark
    fds: Tuple[Mark, ...]
    timers: Tuple[Mark, ...]
    callbacks: Tuple[Mark, ...]
    #: Callbacks run but not drawn (over MAX_CALLBACKS_SHOWN).
    hidden_callbacks: int
    #: The example's lines this pass touched: the union of its marks' lines and its tasks' steps.
    lines: Tuple[int, ...]
    #: What the other side put on the wire while this pass was waiting in select (or running, for the last).
    wire: Tuple[Mark, ...] = ()


class Lane(NamedTuple):
    """One Task: created, each step, and how it ended (if it did while traced)."""

    name: str
    coro: str
    marks: Tuple[Mark, ...]


class Trace(NamedTuple):
    """A whole recording: what the page is built from."""

    title: str
    #: The example's file, relative to the project, and its lines.
    source_name: str
    source: Tuple[str, ...]
    passes: Tuple[PassView, ...]
    lanes: Tuple[Lane, ...]
    #: True when the recording stopped at its limit before the example ended.
    cut: bool
    limit: Optional[int]
    #: What a reader must know about what is missing ("" when nothing is).
    note: str
    #: Seconds from the first traced pass to the end of the last.
    wall: float
    callbacks: int
    select_time: float
    callback_time: float


def short_path(filename: str) -> str:
    """A file name relative to the project when inside it."""
    path = os.path.abspath(filename)
    return os.path.relpath(path, _ROOT) if path.startswith(_ROOT + os.sep) else os.path.basename(path)


def _user_frames(stack: Tuple[Tuple[str, int, str], ...]) -> List[Tuple[str, int, str]]:
    return [frame for frame in stack if not os.path.abspath(frame[0]).startswith(_HIDDEN_DIRS)]


def _suspended_at(coro: Any) -> List[Tuple[str, int, str]]:
    """Where a suspended coroutine waits, innermost first, through `yield from`/`await` chains."""
    frames: List[Tuple[str, int, str]] = []
    while coro is not None and len(frames) < 20:
        frame = getattr(coro, "gi_frame", None) or getattr(coro, "cr_frame", None)
        if frame is None:
            break
        frames.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        coro = getattr(coro, "gi_yieldfrom", None) or getattr(coro, "cr_await", None)
    frames.reverse()
    return frames


class _Lane:
    def __init__(self, task: Any, number: int) -> None:
        self.task = task
        self.name = task.get_name()
        coro = task.get_coro()
        self.coro = getattr(coro, "__qualname__", None) or type(coro).__name__
        self.marks: List[Mark] = []
        self.stopped_at: Tuple[int, ...] = ()
        self.steps = 0
        self.number = number


class TraceRecorder:
    """modern.loop's trace hook that keeps every pass as data; `trace()` returns the Trace.

    After `limit` passes it switches itself off and calls `on_limit` (trace.py cancels the example there).
    `wire` is a list another thread appends (time.perf_counter(), text) to, in time order (the reference
    server's packet log): each entry is drawn in the first pass whose select returned after it.
    """

    def __init__(
        self,
        loop: modern.loop.EventLoop,
        *,
        title: str = "",
        source_path: Optional[str] = None,
        limit: Optional[int] = None,
        on_limit: Optional[Callable[[], None]] = None,
        wire: Optional[List[Tuple[float, str]]] = None,
    ) -> None:
        self.loop, self.limit, self.on_limit, self.title = loop, limit, on_limit, title
        self.source_path = os.path.abspath(source_path) if source_path else None
        self.passes: List[PassView] = []
        self.lanes: Dict[int, _Lane] = {}
        self.lanes_left_out = 0
        self.cut = False
        self.callbacks = 0
        self.select_time = self.callback_time = 0.0
        self._first: Optional[float] = None
        self._end = 0.0
        self._futures: Dict[int, Tuple[Any, str]] = {}
        # The name of every callback drawn, by its handle: a handle scheduled inside one names it as parent.
        self._ran: Dict[int, Tuple[Any, str]] = {}
        self._next_timer = self._peek_timer()
        self._wire = wire if wire is not None else []
        self._wire_seen = 0

    # Naming things a person recognises.

    def _future(self, future: Any) -> str:
        known = self._futures.get(id(future))
        if known is None or known[0] is not future:
            if isinstance(future, modern.loop.Task):
                return future.get_name()
            known = (future, f"{type(future).__name__}-{len(self._futures) + 1}")
            self._futures[id(future)] = known
        return known[1]

    def _arg(self, value: Any) -> str:
        if isinstance(value, modern.loop.Task):
            return value.get_name()
        if modern.loop.isfuture(value):
            return self._future(value)
        if type(value) is tuple and len(value) <= 3:
            return "({})".format(", ".join(self._arg(item) for item in value))
        fileno = getattr(value, "fileno", None)
        if fileno is not None and hasattr(value, "getsockname"):
            try:
                host, port = value.getsockname()[:2]
            except (OSError, ValueError):  # closed, or not an internet socket
                return f"socket fd {fileno()}"
            return f"socket fd {fileno()} {host}:{port}"
        return _short.repr(value)

    def _callback(self, callback: Any, args: Tuple[Any, ...]) -> str:
        owner = getattr(callback, "__self__", None)
        name = getattr(callback, "__qualname__", None) or getattr(callback, "__name__", None) or repr(callback)
        if isinstance(owner, modern.loop.Task):
            name = f"{owner.get_name()}.{callback.__name__}"
        partial = getattr(callback, "func", None)
        if partial is not None and hasattr(callback, "args"):
            return self._callback(partial, tuple(callback.args) + tuple(args))
        return "{}({})".format(name, ", ".join(self._arg(arg) for arg in args))

    def _lines(self, frames: List[Tuple[str, int, str]]) -> Tuple[int, ...]:
        if self.source_path is None:
            return ()
        return tuple(line for filename, line, _ in frames if os.path.abspath(filename) == self.source_path)

    def _site(self, site: Optional[ScheduleSite]) -> Tuple[str, Tuple[int, ...]]:
        if site is None:
            return "", ()
        frames = _user_frames(site.stack)
        if frames:
            filename, line, function = frames[0]
            return f"scheduled by {site.api} at {short_path(filename)}:{line} in {function}", self._lines(frames)
        parent = self._ran.get(id(site.parent)) if site.parent is not None else None
        if parent is not None and parent[0] is site.parent:
            by = "" if parent[1].split("(")[0].endswith(site.api) else f" (by {site.api})"
            return f"scheduled while {parent[1]} ran in pass {site.pass_number}{by}", ()
        return f"scheduled by {site.api}", ()

    def _peek_timer(self) -> Optional[Any]:
        live = [entry for entry in self.loop._scheduled if not entry[1]._cancelled]
        return min(live)[1] if live else None

    # The hook.

    def __call__(self, record: modern.loop.PassRecord) -> None:
        now = time.perf_counter()
        if self._first is None:
            self._first = record.started
        self._end = now
        number = len(self.passes) + 1
        lines: Set[int] = set()

        if record.timeout == 0:
            why = "callbacks were waiting, so select only polls"
        elif record.timeout is None:
            why = "no timer pending: select waits until a socket is ready"
        else:
            timer = self._next_timer
            name = self._callback(timer._callback, timer._args or ()) if timer is not None and not \
                timer._cancelled else "a timer"
            why = f"the next timer, {name}, is due in {record.timeout:.6f} s"
        timeout_text = "none" if record.timeout is None else f"{record.timeout:.6f} s"
        select = Mark("select", number, f"pass {number}: select waited {record.select_time * 1e3:.3f} ms "
                      f"(timeout {timeout_text}: {why})", record.select_time)

        watchers: Dict[int, List[CallbackRun]] = {}
        for run in record.runs:
            site = getattr(run.handle, "_site", None)
            if site is not None and site.fd is not None:
                watchers.setdefault(site.fd, []).append(run)
        fds = []
        wakeup = self.loop._ssock.fileno() if self.loop._ssock is not None else -1
        for fd in record.fds:
            if fd == wakeup:
                text = f"fd {fd} ready: the loop's wake-up socket (call_soon_threadsafe from another thread)"
            elif fd in watchers:
                named = "; ".join(f"{run.handle._site.kind} {self._callback(run.callback, run.args)}"
                                  for run in watchers[fd])
                text = f"fd {fd} ready: {named}"
            else:
                text = f"fd {fd} ready (its watcher was removed before it ran)"
            fds.append(Mark("fd", number, text))

        timers, callbacks = [], []
        for index, run in enumerate(record.runs):
            site = getattr(run.handle, "_site", None)
            origin = "timer" if isinstance(run.handle, modern.loop.TimerHandle) else \
                "fd" if site is not None and site.fd is not None else "soon"
            name = self._callback(run.callback, run.args)
            if index < MAX_CALLBACKS_SHOWN:
                self._ran[id(run.handle)] = (run.handle, name)
            where, site_lines = self._site(site)
            if origin == "timer":
                timers.append(Mark("timer", number, f"timer due: {name}" + (f", {where}" if where else ""),
                                   lines=site_lines))
            step_lines = self._task_step(run, number)
            lines.update(site_lines, step_lines)
            if index < MAX_CALLBACKS_SHOWN:
                text = f"pass {number}, callback {index + 1}: {name} ran {run.duration * 1e6:.1f} us"
                callbacks.append(Mark("callback", number, text + (f"; {where}" if where else ""), run.duration,
                                      tuple(sorted(set(site_lines + step_lines))), origin))

        wire = []
        select_end = record.started + record.select_time
        while self._wire_seen < len(self._wire) and self._wire[self._wire_seen][0] <= select_end:
            wire.append(Mark("wire", number, f"pass {number}: {self._wire[self._wire_seen][1]}"))
            self._wire_seen += 1

        self.callbacks += len(record.runs)
        self.select_time += record.select_time
        self.callback_time += record.callback_time
        self.passes.append(PassView(
            number, record.started - self._first, now - record.started, record.timeout, why, select,
            tuple(fds), tuple(timers), tuple(callbacks), max(0, len(record.runs) - MAX_CALLBACKS_SHOWN),
            tuple(sorted(lines)), tuple(wire),
        ))
        self._next_timer = self._peek_timer()
        if self.limit is not None and number >= self.limit:
            self.cut = True
            self.loop.set_trace(None)
            if self.on_limit is not None:
                self.on_limit()

    def _task_step(self, run: CallbackRun, number: int) -> Tuple[int, ...]:
        task = getattr(run.callback, "__self__", None)
        if not isinstance(task, modern.loop.Task) or run.callback.__name__ not in ("_step", "_wakeup"):
            return ()
        lane = self.lanes.get(id(task))
        if lane is None or lane.task is not task:
            if len(self.lanes) >= MAX_LANES:
                self.lanes_left_out += 1
                return ()
            lane = self.lanes[id(task)] = _Lane(task, len(self.lanes) + 1)
            site = getattr(run.handle, "_site", None)
            where, site_lines = self._site(site)
            created_in = max(1, site.pass_number) if site is not None else number
            lane.marks.append(Mark("created", created_in,
                                   f"{lane.name} created for {lane.coro}()" + (f", {where}" if where else ""),
                                   lines=site_lines))
        lane.steps += 1
        resumed = lane.stopped_at
        if run.callback.__name__ == "_wakeup" and run.args:
            future = run.args[0]
            name = self._future(future)
            if future.cancelled():
                sent = f"threw CancelledError in ({name} was cancelled)"
            elif future.exception() is not None:
                sent = f"threw {future.exception()!r} in (from {name})"
            else:
                sent = f"sent {self._arg(future.result())} in (the result of {name})"
        elif run.args:
            sent = f"threw {run.args[0]!r} in"
        else:
            sent = "started it" if lane.steps == 1 else "sent None in"
        waiting: List[Tuple[str, int, str]] = []
        if task.done():
            if task.cancelled():
                then, outcome = "it ended cancelled", "cancelled"
            elif task.exception() is not None:
                then, outcome = f"it ended raising {task.exception()!r}", "exception"
            else:
                then, outcome = f"it returned {self._arg(task.result())}", "result"
        else:
            outcome = ""
            waiting = _suspended_at(task.get_coro())
            user = _user_frames(tuple(waiting))
            at = f" at {short_path(user[0][0])}:{user[0][1]} in {user[0][2]}" if user else ""
            waiter = task._fut_waiter
            then = f"it now waits on {self._future(waiter)}{at}" if waiter is not None else \
                f"it yielded nothing (a bare yield: one turn of the loop){at}"
        lane.stopped_at = self._lines(waiting)
        step_lines = tuple(sorted(set(resumed + lane.stopped_at)))
        lane.marks.append(Mark("step", number, f"pass {number}: {lane.name} step {lane.steps} ran "
                               f"{run.duration * 1e6:.1f} us: {sent}; {then}", run.duration, step_lines))
        if outcome:
            lane.marks.append(Mark("done", number, f"{lane.name} finished in pass {number}: {then}",
                                   outcome=outcome))
        return step_lines

    def trace(self) -> Trace:
        """The recording so far, as data; it lets go of the loop's objects it was naming."""
        self._futures.clear()
        self._ran.clear()
        for lane in self.lanes.values():
            lane.task = None
        source: Tuple[str, ...] = ()
        if self.source_path is not None:
            with open(self.source_path, encoding="utf-8") as file:
                source = tuple(file.read().splitlines())
        notes = []
        if self.cut:
            notes.append(f"Cut at the limit of {self.limit} passes: the example was cancelled there, so its "
                         "last passes (the cancellation and its clean-up) are not drawn.")
        hidden = sum(view.hidden_callbacks for view in self.passes)
        if hidden:
            notes.append(f"{hidden} callbacks are counted but not drawn (over {MAX_CALLBACKS_SHOWN} in a pass).")
        if self.lanes_left_out:
            notes.append(f"{self.lanes_left_out} task steps of tasks beyond the first {MAX_LANES} are not drawn.")
        return Trace(
            self.title, short_path(self.source_path) if self.source_path else "", source, tuple(self.passes),
            tuple(Lane(lane.name, lane.coro, tuple(lane.marks)) for lane in self.lanes.values()),
            self.cut, self.limit, " ".join(notes),
            (self._end - self._first) if self._first is not None else 0.0,
            self.callbacks, self.select_time, self.callback_time,
        )
