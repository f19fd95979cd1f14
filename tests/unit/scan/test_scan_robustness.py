"""Bad input never crashes a scan: any text, any bytes, gives findings or a reason, never an exception."""
from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from workbench.scan.command import PROGRESS_FROM_FILES, _progress
from workbench.scan.rules import RULES
from workbench.scan.scanner import scan_bytes, scan_source

#: Pieces of legacy code, glued in any order and any indentation: most results do not parse.
PIECES = [
    "import asyncio", "import asyncore as a", "from asyncio import *", "from compat import asyncore",
    "asyncio.async(f())", "x.async(", "async def f():", "def g():", "class C(a.dispatcher):",
    "    with (yield from lock):", "    with (await lock):", "await asyncio.wait([f()])",
    "asyncio.get_event_loop()", "asyncio.sleep(1, loop=loop)", "@asyncio.coroutine", "'''", '"', "(", ")",
    "\\", "\t", "    pass", "print 'py2'", "# -*- coding: latin-1 -*-", "\x00", "\u20ac = 1", "global a",
    "lambda: asyncio.get_event_loop()", "[f() for f in asyncio.Task.all_tasks()]",
]


def _check(result, text_lines):
    assert result.parsed or result.error
    for hit in result.hits:
        assert hit.code in RULES
        assert 1 <= hit.line <= max(text_lines, 1) and hit.col >= 0


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(PIECES)), max_size=25))
def test_any_mix_of_legacy_pieces_scans_without_an_exception(lines):
    text = "\n".join("    " * depth + piece for depth, piece in lines) + "\n"
    _check(scan_source(text), text.count("\n") + 1)


@given(st.binary(max_size=300))
def test_any_bytes_scan_without_an_exception(data):
    _check(scan_bytes(b"import asyncio\n" + data), data.count(b"\n") + 2)


def test_deep_nesting_is_a_reason_not_a_crash():
    result = scan_source("import asyncio\nx = " + "(" * 5000 + ")" * 5000 + "\n")
    assert not result.parsed and result.error


def test_the_progress_bar_counts_files():
    stream = io.StringIO()
    _progress(PROGRESS_FROM_FILES // 2, PROGRESS_FROM_FILES, stream)
    _progress(PROGRESS_FROM_FILES, PROGRESS_FROM_FILES, stream)
    assert stream.getvalue() == (f"\rscanning [{'#' * 15}{' ' * 15}] 100/200 files"
                                 f"\rscanning [{'#' * 30}] 200/200 files\n")
