"""SARIF 2.1.0 from `gg-workbench scan --format sarif`, checked by other people's code, not only ours.

sarif-tools (a SARIF consumer) reads the log back and must see every finding where the scan put it;
sarif-pydantic (a SARIF 2.1.0 object model) must accept it. sarif-pydantic needs Python 3.10+, so its
test exists only there (py310-py313 in CI); sarif-tools installs on 3.8-3.13 and runs in every env.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.scan.rules import RULES

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture
def sarif_log(tmp_path, capsys):
    """The scan of the whole corpus (as .py files) as a SARIF file, and the JSON of the same scan."""
    for path in CORPUS.glob("*.py.txt"):
        shutil.copy(path, tmp_path / path.name[: -len(".txt")])
    (tmp_path / "undecodable.py").write_bytes(b"x = '\xff'\n")
    main(["scan", str(tmp_path), "--format", "sarif", "--target", "3.13"])
    log = tmp_path / "scan.sarif"
    log.write_text(capsys.readouterr().out, encoding="utf-8")
    main(["scan", str(tmp_path), "--format", "json", "--target", "3.13"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    return log, findings


def test_sarif_has_rules_with_help_and_results_with_physical_locations(sarif_log):
    log, findings = sarif_log
    document = json.loads(log.read_text(encoding="utf-8"))
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(RULES)
    assert all(rule["help"]["text"] and rule["shortDescription"]["text"] for rule in rules)
    assert len(run["results"]) == len(findings)
    for result, finding in zip(run["results"], findings):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding["code"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (finding["line"], finding["col"])
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [Path(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).name for n in notes] == \
        ["asyncio_async_py2.py", "undecodable.py"]


def test_sarif_tools_reads_every_finding_back(sarif_log, require):
    """sarif-tools' loader and records: tool name, file, line, rule and severity for each finding."""
    require(importlib.util.find_spec("sarif") is not None, "sarif-tools",
            "pip install 'gadu-workbench[test]' (sarif-tools==3.0.5)")
    from sarif import loader

    log, findings = sarif_log
    sarif_file = loader.load_sarif_file(str(log))
    assert sarif_file.get_distinct_tool_names() == ["gg-workbench scan"]
    assert sarif_file.get_result_count() == len(findings)
    records = sorted((Path(r["Location"]).name, int(r["Line"]), r["Code"], r["Severity"])
                     for r in sarif_file.get_records())
    severity = {True: "error"}
    want = sorted((Path(f["path"]).name, f["line"], f["code"],
                   severity.get(f["breaks_on_target"], "none" if f["kind"] == "informational" else "warning"))
                  for f in findings)
    assert records == want


if sys.version_info >= (3, 10):

    def test_sarif_pydantic_accepts_the_log_as_sarif_2_1_0(sarif_log, require):
        """sarif-pydantic's object model validates the log and sees the same results and rules."""
        require(importlib.util.find_spec("sarif_pydantic") is not None, "sarif-pydantic",
                "pip install 'gadu-workbench[test]' (sarif-pydantic==0.6.2, Python 3.10+)")
        from sarif_pydantic import Sarif

        log, findings = sarif_log
        model = Sarif.model_validate_json(log.read_text(encoding="utf-8"))
        assert model.version == "2.1.0"
        run = model.runs[0]
        assert [rule.id for rule in run.tool.driver.rules] == list(RULES)
        assert [(r.rule_id, r.locations[0].physical_location.region.start_line) for r in run.results] == \
            [(f["code"], f["line"]) for f in findings]
