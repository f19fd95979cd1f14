"""The scan corpus: each construct and its true negatives, with the exact findings written beside each line.

A line ending in `# expect: GW101@1, GW207@35` must give exactly those codes at those 1-based columns, and
a line without one must give nothing; `info` marks a finding reached through compat (informational).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Set, Tuple

import pytest

from workbench.scan.command import scan_paths
from workbench.scan.rules import INFORMATIONAL, RULES

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.py.txt"))
_EXPECT = re.compile(r"#\s*expect:\s*(.+)$")


def expected_in(path: Path) -> Set[Tuple[int, int, str, bool]]:
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _EXPECT.search(line)
        if match:
            for item in match.group(1).split(","):
                words = item.split()
                code, col = words[0].split("@")
                found.add((number, int(col), code, "info" in words[1:]))
    return found


def test_the_corpus_covers_every_rule():
    """Every rule in the table has at least one true positive in the corpus."""
    codes = {code for path in FILES for _, _, code, _ in expected_in(path)}
    assert codes == set(RULES)


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_corpus_file_gives_exactly_its_expected_findings(path):
    """Each corpus file gives the findings its comments name, at their columns, and nothing else."""
    report = scan_paths([str(path)], (3, 13))
    got = {(f.line, f.col, f.code, f.kind == INFORMATIONAL) for f in report.findings}
    assert got == expected_in(path)


def test_informational_findings_never_break():
    """A construct reached through compat has no breaking version and never fails the scan."""
    report = scan_paths([str(CORPUS / "through_compat.py.txt")], (3, 13))
    informational = [f for f in report.findings if f.kind == INFORMATIONAL]
    assert len(informational) == 5
    assert all(f.breaks is None and not f.breaks_on_target for f in informational)
    # The plain `import asyncore` in the try block still breaks on 3.13 (its fallback is another line).
    assert [f.line for f in report.findings if f.breaks_on_target] == [3]


def test_a_file_that_parses_only_without_asyncio_async_is_scanned_whole():
    """asyncio.async( is masked in the tokens; the file then parses and its other findings come too."""
    report = scan_paths([str(CORPUS / "asyncio_async.py.txt")], (3, 13))
    assert report.parsed == 1 and report.unparsed == []
    assert {f.code for f in report.findings} == {"GW201", "GW202", "GW206"}


def test_a_file_that_never_parses_is_reported_with_its_reason_and_its_tokens_still_read():
    """Python 2 code: reported as not parsed, with the reason, and GW202 found from the tokens."""
    path = CORPUS / "asyncio_async_py2.py.txt"
    report = scan_paths([str(path)], (3, 13))
    assert report.parsed == 0 and report.lines == 0
    assert report.unparsed == [(str(path), report.unparsed[0][1])]
    assert report.unparsed[0][1].startswith("syntax error at line 4")
    assert [(f.line, f.code) for f in report.findings] == [(5, "GW202")]


@pytest.mark.parametrize("target, breaking", [
    ((3, 8), ["GW202", "GW203"]),
    ((3, 10), ["GW202", "GW203", "GW204", "GW205", "GW206"]),
    ((3, 11), ["GW201", "GW202", "GW203", "GW204", "GW205", "GW206", "GW207"]),
    ((3, 13), ["GW1", "GW201", "GW202", "GW203", "GW204", "GW205", "GW206", "GW207"]),
    ((3, 14), ["GW1", "GW2"]),
])
def test_what_breaks_depends_on_the_target(target, breaking):
    """A finding breaks from its rule's version on; GW208 only warns until 3.14."""
    report = scan_paths([str(path) for path in FILES], target)
    got: List[str] = sorted({f.code for f in report.findings if f.breaks_on_target})
    want = sorted(code for code in RULES if any(code.startswith(prefix) for prefix in breaking))
    assert got == want
