"""The data `gg-workbench trace --html` draws: passes, task lanes and marks, for a program whose timers and sockets
are known (tests/unit/data/trace/timers_and_sockets.py)."""
from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import pytest

import modern.loop
from workbench.trace_model import MAX_CALLBACKS_SHOWN, TraceRecorder, short_path

PROGRAM = Path(__file__).parent / "data" / "trace" / "timers_and_sockets.py"
# Relative to the project when the package is used from the checkout, the bare name when it is installed.
SHORT = short_path(str(PROGRAM))
LINES = {tag: number for number, text in enumerate(PROGRAM.read_text().splitlines(), 1)
         for tag in ("READ", "CREATE", "FIRST TIMER", "SECOND TIMER", "SEND", "JOIN") if f"# {tag}" in text}


def load_program():
    spec = importlib.util.spec_from_file_location("timers_and_sockets", PROGRAM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trace():
    program = load_program()
    loop = modern.loop.new_event_loop(debug=False)
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    recorder = TraceRecorder(loop, title="timers and sockets", source_path=str(PROGRAM))
    try:
        loop.set_trace(recorder)
        assert loop.run_until_complete(program.main(loop, a, b)) == b"ping"
        loop.set_trace(None)
    finally:
        loop.close()
        a.close()
        b.close()
    return recorder.trace()


def test_one_view_per_pass_in_order_with_growing_start_times(trace):
    assert [view.number for view in trace.passes] == list(range(1, len(trace.passes) + 1))
    starts = [view.start for view in trace.passes]
    assert starts == sorted(starts) and starts[0] == 0
    assert all(view.wall >= view.select.duration for view in trace.passes)
    assert trace.callbacks == sum(len(view.callbacks) for view in trace.passes)
    assert not trace.cut and trace.note == ""


def test_two_timers_fall_due_in_two_passes_each_waited_for_and_named(trace):
    timed = [view for view in trace.passes if view.timers]
    assert len(timed) == 2
    for view, tag in zip(timed, ("FIRST TIMER", "SECOND TIMER")):
        [timer] = view.timers
        assert "_set_result_unless_cancelled" in timer.text
        assert f"scheduled by sleep at {SHORT}:{LINES[tag]} in main" in timer.text
        assert timer.lines == (LINES[tag],)
        assert view.timeout is not None and view.timeout > 0
        assert view.why.startswith("the next timer, _set_result_unless_cancelled(")


def test_the_socket_comes_back_ready_once_after_the_timers_and_wakes_the_reader(trace):
    ready = [view for view in trace.passes if view.fds]
    assert len(ready) == 1
    [view] = ready
    [fd] = view.fds
    assert "reader _recv_ready(" in fd.text
    assert view.number > max(v.number for v in trace.passes if v.timers)
    assert view.timeout is None and "waits until a socket is ready" in view.why
    [callback] = view.callbacks
    assert callback.outcome == "fd" and "scheduled by sock_recv at " in callback.text
    assert callback.lines == (LINES["READ"],)


def test_one_lane_per_task_with_its_steps_in_order(trace):
    main, reader = trace.lanes
    assert (main.coro, reader.coro) == ("main", "reader")
    assert [mark.kind for mark in main.marks] == ["created", "step", "step", "step", "step", "done"]
    assert [mark.kind for mark in reader.marks] == ["created", "step", "step", "done"]
    numbers = [mark.pass_number for mark in main.marks]
    assert numbers == sorted(numbers)
    created = reader.marks[0]
    assert created.lines == (LINES["CREATE"],) and "created for reader()" in created.text
    assert created.pass_number == main.marks[1].pass_number, "created by main's first step"
    assert "started it; it now waits on Future-" in reader.marks[1].text
    assert "sent b'ping' in" in reader.marks[2].text and "it returned b'ping'" in reader.marks[2].text
    assert reader.marks[3].outcome == "result"
    assert f"timers_and_sockets.py:{LINES['FIRST TIMER']} in main" in main.marks[1].text
    assert main.marks[2].lines == (LINES["FIRST TIMER"], LINES["SECOND TIMER"]), "resumed at one, stopped at the next"
    assert "it now waits on Task-" in main.marks[3].text
    assert main.marks[3].lines == (LINES["SECOND TIMER"], LINES["JOIN"])
    assert "sent b'ping' in (the result of Task-" in main.marks[4].text and main.marks[5].outcome == "result"
    assert main.marks[-1].pass_number > reader.marks[-1].pass_number


def test_each_pass_lists_the_example_lines_its_marks_touched(trace):
    for view in trace.passes:
        touched = set()
        for mark in view.callbacks:
            touched.update(mark.lines)
        assert set(view.lines) == touched
    # sock_sendall of four bytes never waits: main goes from the second timer straight to the join.
    assert set(LINES.values()) - {LINES["SEND"]} == {line for view in trace.passes for line in view.lines}


def test_the_limit_cuts_the_recording_says_so_and_calls_back_once():
    loop = modern.loop.new_event_loop(debug=False)
    stopped = []

    async def forever():
        while True:
            await modern.loop.sleep(0)

    recorder = TraceRecorder(loop, limit=5, on_limit=lambda: stopped.append(task.cancel()))
    loop.set_trace(recorder)
    task = loop.create_task(forever())
    with pytest.raises(modern.loop.CancelledError):
        loop.run_until_complete(task)
    loop.close()
    trace = recorder.trace()
    assert len(trace.passes) == 5 and trace.cut and stopped == [True]
    assert "Cut at the limit of 5 passes" in trace.note
    assert loop.get_trace() is None


def test_a_crowded_pass_draws_at_most_max_callbacks_and_counts_the_rest():
    loop = modern.loop.new_event_loop(debug=False)
    recorder = TraceRecorder(loop)
    loop.set_trace(recorder)
    for _ in range(MAX_CALLBACKS_SHOWN + 7):
        loop.call_soon(lambda: None)
    loop.stop()
    loop.run_forever()
    loop.close()
    [view] = recorder.trace().passes
    assert len(view.callbacks) == MAX_CALLBACKS_SHOWN and view.hidden_callbacks == 7
    assert recorder.trace().callbacks == MAX_CALLBACKS_SHOWN + 7
    assert f"7 callbacks are counted but not drawn (over {MAX_CALLBACKS_SHOWN} in a pass)" in recorder.trace().note
