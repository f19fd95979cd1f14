"""The diff page folds long runs of unchanged lines between hunks (a <details> a click opens, no script) and keeps
each hunk, with its note beside it, out in the open."""
from __future__ import annotations

import re

from workbench.diff import CONTEXT_LINES, FOLD_LINES, compare, render_html
from workbench.migration_map import Migration


def page_for(old, new, notes=None):
    diff = compare("old.py", old, "new.py", new)
    if notes is not None:
        diff = diff._replace(hunks=[hunk._replace(notes=notes) for hunk in diff.hunks])
    return diff, render_html([("step", diff)], "title")


def test_a_long_unchanged_run_between_two_hunks_is_folded_with_its_line_numbers():
    old = [f"line {n}" for n in range(1, 31)]
    new = list(old)
    new[1], new[27] = "changed 2", "changed 28"
    diff, page = page_for(old, new)
    assert len(diff.hunks) == 2
    folded = len(old) - (diff.hunks[0].end - diff.hunks[0].start) - (diff.hunks[1].end - diff.hunks[1].start)
    first, last = diff.hunks[0].end + 1, diff.hunks[1].start
    [summary] = re.findall(r"<summary>(.*?)</summary>", page)
    assert summary == f"{folded} unchanged lines (old {first}-{last}, new {first}-{last})"
    inside = re.search(r"<details>(.*?)</details>", page, re.S).group(1)
    assert re.findall(r'<td class="old">(line \d+)</td>', inside) == [f"line {n}" for n in range(first, last + 1)]
    assert "changed 2" not in inside and "changed 28" not in inside


def test_a_short_unchanged_run_stays_open():
    old = [f"line {n}" for n in range(1, 2 * CONTEXT_LINES + FOLD_LINES + 2)]
    new = list(old)
    gap = FOLD_LINES - 1
    new[0], new[2 * CONTEXT_LINES + gap + 1] = "changed first", "changed later"
    diff, page = page_for(old, new)
    assert len(diff.hunks) == 2 and diff.hunks[1].start - diff.hunks[0].end == gap
    assert "<details>" not in page


def test_notes_stay_beside_their_hunks_outside_any_fold():
    old = [f"line {n}" for n in range(1, 41)]
    new = list(old)
    new[5], new[25] = "changed 6", "changed 26"
    note = Migration(r"line", None, "asyncore.loop -> asyncio", "a note that must stay beside its hunk")
    diff, page = page_for(old, new, [note])
    outside = re.sub(r"<details>.*?</details>", "", page, flags=re.S)
    cells = re.findall(r'<td class="note" rowspan="(\d+)">(.*?)</td>', outside)
    assert [int(span) for span, _ in cells] == [hunk.end - hunk.start for hunk in diff.hunks]
    assert all(note.why in text for _, text in cells)
    assert page.count("<details>") == 2, "before the second hunk, and after it to the end of the file"
    assert "class=\"note\"" not in "".join(re.findall(r"<details>.*?</details>", page, re.S))
