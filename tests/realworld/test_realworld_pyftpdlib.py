"""pyftpdlib 1.3.0 (2014), an asyncore/asynchat FTP server, and its benchmark client, an asyncore
program of dispatchers and async_chat channels. Migrated, the server runs on 3.13 through the vendored
compat and passes its own test suite (servers and ftplib clients on 127.0.0.1); the benchmark client
drives the migrated server over 127.0.0.1.
"""
from __future__ import annotations

import re
import selectors
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from realworld_projects import compile_all, gg_workbench, prepare, quiet_env, save_counts, scan

NAME, VERSION = "pyftpdlib", "1.3.0"
#: Cases of its suite that fail without any migration too (3.8, the stdlib's asyncore): ftplib ignores
#: the PASV address since bpo-43285 (the two masquerade cases); and the two `on_incomplete_file_*` cases
#: race an abort against a transfer that loopback often finishes first (seen failing on 3.8 unmigrated).
MAY_FAIL_WITHOUT_MIGRATION = {
    "test_on_incomplete_file_sent (test_ftpd.TestCallbacks",
    "test_on_incomplete_file_received (test_ftpd.TestCallbacks",
    "test_masquerade_address (test_ftpd.TestConfigurableOptions",
    "test_masquerade_address_map (test_ftpd.TestConfigurableOptions",
}
SERVER = """
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
authorizer = DummyAuthorizer()
authorizer.add_user("bench", "bench", sys.argv[1], perm="elradfmw")
FTPHandler.authorizer = authorizer
server = FTPServer(("127.0.0.1", 0), FTPHandler)
print(server.socket.getsockname()[1], flush=True)
server.serve_forever(timeout=1)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return prepare(NAME, VERSION, tmp_path_factory.mktemp(NAME))


def test_it_is_real_code_of_some_size(project):
    assert project.python_lines() >= 1000


def test_migrate_changes_and_leaves_what_it_says(project):
    save_counts(project)
    report = project.report
    assert report.status == 0 and report.not_migrated == {}
    assert dict(report.changes) == {"GW101": 2, "GW102": 3, "GW106": 3}
    assert dict(report.left) == {"GW104": 2, "GW105": 3}
    migrated = (project.migrated / "pyftpdlib" / "ioloop.py").read_text()
    assert "from compat import asyncore\nfrom compat import asynchat\n" in migrated
    assert "compat.bridge.loop(use_poll=True)" in (project.migrated / "test" / "bench.py").read_text()


def test_a_second_run_changes_nothing(project):
    done = subprocess.run([gg_workbench(), "migrate", str(project.migrated)], capture_output=True, text=True,
                          timeout=300)
    assert done.stdout == ""  # no diff
    assert " 0 changed, " in done.stderr and " 0 changes, " in done.stderr


def test_migrated_code_compiles_and_imports(project):
    assert compile_all(project.migrated, skip=[]) == []
    done = subprocess.run([sys.executable, "-c", "import pyftpdlib.servers, pyftpdlib.handlers, pyftpdlib.ioloop as m;"
                           "import compat; assert m.asyncore is compat.asyncore"],
                          cwd=project.migrated, capture_output=True, text=True, timeout=60, env=quiet_env())
    assert done.returncode == 0, done.stderr


def test_its_own_tests_pass_after_migration(project):
    done = subprocess.run([sys.executable, "-m", "unittest", "test_ftpd"], cwd=project.migrated / "test",
                          capture_output=True, text=True, timeout=300,
                          env=quiet_env(PYTHONPATH=str(project.migrated)))
    ran = int(re.search(r"^Ran (\d+) tests", done.stderr, re.MULTILINE).group(1))
    failed = {m.group(1) for m in re.finditer(r"^(?:FAIL|ERROR): (.+?)\.\w+\)$", done.stderr, re.MULTILINE)}
    assert ran == 189
    assert failed <= MAY_FAIL_WITHOUT_MIGRATION, done.stderr[-3000:]


def run_bench_against_server(root: Path, tmp_path: Path) -> str:
    """The project's benchmark client (asyncore dispatchers) against its server, both migrated, on 127.0.0.1."""
    home = tmp_path / "ftp-home"
    home.mkdir()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(home)], cwd=root, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=quiet_env(PYTHONPATH=str(root)))
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(server.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), "the FTP server did not print its port"
        port = server.stdout.readline().strip()
        assert port.isdigit(), server.stderr.read() if server.poll() is not None else port
        done = subprocess.run([sys.executable, "bench.py", "-u", "bench", "-p", "bench", "-H", "127.0.0.1",
                               "-P", port, "-b", "concurrence", "-n", "3", "-s", "100K"],
                              cwd=root / "test", capture_output=True, text=True, timeout=120,
                              env=quiet_env(PYTHONPATH=str(root)))
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout
    finally:
        server.kill()
        server.communicate(timeout=30)


def test_asyncore_bench_client_drives_the_server_on_asyncore(project, tmp_path):
    # The imports step alone: the client's dispatchers still run on asyncore.loop (pyasyncore on 3.12+).
    root = tmp_path / "imports-only"
    shutil.copytree(project.original, root)
    done = subprocess.run([gg_workbench(), "migrate", "--write", "--step", "imports", "--vendor-compat", str(root),
                           str(root)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "asyncore.loop(use_poll=True)" in (root / "test" / "bench.py").read_text()
    out = run_bench_against_server(root, tmp_path)
    for phase in ("RETR 100.0K file", "STOR 100.0K file", "(QUIT)"):
        assert phase in out, out


def test_asyncore_bench_client_drives_the_server_through_the_bridge(project, tmp_path):
    out = run_bench_against_server(project.migrated, tmp_path)
    for phase in ("RETR 100.0K file", "STOR 100.0K file", "(QUIT)"):
        assert phase in out, out


def test_scan_before_and_after(project):
    before, after = scan(project.original), scan(project.migrated)
    save_counts(project, before, after)
    codes_before = {code for code, count in before["summary"]["by_code"].items() if count}
    assert len(codes_before & {"GW101", "GW102", "GW104", "GW105", "GW106"}) >= 3, before["summary"]
    assert after["summary"]["by_code"].get("GW106", 0) == 0, after["summary"]
    assert not [f for f in after["findings"] if f["breaks_on_target"]
                and not f["path"].replace("\\\\", "/").split("/migrated/")[-1].startswith("compat/")], after
