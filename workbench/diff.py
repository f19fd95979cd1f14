"""`gg-workbench diff`: the same example in two styles, compared, with the migration map's notes.

Holds the comparison (rows of paired lines grouped into hunks, whitespace-only changes hidden) and
its three renderings: a unified diff, two columns fitted to the terminal, and one self-contained
HTML page with a small tokenize-based highlighter. Where examples live is workbench/examples.py;
what the notes say is workbench/migration_map.py.
"""
from __future__ import annotations

import argparse
import difflib
import html
import io
import keyword
import os
import re
import shutil
import sys
import textwrap
import tokenize
import unicodedata
from pathlib import Path
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, TextIO, Tuple

from workbench.examples import MIGRATION_PATH, STYLES, ExampleError, Examples
from workbench.migration_map import Migration, annotate

__all__ = [
    "CONTEXT_LINES",
    "FOLD_LINES",
    "MAX_SOURCE_BYTES",
    "MIN_WIDTH",
    "DiffInputError",
    "FileDiff",
    "Hunk",
    "Row",
    "add_parser",
    "compare",
    "diff_example",
    "highlight",
    "read_source",
    "render_html",
    "render_list",
    "render_side_by_side",
    "render_unified",
    "run",
    "use_color",
]

CONTEXT_LINES = 3
#: In the HTML page, a run of at least this many unchanged lines between hunks is folded (a click opens it).
FOLD_LINES = 4
#: An example is "a small program a person can read in one screen"; anything this big is a mistake.
MAX_SOURCE_BYTES = 1 << 20
#: Narrower than this, two columns of code are unreadable, so side-by-side refuses to go below it.
MIN_WIDTH = 40
_GUTTER = 13  # "NNNN " + text + " M " + "NNNN " + text: two 5-cell numbers and a 3-cell marker


class DiffInputError(ValueError):
    """An example file that cannot be compared (unreadable, not UTF-8, too large)."""


def read_source(path: Path) -> List[str]:
    """The file's lines without line ends (\\r\\n and \\r read as \\n), at most MAX_SOURCE_BYTES."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise DiffInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise DiffInputError(f"{path} is larger than {MAX_SOURCE_BYTES} bytes: not an example to diff")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DiffInputError(f"{path} is not UTF-8 (byte {exc.start}): {exc.reason}") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


# The comparison.

class Row(NamedTuple):
    """One line of the old file beside one of the new (either may be None where nothing pairs)."""

    old: Optional[int]  # index into old lines
    new: Optional[int]
    kind: str  # "same", "change", or "noise" (a change of whitespace only)


class Hunk(NamedTuple):
    start: int  # index into FileDiff.rows
    end: int
    notes: List[Migration]


class FileDiff(NamedTuple):
    old_label: str
    new_label: str
    old_lines: List[str]
    new_lines: List[str]
    rows: List[Row]  # the whole of both files
    hunks: List[Hunk]  # the parts of `rows` a unified diff shows

    def header(self, hunk: Hunk) -> str:
        """The `@@ -a,b +c,d @@` line, with the counts a unified diff would give."""
        return f"@@ -{self._span(hunk, 'old')} +{self._span(hunk, 'new')} @@"

    def _span(self, hunk: Hunk, side: str) -> str:
        numbers = [getattr(row, side) for row in self.rows[hunk.start:hunk.end] if getattr(row, side) is not None]
        if numbers:
            return f"{numbers[0] + 1},{len(numbers)}"
        before = [getattr(row, side) for row in self.rows[:hunk.start] if getattr(row, side) is not None]
        return f"{before[-1] + 1 if before else 0},0"


def _squeezed(lines: Sequence[str]) -> str:
    return re.sub(r"\s+", "", "".join(lines))


def _noise_rows(old_lines: List[str], i1: int, i2: int, new_lines: List[str], j1: int, j2: int) -> List[Row]:
    """Rows for a block that differs only in white space: a line pairs with the line it re-spaces,
    and a blank line (or a line split in two) stands on its own side, never beside an unrelated one."""
    inner = difflib.SequenceMatcher(None, [_squeezed([line]) for line in old_lines[i1:i2]],
                                    [_squeezed([line]) for line in new_lines[j1:j2]], autojunk=False)
    rows: List[Row] = []
    for tag, a1, a2, b1, b2 in inner.get_opcodes():
        if tag == "equal":
            rows.extend(Row(i1 + a1 + k, j1 + b1 + k, "noise") for k in range(a2 - a1))
            continue
        rows.extend(Row(i1 + k, None, "noise") for k in range(a1, a2))
        rows.extend(Row(None, j1 + k, "noise") for k in range(b1, b2))
    return rows


def compare(old_label: str, old_lines: List[str], new_label: str, new_lines: List[str],
            context: int = CONTEXT_LINES) -> FileDiff:
    """Pair the lines of two files, find the hunks, and attach the migration map's notes."""
    matcher = difflib.SequenceMatcher(None, [line.rstrip() for line in old_lines],
                                      [line.rstrip() for line in new_lines], autojunk=False)
    rows: List[Row] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(Row(i1 + k, j1 + k, "same") for k in range(i2 - i1))
            continue
        # Re-spacing or a blank line added is noise: it shows where a real change is, never on its own.
        if _squeezed(old_lines[i1:i2]) == _squeezed(new_lines[j1:j2]):
            rows.extend(_noise_rows(old_lines, i1, i2, new_lines, j1, j2))
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            rows.append(Row(i1 + k if i1 + k < i2 else None, j1 + k if j1 + k < j2 else None, "change"))
    spans: List[List[int]] = []
    for index, row in enumerate(rows):
        if row.kind != "change":
            continue
        low, high = max(0, index - context), min(len(rows), index + context + 1)
        if spans and low <= spans[-1][1]:
            spans[-1][1] = high
        else:
            spans.append([low, high])
    sides = []
    for low, high in spans:
        changed = [row for row in rows[low:high] if row.kind == "change"]
        sides.append(([old_lines[r.old] for r in changed if r.old is not None],
                      [new_lines[r.new] for r in changed if r.new is not None]))
    notes = annotate(sides, new_lines)
    hunks = [Hunk(low, high, hunk_notes) for (low, high), hunk_notes in zip(spans, notes)]
    return FileDiff(old_label, new_label, old_lines, new_lines, rows, hunks)


def diff_example(examples: Examples, name: str, old_style: str, new_style: str,
                 context: int = CONTEXT_LINES) -> FileDiff:
    """Compare one example in two styles; ExampleError names the valid choices."""
    old_path, new_path = examples.path(name, old_style), examples.path(name, new_style)

    def label(path: Path, style: str) -> str:
        try:
            shown = path.relative_to(examples.root).as_posix()
        except ValueError:
            shown = str(path)
        return f"{shown} ({style})"

    return compare(label(old_path, old_style), read_source(old_path),
                   label(new_path, new_style), read_source(new_path), context)


# Terminal renderings.

_ANSI = {"old": "\x1b[31m", "new": "\x1b[32m", "hunk": "\x1b[36m", "note": "\x1b[33m", "head": "\x1b[1m"}
_RESET = "\x1b[0m"


def use_color(choice: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """`always`/`never` as told; `auto`: only on a terminal and only without NO_COLOR (no-color.org)."""
    if choice != "auto":
        return choice == "always"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not environ.get("NO_COLOR")


def _paint(text: str, role: str, color: bool) -> str:
    return f"{_ANSI[role]}{text}{_RESET}" if color and text else text


def _note_lines(notes: Sequence[Migration], width: Optional[int]) -> List[str]:
    """Notes as `# note: ...` / `#  why: ...` lines: `#` starts no line of a unified diff, so they stand out."""
    lines = []
    for note in notes:
        for text in (f"# note: {note.label}", f"#  why: {note.why}"):
            if width is None:
                lines.append(text)
            else:
                lines += textwrap.wrap(text, width=width, subsequent_indent="#       ")
    return lines


def _blocks(diff: FileDiff, hunk: Hunk) -> List[Tuple[str, List[Row]]]:
    """The hunk's rows as runs of unchanged ("same") and changed ("change") rows."""
    blocks: List[Tuple[str, List[Row]]] = []
    for row in diff.rows[hunk.start:hunk.end]:
        kind = "same" if row.kind == "same" else "change"
        if blocks and blocks[-1][0] == kind:
            blocks[-1][1].append(row)
        else:
            blocks.append((kind, [row]))
    return blocks


def render_unified(diff: FileDiff, color: bool = False) -> str:
    out = [_paint(f"--- {diff.old_label}", "head", color), _paint(f"+++ {diff.new_label}", "head", color)]
    if not diff.hunks:
        out.append("(no changes apart from whitespace)")
    for hunk in diff.hunks:
        out.append(_paint(diff.header(hunk), "hunk", color))
        out += [_paint(line, "note", color) for line in _note_lines(hunk.notes, None)]
        for kind, rows in _blocks(diff, hunk):
            if kind == "same":
                out += [" " + diff.new_lines[row.new] for row in rows if row.new is not None]
                continue
            out += [_paint("-" + diff.old_lines[row.old], "old", color) for row in rows if row.old is not None]
            out += [_paint("+" + diff.new_lines[row.new], "new", color) for row in rows if row.new is not None]
    return "\n".join(out) + "\n"


def _cells(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _fit(text: str, width: int) -> str:
    """`text` cut or padded to exactly `width` terminal cells; a cut line ends in '>'."""
    text = text.expandtabs(4)
    used, kept = 0, []
    for char in text:
        if not char.isprintable():
            char = "?"
        size = _cells(char)
        if used + size > width:
            while used > width - 1:
                used -= _cells(kept.pop())
            kept.append(">")
            used += 1
            break
        kept.append(char)
        used += size
    return "".join(kept) + " " * (width - used)


def _paint_fit(text: str, width: int, role: str, color: bool) -> str:
    """`_fit`, with the colour on the text only, so that the padding stays plain (and strippable)."""
    fitted = _fit(text, width)
    core = fitted.rstrip(" ")
    return _paint(core, role, color) + " " * (len(fitted) - len(core))


def render_side_by_side(diff: FileDiff, width: int, color: bool = False) -> str:
    """Two columns, old left and new right; every line at most `width` cells (width >= MIN_WIDTH)."""
    if width < MIN_WIDTH:
        raise ValueError(f"side-by-side needs at least {MIN_WIDTH} columns, got {width}")
    column = (width - _GUTTER) // 2

    def side(lines: List[str], index: Optional[int], role: str, changed: bool) -> str:
        number = f"{index + 1:>4} " if index is not None else "     "
        return number + _paint_fit(lines[index] if index is not None else "", column, role, color and changed)

    out = [_paint_fit(diff.old_label, column + 5, "head", color) + "   "
           + _paint_fit(diff.new_label, column + 5, "head", color)]
    if not diff.hunks:
        out.append("(no changes apart from whitespace)")
    for hunk in diff.hunks:
        out.append(_paint_fit(diff.header(hunk), width, "hunk", color))
        out += [_paint_fit(line, width, "note", color) for line in _note_lines(hunk.notes, width)]
        for row in diff.rows[hunk.start:hunk.end]:
            changed = row.kind != "same"
            mark = " " if not changed else "|" if row.old is not None and row.new is not None else (
                "<" if row.old is not None else ">")
            out.append(f"{side(diff.old_lines, row.old, 'old', changed)} {mark} "
                       f"{side(diff.new_lines, row.new, 'new', changed)}")
    return "\n".join(line.rstrip() for line in out) + "\n"


def render_list(examples: Examples) -> str:
    """Which example exists in which style, and where each style keeps its files."""
    names = [style.name for style in STYLES]
    first = max([len("example")] + [len(name) for name in examples.names()])
    lines = ["example".ljust(first) + "  " + "  ".join(names)]
    for name, present in examples.table():
        lines.append(name.ljust(first) + "  " + "  ".join(
            ("x" if here else "-").center(len(style)) for style, here in zip(names, present)))
    if not examples.names():
        lines.append(f"(no examples yet under {examples.root})")
    files = [f"{style.folder}/NAME{style.suffix}.py" for style in STYLES]
    lines += ["", "styles:"]
    lines += [f"  {style.name:<{max(map(len, names))}}  {file:<{max(map(len, files))}}  {style.summary}"
              for style, file in zip(STYLES, files)]
    lines += ["", "migration path (--path): " + " -> ".join(MIGRATION_PATH)]
    return "\n".join(line.rstrip() for line in lines) + "\n"


# The HTML page.

_FSTRING_TOKENS = {getattr(tokenize, name) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                   if hasattr(tokenize, name)}


def _css_class(token: tokenize.TokenInfo) -> Optional[str]:
    if token.type == tokenize.COMMENT:
        return "com"
    if token.type == tokenize.STRING or token.type in _FSTRING_TOKENS:
        return "str"
    if token.type == tokenize.NAME and keyword.iskeyword(token.string):
        return "kw"
    return None


def highlight(lines: Sequence[str]) -> List[str]:
    """Each line as HTML with keywords, strings and comments in spans; text always comes from `lines`.

    Token positions only choose colours; the characters are sliced from the line itself, so a file
    tokenize cannot finish (or a token position that is off) costs colour, never content.
    """
    spans: Dict[int, List[Tuple[int, Optional[int], str]]] = {}
    reader = io.StringIO("\n".join(lines) + "\n").readline
    try:
        for token in tokenize.generate_tokens(reader):
            css = _css_class(token)
            if css is None:
                continue
            (first, start), (last, end) = token.start, token.end
            for number in range(first, last + 1):
                spans.setdefault(number - 1, []).append(
                    (start if number == first else 0, end if number == last else None, css))
    except (tokenize.TokenError, SyntaxError):
        pass
    out = []
    for index, line in enumerate(lines):
        parts, position = [], 0
        for start, end, css in sorted(spans.get(index, []), key=lambda span: span[0]):
            start, end = max(start, position), len(line) if end is None else min(end, len(line))
            if start >= end:
                continue
            parts.append(html.escape(line[position:start], quote=False))
            parts.append(f'<span class="{css}">{html.escape(line[start:end], quote=False)}</span>')
            position = end
        parts.append(html.escape(line[position:], quote=False))
        out.append("".join(parts))
    return out


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #1d1d1d; background: #fff; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 2em; }
table.diff { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.diff th { text-align: left; font-weight: 600; background: #eef; padding: 4px 6px; }
table.diff td { vertical-align: top; padding: 0 6px; font-size: 12.5px; }
td.old, td.new { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre-wrap; tab-size: 4; }
td.ln { width: 3em; color: #999; text-align: right; user-select: none;
  font-family: ui-monospace, Menlo, Consolas, monospace; }
col.code { width: 38%; } col.notes { width: 20%; } col.ln { width: 3.5em; }
tr.change td.old { background: #ffecec; } tr.change td.new { background: #eaffea; }
tr.noise td.old, tr.noise td.new { background: #f6f6f6; }
tr.first td { border-top: 1px solid #aac; }
td.note { background: #fff8dc; border-left: 3px solid #e0b000; font-size: 12px; padding: 4px 8px;
  overflow-wrap: anywhere; }
td.note.empty { background: none; border-left: none; }
td.note p { margin: 0 0 .6em 0; } td.note b { display: block; }
.kw { color: #0033b3; font-weight: 600; } .str { color: #067d17; } .com { color: #8c8c8c; font-style: italic; }
ul.notes li { margin-bottom: .3em; }
tr.fold > td { padding: 0; } tr.fold table.diff { margin: 0; }
tr.fold summary { cursor: pointer; background: #eef2fb; color: #445; font-size: 12px; padding: 3px 8px;
  border-top: 1px solid #d4dbee; border-bottom: 1px solid #d4dbee; }
tr.fold details[open] summary { background: #dfe6f7; }
"""


def _note_cell(notes: Sequence[Migration], rowspan: int) -> str:
    body = "".join(f"<p><b>{html.escape(n.label, quote=False)}</b>{html.escape(n.why, quote=False)}</p>"
                   for n in notes)
    return f'<td class="{"note" if notes else "note empty"}" rowspan="{rowspan}">{body}</td>'


_COLUMNS = ('<colgroup><col class="ln"><col class="code"><col class="ln"><col class="code"><col class="notes">'
            '</colgroup>')


def _fold(diff: FileDiff, rows: List[str], first: int, last: int) -> str:
    """A run of unchanged rows folded away, as review tools do: a <details> row that opens on a click."""
    olds = [row.old + 1 for row in diff.rows[first:last + 1] if row.old is not None]
    news = [row.new + 1 for row in diff.rows[first:last + 1] if row.new is not None]
    where = ", ".join(f"{side} {numbers[0]}-{numbers[-1]}" for side, numbers in (("old", olds), ("new", news))
                      if numbers)
    return (f'<tr class="fold"><td colspan="5"><details><summary>{len(rows)} unchanged lines ({where})</summary>'
            f'<table class="diff">{_COLUMNS}<tbody>' + "".join(rows) + "</tbody></table></details></td></tr>")


def _html_section(diff: FileDiff) -> str:
    old_html, new_html = highlight(diff.old_lines), highlight(diff.new_lines)
    starts = {hunk.start: hunk for hunk in diff.hunks}
    covered = {index for hunk in diff.hunks for index in range(hunk.start, hunk.end)}
    out = [f'<table class="diff">{_COLUMNS}',
           f'<thead><tr><th colspan="2">{html.escape(diff.old_label, quote=False)}</th>'
           f'<th colspan="2">{html.escape(diff.new_label, quote=False)}</th><th>migration notes</th></tr></thead>',
           "<tbody>"]
    # Rows outside every hunk wait here; a run of FOLD_LINES or more is folded, a shorter one shown.
    waiting: List[str] = []

    def flush(index: int) -> None:
        if len(waiting) >= FOLD_LINES:
            out.append(_fold(diff, waiting, index - len(waiting), index - 1))
        else:
            out.extend(waiting)
        waiting.clear()

    for index, row in enumerate(diff.rows):
        classes = [row.kind] + (["first"] if index in starts else [])
        cells = []
        for number, text, side in ((row.old, old_html, "old"), (row.new, new_html, "new")):
            cells.append(f'<td class="ln">{"" if number is None else number + 1}</td>'
                         f'<td class="{side}">{"" if number is None else text[number]}</td>')
        if index in starts:
            hunk = starts[index]
            cells.append(_note_cell(hunk.notes, hunk.end - hunk.start))
        elif index not in covered:
            cells.append('<td class="note empty"></td>')
            waiting.append(f'<tr class="{" ".join(classes)}">{"".join(cells)}</tr>')
            continue
        flush(index)
        out.append(f'<tr class="{" ".join(classes)}">{"".join(cells)}</tr>')
    flush(len(diff.rows))
    out.append("</tbody></table>")
    return "\n".join(out)


def render_html(diffs: Sequence[Tuple[str, FileDiff]], title: str) -> str:
    """One self-contained page (inline CSS, no scripts): each (heading, diff) as two columns and notes, the
    unchanged stretches between hunks folded (an HTML <details>, opened by a click, no script)."""
    body = [f"<h1>{html.escape(title, quote=False)}</h1>"]
    for heading, diff in diffs:
        notes = [note for hunk in diff.hunks for note in hunk.notes]
        body.append(f"<section><h2>{html.escape(heading, quote=False)}</h2>")
        if notes:
            body.append('<ul class="notes">' + "".join(
                f"<li><b>{html.escape(n.label, quote=False)}</b>: {html.escape(n.why, quote=False)}</li>"
                for n in notes) + "</ul>")
        elif not diff.hunks:
            body.append("<p>No changes apart from whitespace.</p>")
        body.append(_html_section(diff) + "</section>")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title, quote=False)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


# The command.

def _width(text: str) -> int:
    value = int(text)
    if value < MIN_WIDTH:
        raise argparse.ArgumentTypeError(f"at least {MIN_WIDTH} columns, got {value}")
    return value


def add_parser(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "diff", help="compare one example in two styles, with migration notes",
        description="Show how one example changes from one style to another (default dispatcher -> aio), "
        "with a note from the migration map beside each hunk where a legacy construct is replaced.",
        epilog="styles: " + ", ".join(style.name for style in STYLES) + ". Colour only on a terminal and "
        "without NO_COLOR, unless --color says otherwise.",
    )
    parser.add_argument("example", nargs="?", help="example name (see --list)")
    parser.add_argument("--from", dest="old_style", metavar="STYLE", help="old style (default dispatcher)")
    parser.add_argument("--to", dest="new_style", metavar="STYLE", help="new style (default aio)")
    parser.add_argument("--path", action="store_true",
                        help="the whole migration as steps: " + " -> ".join(MIGRATION_PATH))
    parser.add_argument("--list", action="store_true", help="list examples and the styles each exists in")
    parser.add_argument("--side-by-side", action="store_true", help="two columns fitted to the terminal")
    parser.add_argument("--width", type=_width, help="columns for --side-by-side (default: the terminal's)")
    parser.add_argument("--html", metavar="FILE", help="write one self-contained HTML page instead")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the terminal output (default auto)")
    parser.add_argument("--context", type=int, default=CONTEXT_LINES, help="unchanged lines around each hunk")
    parser.add_argument("--root", type=Path, help="folder holding legacy/ and modern/ (default: the installed ones)")
    parser.set_defaults(handler=run)


def _fail(message: str) -> int:
    print(f"gg-workbench diff: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    examples = Examples(args.root)
    if args.list:
        sys.stdout.write(render_list(examples))
        return 0
    if args.example is None:
        return _fail("name an EXAMPLE (or use --list); valid names: " + (", ".join(examples.names()) or "(none)"))
    if args.path and (args.old_style or args.new_style):
        return _fail("--path takes no --from/--to: it always walks " + " -> ".join(MIGRATION_PATH))
    if args.context < 0:
        return _fail("--context must be 0 or more")
    if args.path:
        steps = list(zip(MIGRATION_PATH, MIGRATION_PATH[1:]))
    else:
        steps = [(args.old_style or "dispatcher", args.new_style or "aio")]
    try:
        diffs = [(f"step {number} of {len(steps)}: {old} -> {new}" if args.path else f"{old} -> {new}",
                  diff_example(examples, args.example, old, new, args.context))
                 for number, (old, new) in enumerate(steps, 1)]
    except ExampleError as exc:
        return _fail(str(exc))
    except DiffInputError as exc:
        print(f"gg-workbench diff: {exc}", file=sys.stderr)
        return 1
    if args.html:
        page = render_html(diffs, f"gg-workbench diff: {args.example}")
        try:
            Path(args.html).write_text(page, encoding="utf-8")
        except OSError as exc:
            print(f"gg-workbench diff: cannot write {args.html}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"wrote {args.html}")
        return 0
    color = use_color(args.color, sys.stdout, os.environ)
    width = args.width or max(MIN_WIDTH, shutil.get_terminal_size().columns)
    parts = []
    for heading, diff in diffs:
        if args.path:
            banner = f"== {heading} =="
            banner = _paint_fit(banner, width, "head", color) if args.side_by_side else _paint(banner, "head", color)
            parts.append(banner.rstrip(" ") + "\n")
        parts.append(render_side_by_side(diff, width, color) if args.side_by_side else render_unified(diff, color))
    return _write("".join(parts))


def _write(text: str) -> int:
    """Write to stdout; a reader that stops early (`| head`) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at /dev/null so that no second error shows.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
    return 0
