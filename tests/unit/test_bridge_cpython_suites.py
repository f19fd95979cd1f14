"""CPython's own test_asyncore and test_asynchat, with asyncore.loop replaced by compat.bridge's drop-in.

Up to 3.11 the interpreter's `test` package has them; from 3.12 the pyasyncore and pyasynchat sdists
carry the same files in their `tests` folder, fetched here with pip at test time (never committed).
Each suite runs in its own process (cpython_suites_runner.py), which reports every test's outcome,
how often it went through the drop-in, and whether asyncore's own poll()/poll2() ran meanwhile.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any, Dict

import pytest

RUNNER = Path(__file__).with_name("cpython_suites_runner.py")
FROM_PYPI = sys.version_info >= (3, 12)
#: The fewest tests of each suite that must go through the drop-in (Linux runs 63 and 22; a machine
#: without IPv6 or AF_UNIX skips some).
FLOOR = {"asyncore": 40, "asynchat": 20}


SUITES = ("asyncore", "asynchat")


@pytest.fixture(scope="module")
def sdist_folders(tmp_path_factory, require) -> Dict[str, Path]:
    """3.12+: the pyasyncore and pyasynchat sdists of the installed versions, unpacked (one pip call)."""
    if not FROM_PYPI:
        return {}
    into = tmp_path_factory.mktemp("sdists")
    wanted = {name: f"py{name}=={importlib.metadata.version('py' + name)}" for name in SUITES}
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
         "--dest", str(into), *wanted.values()],
        capture_output=True, text=True, timeout=300,
    )
    folders = {}
    for name in SUITES:
        archives = sorted(into.glob(f"py{name}-*.tar.gz"))
        require(
            fetched.returncode == 0 and bool(archives), f"the {wanted[name]} sdist (for its tests)",
            f"pip could not download it: {fetched.stderr.strip()[-300:]}")
        with tarfile.open(archives[0]) as archive:
            archive.extractall(into, filter="data")  # 3.12+ only here: the safe extraction filter
        folders[name] = into / archives[0].name[: -len(".tar.gz")]
    return folders


def run_suite(name: str, sdist_folders: Dict[str, Path], tmp_path: Path, require: Any) -> Dict[str, Any]:
    if FROM_PYPI:
        module, args = f"tests.test_{name}", [str(sdist_folders[name])]
    else:
        module, args = f"test.test_{name}", []
        require(importlib.util.find_spec(module) is not None, f"CPython's {module}",
                "install this Python with its test package (pyenv builds include it)")
    done = subprocess.run([sys.executable, "-X", "dev", str(RUNNER), module, *args], capture_output=True,
                          text=True, timeout=600, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", SUITES)
def test_cpython_suite_passes_through_the_drop_in(name, sdist_folders, tmp_path, require):
    summary = run_suite(name, sdist_folders, tmp_path, require)
    tests = summary["tests"]
    broken = {test: row for test, row in tests.items() if row["outcome"] in ("fail", "error", "xpass")}
    assert not broken, json.dumps(broken, indent=1)[-4000:]
    through = [test for test, row in tests.items() if row["loop"] and row["outcome"] in ("pass", "xfail")]
    handed_back = [test for test in through if tests[test]["poll"] or tests[test]["poll2"]]
    assert not handed_back, f"asyncore's own poll ran inside the drop-in: {handed_back}"
    assert len(through) >= FLOOR[name], f"only {len(through)} tests went through the drop-in"
    for test, row in tests.items():
        if row["outcome"] == "xfail":
            assert row.get("detail"), f"{test} is an expected failure without a reason"
    counts = {outcome: sum(1 for row in tests.values() if row["outcome"] == outcome)
              for outcome in ("pass", "xfail", "skip")}
    record = dict(counts, suite=summary["module"], python=summary["python"], through_drop_in=len(through),
                  total=len(tests))
    print(json.dumps(record))
    results = os.environ.get("GG_RESULTS_DIR")
    if results:
        Path(results).mkdir(parents=True, exist_ok=True)
        env = os.environ.get("GG_TOX_ENV", "local")
        Path(results, f"cpython-{name}-{env}.json").write_text(json.dumps(record), encoding="utf-8")
