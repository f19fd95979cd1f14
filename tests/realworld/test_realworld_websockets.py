"""websockets 2.7 (2015), a Tulip-era asyncio library: @asyncio.coroutine, `asyncio.async`, loop=.
Its original does not compile on 3.7+; migrated, it compiles and imports on 3.13 and its own
client/server tests (real WebSocket connections over localhost) pass.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from realworld_projects import compile_all, gg_workbench, prepare, quiet_env, save_counts, scan

NAME, VERSION = "websockets", "2.7"
#: websockets/test_protocol.py defines its own property named `async` (a keyword since 3.7): no rule can
#: rename a project's own attribute, so migrate reports the file as not parsed and leaves it.
UNPARSED = "websockets/test_protocol.py"
#: Its test modules that parse; test_client_server starts real servers on localhost.
TEST_MODULES = ["websockets.test_client_server", "websockets.test_framing", "websockets.test_handshake",
                "websockets.test_http", "websockets.test_uri"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return prepare(NAME, VERSION, tmp_path_factory.mktemp(NAME))


def test_it_is_real_code_of_some_size(project):
    assert project.python_lines() >= 1000


def test_the_original_does_not_compile_here(project):
    failed = compile_all(project.original, skip=[])
    assert any(line.startswith("websockets/compatibility.py:") for line in failed), failed


def test_migrate_changes_and_leaves_what_it_says(project):
    save_counts(project)
    report = project.report
    assert report.status == 1  # one file it could not parse, reported
    assert list(report.not_migrated) == [UNPARSED]
    assert dict(report.changes) == {"GW201": 25, "GW202": 1, "GW206": 6, "GW208": 2}
    assert dict(report.left) == {}
    assert (report.converted, report.fallback) == (20, 5)
    for reason in ("`yield from reader(2)`", "`yield from stream.readline()`", "`yield from self.worker`",
                   "`yield from self.writer.drain()`", "`yield from self.ws_handler(self, path)`"):
        assert reason in report.text


def test_a_second_run_changes_nothing(project):
    done = subprocess.run([gg_workbench(), "migrate", str(project.migrated)], capture_output=True, text=True,
                          timeout=300)
    assert done.stdout == ""  # no diff
    assert " 0 changed, " in done.stderr and " 0 changes, " in done.stderr


def test_migrated_code_compiles_and_imports(project):
    assert compile_all(project.migrated, skip=[UNPARSED]) == []
    done = subprocess.run([sys.executable, "-c", "import websockets, websockets.client, websockets.server, "
                           "websockets.protocol; print(websockets.connect, websockets.serve)"],
                          cwd=project.migrated, capture_output=True, text=True, timeout=60, env=quiet_env())
    assert done.returncode == 0, done.stderr


def test_its_own_tests_pass_after_migration(project):
    done = subprocess.run([sys.executable, "-m", "unittest", *TEST_MODULES], cwd=project.migrated,
                          capture_output=True, text=True, timeout=300, env=quiet_env())
    assert done.returncode == 0, done.stderr[-3000:]
    ran = int(re.search(r"^Ran (\d+) tests", done.stderr, re.MULTILINE).group(1))
    # 26 SSL cases skip themselves: their test certificate is not in the source distribution.
    assert re.search(r"^OK \(skipped=26\)$", done.stderr, re.MULTILINE), done.stderr[-2000:]
    assert ran == 101


def test_scan_before_and_after(project):
    before, after = scan(project.original), scan(project.migrated / "websockets")
    save_counts(project, before, after)
    codes_before = {code for code, count in before["summary"]["by_code"].items() if count}
    assert len(codes_before) >= 3 and {"GW201", "GW206"} <= codes_before, before["summary"]
    # The file migrate could not parse keeps what it had; everywhere else none of the fixed codes is left.
    left = {f["code"] for f in after["findings"] if not f["path"].endswith("test_protocol.py")}
    assert not left & {"GW201", "GW202", "GW204", "GW205", "GW206"}, after["findings"]
