"""gg-workbench report: per-env conformance JSON merged into one Markdown and HTML matrix."""
from __future__ import annotations

import json
from html.parser import HTMLParser

from workbench import cli


def write_env(folder, env, python, rows):
    document = {"python": python, "env": env, "results": rows}
    (folder / f"conformance-{env}.json").write_text(json.dumps(document))


def row(case, variant, verdict, reason=""):
    return {"case": case, "title": f"title {case}", "statement": f"statement {case}", "variant": variant,
            "verdict": verdict, "duration": 0.01, "reason": reason}


class TextCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells = []
        self.titles = []

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self.titles.append(dict(attrs).get("title"))

    def handle_data(self, data):
        if data.strip():
            self.cells.append(data.strip())


def test_matrix_from_two_envs(tmp_path, capsys):
    write_env(tmp_path, "py38", "3.8.18", [
        row("1.2", "aio", "passed"), row("1.10", "aio", "passed"), row("2.1", "aio", "xfailed", "needs X & Y"),
        row("1.2", "dispatcher", "failed", "boom <here>"),
    ])
    write_env(tmp_path, "py313", "3.13.0", [row("1.2", "aio", "passed"), row("2.1", "aio", "passed")])
    out = tmp_path / "out"
    assert cli.main(["report", "--results", str(tmp_path), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 cases x 3 columns" in printed
    markdown = (out / "conformance.md").read_text()
    # Cases in numeric order (1.2 before 1.10), grouped by section, with the reason of each xfail/failure.
    assert markdown.index("| 1.2 title 1.2") < markdown.index("| 1.10 title 1.10") < markdown.index("| 2.1 ")
    assert "## 1.x Framing" in markdown and "## 2.x Login" in markdown
    assert "2.1 aio py3.8: xfailed: needs X & Y" in markdown
    assert "1.2 dispatcher py3.8: failed: boom <here>" in markdown
    # Columns: dispatcher before aio, Pythons in order; a cell that did not run is shown as such.
    header = next(line for line in markdown.splitlines() if line.startswith("| case |"))
    assert header.index("dispatcher<br>py3.8") < header.index("aio<br>py3.8") < header.index("aio<br>py3.13")
    page = TextCollector()
    page.feed((out / "conformance.html").read_text())
    assert "boom <here>" not in (out / "conformance.html").read_text()
    assert any(t and "boom <here>" in t for t in page.titles), "the reason is in the cell's tooltip, escaped once"
    assert "statement 1.10" in page.cells
    # dispatcher ran 1.2 only, aio on 3.13 did not run 1.10: three cells say "not run".
    assert page.titles.count("not run") == 3


def test_strict_mode_fails_on_a_failed_cell(tmp_path):
    write_env(tmp_path, "py311", "3.11.7", [row("1.1", "aio", "failed", "x")])
    assert cli.main(["report", "--results", str(tmp_path), "--output", str(tmp_path), "--strict"]) == 1


def test_no_results_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["report", "--results", str(tmp_path / "missing")]) == 2
    assert "run the test matrix first" in capsys.readouterr().err
