"""Fail the CI run unless all six envs ran their tests, none skipped, none failed; print one summary line."""
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ENVS = ["py38", "py39", "py310", "py311", "py312", "py313"]


def main(results: Path) -> int:
    problems = []
    tox = json.loads((results / "tox-result.json").read_text())
    totals = {"passed": 0, "failed": 0, "skipped": 0, "xfailed": 0}
    for env in [*ENVS, "lint", "report"]:
        info = tox.get("testenvs", {}).get(env)
        if info is None:
            problems.append(f"{env}: did not run")
            continue
        codes = [run.get("retcode") for run in info.get("test", [])]
        if not codes or any(code != 0 for code in codes):
            problems.append(f"{env}: commands returned {codes}")
    for env in ENVS:
        if not (results / f"conformance-{env}.json").is_file():
            problems.append(f"{env}: wrote no conformance results")
        report = results / f"{env}.xml"
        if not report.is_file():
            problems.append(f"{env}: no pytest report at {report}")
            continue
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        tests, failures, errors = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors"))
        skipped_cases = [c for c in suite.iter("testcase") if c.find("skipped") is not None]
        xfailed = sum(1 for c in skipped_cases if c.find("skipped").get("type") == "pytest.xfail")
        skipped = len(skipped_cases) - xfailed
        passed = tests - failures - errors - len(skipped_cases)
        print(f"ci: {env}: {tests} tests, {passed} passed, {failures + errors} failed, "
              f"{skipped} skipped, {xfailed} expected failures")
        totals["passed"] += passed
        totals["failed"] += failures + errors
        totals["skipped"] += skipped
        totals["xfailed"] += xfailed
        if tests == 0:
            problems.append(f"{env}: ran no test")
        if skipped:
            problems.append(f"{env}: {skipped} tests skipped; CI allows none")
    for problem in problems:
        print(f"ci: FAIL {problem}", file=sys.stderr)
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if problems or totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
