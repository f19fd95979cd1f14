"""The trace page as text: self-contained, one column per pass, hover text on every mark, the cut said aloud.
(tests/browser opens it in a real browser.)"""
from __future__ import annotations

import html
import json
import re

import pytest

from workbench.trace_model import Lane, Mark, PassView, Trace
from workbench.trace_page import COLUMN_MIN, column_width, render_page


def view(number: int, *, wall: float = 1e-4, fds: int = 0, callbacks: int = 1, lines=()) -> PassView:
    return PassView(
        number, number * 1e-3, wall, None if fds else 0, "why", Mark("select", number, f"select {number}", wall / 2),
        tuple(Mark("fd", number, f"fd {number}.{i}") for i in range(fds)), (),
        tuple(Mark("callback", number, f"pass {number}, callback {i}: cb{i}() </script>", 1e-5, lines, "soon")
              for i in range(callbacks)), 0, tuple(lines),
    )


def trace(passes, *, cut=False, note="", source=("print('<b>')",)) -> Trace:
    lane = Lane("Task-1", "main", (Mark("created", 1, "Task-1 created"), Mark("step", 1, "step 1", 1e-5),
                                   Mark("done", len(passes), "Task-1 finished", outcome="result")))
    return Trace("demo", "demo.py", tuple(source), tuple(passes), (lane,), cut, 3 if cut else None, note,
                 0.01, sum(len(p.callbacks) for p in passes), 0.001, 0.001)


def test_one_column_per_pass_and_hover_text_on_every_mark():
    page = render_page(trace([view(1, fds=2, callbacks=3), view(2), view(3, callbacks=0)]))
    assert re.findall(r'<rect class="col[^"]*" data-pass="(\d+)"', page) == ["1", "2", "3"]
    tips = [html.unescape(tip) for tip in re.findall(r'class="mark [^"]*"[^>]*data-tip="([^"]*)"', page)]
    # 3 select bars, 2 fds, 4 callbacks, and the lane's created, step and done.
    assert len(tips) == 3 + 2 + 4 + 3
    assert "pass 1, callback 2: cb2() </script>" in tips


def test_self_contained_no_network_and_nothing_escapes_its_element():
    page = render_page(trace([view(1, lines=(1,))]))
    assert not re.search(r'(src|href)\s*=|@import|url\(|https?://(?!www\.w3\.org/2000/svg")', page)
    assert page.count("</script>") == 2, "a callback named </script> does not end the script early"
    data = json.loads(re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', page, re.S)
                      .group(1))
    assert data["passes"][0]["lines"] == [1] and data["passes"][0]["detail"].startswith("select 1")
    assert "print(&#x27;&lt;b&gt;&#x27;)" in page or "print('&lt;b&gt;')" in page


def test_a_cut_trace_says_so_at_the_top():
    page = render_page(trace([view(1), view(2), view(3)], cut=True, note="Cut at the limit of 3 passes: ..."))
    assert '<p class="note" id="note">Cut at the limit of 3 passes' in page
    assert 'id="note"' not in render_page(trace([view(1)]))


@pytest.mark.parametrize("shorter, longer", [(0, 1e-6), (1e-5, 1e-4), (1e-3, 0.5), (0.5, 30)])
def test_a_longer_pass_gets_a_wider_column(shorter, longer):
    assert COLUMN_MIN <= column_width(shorter) < column_width(longer)


def test_a_trace_without_passes_is_still_a_page():
    """An example that fails before its first pass still gets a page that says so, not a traceback."""
    empty = Trace("demo", "demo.py", ("pass",), (), (), False, None, "", 0.0, 0, 0.0, 0.0)
    page = render_page(empty)
    assert "0 passes of _run_once" in page and '<rect class="col' not in page
    assert json.loads(re.search(r'id="trace-data">(.*?)</script>', page, re.S).group(1)) == {"initial": 0,
                                                                                            "passes": []}
