"""`gg-workbench scan` from the command line: the JSON contract, the exit status, and files it cannot read."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.scan.rules import RULES

CORPUS = Path(__file__).parent / "corpus"


def run(capsys, *argv):
    status = main(["scan", *argv])
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture
def tree(tmp_path):
    """A small project: corpus files as .py, one undecodable, one unreadable, one excluded folder."""
    shutil.copy(CORPUS / "loop_arguments.py.txt", tmp_path / "loops.py")
    shutil.copy(CORPUS / "event_loop.py.txt", tmp_path / "events.py")
    (tmp_path / "build").mkdir()
    shutil.copy(CORPUS / "asyncore_imports.py.txt", tmp_path / "build" / "generated.py")
    (tmp_path / ".tox").mkdir()
    shutil.copy(CORPUS / "asyncore_imports.py.txt", tmp_path / ".tox" / "hidden.py")
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: utf-8 -*-\nname = '\xff'\n")
    os.symlink(tmp_path / "gone.py", tmp_path / "broken.py")
    (tmp_path / "notes.txt").write_text("import asyncore\n")
    return tmp_path


def test_json_is_the_contract_with_migrate(capsys, tree):
    """The JSON object has exactly the fields the contract names, and the unreadable files are listed."""
    status, out, _ = run(capsys, str(tree), "--format", "json", "--target", "3.13", "--exclude", "build/")
    document = json.loads(out)
    assert set(document) == {"findings", "summary"}
    assert set(document["summary"]) == {"files", "parsed", "unparsed", "lines", "seconds", "by_code"}
    for finding in document["findings"]:
        assert set(finding) == {"path", "line", "col", "code", "message", "kind", "deprecated", "breaks",
                                "breaks_on_target", "see"}
        assert finding["see"].startswith("gg-workbench diff ")
    summary = document["summary"]
    assert summary["by_code"] == {"GW206": 8, "GW208": 3}
    assert summary["files"] == 4 and summary["parsed"] == 2
    reasons = {Path(item["path"]).name: item["reason"] for item in summary["unparsed"]}
    assert reasons["latin.py"].startswith("cannot decode")
    assert reasons["broken.py"].startswith("cannot read")
    assert status == 1  # loop= breaks on 3.13


def test_exit_status_follows_the_target(capsys, tree):
    """loop= breaks from 3.10 on; GW208 alone never fails a scan up to 3.13."""
    args = [str(tree / "loops.py"), "--format", "json"]
    assert run(capsys, *args, "--target", "3.9")[0] == 0
    assert run(capsys, *args, "--target", "3.10")[0] == 1
    events = [str(tree / "events.py"), "--target", "3.13"]
    assert run(capsys, *events)[0] == 0
    assert run(capsys, *events, "--target", "3.14")[0] == 1


def test_select_and_ignore_choose_rules(capsys, tree):
    status, out, _ = run(capsys, str(tree), "--format", "json", "--select", "GW2", "--ignore", "GW206",
                         "--exclude", "build")
    assert json.loads(out)["summary"]["by_code"] == {"GW208": 3}
    assert status == 0


def test_default_excludes_skip_hidden_folders_but_not_build(capsys, tree):
    _, out, _ = run(capsys, str(tree), "--format", "json")
    paths = {Path(f["path"]).name for f in json.loads(out)["findings"]}
    assert "generated.py" in paths and "hidden.py" not in paths


@pytest.mark.parametrize("argv, says", [
    (["--select", "GW999"], "no rule matches 'GW999'"),
    (["--target", "three"], "not a Python version"),
    (["--ignore", "XY"], "no rule matches 'XY'"),
])
def test_usage_errors_exit_2(capsys, tree, argv, says):
    status, out, err = run(capsys, str(tree), *argv)
    assert status == 2 and says in err and out == ""


def test_a_missing_path_is_a_usage_error(capsys, tmp_path):
    status, _, err = run(capsys, str(tmp_path / "nowhere"))
    assert status == 2 and "no such file or folder" in err


def test_bad_format_is_an_argparse_usage_error(capsys, tree):
    with pytest.raises(SystemExit) as stopped:
        main(["scan", str(tree), "--format", "xml"])
    assert stopped.value.code == 2


def test_text_output_has_the_line_format_and_the_summary(capsys, tree):
    """file:line:col CODE message (deprecated, breaks) -> diff command; then per code, files, speed."""
    status, out, _ = run(capsys, str(tree / "loops.py"), str(tree / "latin.py"), "--target", "3.13")
    first = out.splitlines()[0]
    assert first == (f"{tree / 'loops.py'}:9:33 GW206 loop= passed to asyncio.sleep() "
                     f"(deprecated 3.8, breaks 3.10) -> {RULES['GW206'].see}")
    assert "  GW206      8  " in out
    assert "files: 2 scanned, 1 parsed, 1 could not be read, decoded or parsed:" in out
    assert "latin.py: cannot decode" in out
    assert " lines/s" in out and "8 finding(s) break on Python 3.13" in out
    assert status == 1


def test_scan_never_runs_the_code_it_reads(capsys, tmp_path):
    """A module that would write a file when imported or run is only read."""
    marker = tmp_path / "ran"
    (tmp_path / "bomb.py").write_text(f"import asyncore\nopen({str(marker)!r}, 'w').close()\n")
    status, _, _ = run(capsys, str(tmp_path), "--target", "3.11")
    assert not marker.exists() and status == 0
