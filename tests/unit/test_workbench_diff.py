"""gg-workbench diff: example discovery, the migration map's notes, and the three renderings.

The examples are the small fixtures under tests/unit/data/examples, laid out like the real style
folders; one test runs the installed command against the real tree.
"""
from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench import cli
from workbench.diff import (
    MAX_SOURCE_BYTES,
    DiffInputError,
    compare,
    diff_example,
    highlight,
    render_side_by_side,
    render_unified,
)
from workbench.examples import (
    MIGRATION_PATH,
    STYLES,
    ExampleNotInStyle,
    Examples,
    UnknownExample,
    UnknownStyle,
)
from workbench.migration_map import MIGRATION_MAP, annotate

DATA = Path(__file__).parent / "data" / "examples"
ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ALL_STYLES = [style.name for style in STYLES]

#: What the migration map must say for each fixture pair: the start of each expected note's label.
EXPECTED_NOTES = {
    ("dispatcher", "aio"): [
        "asyncore.dispatcher subclass",
        "set_terminator/collect_incoming_data/found_terminator",
        "handle_connect/handle_close",
        "push -> write + drain",
        "asyncore.loop() in a thread",
        "map= -> the loop",
    ],
    ("dispatcher", "dispatcher@asyncio"): ["asyncore.loop(map=...) -> compat.bridge", "asyncore.loop() in a thread"],
    ("dispatcher@asyncio", "yieldfrom@asyncio"): [
        "asyncore.dispatcher subclass",
        "map= -> the loop",
        "on_message()/on_login_ok() overrides",
        "own loop or bridge -> generator coroutines on asyncio through compat.coroutine",
    ],
    ("yieldfrom@asyncio", "aio"): [
        "@coroutine + yield from -> async def + await",
        "asyncio.async -> ensure_future/create_task",
        "loop= arguments -> nothing",
    ],
    ("yieldfrom", "yieldfrom@asyncio"): ["own loop or bridge -> generator coroutines"],
    ("callbacks", "aio"): ["callback(result, error) -> a Future"],
}


def run_cli(argv: List[str], capsys) -> Tuple[int, str, str]:
    code = cli.main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def notes_of(diff) -> List[str]:
    return [note.label for hunk in diff.hunks for note in hunk.notes]


def hunks_of(unified: str) -> List[Dict[str, List[str]]]:
    """The - and + lines of each hunk of a unified diff."""
    hunks: List[Dict[str, List[str]]] = []
    for line in unified.splitlines():
        if line.startswith("@@"):
            hunks.append({"-": [], "+": []})
        elif hunks and line[:1] in "-+" and not line.startswith(("---", "+++")):
            hunks[-1][line[0]].append(line[1:])
    return hunks


def squeezed(lines: List[str]) -> str:
    return re.sub(r"\s+", "", "".join(lines))


def apply_unified(old: List[str], unified: str) -> List[str]:
    """Apply our unified output to `old` the way patch would, trusting only the @@ headers."""
    result: List[str] = []
    position = 0
    for line in unified.splitlines()[2:]:
        header = re.match(r"@@ -(\d+),(\d+) \+\d+,\d+ @@$", line)
        if header:
            start, count = int(header.group(1)), int(header.group(2))
            first = start - 1 if count else start
            result += old[position:first]
            position = first
        elif line.startswith(" "):
            result.append(line[1:])
            position += 1
        elif line.startswith("-"):
            position += 1
        elif line.startswith("+"):
            result.append(line[1:])
    return result + old[position:]


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


# Discovery.

def test_examples_are_found_by_their_files():
    """An example exists in a style exactly when its file exists; `_` files are not examples."""
    examples = Examples(DATA)
    assert examples.names() == ["echo_bot", "echo_server"]
    assert examples.styles_of("echo_bot") == ALL_STYLES
    assert examples.styles_of("echo_server") == ["dispatcher", "aio"]
    assert examples.path("echo_bot", "dispatcher@asyncio") == DATA / "legacy/dispatcher/examples/echo_bot_asyncio.py"
    assert examples.path("echo_bot", "yieldfrom@asyncio") == DATA / "modern/yieldfrom/examples/echo_bot_asyncio.py"
    assert examples.path("echo_bot", "callbacks") == DATA / "legacy/callbacks/examples/echo_bot.py"
    assert not examples.exists("_shared", "dispatcher")


def test_unknown_names_are_typed_errors_listing_the_valid_ones(tmp_path):
    examples = Examples(DATA)
    with pytest.raises(UnknownExample) as caught:
        examples.path("../../etc/passwd", "dispatcher")
    assert caught.value.valid == ["echo_bot", "echo_server"] and "echo_bot, echo_server" in str(caught.value)
    with pytest.raises(UnknownStyle) as caught:
        examples.path("echo_bot", "twisted")
    assert caught.value.valid == ALL_STYLES
    with pytest.raises(ExampleNotInStyle) as caught:
        examples.path("echo_server", "callbacks")
    assert caught.value.valid == ["dispatcher", "aio"]
    with pytest.raises(UnknownExample, match=r"\(none\)"):
        Examples(tmp_path).path("echo_bot", "aio")


def test_the_default_root_holds_the_style_folders():
    examples = Examples()
    assert (examples.root / "legacy" / "__init__.py").is_file()
    assert (examples.root / "modern" / "__init__.py").is_file()


# The migration map.

#: (a line of legacy code, a line of its replacement, the start of the note that must explain it)
MAP_SAMPLES = [
    ("        self.set_terminator(8)", "    def buffer_updated(self, nbytes):", "set_terminator"),
    ("    def found_terminator(self):", "    header = yield from reader.readexactly(8)", "set_terminator"),
    ("    def handle_connect(self):", "    def connection_made(self, transport):", "handle_connect"),
    ("    def handle_close(self):", "    reader, writer = await asyncio.open_connection(host, port)", "handle_connect"),
    ("        self.push(packet)", "        await writer.drain()", "push -> write + drain"),
    ("    asyncore.loop(timeout=1)", "    asyncio.run(main())", "asyncore.loop() in a thread"),
    ("    def done(result, error):", "    result = await future", "callback(result, error)"),
    ("@asyncio.coroutine", "async def main():", "@coroutine + yield from"),
    ("    data = yield from reader.read(4096)", "    data = await reader.read(4096)", "@coroutine + yield from"),
    ("    asyncio.async(job())", "    asyncio.create_task(job())", "asyncio.async"),
    ("class Bot(asyncore.dispatcher):", "class Bot(asyncio.Protocol):", "asyncore.dispatcher subclass"),
    ("    def writable(self):", "        self.transport.write(data)", "readable()/writable()"),
    ("    client = Bot(map=socket_map)", "    loop = asyncio.get_running_loop()", "map= -> the loop"),
    ("    from modern.loop import new_event_loop", "from compat import coroutine", "own loop or bridge"),
]


@pytest.mark.parametrize("legacy,modern,label", MAP_SAMPLES, ids=[s[2] for s in MAP_SAMPLES])
def test_the_map_explains_each_construct_of_the_issue(legacy, modern, label):
    (notes,) = annotate([([legacy], [modern])], [modern])
    assert any(note.label.startswith(label) for note in notes), [n.label for n in notes]


def test_map_entries_are_one_line_each():
    for entry in MIGRATION_MAP:
        assert "->" in entry.label and "\n" not in entry.why and entry.why, entry


def test_a_construct_given_back_in_the_same_hunk_is_not_replaced():
    """`map=a` -> `map=b` keeps the socket map, so the "map= -> the loop" note stays out."""
    removed, added = ["    bot = Bot(map=socket_map)"], ["    bot = Bot(map=bridge.map)", "    asyncio.run(main())"]
    (notes,) = annotate([(removed, added)], added)
    assert not any(note.label.startswith("map=") for note in notes)


def test_a_moved_replacement_is_noted_where_the_construct_goes():
    """The terminator goes in hunk 0, buffer_updated arrives in hunk 1: the note sits at hunk 0, once."""
    hunks = [(["        self.set_terminator(8)"], ["        pass"]),
             (["    x = 1"], ["    def buffer_updated(self, n):"])]
    notes = annotate(hunks, ["        pass", "    def buffer_updated(self, n):"])
    assert [n.label[:14] for n in notes[0]] == ["set_terminator"] and notes[1] == []


def test_a_dropped_argument_is_noted_only_when_it_is_gone():
    hunk = (["    GGClient(loop=loop)"], ["    GGClient()"])
    assert [n.label[:15] for n in annotate([hunk], ["    GGClient()"])[0]] == ["loop= arguments"]
    assert annotate([hunk], ["    GGClient()", "    other(loop=loop)"])[0] == []


# The comparison.

@pytest.mark.parametrize("pair", sorted(EXPECTED_NOTES), ids=lambda pair: "->".join(pair))
def test_each_pair_carries_its_notes_and_no_whitespace_only_hunk(pair, capsys):
    code, out, _ = run_cli(["echo_bot", "--from", pair[0], "--to", pair[1], "--root", str(DATA)], capsys)
    assert code == 0
    labels = notes_of(diff_example(Examples(DATA), "echo_bot", *pair))
    assert len(labels) == len(EXPECTED_NOTES[pair]), labels
    for expected in EXPECTED_NOTES[pair]:
        assert any(label.startswith(expected) for label in labels), (expected, labels)
        assert any(line.startswith("# note: " + expected) for line in out.splitlines()), expected
    hunks = hunks_of(out)
    assert hunks
    for hunk in hunks:
        assert squeezed(hunk["-"]) != squeezed(hunk["+"]), hunk


def test_whitespace_noise_is_hidden():
    old = ["def f(a,b):", "    return a+b", "", "", "x = 1", "y = 2", "z = 3", "w = 4", "v = 5", "u = 6", "t = 7"]
    new = ["def f(a, b):  ", "\treturn a + b", "", "x = 1", "y = 2", "z = 3", "w = 4", "v = 5", "u = 6", "t = 8"]
    diff = compare("old", old, "new", new)
    assert len(diff.hunks) == 1
    shown = diff.rows[diff.hunks[0].start:diff.hunks[0].end]
    assert [new[row.new] for row in shown if row.kind == "change"] == ["t = 8"]
    assert compare("old", old[:-1], "new", new[:-1]).hunks == []


@given(
    st.lists(st.sampled_from(["a", "b", "c ", " c", "", "d", "e  f", "e f"]), max_size=25),
    st.lists(st.sampled_from(["a", "b", "c", "", "d", "x", "e f"]), max_size=25),
    st.integers(min_value=0, max_value=4),
)
def test_rows_cover_both_files_and_the_hunks_rebuild_the_new_one(old, new, context):
    """Every line of each file appears once, in order; applying the hunks gives the new file up to whitespace."""
    diff = compare("old", old, "new", new, context)
    assert [row.old for row in diff.rows if row.old is not None] == list(range(len(old)))
    assert [row.new for row in diff.rows if row.new is not None] == list(range(len(new)))
    patched = apply_unified(old, render_unified(diff))
    assert squeezed(patched) == squeezed(new)
    for hunk in diff.hunks:
        assert any(row.kind == "change" for row in diff.rows[hunk.start:hunk.end])


def test_files_that_cannot_be_compared_are_clear_errors(tmp_path, capsys):
    folder_old, folder_new = tmp_path / "legacy/dispatcher/examples", tmp_path / "modern/aio/examples"
    folder_old.mkdir(parents=True)
    folder_new.mkdir(parents=True)
    (folder_old / "latin.py").write_bytes(b"x = '\xe9'\n")
    (folder_new / "latin.py").write_text("x = 1\n")
    code, _, err = run_cli(["latin", "--root", str(tmp_path)], capsys)
    assert code == 1 and "not UTF-8" in err
    (folder_old / "huge.py").write_bytes(b"#" * (MAX_SOURCE_BYTES + 1))
    (folder_new / "huge.py").write_text("x = 1\n")
    with pytest.raises(DiffInputError, match="larger than"):
        diff_example(Examples(tmp_path), "huge", "dispatcher", "aio")


# Colour.

@pytest.mark.parametrize("side_by_side", [False, True])
def test_colour_only_on_a_terminal_without_no_color(monkeypatch, capsys, side_by_side):
    argv = ["diff", "echo_bot", "--root", str(DATA), "--width", "100"] + (["--side-by-side"] if side_by_side else [])
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli.main(argv) == 0
    plain = capsys.readouterr().out
    assert "\x1b[" not in plain, "not a terminal: plain"

    def through_tty(extra: List[str]) -> str:
        fake = FakeTTY()
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stdout", fake)
            assert cli.main(argv + extra) == 0
        return fake.getvalue()

    colored = through_tty([])
    assert "\x1b[31m" in colored and "\x1b[32m" in colored and "\x1b[33m" in colored
    assert ANSI.sub("", colored).splitlines() == plain.splitlines(), "colour adds codes, nothing else"
    assert "\x1b[" not in through_tty(["--color", "never"])
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in through_tty([])
    assert "\x1b[" in through_tty(["--color", "always"])


# Side by side.

def display_width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


@pytest.mark.parametrize("width", [40, 57, 80, 133])
def test_side_by_side_fits_the_width(width, capsys):
    code, out, _ = run_cli(["echo_bot", "--root", str(DATA), "--side-by-side", "--width", str(width),
                            "--color", "always"], capsys)
    assert code == 0
    lines = ANSI.sub("", out).splitlines()
    assert max(display_width(line) for line in lines) <= width
    assert any(line.endswith(">") for line in lines), "the fixtures' long lines are cut with '>'"


def test_side_by_side_puts_each_file_in_its_column(capsys):
    width = 260
    code, out, _ = run_cli(["echo_bot", "--from", "dispatcher", "--to", "aio", "--root", str(DATA), "--side-by-side",
                            "--width", str(width), "--context", "1000"], capsys)
    assert code == 0
    column = (width - 13) // 2
    left, right = [], []
    for line in out.splitlines():
        if re.match(r"^( {4}|\s*\d+) ", line) and len(line) > 5 and not line.startswith("#"):
            if line[:4].strip():
                left.append(line[5:5 + column].rstrip())
            if line[column + 8:column + 12].strip():
                right.append(line[column + 13:].rstrip())
    examples = Examples(DATA)
    assert left == [s.rstrip() for s in examples.path("echo_bot", "dispatcher").read_text().splitlines()]
    assert right == [s.rstrip() for s in examples.path("echo_bot", "aio").read_text().splitlines()]


def test_side_by_side_counts_wide_characters():
    old, new = ["a = 'żółw'", "b = '" + "漢字" * 8 + "'"], ["a = 'żółw!'", "b = '漢字'"]
    diff = compare("old", old, "new", new)
    for width in (40, 41, 50):
        out = render_side_by_side(diff, width)
        assert max(display_width(line) for line in out.splitlines()) <= width


def test_a_width_below_the_minimum_is_refused(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["diff", "echo_bot", "--side-by-side", "--width", "10"])
    assert caught.value.code == 2
    assert "at least 40" in capsys.readouterr().err


# HTML.

class PageText(HTMLParser):
    """Collects the text of each row's cells by class, and every element name used."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: List[Dict[str, str]] = []
        self.cell: Optional[str] = None
        self.tags: List[str] = []
        self.sections: List[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        if tag == "tr":
            self.rows.append({})
        elif tag == "td" and self.rows:
            classes = (attributes.get("class") or "").split()
            self.cell = {"ln": "ln", "old": "old", "new": "new", "note": "note"}.get(classes[0] if classes else "")
            if self.cell == "ln":
                self.cell = "ln_new" if "old" in self.rows[-1] else "ln_old"
            if self.cell:
                self.rows[-1].setdefault(self.cell, "")
        elif tag == "h2":
            self._in_h2 = True
            self.sections.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        elif tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self.cell and self.rows:
            self.rows[-1][self.cell] += data
        if self._in_h2:
            self.sections[-1] += data


def column(page: PageText, side: str) -> List[str]:
    return [row[side] for row in page.rows if row.get(f"ln_{side}", "").strip()]


@pytest.mark.parametrize("pair", sorted(EXPECTED_NOTES), ids=lambda pair: "->".join(pair))
def test_the_html_page_carries_both_files_and_the_notes(pair, tmp_path, capsys):
    target = tmp_path / "diff.html"
    code, out, _ = run_cli(["echo_bot", "--from", pair[0], "--to", pair[1], "--root", str(DATA),
                            "--html", str(target)], capsys)
    assert code == 0 and str(target) in out
    page_source = target.read_text(encoding="utf-8")
    page = PageText()
    page.feed(page_source)
    examples = Examples(DATA)
    old_lines = examples.path("echo_bot", pair[0]).read_text(encoding="utf-8").splitlines()
    new_lines = examples.path("echo_bot", pair[1]).read_text(encoding="utf-8").splitlines()
    assert column(page, "old") == old_lines
    assert column(page, "new") == new_lines
    tricky = [line for line in old_lines if "<" in line and "&" in line and ">" in line]
    assert tricky and all(line in column(page, "old") for line in tricky)
    notes = " ".join(row.get("note", "") for row in page.rows)
    for note in (n for hunk in diff_example(examples, "echo_bot", *pair).hunks for n in hunk.notes):
        assert note.label in notes and note.why in notes
    assert "&amp;lt;" not in page_source and "&amp;amp;" not in page_source and "&amp;gt;" not in page_source
    assert not {"script", "link", "img", "iframe"} & set(page.tags), "self-contained, no scripts"
    assert "http://" not in page_source and "https://" not in page_source
    assert '<span class="kw">def</span>' in page_source or '<span class="kw">async</span>' in page_source
    assert '<span class="com"># a &lt; b &amp; c &gt; d</span>' in page_source


def test_highlight_keeps_every_character_even_when_tokenize_gives_up():
    lines = ['x = """one', "two < three", '"""  # & done', "if x:", "    y = f'{x}' + 'a' # c", 's = """never closed']
    out = highlight(lines)
    for source, rendered in zip(lines, out):
        assert html.unescape(re.sub(r"<[^>]*>", "", rendered)) == source
    assert out[3].startswith('<span class="kw">if</span>')
    assert out[1] == '<span class="str">two &lt; three</span>'
    assert '<span class="com"># &amp; done</span>' in out[2]


# --path and --list.

def test_path_shows_the_four_steps_in_order(capsys):
    code, out, _ = run_cli(["echo_bot", "--path", "--root", str(DATA)], capsys)
    assert code == 0
    banners = [line for line in out.splitlines() if line.startswith("== step")]
    assert banners == [f"== step {n} of 3: {a} -> {b} ==" for n, (a, b) in
                       enumerate(zip(MIGRATION_PATH, MIGRATION_PATH[1:]), 1)]
    assert MIGRATION_PATH == ("dispatcher", "dispatcher@asyncio", "yieldfrom@asyncio", "aio")
    sections = re.split(r"^== step \d of 3: .* ==$", out, flags=re.M)[1:]
    for section, (old, new) in zip(sections, zip(MIGRATION_PATH, MIGRATION_PATH[1:])):
        assert section.splitlines()[1].endswith(f"({old})") and section.splitlines()[2].endswith(f"({new})")
        for expected in EXPECTED_NOTES[(old, new)]:
            assert "# note: " + expected in section


def test_path_as_html_has_one_section_per_step(tmp_path, capsys):
    target = tmp_path / "path.html"
    assert run_cli(["echo_bot", "--path", "--root", str(DATA), "--html", str(target)], capsys)[0] == 0
    page = PageText()
    page.feed(target.read_text(encoding="utf-8"))
    assert page.sections == ["step 1 of 3: dispatcher -> dispatcher@asyncio",
                             "step 2 of 3: dispatcher@asyncio -> yieldfrom@asyncio",
                             "step 3 of 3: yieldfrom@asyncio -> aio"]


def test_list_shows_which_example_exists_in_which_style(capsys):
    code, out, _ = run_cli(["--list", "--root", str(DATA)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["example", *ALL_STYLES]
    assert lines[1].split() == ["echo_bot"] + ["x"] * 6
    assert lines[2].split() == ["echo_server", "x", "-", "-", "-", "-", "x"]
    assert "legacy/dispatcher/examples/NAME_asyncio.py" in out


@pytest.mark.parametrize("argv,expected", [
    (["nope"], "unknown example 'nope'; valid examples: echo_bot, echo_server"),
    (["echo_bot", "--from", "twisted"], "unknown style 'twisted'; valid styles: " + ", ".join(ALL_STYLES)),
    (["echo_bot", "--to", "asyncio"], "unknown style 'asyncio'; valid styles: " + ", ".join(ALL_STYLES)),
    (["echo_server", "--from", "callbacks"], "no 'callbacks' version; it exists in: dispatcher, aio"),
    (["echo_server", "--path"], "no 'dispatcher@asyncio' version; it exists in: dispatcher, aio"),
    (["echo_bot", "--path", "--to", "aio"], "--path takes no --from/--to"),
    ([], "name an EXAMPLE (or use --list); valid names: echo_bot, echo_server"),
])
def test_bad_names_exit_2_with_the_valid_ones(argv, expected, capsys):
    code, out, err = run_cli([*argv, "--root", str(DATA)], capsys)
    assert code == 2 and out == ""
    assert expected in err


def _command() -> List[str]:
    script = shutil.which("gg-workbench", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "workbench.cli"]


def test_the_installed_command_lists_examples():
    done = subprocess.run([*_command(), "diff", "--list"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split() == ["example", *ALL_STYLES]
    assert "migration path (--path): dispatcher -> dispatcher@asyncio -> yieldfrom@asyncio -> aio" in done.stdout
    done = subprocess.run([*_command(), "diff", "--list", "--root", str(DATA)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.splitlines()[1].split() == ["echo_bot"] + ["x"] * 6
