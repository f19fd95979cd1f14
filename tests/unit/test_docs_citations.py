"""Every citation in the code points at a section of docs/ that exists.

The design, the protocol notes and the talk the code refers to live in the repository's docs/, so a
person with only the repository can follow every reference; a reference to a document outside it
(the notes the project started from) is a broken link, and so is an anchor no section carries.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SOURCES = ["gadu", "legacy", "modern", "compat", "workbench", "tests", "README.md"]
SUFFIXES = {".py", ".md", ".c", ".toml", ".ini", ".txt"}

CITATION = re.compile(r"docs/([\w-]+\.md)(?:#([\w-]+))?")
DOC_LINK = re.compile(r"\]\(([\w-]+\.md)?(?:#([\w-]+))?\)")
OUTSIDE = re.compile(r"PROTOCOL-NOTES|DESIGN\.md|TALK\.md|STYLE\.md|\.\./shared")
TALK = re.compile(r"\bthe talk\b|\bslides? \d+", re.IGNORECASE)


def source_files() -> Iterator[Path]:
    for name in SOURCES:
        path = ROOT / name
        if path.is_file():
            yield path
        else:
            yield from (p for p in sorted(path.rglob("*")) if p.suffix in SUFFIXES and "__pycache__" not in p.parts)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(doc: Path) -> Set[str]:
    text = doc.read_text(encoding="utf-8")
    found = set(re.findall(r'<a id="([\w-]+)"></a>', text))
    found |= {slug(m) for m in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}
    return found


ANCHORS: Dict[str, Set[str]] = {doc.name: anchors(doc) for doc in DOCS.glob("*.md")}


def citations() -> List[Tuple[str, int, str, str]]:
    found = []
    for path in source_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for doc, anchor in CITATION.findall(line):
                found.append((f"{path.relative_to(ROOT)}:{number}", number, doc, anchor))
    return found


def test_the_three_documents_exist():
    assert {"architecture.md", "protocol.md", "talk.md"} <= set(ANCHORS)


@pytest.mark.parametrize("where,line,doc,anchor", citations(), ids=lambda value: str(value))
def test_a_citation_points_at_a_section_that_exists(where, line, doc, anchor):
    assert doc in ANCHORS, f"{where}: docs/{doc} does not exist"
    assert not anchor or anchor in ANCHORS[doc], f"{where}: docs/{doc} has no section #{anchor}"


def test_links_between_the_documents_resolve():
    for doc in DOCS.glob("*.md"):
        for target, anchor in DOC_LINK.findall(doc.read_text(encoding="utf-8")):
            name = target or doc.name
            assert name in ANCHORS, f"{doc.name} links to {name}, which is not in docs/"
            assert not anchor or anchor in ANCHORS[name], f"{doc.name} links to {name}#{anchor}, which is missing"


def test_nothing_cites_a_document_outside_the_repository():
    outside = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
               for path in source_files()
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if OUTSIDE.search(line) and path.name != Path(__file__).name]
    assert not outside, "\n".join(outside)


def test_every_mention_of_the_talk_says_where_to_read_it():
    """A comment that leans on the talk (or one of its slides) has docs/talk.md within three lines."""
    missing = []
    for path in source_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if TALK.search(line) and path.name != Path(__file__).name:
                near = "\n".join(lines[max(0, index - 3): index + 4])
                if "docs/talk.md" not in near:
                    missing.append(f"{path.relative_to(ROOT)}:{index + 1}: {line.strip()}")
    assert not missing, "\n".join(missing)
