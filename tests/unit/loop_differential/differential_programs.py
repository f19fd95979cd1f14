"""The differential corpus: small programs written once against `Api`, each leaving a trace of events.

A trace records every callback run, every point where a coroutine resumes, and every exception and
cancellation seen, in order; run on asyncio and on modern.loop, the two traces must be equal.
Generator coroutines (`yield from`, `api.coroutine`) and native ones (`async def`) are both here.
"""
from __future__ import annotations

import contextvars
import hashlib
import socket
import threading
from typing import Any, Callable, List, Optional, Tuple

from differential_driver import Api, Boom, Event, Oops, Program, Run, describe, where

__all__ = ["PROGRAMS", "program"]

PROGRAMS: List[Program] = []

#: The context variable of the contextvars program; module level, as context variables must be.
CURRENT = contextvars.ContextVar("CURRENT", default="unset")


def program(
    *,
    real_clock: bool = False,
    debug: bool = False,
    since: Optional[Tuple[int, int]] = None,
    reason: str = "",
    expected: Optional[List[Event]] = None,
) -> Callable[[Callable[[Api, Run], None]], Callable[[Api, Run], None]]:
    """Add a program to the corpus; `since`, `reason` and `expected` go together (see Program)."""
    if (since is None) != (expected is None) or (since is not None and not reason):
        raise ValueError("a program compared from some Python on needs since, reason and expected")

    def register(body: Callable[[Api, Run], None]) -> Callable[[Api, Run], None]:
        if any(p.name == body.__name__ for p in PROGRAMS):
            raise ValueError(f"two programs are called {body.__name__}")
        PROGRAMS.append(
            Program(
                body.__name__, body, (body.__doc__ or "").strip(), not real_clock, debug, since, reason, expected
            )
        )
        return body

    return register


def chain(exc: Optional[BaseException]) -> List[Any]:
    """An exception and the ones it was raised from or during, with how each link was made."""
    links: List[Any] = []
    while exc is not None:
        links.append(describe(exc))
        if exc.__cause__ is not None:
            links.append("from")
            exc = exc.__cause__
        elif exc.__context__ is not None and not exc.__suppress_context__:
            links.append("during")
            exc = exc.__context__
        else:
            exc = None
    return links


def frames(exc: BaseException) -> List[str]:
    """The program functions an exception travelled through (the loops' own frames are left out)."""
    return where(exc, __file__)


def run_main(run: Run, main: Any) -> None:
    """Run a coroutine to completion and record how it ended."""
    try:
        run.log("main returned", run.loop.run_until_complete(main))
    except Exception as exc:
        run.log("main raised", describe(exc))
    except BaseException as exc:  # CancelledError is a BaseException from 3.8 on
        run.log("main raised", describe(exc))


# --- callbacks and timers -------------------------------------------------------------------------


@program()
def call_soon_runs_fifo(api: Api, run: Run) -> None:
    """call_soon callbacks run once each, in the order they were scheduled."""
    loop = run.loop
    for i in range(6):
        loop.call_soon(run.log, "callback", i)
    loop.call_soon(loop.stop)
    loop.run_forever()


@program()
def pass_runs_only_callbacks_ready_at_its_start(api: Api, run: Run) -> None:
    """Callbacks scheduled during a pass wait for the next one, behind those already queued."""
    loop = run.loop

    def parent(name: str, depth: int) -> None:
        run.log("parent", name, depth)
        if depth < 2:
            loop.call_soon(parent, name, depth + 1)

    loop.call_soon(parent, "a", 0)
    loop.call_soon(parent, "b", 0)
    loop.call_soon(run.log, "sibling")
    loop.call_later(0.01, loop.stop)
    loop.run_forever()


@program()
def stop_ends_the_pass_then_run_again(api: Api, run: Run) -> None:
    """stop() in a callback lets the current pass finish; the next run starts with what is left."""
    loop = run.loop

    def first() -> None:
        run.log("first")
        loop.stop()
        loop.call_soon(run.log, "scheduled after stop")
        run.log("running", loop.is_running())

    loop.call_soon(first)
    loop.call_soon(run.log, "same pass as stop")
    loop.run_forever()
    run.log("run_forever returned", loop.is_running())
    loop.call_soon(run.log, "queued between runs")
    loop.call_soon(loop.stop)
    loop.run_forever()
    run.log("second run returned")


@program()
def stop_before_run_forever_runs_one_pass(api: Api, run: Run) -> None:
    """stop() before run_forever() runs the ready callbacks once, without waiting for a timer."""
    loop = run.loop
    loop.call_soon(run.log, "ready")
    loop.call_later(0.01, run.log, "timer")
    loop.stop()
    loop.run_forever()
    run.log("first run returned")
    loop.call_later(0.02, loop.stop)
    loop.run_forever()
    run.log("second run returned")


@program()
def call_later_runs_by_deadline(api: Api, run: Run) -> None:
    """Timers run in deadline order, whatever the order they were scheduled in."""
    loop = run.loop

    def fire(delay: float) -> None:
        run.log("timer", delay)
        loop.call_soon(run.log, "soon from timer", delay)

    for delay in (0.03, 0.01, 0.02, 0.005, 0.025):
        loop.call_later(delay, fire, delay)
    loop.call_later(0.04, loop.stop)
    loop.run_forever()


@program()
def call_at_runs_by_deadline(api: Api, run: Run) -> None:
    """call_at takes the loop's clock; a deadline in the past runs on the next pass."""
    loop = run.loop
    start = loop.time()
    loop.call_at(start + 0.02, run.log, "at +0.02")
    loop.call_at(start - 1.0, run.log, "at -1 (past)")
    loop.call_at(start + 0.01, run.log, "at +0.01")
    loop.call_later(0.015, run.log, "later 0.015")
    loop.call_at(start + 0.03, loop.stop)
    loop.run_forever()
    run.log("clock moved forward", loop.time() >= start + 0.03)


@program()
def due_timers_run_after_ready_callbacks(api: Api, run: Run) -> None:
    """call_later(0) and past deadlines run after the callbacks already ready, in deadline order."""
    loop = run.loop
    loop.call_later(0, run.log, "later 0")
    loop.call_soon(run.log, "soon")
    loop.call_at(loop.time() - 1, run.log, "at past")
    loop.call_later(-0.5, run.log, "later -0.5")
    loop.call_soon(run.log, "soon 2")
    loop.call_later(0.01, loop.stop)
    loop.run_forever()


@program()
def timers_due_in_one_pass_run_by_deadline(api: Api, run: Run) -> None:
    """Timers that fall due together (after a slow callback) run in deadline order, after ready ones."""
    loop = run.loop
    start = loop.time()
    for offset in (0.004, 0.001, 0.003, 0.005, 0.002):
        loop.call_at(start + offset, run.log, "timer", offset)

    def slow() -> None:
        run.log("slow callback")
        run.advance(0.05)
        loop.call_soon(run.log, "ready before the timers")

    loop.call_soon(slow)
    loop.call_at(start + 0.01, loop.stop)
    loop.run_forever()


@program()
def timers_with_equal_deadlines(api: Api, run: Run) -> None:
    """Timers with one deadline all run in one pass, in the order asyncio's timer heap gives them."""
    loop = run.loop
    when = loop.time() + 0.01
    for i in range(7):
        loop.call_at(when, run.log, "timer", i)
    loop.call_at(when + 0.01, loop.stop)
    loop.run_forever()


@program()
def equal_deadlines_fall_due_in_one_pass(api: Api, run: Run) -> None:
    """Timers with one deadline all run in one pass: each one's call_soon child sees all of them fired.

    Their order among themselves is left out on purpose: asyncio's depends on the heap's history
    (here 1, 0, 2); timers_with_equal_deadlines compares that order.
    """
    loop = run.loop
    when = loop.time() + 0.01
    fired: List[int] = []

    def fire(i: int) -> None:
        fired.append(i)
        loop.call_soon(lambda: run.log("child sees fired", sorted(fired)))

    loop.call_at(when - 0.005, run.log, "earlier")
    for i in range(3):
        loop.call_at(when, fire, i)
    loop.call_at(when + 0.005, run.log, "later")
    loop.call_at(when + 0.01, loop.stop)
    loop.run_forever()


@program()
def cancelled_handles_never_run(api: Api, run: Run) -> None:
    """A cancelled handle or timer does not run, even when cancelled by a callback of the same pass."""
    loop = run.loop
    soon = loop.call_soon(run.log, "cancelled soon")
    loop.call_soon(run.log, "kept soon")
    later = loop.call_later(0.01, run.log, "cancelled later")
    loop.call_later(0.02, run.log, "kept later")
    run.log("before cancel", soon.cancelled(), later.cancelled())
    soon.cancel()
    later.cancel()
    later.cancel()
    run.log("after cancel", soon.cancelled(), later.cancelled())

    def canceller() -> None:
        run.log("canceller")
        victim.cancel()

    loop.call_soon(canceller)
    victim = loop.call_soon(run.log, "victim in the same pass")
    loop.call_later(0.03, loop.stop)
    loop.run_forever()


@program()
def many_cancelled_timers(api: Api, run: Run) -> None:
    """With most of 300 timers cancelled (the heap gets compacted), the rest still run in order."""
    loop = run.loop
    handles = [loop.call_later(0.001 * (i + 1), run.log, "timer", i) for i in range(300)]
    for i, handle in enumerate(handles):
        if i % 25:
            handle.cancel()

    def late_cancel() -> None:
        run.log("late cancel")
        handles[200].cancel()

    loop.call_later(0.1005, late_cancel)
    loop.call_later(0.5, loop.stop)
    loop.run_forever()


@program()
def timer_cancelled_by_an_earlier_timer_of_the_same_pass(api: Api, run: Run) -> None:
    """A due timer cancelled by the timer before it in the same pass does not run."""
    loop = run.loop
    start = loop.time()

    def first() -> None:
        run.log("first cancels second", second.cancelled())
        second.cancel()

    loop.call_at(start + 0.001, first)
    second = loop.call_at(start + 0.002, run.log, "second")
    loop.call_at(start + 0.003, run.log, "third")
    loop.call_soon(run.advance, 0.01)
    loop.call_at(start + 0.02, loop.stop)
    loop.run_forever()
    run.log("second cancelled", second.cancelled())


@program()
def io_callbacks_run_before_due_timers(api: Api, run: Run) -> None:
    """In one pass: callbacks already ready, then readers whose fd is ready, then timers now due."""
    loop = run.loop
    left, right = socket.socketpair()
    try:
        right.send(b"x")

        def on_readable() -> None:
            run.log("reader", left.recv(1))
            loop.remove_reader(left)

        loop.call_later(0, run.log, "timer due")
        loop.add_reader(left, on_readable)
        loop.call_soon(run.log, "ready callback")
        loop.call_later(0.01, loop.stop)
        loop.run_forever()
    finally:
        left.close()
        right.close()


@program()
def add_and_remove_readers_and_writers(api: Api, run: Run) -> None:
    """A reader runs every pass while its fd is readable; remove_* says whether one was there."""
    loop = run.loop
    left, right = socket.socketpair()
    left.setblocking(False)
    calls = {"reader": 0}
    try:

        def reader() -> None:
            calls["reader"] += 1
            run.log("reader call", calls["reader"])
            if calls["reader"] == 3:
                run.log("drained", left.recv(10))
                run.log("remove_reader", loop.remove_reader(left), loop.remove_reader(left))

        def writer() -> None:
            run.log("writer")
            run.log("remove_writer", loop.remove_writer(right), loop.remove_writer(right))
            right.send(b"ab")

        def replaced() -> None:
            run.log("replaced reader must not run")

        loop.add_reader(left, replaced)
        loop.add_reader(left, reader)
        loop.add_writer(right, writer)
        loop.call_later(0.01, loop.stop)
        loop.run_forever()
        run.log("remove_reader of an fd never added", loop.remove_reader(right))
    finally:
        left.close()
        right.close()


@program()
def base_exceptions_escape_run_forever(api: Api, run: Run) -> None:
    """SystemExit and KeyboardInterrupt from a callback or a task leave run_*; the rest runs next time."""
    loop = run.loop

    def exits() -> None:
        run.log("exits")
        raise SystemExit(3)

    loop.call_soon(exits)
    loop.call_soon(run.log, "after exit, same pass")
    try:
        loop.run_forever()
    except SystemExit as exc:
        run.log("run_forever raised SystemExit", exc.code, loop.is_running())

    async def interrupted() -> None:
        run.log("task runs")
        await api.sleep(0)
        raise KeyboardInterrupt

    task = loop.create_task(interrupted())
    try:
        loop.run_until_complete(task)
    except KeyboardInterrupt:
        run.log("run_until_complete raised KeyboardInterrupt", task.done())
    loop.call_soon(loop.stop)
    loop.run_forever()
    run.log("task exception", describe(task.exception()))


@program()
def misuse_gets_typed_errors(api: Api, run: Run) -> None:
    """Misuse of the loop is a clear, typed error: not callable, not a coroutine, already running, closed."""
    loop = run.loop
    attempts = [
        ("create_task(42)", lambda: loop.create_task(42)),
        ("ensure_future(42)", lambda: api.ensure_future(42, loop=loop)),
    ]
    for name, attempt in attempts:
        try:
            attempt()
        except TypeError as exc:
            run.log(name, describe(exc))

    async def nested() -> None:
        coro = api.sleep(0)
        try:
            loop.run_until_complete(coro)
        except RuntimeError as exc:
            run.log("run_until_complete while running", describe(exc))
        finally:
            coro.close()
        try:
            loop.run_forever()
        except RuntimeError as exc:
            run.log("run_forever while running", describe(exc))
        try:
            await api.wait([])
        except ValueError as exc:
            run.log("wait([])", describe(exc))

    loop.run_until_complete(nested())
    fut = loop.create_future()
    loop.call_soon(loop.stop)
    try:
        loop.run_until_complete(fut)
    except RuntimeError as exc:
        run.log("stopped before the future was done", describe(exc), fut.done())
    fut.cancel()
    loop.close()
    run.log("closed", loop.is_closed())
    for name, attempt in (("call_soon", lambda: loop.call_soon(run.log)), ("run_forever", loop.run_forever)):
        try:
            attempt()
        except RuntimeError as exc:
            run.log(name, "on a closed loop", describe(exc))


@program(debug=True)
def debug_mode_checks_callbacks_early(api: Api, run: Run) -> None:
    """In debug mode a callback that is not callable is refused at once; otherwise it fails when run."""
    loop = run.loop
    loop.set_exception_handler(lambda loop, context: run.log("handler", describe(context.get("exception"))))
    for name, schedule in (("call_soon", loop.call_soon), ("call_later", lambda cb: loop.call_later(0, cb))):
        try:
            schedule(42)
        except TypeError as exc:
            run.log(name, "in debug mode", describe(exc))
    loop.set_debug(False)
    loop.call_soon(42)
    run.log("accepted without debug mode")
    loop.call_soon(loop.stop)
    loop.run_forever()


@program()
def exception_handler_gets_failing_callbacks(api: Api, run: Run) -> None:
    """A callback that raises goes to the exception handler with its context; the loop goes on."""
    loop = run.loop

    def handler(loop: Any, context: dict) -> None:
        run.log("handler", describe(context.get("exception")), sorted({"message", "handle"} & set(context)))

    loop.set_exception_handler(handler)

    def bad(name: str) -> None:
        run.log("bad", name)
        raise Boom(name)

    loop.call_soon(bad, "soon")
    loop.call_soon(run.log, "after bad")
    loop.call_later(0.01, bad, "timer")
    loop.call_later(0.02, loop.stop)
    loop.run_forever()
    loop.call_exception_handler({"message": "by hand", "exception": Oops("hand")})
    run.log("handler is", loop.get_exception_handler() is handler)


@program()
def call_soon_threadsafe_from_a_thread(api: Api, run: Run) -> None:
    """call_soon_threadsafe from another thread wakes the waiting loop; callbacks keep their order."""
    loop = run.loop
    done = loop.create_future()
    go = threading.Event()

    def worker() -> None:
        go.wait(5)
        for i in range(5):
            loop.call_soon_threadsafe(run.log, "from thread", i)
        loop.call_soon_threadsafe(done.set_result, "thread finished")

    thread = threading.Thread(target=worker)
    thread.start()

    async def main() -> Any:
        run.log("main waiting")
        loop.call_soon(go.set)
        result = await done
        run.log("main resumed")
        return result

    try:
        run_main(run, main())
    finally:
        go.set()
        thread.join()


# --- futures --------------------------------------------------------------------------------------


@program()
def future_result_and_invalid_state(api: Api, run: Run) -> None:
    """result()/exception() before a result are InvalidStateError; a done future cannot be set again."""
    fut = run.loop.create_future()
    run.log("fresh", fut.done(), fut.cancelled())
    for name, probe in (("result", fut.result), ("exception", fut.exception)):
        try:
            probe()
        except api.InvalidStateError as exc:
            run.log("pending", name, describe(exc))
    fut.set_result(42)
    run.log("done", fut.done(), fut.cancelled(), fut.result(), fut.exception())
    for name, setter, value in (("set_result", fut.set_result, 1), ("set_exception", fut.set_exception, Boom())):
        try:
            setter(value)
        except api.InvalidStateError as exc:
            run.log("already done", name, describe(exc))
    run.log("still", fut.result(), "cancel", fut.cancel(), fut.cancelled())


@program()
def future_exception_paths(api: Api, run: Run) -> None:
    """set_exception: result() raises it, exception() returns it; a class is instantiated."""
    loop = run.loop
    error = Boom("bad")
    fut = loop.create_future()
    fut.set_exception(error)
    run.log("done", fut.done(), fut.cancelled(), describe(fut.exception()), fut.exception() is error)
    try:
        fut.result()
    except Boom as exc:
        run.log("result raised", describe(exc), exc is error)
    by_class = loop.create_future()
    by_class.set_exception(Oops)
    run.log("from a class", describe(by_class.exception()), isinstance(by_class.exception(), Oops))


@program()
def future_cancel_paths(api: Api, run: Run) -> None:
    """cancel() is True once; a cancelled future raises CancelledError and cannot be set."""
    loop = run.loop
    fut = loop.create_future()
    fut.add_done_callback(lambda f: run.log("callback", f.cancelled(), f.done()))
    run.log("cancel", fut.cancel(), fut.cancel())
    run.log("state", fut.done(), fut.cancelled())
    for name, probe in (("result", fut.result), ("exception", fut.exception)):
        try:
            probe()
        except api.CancelledError as exc:
            run.log(name, "raised", describe(exc))
    try:
        fut.set_result(1)
    except api.InvalidStateError as exc:
        run.log("set_result", describe(exc))
    loop.call_soon(loop.stop)
    loop.run_forever()


@program()
def done_callbacks_are_scheduled_not_called(api: Api, run: Run) -> None:
    """Done-callbacks run through call_soon after set_result, in the order they were added."""
    loop = run.loop
    fut = loop.create_future()
    fut.add_done_callback(lambda f: run.log("done 1", f.result()))
    fut.add_done_callback(lambda f: run.log("done 2", f.result()))
    loop.call_soon(run.log, "soon before")
    fut.set_result("r")
    run.log("set_result returned")
    loop.call_soon(run.log, "soon after")
    loop.call_soon(loop.stop)
    loop.run_forever()


@program()
def callback_added_to_a_done_future(api: Api, run: Run) -> None:
    """A callback added to a future that is already done is scheduled, not called on the spot."""
    loop = run.loop
    fut = loop.create_future()
    fut.set_result("early")
    loop.call_soon(run.log, "soon before add")
    fut.add_done_callback(lambda f: run.log("late callback", f.result()))
    run.log("add_done_callback returned")
    loop.call_soon(run.log, "soon after add")

    def add_from_a_callback() -> None:
        fut.add_done_callback(lambda f: run.log("added from a callback"))
        run.log("adder returns")

    loop.call_soon(add_from_a_callback)
    loop.call_soon(run.log, "sibling of adder")
    loop.call_later(0.01, loop.stop)
    loop.run_forever()


@program()
def remove_done_callback_counts(api: Api, run: Run) -> None:
    """remove_done_callback removes every copy and says how many; after done it removes nothing."""
    loop = run.loop
    fut = loop.create_future()

    def f(fut: Any) -> None:
        run.log("f")

    def g(fut: Any) -> None:
        run.log("g")

    fut.add_done_callback(f)
    fut.add_done_callback(g)
    fut.add_done_callback(f)
    run.log("removed", fut.remove_done_callback(f), fut.remove_done_callback(f))
    fut.add_done_callback(f)
    fut.set_result(None)
    run.log("removed after done", fut.remove_done_callback(g))
    loop.call_soon(loop.stop)
    loop.run_forever()


@program()
def callbacks_chain_across_futures(api: Api, run: Run) -> None:
    """A done-callback that completes another future: each hop costs one pass."""
    loop = run.loop
    first, second, third = loop.create_future(), loop.create_future(), loop.create_future()
    first.add_done_callback(lambda f: (run.log("first done"), second.set_result(f.result() + 1)))
    second.add_done_callback(lambda f: (run.log("second done"), third.set_result(f.result() + 1)))
    third.add_done_callback(lambda f: run.log("third done", f.result()))

    def ticker(n: int) -> None:
        run.log("tick", n)
        if n < 4:
            loop.call_soon(ticker, n + 1)

    loop.call_soon(first.set_result, 1)
    loop.call_soon(ticker, 0)
    loop.call_later(0.01, loop.stop)
    loop.run_forever()


@program()
def failing_done_callback_goes_to_the_handler(api: Api, run: Run) -> None:
    """A done-callback that raises is reported to the exception handler; the next callbacks still run."""
    loop = run.loop

    def handler(loop: Any, context: dict) -> None:
        run.log("handler", describe(context.get("exception")))

    loop.set_exception_handler(handler)
    fut = loop.create_future()

    def bad(f: Any) -> None:
        run.log("bad callback")
        raise Boom("in callback")

    fut.add_done_callback(bad)
    fut.add_done_callback(lambda f: run.log("good callback", f.result()))
    fut.set_result("value")
    loop.call_soon(loop.stop)
    loop.run_forever()


@program()
def run_until_complete_on_a_future(api: Api, run: Run) -> None:
    """run_until_complete(future) returns its result after the future's own callbacks ran."""
    loop = run.loop
    fut = loop.create_future()
    fut.add_done_callback(lambda f: run.log("done callback", f.result()))
    loop.call_later(0.01, fut.set_result, 42)
    loop.call_later(0.02, run.log, "timer after the result")
    run.log("result", loop.run_until_complete(fut))
    loop.call_later(0.03, loop.stop)
    loop.run_forever()


@program()
def yield_from_and_await_a_future(api: Api, run: Run) -> None:
    """`yield from future` and `await future` suspend until the result and resume with it."""
    loop = run.loop

    @api.coroutine
    def old_style(fut: Any) -> Any:
        run.log("old waits")
        value = yield from fut
        run.log("old got", value)
        return value * 2

    async def new_style(fut: Any) -> Any:
        run.log("new waits")
        value = await fut
        run.log("new got", value)
        return value * 3

    async def main() -> Any:
        a, b = loop.create_future(), loop.create_future()
        ta, tb = loop.create_task(old_style(a)), loop.create_task(new_style(b))
        loop.call_later(0.01, b.set_result, 10)
        loop.call_later(0.02, a.set_result, 5)
        return (await ta, await tb)

    run_main(run, main())


@program()
def run_until_complete_on_a_done_future(api: Api, run: Run) -> None:
    """run_until_complete of a done future still turns the loop once: the ready callbacks run first."""
    loop = run.loop
    fut = loop.create_future()
    fut.set_result("already")
    loop.call_soon(run.log, "ready callback")
    loop.call_soon(lambda: loop.call_soon(run.log, "next pass"))
    run.log("result", loop.run_until_complete(fut))
    loop.call_soon(loop.stop)
    loop.run_forever()


# --- tasks ----------------------------------------------------------------------------------------


@program()
def yield_from_a_done_future_does_not_suspend(api: Api, run: Run) -> None:
    """Awaiting a future that is already done goes straight on, in the same step."""
    loop = run.loop

    async def ticker() -> None:
        for i in range(3):
            run.log("tick", i)
            await api.sleep(0)

    @api.coroutine
    def reader(fut: Any) -> Any:
        run.log("reader starts")
        first = yield from fut
        second = yield from fut
        run.log("reader read twice", first, second)
        value = yield from api.sleep(0.001, "slept")
        run.log("sleep result", value)
        return (yield from api.sleep(-1, "negative"))

    async def main() -> Any:
        fut = loop.create_future()
        fut.set_result("ready")
        ticks = loop.create_task(ticker())
        result = await reader(fut)
        await ticks
        return result

    run_main(run, main())


@program()
def task_steps_interleave_with_sleep_zero(api: Api, run: Run) -> None:
    """Tasks that sleep(0) take turns, one step each per pass, in the order they were created."""
    loop = run.loop

    async def worker(name: str, steps: int) -> str:
        for i in range(steps):
            run.log("step", name, i)
            await api.sleep(0)
        run.log("finish", name)
        return name

    async def main() -> Any:
        a = loop.create_task(worker("a", 3))
        b = loop.create_task(worker("b", 2))
        run.log("created")
        await api.sleep(0)
        run.log("main resumed")
        return (await a, await b)

    run_main(run, main())


@program()
def generator_tasks_interleave_with_bare_yield(api: Api, run: Run) -> None:
    """A bare `yield` in a generator coroutine gives the loop one turn, like sleep(0)."""
    loop = run.loop

    @api.coroutine
    def worker(name: str, steps: int) -> Any:
        for i in range(steps):
            run.log("step", name, i)
            yield
        run.log("finish", name)
        return name.upper()

    async def main() -> Any:
        tasks = [loop.create_task(worker(name, n)) for name, n in (("x", 2), ("y", 3), ("z", 1))]
        loop.call_soon(run.log, "plain callback")
        return [await t for t in tasks]

    run_main(run, main())


@program()
def task_first_step_is_scheduled(api: Api, run: Run) -> None:
    """create_task schedules the first step: it runs after earlier callbacks, before later ones."""
    loop = run.loop

    async def body(name: str) -> str:
        run.log("task starts", name)
        return name

    loop.call_soon(run.log, "callback before")
    task = loop.create_task(body("t"))
    loop.call_soon(run.log, "callback after")
    run.log("done at creation", task.done())
    run.log("result", loop.run_until_complete(task))
    fut = loop.create_future()
    run.log("ensure_future keeps a future", api.ensure_future(fut) is fut)
    wrapped = api.ensure_future(body("ensured"), loop=loop)
    run.log("ensure_future makes a task", isinstance(wrapped, api.Task))
    run.log("ensured result", loop.run_until_complete(wrapped))
    fut.cancel()


@program()
def generator_task_result_through_yield_from(api: Api, run: Run) -> None:
    """A generator coroutine's return value comes back through `yield from` and becomes the result."""
    loop = run.loop

    @api.coroutine
    def inner(x: int) -> Any:
        run.log("inner", x)
        yield from api.sleep(0.01)
        run.log("inner woke", x)
        return x + 1

    @api.coroutine
    def outer() -> Any:
        a = yield from inner(1)
        b = yield from inner(a)
        run.log("outer", a, b)
        return (a, b)

    task = loop.create_task(outer())
    task.add_done_callback(lambda t: run.log("task done callback", t.result()))
    run.log("result", loop.run_until_complete(task))


@program()
def async_task_result_through_await(api: Api, run: Run) -> None:
    """An async def coroutine's return value comes back through await and becomes the task result."""
    loop = run.loop

    async def inner(x: int) -> int:
        run.log("inner", x)
        await api.sleep(0.01)
        return x * 10

    async def outer() -> Any:
        first = await inner(1)
        second = await loop.create_task(inner(2))
        run.log("outer", first, second)
        return first + second

    task = loop.create_task(outer())
    task.add_done_callback(lambda t: run.log("done callback", t.done(), t.result()))
    run.log("result", loop.run_until_complete(task), task.done(), task.result())


@program()
def mixed_generator_and_async_coroutines(api: Api, run: Run) -> None:
    """A generator coroutine awaits a native one and the other way round, on one task."""

    async def native(x: int) -> int:
        await api.sleep(0.001)
        run.log("native", x)
        return x + 1

    @api.coroutine
    def legacy(x: int) -> Any:
        y = yield from native(x)
        run.log("legacy", y)
        return y * 2

    async def main() -> int:
        value = await legacy(1)
        run.log("main", value)
        return await legacy(value)

    run_main(run, main())


@program()
def exception_chain_through_three_yield_from(api: Api, run: Run) -> None:
    """An error raised three `yield from` levels down keeps its chain and its frames on the way up."""
    loop = run.loop

    @api.coroutine
    def level3() -> Any:
        run.log("level3")
        yield from api.sleep(0.001)
        raise Boom("deep")

    @api.coroutine
    def level2() -> Any:
        try:
            yield from level3()
        except Boom as exc:
            run.log("level2 caught", describe(exc), frames(exc))
            raise Oops("middle") from exc

    @api.coroutine
    def level1() -> Any:
        try:
            yield from level2()
        except Oops as exc:
            run.log("level1 caught", chain(exc), frames(exc))
            # Without `from`: the implicit link (__context__) is part of what the chain must keep.
            raise KeyError("top")  # noqa: B904

    try:
        loop.run_until_complete(level1())
    except KeyError as exc:
        run.log("run_until_complete raised", chain(exc), frames(exc))


@program()
def exception_chain_through_three_awaits(api: Api, run: Run) -> None:
    """An error raised three awaits down keeps its chain and its frames, across a task boundary too."""
    loop = run.loop

    async def level3() -> None:
        run.log("level3")
        await api.sleep(0.001)
        raise Boom("deep")

    async def level2() -> None:
        try:
            await loop.create_task(level3())
        except Boom as exc:
            run.log("level2 caught", describe(exc), frames(exc))
            # Without `from`: the implicit link (__context__) is part of what the chain must keep.
            raise Oops("middle")  # noqa: B904

    async def level1() -> None:
        try:
            await level2()
        except Oops as exc:
            run.log("level1 caught", chain(exc), frames(exc))
            raise

    try:
        loop.run_until_complete(level1())
    except Oops as exc:
        run.log("run_until_complete raised", chain(exc), frames(exc))


@program()
def run_until_complete_with_a_failing_task(api: Api, run: Run) -> None:
    """A failing task's error comes out of run_until_complete, and the loop can be run again."""
    loop = run.loop

    async def fails() -> None:
        run.log("step 1")
        await api.sleep(0.01)
        run.log("step 2")
        raise Boom("task failed")

    async def later() -> str:
        await api.sleep(0.01)
        return "second run"

    task = loop.create_task(fails())
    task.add_done_callback(lambda t: run.log("done callback", describe(t.exception())))
    try:
        loop.run_until_complete(task)
    except Boom as exc:
        run.log("raised", describe(exc), task.done(), describe(task.exception()))
    run.log("again", loop.run_until_complete(later()))


@program()
def bad_yield_is_thrown_back(api: Api, run: Run) -> None:
    """A generator coroutine that yields something not a future gets a RuntimeError thrown in."""

    @api.coroutine
    def bad() -> Any:
        try:
            yield 42
        except RuntimeError as exc:
            run.log("thrown in", describe(exc))
        yield from api.sleep(0)
        run.log("carried on")
        return "recovered"

    run_main(run, bad())


@program()
def task_done_callbacks_and_awaiters_in_order(api: Api, run: Run) -> None:
    """When a task ends, its done-callbacks and the tasks awaiting it resume in the order they hooked in."""
    loop = run.loop
    gate = loop.create_future()

    async def worker() -> str:
        run.log("worker waits")
        await gate
        run.log("worker ends")
        return "w"

    async def waiter(name: str, task: Any) -> None:
        run.log(name, "awaits")
        run.log(name, "got", await task)

    async def main() -> None:
        task = loop.create_task(worker())
        task.add_done_callback(lambda t: run.log("callback 1", t.result()))
        w1 = loop.create_task(waiter("waiter 1", task))
        await api.sleep(0)
        task.add_done_callback(lambda t: run.log("callback 2", t.result()))
        w2 = loop.create_task(waiter("waiter 2", task))
        await api.sleep(0)
        gate.set_result(None)
        run.log("gate opened")
        await w1
        await w2

    run_main(run, main())


@program()
def contextvars_follow_tasks_and_callbacks(api: Api, run: Run) -> None:
    """Each task steps in its own copy of the context; call_soon and done-callbacks copy the caller's."""
    loop = run.loop

    def show(where: str) -> None:
        run.log(where, CURRENT.get())

    async def first() -> None:
        CURRENT.set("first")
        loop.call_soon(show, "soon from first")
        await api.sleep(0)
        show("first after a step")

    async def second() -> None:
        show("second starts with")
        CURRENT.set("second")
        await api.sleep(0)
        show("second after a step")

    async def main() -> None:
        CURRENT.set("main")
        tasks = [loop.create_task(first()), loop.create_task(second())]
        fut = loop.create_future()
        fut.add_done_callback(lambda f: show("done callback added by main"))
        context = contextvars.copy_context()
        context.run(CURRENT.set, "explicit")
        loop.call_soon(show, "explicit context", context=context)
        for task in tasks:
            await task
        fut.set_result(None)
        await api.sleep(0)
        show("main at the end")

    run_main(run, main())
    show("outside the loop")


# --- cancellation ---------------------------------------------------------------------------------


@program()
def cancel_during_sleep_generator(api: Api, run: Run) -> None:
    """Cancelling a task asleep in `yield from sleep()` throws CancelledError at that point."""
    loop = run.loop

    @api.coroutine
    def sleeper() -> Any:
        run.log("sleeping")
        try:
            yield from api.sleep(1.0)
        except api.CancelledError:
            run.log("cancelled in sleep")
            raise
        run.log("never here")

    task = loop.create_task(sleeper())
    loop.call_later(0.01, lambda: run.log("cancel returns", task.cancel(), task.cancelled()))
    loop.call_later(2.0, run.log, "a timer past the sleep")
    try:
        loop.run_until_complete(task)
    except api.CancelledError:
        run.log("run_until_complete raised CancelledError", task.cancelled(), task.done())


@program()
def cancel_during_sleep_async(api: Api, run: Run) -> None:
    """Cancelling a task awaiting sleep(): the awaiting task sees the cancellation in order."""
    loop = run.loop

    async def sleeper() -> None:
        try:
            await api.sleep(1.0)
        except api.CancelledError:
            run.log("sleeper cancelled")
            raise

    async def main() -> None:
        task = loop.create_task(sleeper())
        task.add_done_callback(lambda t: run.log("done callback", t.cancelled()))
        await api.sleep(0.01)
        run.log("cancel", task.cancel())
        run.log("cancel again", task.cancel())
        try:
            await task
        except api.CancelledError:
            run.log("main saw the cancellation", task.cancelled())
        run.log("cancel after done", task.cancel())

    run_main(run, main())


@program()
def cancel_task_awaiting_a_future(api: Api, run: Run) -> None:
    """Cancelling a task cancels the future it waits on; that future's callbacks run first."""
    loop = run.loop
    fut = loop.create_future()
    fut.add_done_callback(lambda f: run.log("future callback", f.cancelled()))

    async def waiter() -> None:
        try:
            await fut
        except api.CancelledError:
            run.log("waiter cancelled", fut.cancelled())
            raise

    async def main() -> None:
        task = loop.create_task(waiter())
        task.add_done_callback(lambda t: run.log("task callback", t.cancelled()))
        await api.sleep(0)
        run.log("cancel", task.cancel())
        try:
            await task
        except api.CancelledError:
            run.log("main saw it", task.cancelled(), fut.cancelled())

    run_main(run, main())


@program()
def cancel_before_the_first_step(api: Api, run: Run) -> None:
    """A task cancelled before it ran never runs its body; generator and native alike."""
    loop = run.loop

    async def native() -> None:
        run.log("native body ran")

    @api.coroutine
    def legacy() -> Any:
        run.log("legacy body ran")
        yield from api.sleep(0)

    for make in (native, legacy):
        task = loop.create_task(make())
        task.add_done_callback(lambda t: run.log("done callback", t.cancelled()))
        run.log("cancel", task.cancel(), task.done())
        try:
            loop.run_until_complete(task)
        except api.CancelledError:
            run.log("cancelled", task.cancelled())


@program()
def task_swallows_cancellation_and_keeps_running(api: Api, run: Run) -> None:
    """A task that catches CancelledError goes on running and ends with a result, not cancelled."""
    loop = run.loop

    async def stubborn() -> str:
        try:
            await api.sleep(1.0)
        except api.CancelledError:
            run.log("swallowed")
        await api.sleep(0.01)
        run.log("still running")
        return "survived"

    async def main() -> None:
        task = loop.create_task(stubborn())
        await api.sleep(0.001)
        run.log("cancel", task.cancel())
        result = await task
        run.log("result", result, task.cancelled(), task.done())

    run_main(run, main())


@program()
def generator_swallows_cancellation(api: Api, run: Run) -> None:
    """A generator coroutine that catches CancelledError keeps running; a second cancel ends it."""
    loop = run.loop

    @api.coroutine
    def stubborn() -> Any:
        for round_ in range(3):
            try:
                yield from api.sleep(1.0)
                run.log("woke", round_)
            except api.CancelledError:
                run.log("caught cancel", round_)
                if round_ == 1:
                    raise
        return "unreachable"

    async def main() -> None:
        task = loop.create_task(stubborn())
        for _ in range(2):
            await api.sleep(0.01)
            run.log("cancel", task.cancel())
        try:
            await task
        except api.CancelledError:
            run.log("ended cancelled", task.cancelled())

    run_main(run, main())


@program()
def cancel_propagates_down_a_chain_of_tasks(api: Api, run: Run) -> None:
    """Cancelling a task that awaits a task that awaits a sleep: innermost first, outermost last."""
    loop = run.loop

    async def inner() -> None:
        try:
            await api.sleep(1.0)
        except api.CancelledError:
            run.log("inner cancelled")
            raise

    async def middle() -> None:
        task = loop.create_task(inner())
        try:
            await task
        except api.CancelledError:
            run.log("middle cancelled", task.cancelled())
            raise

    async def main() -> None:
        task = loop.create_task(middle())
        await api.sleep(0.01)
        run.log("cancel middle", task.cancel())
        try:
            await task
        except api.CancelledError:
            run.log("main saw it", task.cancelled())

    run_main(run, main())


@program()
def cancelled_main_task_in_run_until_complete(api: Api, run: Run) -> None:
    """A task cancelled from a timer while awaiting a future ends run_until_complete with CancelledError."""
    loop = run.loop
    fut = loop.create_future()

    async def main() -> None:
        try:
            await fut
        finally:
            run.log("finally runs", fut.cancelled())

    task = loop.create_task(main())
    loop.call_later(0.01, task.cancel)
    try:
        loop.run_until_complete(task)
    except api.CancelledError:
        run.log("cancelled", task.cancelled(), fut.cancelled())


@program()
def cancel_after_the_awaited_future_completed(api: Api, run: Run) -> None:
    """A cancel() that arrives after the awaited future is done but before the task resumed wins."""
    loop = run.loop
    fut = loop.create_future()

    async def waiter() -> Any:
        try:
            value = await fut
        except api.CancelledError:
            run.log("cancelled although the future had a result", fut.result())
            raise
        run.log("never resumed with", value)
        return value

    task = loop.create_task(waiter())

    def race() -> None:
        fut.set_result("value")
        run.log("cancel", task.cancel(), fut.cancelled())

    loop.call_later(0.01, race)
    try:
        loop.run_until_complete(task)
    except api.CancelledError:
        run.log("task cancelled", task.cancelled())


@program()
def task_cancels_itself(api: Api, run: Run) -> None:
    """A task that cancels itself runs on to its next await, where CancelledError arrives."""
    loop = run.loop
    holder: List[Any] = []

    async def body() -> None:
        run.log("cancel myself", holder[0].cancel())
        run.log("still running this step")
        try:
            await api.sleep(0)
        except api.CancelledError:
            run.log("cancelled at the next await")
            raise

    holder.append(loop.create_task(body()))
    try:
        loop.run_until_complete(holder[0])
    except api.CancelledError:
        run.log("task cancelled", holder[0].cancelled())


@program()
def awaiting_a_cancelled_future(api: Api, run: Run) -> None:
    """Awaiting a future that is already cancelled raises CancelledError in the awaiting task."""
    loop = run.loop

    async def main() -> None:
        fut = loop.create_future()
        fut.cancel()
        try:
            await fut
        except api.CancelledError:
            run.log("awaiting a cancelled future raised")
        inner = loop.create_task(_child(api, run, "inner", 1.0))
        await api.sleep(0)
        inner.cancel()
        try:
            await api.shield(inner)
        except api.CancelledError:
            run.log("shield of a cancelled task raised", inner.cancelled())
        done = loop.create_future()
        done.set_result("done")
        run.log("shield of a done future is it", api.shield(done) is done)

    run_main(run, main())


# --- gather ---------------------------------------------------------------------------------------


async def _child(api: Api, run: Run, name: str, delay: float, fail: bool = False) -> str:
    run.log("start", name)
    try:
        await api.sleep(delay)
    except api.CancelledError:
        run.log("cancelled", name)
        raise
    if fail:
        run.log("fail", name)
        raise Boom(name)
    run.log("end", name)
    return name


@program()
def gather_results_in_argument_order(api: Api, run: Run) -> None:
    """gather starts its children in argument order and returns results in that order."""

    async def main() -> None:
        result = await api.gather(
            _child(api, run, "slow", 0.03), _child(api, run, "fast", 0.01), _child(api, run, "mid", 0.02)
        )
        run.log("gathered", result)

    run_main(run, main())


@program()
def gather_without_return_exceptions(api: Api, run: Run) -> None:
    """The first error comes out of gather at once; the other children are not cancelled."""
    loop = run.loop

    async def main() -> None:
        ok = loop.create_task(_child(api, run, "ok", 0.02))
        try:
            await api.gather(ok, _child(api, run, "bad", 0.01, fail=True), _child(api, run, "late", 0.03))
        except Boom as exc:
            run.log("gather raised", describe(exc), ok.done())
        run.log("ok result", await ok)
        await api.sleep(0.02)

    run_main(run, main())


@program()
def gather_with_return_exceptions(api: Api, run: Run) -> None:
    """With return_exceptions the errors take their place in the results."""

    async def main() -> None:
        results = await api.gather(
            _child(api, run, "a", 0.02),
            _child(api, run, "b", 0.01, fail=True),
            _child(api, run, "c", 0.005, fail=True),
            return_exceptions=True,
        )
        run.log("results", [describe(r) if isinstance(r, BaseException) else r for r in results])

    run_main(run, main())


@program()
def gather_cancelled_cancels_children(api: Api, run: Run) -> None:
    """Cancelling the task that awaits gather cancels gather and every unfinished child."""
    loop = run.loop

    async def gatherer() -> None:
        try:
            await api.gather(
                _child(api, run, "quick", 0.001), _child(api, run, "x", 1.0), _child(api, run, "y", 1.0)
            )
        except api.CancelledError:
            run.log("gatherer cancelled")
            raise

    async def main() -> None:
        task = loop.create_task(gatherer())
        await api.sleep(0.01)
        run.log("cancel", task.cancel())
        try:
            await task
        except api.CancelledError:
            run.log("main saw it", task.cancelled())

    run_main(run, main())


@program()
def gather_cancelled_with_return_exceptions(api: Api, run: Run) -> None:
    """Cancelling gather(return_exceptions=True) still ends it with CancelledError, not a list."""

    async def main() -> None:
        gathered = api.gather(_child(api, run, "x", 1.0), _child(api, run, "y", 0.001), return_exceptions=True)
        await api.sleep(0.01)
        run.log("cancel", gathered.cancel(), gathered.done())
        try:
            run.log("result", await gathered)
        except api.CancelledError:
            run.log("gather raised CancelledError", gathered.cancelled(), gathered.done())
        run.log("cancel again", gathered.cancel())

    run_main(run, main())


@program()
def gather_child_cancelled(api: Api, run: Run) -> None:
    """A child cancelled on its own: an error result with return_exceptions, else gather raises."""
    loop = run.loop

    async def main() -> None:
        for return_exceptions in (True, False):
            victim = loop.create_task(_child(api, run, "victim", 1.0))
            other = loop.create_task(_child(api, run, "other", 0.02))
            loop.call_later(0.01, victim.cancel)
            try:
                results = await api.gather(victim, other, return_exceptions=return_exceptions)
                run.log("results", [describe(r) if isinstance(r, BaseException) else r for r in results])
            except api.CancelledError:
                run.log("gather raised CancelledError", other.done())
            await other

    run_main(run, main())


@program()
def gather_same_task_twice_and_empty(api: Api, run: Run) -> None:
    """gather of one task twice gives its result twice; gather() of nothing gives []."""
    loop = run.loop

    async def main() -> None:
        task = loop.create_task(_child(api, run, "twice", 0.01))
        run.log("twice", await api.gather(task, task))
        empty = api.gather()
        run.log("empty done at once", empty.done())
        run.log("empty", await empty)

    run_main(run, main())


@program(
    since=(3, 12),
    reason="up to 3.11 gather schedules the callbacks of children already done, so its future "
    "completes one pass later; 3.12 counts them at once (for eager tasks), which modern.loop follows",
    expected=[
        ("done at once", True),
        ("gathered", ["a", "b"]),
        ("tick", 0),
        ("tick", 1),
        ("main returned", None),
    ],
)
def gather_of_futures_already_done(api: Api, run: Run) -> None:
    """gather of futures that are all done already is done at once (3.12 gather)."""
    loop = run.loop

    async def ticker() -> None:
        for i in range(2):
            run.log("tick", i)
            await api.sleep(0)

    async def main() -> None:
        ticks = loop.create_task(ticker())
        a, b = loop.create_future(), loop.create_future()
        a.set_result("a")
        b.set_result("b")
        gathered = api.gather(a, b)
        run.log("done at once", gathered.done())
        run.log("gathered", await gathered)
        await ticks

    run_main(run, main())


# --- wait and shield ------------------------------------------------------------------------------


def _names(tasks: Any, named: dict) -> List[str]:
    return sorted(named[t] for t in tasks)


@program()
def wait_first_completed(api: Api, run: Run) -> None:
    """wait(FIRST_COMPLETED) returns when one task ends; the rest keep running."""
    loop = run.loop

    async def main() -> None:
        named = {loop.create_task(_child(api, run, n, d)): n for n, d in (("a", 0.03), ("b", 0.01), ("c", 0.02))}
        done, pending = await api.wait(set(named), return_when=api.FIRST_COMPLETED)
        run.log("done", _names(done, named), "pending", _names(pending, named))
        done, pending = await api.wait(pending)
        run.log("then done", _names(done, named), "pending", _names(pending, named))

    run_main(run, main())


@program()
def wait_first_exception(api: Api, run: Run) -> None:
    """wait(FIRST_EXCEPTION) returns at the first error, or when all end if none fails."""
    loop = run.loop

    async def main() -> None:
        specs = (("ok", 0.005, False), ("bad", 0.01, True), ("slow", 0.03, False))
        named = {loop.create_task(_child(api, run, n, d, f)): n for n, d, f in specs}
        done, pending = await api.wait(set(named), return_when=api.FIRST_EXCEPTION)
        run.log("done", _names(done, named), "pending", _names(pending, named))
        for task in sorted(done, key=named.get):
            run.log("exception of", named[task], describe(task.exception()))
        for task in pending:
            task.cancel()
        done, pending = await api.wait(pending)
        run.log("after cancel", [(named[t], t.cancelled()) for t in done], len(pending))

    run_main(run, main())


@program()
def wait_with_a_timeout(api: Api, run: Run) -> None:
    """wait(timeout=) returns what finished in time and leaves the rest running, not cancelled."""
    loop = run.loop

    async def main() -> None:
        named = {loop.create_task(_child(api, run, n, d)): n for n, d in (("a", 0.005), ("b", 0.02), ("c", 0.03))}
        done, pending = await api.wait(set(named), timeout=0.015)
        run.log("done", _names(done, named), "pending", _names(pending, named))
        run.log("pending still running", [t.done() for t in pending])
        done, pending = await api.wait(pending, timeout=1.0, return_when=api.ALL_COMPLETED)
        run.log("all", _names(done, named), len(pending))

    run_main(run, main())


@program()
def shield_outer_cancelled_inner_goes_on(api: Api, run: Run) -> None:
    """Cancelling the awaiter of shield() leaves the shielded task running to its result."""
    loop = run.loop

    async def outer(inner_task: Any) -> Any:
        try:
            return await api.shield(inner_task)
        except api.CancelledError:
            run.log("outer cancelled", inner_task.cancelled(), inner_task.done())
            raise

    async def main() -> None:
        inner_task = loop.create_task(_child(api, run, "inner", 0.02))
        outer_task = loop.create_task(outer(inner_task))
        await api.sleep(0.01)
        run.log("cancel outer", outer_task.cancel())
        try:
            await outer_task
        except api.CancelledError:
            run.log("outer ended", outer_task.cancelled())
        run.log("inner result", await inner_task, inner_task.cancelled())

    run_main(run, main())


@program()
def shield_passes_result_and_error(api: Api, run: Run) -> None:
    """shield() of a coroutine gives its result; of a failing one, its error."""

    async def main() -> None:
        run.log("shielded result", await api.shield(_child(api, run, "fine", 0.005)))
        try:
            await api.shield(_child(api, run, "broken", 0.005, fail=True))
        except Boom as exc:
            run.log("shielded error", describe(exc))

    run_main(run, main())


# --- wait_for -------------------------------------------------------------------------------------


@program()
def wait_for_timeout_cancels_the_inner_task(api: Api, run: Run) -> None:
    """On timeout wait_for cancels the inner coroutine, waits for it, then raises TimeoutError."""
    loop = run.loop

    async def main() -> None:
        try:
            await api.wait_for(_child(api, run, "slow", 1.0), 0.01)
        except api.TimeoutError as exc:
            run.log("timed out", describe(exc))
        fut = loop.create_future()
        try:
            await api.wait_for(fut, 0.01)
        except api.TimeoutError:
            run.log("future timed out", fut.cancelled())

    run_main(run, main())


@program()
def wait_for_result_in_time(api: Api, run: Run) -> None:
    """wait_for returns the inner result in time; an inner error passes through; None means no limit."""
    loop = run.loop

    async def main() -> None:
        run.log("in time", await api.wait_for(_child(api, run, "quick", 0.01), 1.0))
        try:
            await api.wait_for(_child(api, run, "bad", 0.01, fail=True), 1.0)
        except Boom as exc:
            run.log("inner error", describe(exc))
        run.log("no limit", await api.wait_for(_child(api, run, "unbounded", 2.0), None))
        fut = loop.create_future()
        fut.set_result("ready")
        run.log("done future, zero timeout", await api.wait_for(fut, 0))

    run_main(run, main())


@program(
    since=(3, 12),
    reason="up to 3.11 wait_for returns a result that arrived in the pass its timeout fired in; "
    "3.12's timeout cancels the task first and the cancellation wins, which modern.loop follows",
    expected=[("timed out", True, False), ("main returned", None)],
)
def wait_for_timeout_in_the_pass_of_the_result(api: Api, run: Run) -> None:
    """The timeout fires in the pass where the awaited result arrived: the timeout wins (3.12 wait_for)."""
    loop = run.loop

    async def main() -> None:
        fut = loop.create_future()
        loop.call_at(loop.time() + 0.005, fut.set_result, "value")
        loop.call_soon(run.advance, 0.02)
        try:
            run.log("wait_for returned", await api.wait_for(fut, 0.01))
        except api.TimeoutError:
            run.log("timed out", fut.done(), fut.cancelled())

    run_main(run, main())


@program()
def wait_for_with_a_zero_timeout(api: Api, run: Run) -> None:
    """wait_for(..., 0): a done future gives its result; a pending coroutine never starts and times out."""
    loop = run.loop

    async def main() -> None:
        try:
            await api.wait_for(_child(api, run, "never started", 0.01), 0)
        except api.TimeoutError:
            run.log("timed out at once")
        task = loop.create_task(_child(api, run, "running", 1.0))
        await api.sleep(0)
        try:
            await api.wait_for(task, -1)
        except api.TimeoutError:
            run.log("negative timeout", task.cancelled())

    run_main(run, main())


@program()
def wait_for_outer_cancelled(api: Api, run: Run) -> None:
    """Cancelling the task inside wait_for cancels the inner task too."""
    loop = run.loop

    async def waiter() -> None:
        try:
            await api.wait_for(_child(api, run, "inner", 1.0), 0.5)
        except api.CancelledError:
            run.log("waiter cancelled")
            raise

    async def main() -> None:
        task = loop.create_task(waiter())
        await api.sleep(0.01)
        run.log("cancel", task.cancel())
        try:
            await task
        except api.CancelledError:
            run.log("main saw it", task.cancelled())

    run_main(run, main())


@program(
    since=(3, 12),
    reason="3.8-3.11 wait_for wraps the coroutine in a task and waits on a waiter future (two extra "
    "passes); 3.12 rewrote it on asyncio.timeout and awaits the coroutine in the caller's task, "
    "which modern.loop follows",
    expected=[
        ("start", "inner"),
        ("tick", 0),
        ("tick", 1),
        ("end", "inner"),
        ("wait_for returned", "inner"),
        ("tick", 2),
        ("tick", 3),
        ("tick", 4),
        ("tick", 5),
        ("main returned", None),
    ],
)
def wait_for_costs_no_extra_passes(api: Api, run: Run) -> None:
    """wait_for runs a coroutine inside the caller's task: no extra task, no extra passes (3.12 wait_for)."""
    loop = run.loop

    async def ticker() -> None:
        for i in range(6):
            run.log("tick", i)
            await api.sleep(0)

    async def inner() -> str:
        run.log("start", "inner")
        await api.sleep(0)
        await api.sleep(0)
        run.log("end", "inner")
        return "inner"

    async def main() -> None:
        ticks = loop.create_task(ticker())
        run.log("wait_for returned", await api.wait_for(inner(), 1.0))
        await ticks

    run_main(run, main())


@program(
    since=(3, 9),
    reason="3.8 wait_for raises TimeoutError even when the inner task swallowed the cancellation "
    "and returned; 3.9 and later (3.12's rewrite too) return the value, which modern.loop follows",
    expected=[
        ("start", "stubborn"),
        ("stubborn swallowed the cancel",),
        ("wait_for returned", "kept going"),
        ("main returned", None),
    ],
)
def wait_for_inner_swallows_the_cancel(api: Api, run: Run) -> None:
    """When the inner task swallows the timeout's cancellation and returns, wait_for returns its value."""

    async def stubborn() -> str:
        run.log("start", "stubborn")
        try:
            await api.sleep(1.0)
        except api.CancelledError:
            run.log("stubborn swallowed the cancel")
        return "kept going"

    async def main() -> None:
        try:
            run.log("wait_for returned", await api.wait_for(stubborn(), 0.01))
        except api.TimeoutError:
            run.log("wait_for raised TimeoutError")

    run_main(run, main())


# --- sockets, transports, streams -----------------------------------------------------------------


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    return sock


@program()
def sock_echo_on_loopback(api: Api, run: Run) -> None:
    """sock_accept / sock_connect / sock_sendall / sock_recv: an echo round trip, then EOF both ways."""
    loop = run.loop
    server_log, client_log = run.channel("server"), run.channel("client")
    listener = _listener()
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setblocking(False)

    @api.coroutine
    def serve() -> Any:
        conn, _ = yield from loop.sock_accept(listener)
        conn.setblocking(False)
        server_log("accepted")
        try:
            while True:
                data = yield from loop.sock_recv(conn, 4096)
                server_log("got", len(data))
                if not data:
                    return "served"
                yield from loop.sock_sendall(conn, data)
        finally:
            conn.close()

    @api.coroutine
    def recv_exactly(n: int) -> Any:
        data = b""
        while len(data) < n:
            chunk = yield from loop.sock_recv(client, n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    @api.coroutine
    def talk() -> Any:
        yield from loop.sock_connect(client, listener.getsockname())
        client_log("connected")
        for message in (b"ping", b"pong", b"x" * 3000):
            yield from loop.sock_sendall(client, message)
            reply = yield from recv_exactly(len(message))
            client_log("echo", len(reply), reply == message)
        client.shutdown(socket.SHUT_WR)
        client_log("eof", (yield from loop.sock_recv(client, 10)))
        return "talked"

    async def main() -> Any:
        return await api.gather(serve(), talk())

    try:
        run_main(run, main())
    finally:
        client.close()
        listener.close()


@program()
def sock_echo_many_clients(api: Api, run: Run) -> None:
    """The talk's echo server (docs/talk.md#slide-12): one task per accepted client, each echoing until EOF."""
    loop = run.loop
    listener = _listener()
    clients = {name: socket.socket(socket.AF_INET, socket.SOCK_STREAM) for name in ("c1", "c2", "c3")}
    accepted: List[socket.socket] = []

    @api.coroutine
    def echo(conn: socket.socket) -> Any:
        total = 0
        while True:
            data = yield from loop.sock_recv(conn, 4096)
            if not data:
                conn.close()
                return total
            total += len(data)
            yield from loop.sock_sendall(conn, data)

    @api.coroutine
    def server(count: int) -> Any:
        tasks = []
        for _ in range(count):
            conn, _ = yield from loop.sock_accept(listener)
            conn.setblocking(False)
            accepted.append(conn)
            tasks.append(loop.create_task(echo(conn)))
        totals = yield from api.gather(*tasks)
        return sorted(totals)

    @api.coroutine
    def client(name: str, sock: socket.socket, rounds: int) -> Any:
        log = run.channel(name)
        sock.setblocking(False)
        yield from loop.sock_connect(sock, listener.getsockname())
        for i in range(rounds):
            message = f"{name}:{i};".encode()
            yield from loop.sock_sendall(sock, message)
            data = b""
            while len(data) < len(message):
                data += yield from loop.sock_recv(sock, 100)
            log("echo", data.decode())
        sock.shutdown(socket.SHUT_WR)
        log("eof", (yield from loop.sock_recv(sock, 10)))

    async def main() -> None:
        serving = loop.create_task(server(len(clients)))
        await api.gather(*(client(name, sock, 2 + i) for i, (name, sock) in enumerate(clients.items())))
        run.log("server totals", await serving)

    try:
        run_main(run, main())
    finally:
        for sock in [*clients.values(), *accepted, listener]:
            sock.close()


@program()
def sock_sendall_of_many_megabytes(api: Api, run: Run) -> None:
    """sock_sendall of 8 MiB to a reader taking 64 KiB at a time: every byte arrives, in order."""
    loop = run.loop
    listener = _listener()
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setblocking(False)
    payload = bytes(range(256)) * (8 * 4096)
    accepted: List[socket.socket] = []

    async def serve() -> Any:
        conn, _ = await loop.sock_accept(listener)
        conn.setblocking(False)
        accepted.append(conn)
        digest, total = hashlib.sha1(), 0
        while True:
            data = await loop.sock_recv(conn, 65536)
            if not data:
                return total, digest.digest() == hashlib.sha1(payload).digest()
            digest.update(data)
            total += len(data)

    async def send() -> str:
        await loop.sock_connect(client, listener.getsockname())
        await loop.sock_sendall(client, payload)
        client.shutdown(socket.SHUT_WR)
        return "sent"

    async def main() -> Any:
        return await api.gather(serve(), send())

    try:
        run_main(run, main())
    finally:
        for sock in [client, listener, *accepted]:
            sock.close()


def _reply_protocol(api: Api, log: Callable[..., None], reply: Callable[[bytes], bytes]) -> type:
    class Replying(api.Protocol):  # type: ignore[name-defined,misc]
        """Answers each chunk with reply(chunk) and records every protocol callback."""

        def connection_made(self, transport: Any) -> None:
            log("connection_made")
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            log("data_received", data)
            self.transport.write(reply(data))

        def eof_received(self) -> Any:
            log("eof_received")
            return None

        def connection_lost(self, exc: Optional[BaseException]) -> None:
            log("connection_lost", describe(exc))

    return Replying


@program()
def create_server_and_connection_round_trip(api: Api, run: Run) -> None:
    """create_server / create_connection: protocol callbacks on both sides, in order, to the close."""
    loop = run.loop
    server_log, client_log = run.channel("server"), run.channel("client")
    lost = loop.create_future()

    class Client(api.Protocol):  # type: ignore[name-defined,misc]
        def connection_made(self, transport: Any) -> None:
            client_log("connection_made")
            self.transport = transport
            self.received = b""
            transport.write(b"hello")

        def data_received(self, data: bytes) -> None:
            self.received += data
            if len(self.received) == 5:
                client_log("reply", self.received)
                self.transport.close()
                client_log("closing", self.transport.is_closing())

        def eof_received(self) -> Any:
            client_log("eof_received")

        def connection_lost(self, exc: Optional[BaseException]) -> None:
            client_log("connection_lost", describe(exc))
            lost.set_result(None)

    server_lost = loop.create_future()
    Replying = _reply_protocol(api, server_log, lambda data: data[::-1])

    class Server(Replying):  # type: ignore[valid-type,misc]
        def connection_lost(self, exc: Optional[BaseException]) -> None:
            super().connection_lost(exc)
            server_lost.set_result(None)

    async def main() -> None:
        server = await loop.create_server(Server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport, protocol = await loop.create_connection(Client, "127.0.0.1", port)
        run.log("connected", isinstance(protocol, Client), transport.get_extra_info("peername")[1] == port)
        await lost
        await server_lost
        server.close()
        await server.wait_closed()
        run.log("server closed")

    run_main(run, main())


@program()
def transport_pause_and_resume_reading(api: Api, run: Run) -> None:
    """pause_reading() holds data_received back until resume_reading(); nothing is lost."""
    loop = run.loop
    server_log = run.channel("server")
    got_all = loop.create_future()
    paused = loop.create_future()

    class Reader(api.Protocol):  # type: ignore[name-defined,misc]
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.data = b""
            # Not inside connection_made: asyncio before 3.11 starts reading after it regardless.
            loop.call_soon(self.pause)

        def pause(self) -> None:
            self.transport.pause_reading()
            server_log("paused", self.transport.is_reading())
            paused.set_result(None)

        def data_received(self, data: bytes) -> None:
            self.data += data
            if len(self.data) == 10 and not got_all.done():
                server_log("all data")
                got_all.set_result(self.data)

        def connection_lost(self, exc: Optional[BaseException]) -> None:
            server_log("connection_lost", describe(exc))

    readers: List[Any] = []

    def factory() -> Any:
        readers.append(Reader())
        return readers[-1]

    async def main() -> None:
        server = await loop.create_server(factory, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(api.Protocol, "127.0.0.1", port)
        await paused
        transport.write(b"0123456789")
        for _ in range(5):
            await api.sleep(0)
        run.log("received while paused", readers[0].data)
        readers[0].transport.resume_reading()
        run.log("resumed", readers[0].transport.is_reading())
        run.log("received", await got_all)
        transport.close()
        readers[0].transport.close()
        server.close()
        await server.wait_closed()
        await api.sleep(0)

    run_main(run, main())


@program()
def flow_control_under_a_slow_reader(api: Api, run: Run) -> None:
    """A writer facing a reader that does not read gets pause_writing, then resume_writing when it drains."""
    loop = run.loop
    server_log, client_log = run.channel("server"), run.channel("client")
    size = 16 * 1024 * 1024
    received = loop.create_future()
    resumed = loop.create_future()
    paused = loop.create_future()

    class SlowReader(api.Protocol):  # type: ignore[name-defined,misc]
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.count = 0
            server_log("connection_made")
            # Not inside connection_made: asyncio before 3.11 starts reading after it regardless.
            loop.call_soon(self.pause)

        def pause(self) -> None:
            self.transport.pause_reading()
            server_log("reading paused")
            paused.set_result(None)

        def data_received(self, data: bytes) -> None:
            self.count += len(data)

        def eof_received(self) -> Any:
            server_log("eof_received", self.count)
            received.set_result(self.count)

        def connection_lost(self, exc: Optional[BaseException]) -> None:
            server_log("connection_lost", describe(exc))

    readers: List[Any] = []

    def factory() -> Any:
        readers.append(SlowReader())
        return readers[-1]

    class Writer(api.Protocol):  # type: ignore[name-defined,misc]
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            transport.set_write_buffer_limits(high=64 * 1024, low=16 * 1024)
            client_log("connection_made")

        def pause_writing(self) -> None:
            client_log("pause_writing")

        def resume_writing(self) -> None:
            client_log("resume_writing", self.transport.get_write_buffer_size() <= 16 * 1024)
            resumed.set_result(None)

        def connection_lost(self, exc: Optional[BaseException]) -> None:
            client_log("connection_lost", describe(exc))

    async def main() -> None:
        server = await loop.create_server(factory, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(Writer, "127.0.0.1", port)
        await paused
        transport.write(b"x" * size)
        run.log("write returned, buffered", transport.get_write_buffer_size() > 64 * 1024)
        for _ in range(5):
            await api.sleep(0)
        run.log("still buffered while the reader sleeps", transport.get_write_buffer_size() > 64 * 1024)
        readers[0].transport.resume_reading()
        await resumed
        run.log("resumed")
        transport.close()
        run.log("received", await received == size)
        readers[0].transport.close()
        server.close()
        await server.wait_closed()
        await api.sleep(0)

    run_main(run, main())


def _closed_port() -> int:
    """A loopback port nothing listens on: bound, then closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


@program()
def connection_refused_on_loopback(api: Api, run: Run) -> None:
    """Connecting to a closed loopback port: ConnectionRefusedError from sock_connect and create_connection."""
    loop = run.loop
    port = _closed_port()

    async def main() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, ("127.0.0.1", port))
        except ConnectionRefusedError as exc:
            run.log("sock_connect", describe(exc))
        finally:
            sock.close()
        try:
            await loop.create_connection(api.Protocol, "127.0.0.1", port)
        except ConnectionRefusedError as exc:
            run.log("create_connection", describe(exc))
        try:
            await api.open_connection("127.0.0.1", port)
        except ConnectionRefusedError as exc:
            run.log("open_connection", describe(exc))

    run_main(run, main())


@program()
def buffered_protocol_receives_into_its_buffer(api: Api, run: Run) -> None:
    """A BufferedProtocol gets every byte through get_buffer/buffer_updated, then eof_received."""
    loop = run.loop
    server_log = run.channel("server")
    done = loop.create_future()

    class Collector(api.BufferedProtocol):  # type: ignore[name-defined,misc]
        def connection_made(self, transport: Any) -> None:
            server_log("connection_made")
            self.buffer = bytearray(1000)
            self.data = bytearray()

        def get_buffer(self, sizehint: int) -> Any:
            return self.buffer

        def buffer_updated(self, nbytes: int) -> None:
            self.data += self.buffer[:nbytes]

        def eof_received(self) -> Any:
            server_log("eof_received", len(self.data), bytes(self.data[:6]))
            done.set_result(None)

        def connection_lost(self, exc: Optional[BaseException]) -> None:
            server_log("connection_lost", describe(exc))

    async def main() -> None:
        server = await loop.create_server(Collector, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(api.Protocol, "127.0.0.1", port)
        transport.write(b"012345" + b"y" * 5000)
        run.log("can write eof", transport.can_write_eof())
        transport.write_eof()
        await done
        transport.close()
        server.close()
        await server.wait_closed()
        for _ in range(3):
            await api.sleep(0)

    run_main(run, main())


@program()
def failing_data_received_closes_the_transport(api: Api, run: Run) -> None:
    """An exception in data_received is a fatal error: handler called, transport closed with the error."""
    loop = run.loop
    server_log = run.channel("server")
    lost = loop.create_future()

    def handler(loop: Any, context: dict) -> None:
        server_log("handler", describe(context.get("exception")), "transport" in context)

    loop.set_exception_handler(handler)

    class Failing(api.Protocol):  # type: ignore[name-defined,misc]
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            server_log("data_received")
            raise Boom("protocol bug")

        def connection_lost(self, exc: Optional[BaseException]) -> None:
            server_log("connection_lost", describe(exc), self.transport.is_closing())
            lost.set_result(None)

    async def main() -> None:
        server = await loop.create_server(Failing, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await api.open_connection("127.0.0.1", port)
        writer.write(b"boom")
        await lost
        run.log("client reads", await reader.read(100))
        writer.close()
        server.close()
        await server.wait_closed()
        for _ in range(3):
            await api.sleep(0)

    run_main(run, main())


@program()
def abort_drops_the_buffer_and_closes(api: Api, run: Run) -> None:
    """abort() closes at once, dropping what is buffered; connection_lost(None) follows on this side."""
    loop = run.loop
    client_log = run.channel("client")
    lost = loop.create_future()

    class Aborting(api.Protocol):  # type: ignore[name-defined,misc]
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def connection_lost(self, exc: Optional[BaseException]) -> None:
            client_log("connection_lost", describe(exc), self.transport.get_write_buffer_size())
            lost.set_result(None)

    class Silent(api.Protocol):  # type: ignore[name-defined,misc]
        def connection_made(self, transport: Any) -> None:
            transport.pause_reading()
            self.transport = transport

    peers: List[Any] = []

    def factory() -> Any:
        peers.append(Silent())
        return peers[-1]

    async def main() -> None:
        server = await loop.create_server(factory, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(Aborting, "127.0.0.1", port)
        transport.write(b"z" * (16 * 1024 * 1024))
        run.log("buffered before abort", transport.get_write_buffer_size() > 0)
        transport.abort()
        run.log("closing after abort", transport.is_closing())
        await lost
        while not peers:
            await api.sleep(0)
        peers[0].transport.close()
        server.close()
        await server.wait_closed()
        for _ in range(3):
            await api.sleep(0)

    run_main(run, main())


@program()
def streams_readexactly(api: Api, run: Run) -> None:
    """open_connection's reader: readexactly takes exactly N bytes; EOF short of N is IncompleteReadError."""
    loop = run.loop
    server_log = run.channel("server")

    class Sender(api.Protocol):  # type: ignore[name-defined,misc]
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            server_log("connection_made")

        def data_received(self, data: bytes) -> None:
            server_log("data_received", data)
            if data.endswith(b"go"):
                self.transport.write(b"0123")
                self.transport.write(b"456789AB")
                self.transport.close()

        def connection_lost(self, exc: Optional[BaseException]) -> None:
            server_log("connection_lost", describe(exc))

    async def main() -> None:
        server = await loop.create_server(Sender, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await api.open_connection("127.0.0.1", port)
        writer.write(b"go")
        await writer.drain()
        run.log("first", await reader.readexactly(3))
        run.log("second", await reader.readexactly(7))
        try:
            await reader.readexactly(5)
        except api.IncompleteReadError as exc:
            run.log("incomplete", exc.partial, exc.expected)
        run.log("at eof", reader.at_eof())
        writer.close()
        server.close()
        await server.wait_closed()
        await api.sleep(0)

    run_main(run, main())
