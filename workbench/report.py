"""`gg-workbench report`: merge the conformance results of every tox env into one matrix.

Each env writes `conformance-<env>.json` (see tests/conformance/results.py); this module reads them
all and writes `conformance.md` and a self-contained `conformance.html`: rows are cases grouped by
section, columns are variant x Python, cells pass / expected failure / fail / not run.
"""
from __future__ import annotations

import argparse
import html
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

__all__ = ["Matrix", "add_parser", "load_results", "render_html", "render_markdown"]

GROUPS = {
    "1": "Framing",
    "2": "Login",
    "3": "Contacts and presence",
    "4": "Messages",
    "5": "Keep-alive and timers",
    "6": "Disconnects and bad input",
    "7": "Many sessions in one loop",
    "8": "Resources",
    "9": "A server at awkward moments",
}
#: verdict -> (short mark for Markdown, label, colour for HTML)
VERDICTS = {
    "passed": ("pass", "pass", "#2e7d32"),
    "xfailed": ("xfail", "expected failure", "#f9a825"),
    "failed": ("FAIL", "fail", "#c62828"),
    "xpassed": ("XPASS", "unexpected pass", "#c62828"),
    "skipped": ("skip", "skipped", "#757575"),
    None: ("-", "not run", "#e0e0e0"),
}
VARIANT_ORDER = ["dispatcher", "dispatcher@asyncio", "callbacks", "yieldfrom", "yieldfrom@asyncio", "aio"]

Column = Tuple[str, str]  # (variant, python)


def _case_key(case: str) -> Tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in case.split("."))


def _python_key(version: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:2] if part.isdigit())


def _variant_key(variant: str) -> Tuple[int, str]:
    return (VARIANT_ORDER.index(variant) if variant in VARIANT_ORDER else len(VARIANT_ORDER), variant)


class Matrix:
    """Cases x (variant, Python) with one verdict per cell."""

    def __init__(self) -> None:
        self.cases: Dict[str, Dict[str, str]] = {}
        self.cells: Dict[Tuple[str, Column], Dict[str, object]] = {}

    def add(self, python: str, row: Dict[str, object]) -> None:
        case = str(row["case"])
        self.cases.setdefault(case, {"title": str(row.get("title", "")), "statement": str(row.get("statement", ""))})
        column = (str(row["variant"]), python)
        self.cells[(case, column)] = row

    @property
    def columns(self) -> List[Column]:
        seen = {column for _, column in self.cells}
        return sorted(seen, key=lambda c: (_variant_key(c[0]), _python_key(c[1])))

    def ordered_cases(self) -> List[str]:
        return sorted(self.cases, key=_case_key)

    def verdict(self, case: str, column: Column) -> Optional[str]:
        row = self.cells.get((case, column))
        return None if row is None else str(row["verdict"])

    def totals(self, column: Column) -> Dict[Optional[str], int]:
        counts: Dict[Optional[str], int] = defaultdict(int)
        for case in self.cases:
            counts[self.verdict(case, column)] += 1
        return counts

    def summary(self) -> List[Tuple[str, Dict[Optional[str], int]]]:
        """Totals per variant over every Python."""
        per_variant: Dict[str, Dict[Optional[str], int]] = defaultdict(lambda: defaultdict(int))
        for column in self.columns:
            for verdict, count in self.totals(column).items():
                per_variant[column[0]][verdict] += count
        return sorted(per_variant.items(), key=lambda item: _variant_key(item[0]))


def load_results(paths: Iterable[Path]) -> Matrix:
    matrix = Matrix()
    for path in paths:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"gg-workbench report: cannot read {path}: {exc}") from None
        python = ".".join(str(document["python"]).split(".")[:2])
        for row in document["results"]:
            matrix.add(python, row)
    return matrix


def _group_of(case: str) -> str:
    return case.split(".")[0]


def render_markdown(matrix: Matrix) -> str:
    columns = matrix.columns
    lines = ["# Conformance matrix", ""]
    lines.append("| variant | " + " | ".join(label for _, (_, label, _) in _verdict_items()) + " |")
    lines.append("|---|" + "---|" * len(VERDICTS))
    for variant, counts in matrix.summary():
        lines.append(f"| {variant} | " + " | ".join(str(counts.get(v, 0)) for v, _ in _verdict_items()) + " |")
    lines += ["", "Cells: pass, xfail (expected failure, reason below), FAIL, XPASS, skip, - (not run).", ""]
    header = "| case | " + " | ".join(f"{v}<br>py{p}" for v, p in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    current_group = None
    reasons: List[str] = []
    for case in matrix.ordered_cases():
        group = _group_of(case)
        if group != current_group:
            current_group = group
            lines += ["", f"## {group}.x {GROUPS.get(group, '')}".rstrip(), "", header, rule]
        info = matrix.cases[case]
        marks = []
        for column in columns:
            verdict = matrix.verdict(case, column)
            marks.append(VERDICTS.get(verdict, VERDICTS[None])[0])
            row = matrix.cells.get((case, column))
            if row and verdict in ("xfailed", "failed", "skipped") and row.get("reason"):
                reasons.append(f"- {case} {column[0]} py{column[1]}: {verdict}: {row['reason']}")
        lines.append(f"| {case} {info['title']} | " + " | ".join(marks) + " |")
    lines += ["", "## Totals per column", "", header.replace("| case |", "| verdict |"), rule]
    for verdict, (_, label, _) in _verdict_items():
        lines.append(f"| {label} | " + " | ".join(str(matrix.totals(c).get(verdict, 0)) for c in columns) + " |")
    if reasons:
        lines += ["", "## Reasons", "", *sorted(set(reasons), key=lambda r: _case_key(r[2:].split()[0]))]
    return "\n".join(lines) + "\n"


def _verdict_items():
    return list(VERDICTS.items())


def render_html(matrix: Matrix) -> str:
    esc = html.escape
    columns = matrix.columns
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Conformance matrix</title><style>",
        "body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:13px}"
        "th,td{border:1px solid #ccc;padding:3px 6px}th{background:#f5f5f5;position:sticky;top:0}"
        "td.cell{min-width:2.6em;text-align:center;color:#fff;font-size:11px}td.case{min-width:22em;max-width:30em}"
        "thead th{font-size:11px;font-weight:normal}table.summary td{text-align:right}"
        "tr.group th{text-align:left;background:#e3e8f0}.stmt{color:#555;font-size:12px}",
        "</style></head><body><h1>Conformance matrix</h1>",
        "<p>Rows are cases, columns are variant x Python. Hover a cell for its reason and duration.</p>",
        "<table class='summary'><thead><tr><th>variant</th>",
    ]
    out += [f"<th>{esc(label)}</th>" for _, (_, label, _) in _verdict_items()]
    out.append("</tr></thead><tbody>")
    for variant, counts in matrix.summary():
        out.append(f"<tr><th>{esc(variant)}</th>" + "".join(
            f"<td>{counts.get(verdict, 0)}</td>" for verdict, _ in _verdict_items()) + "</tr>")
    out += ["</tbody></table><h2>Cases</h2>", "<table><thead><tr><th>case</th>"]
    out += [f"<th>{esc(v)}<br>py{esc(p)}</th>" for v, p in columns]
    out.append("</tr></thead><tbody>")
    current_group = None
    for case in matrix.ordered_cases():
        group = _group_of(case)
        if group != current_group:
            current_group = group
            out.append(f"<tr class='group'><th colspan='{len(columns) + 1}'>{esc(group)}.x "
                       f"{esc(GROUPS.get(group, ''))}</th></tr>")
        info = matrix.cases[case]
        out.append(f"<tr><td class='case'><b>{esc(case)}</b> {esc(info['title'])}"
                   f"<div class='stmt'>{esc(info['statement'])}</div></td>")
        for column in columns:
            verdict = matrix.verdict(case, column)
            mark, label, colour = VERDICTS.get(verdict, VERDICTS[None])
            row = matrix.cells.get((case, column)) or {}
            tip = label
            if row.get("reason"):
                tip += f": {row['reason']}"
            if row.get("duration") is not None:
                tip += f" ({float(row['duration']):.3f} s)"
            out.append(f"<td class='cell' style='background:{colour}' title='{esc(tip, quote=True)}'>"
                       f"{esc(mark)}</td>")
        out.append("</tr>")
    out.append("</tbody><tfoot>")
    for verdict, (_, label, colour) in _verdict_items():
        out.append(f"<tr><th style='text-align:left;color:{colour}'>{esc(label)}</th>")
        out += [f"<td>{matrix.totals(c).get(verdict, 0)}</td>" for c in columns]
        out.append("</tr>")
    out.append("</tfoot></table></body></html>")
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> int:
    results_dir = Path(args.results)
    paths = sorted(results_dir.glob("conformance-*.json"))
    if not paths:
        print(f"gg-workbench report: no conformance-*.json files in {results_dir}; "
              "run the test matrix first (tox -p)", file=sys.stderr)
        return 2
    matrix = load_results(paths)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "conformance.md").write_text(render_markdown(matrix), encoding="utf-8")
    (output / "conformance.html").write_text(render_html(matrix), encoding="utf-8")
    print(f"read {len(paths)} result files: {len(matrix.cases)} cases x {len(matrix.columns)} columns")
    for variant, counts in matrix.summary():
        print(f"  {variant:20} " + ", ".join(f"{counts[v]} {VERDICTS[v][1]}" for v in VERDICTS if counts.get(v)))
    print(f"wrote {output / 'conformance.md'} and {output / 'conformance.html'}")
    failed = sum(counts.get("failed", 0) + counts.get("xpassed", 0) for _, counts in matrix.summary())
    return 1 if failed and args.strict else 0


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="merge conformance results into conformance.md and conformance.html",
        description="Merge the conformance-<env>.json files that each tox env writes into one matrix.",
    )
    parser.add_argument("--results", default=".results", help="folder of conformance-*.json (default: .results)")
    parser.add_argument("--output", default=".", help="folder for conformance.md/.html (default: .)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any cell failed")
    parser.set_defaults(handler=run)
