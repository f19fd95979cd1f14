"""The project's own trees, scanned: what `gg-workbench scan` must say about code we know line by line.

legacy/ reaches asyncore and asynchat only through `compat`, so its asyncore-era constructs are reported
as informational (they run on 3.8-3.13) and nothing breaks; modern/ and gadu/ scan clean. The scan runs
from the repository root so that the paths below are the ones a user would see.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.scan.command import scan_paths
from workbench.scan.rules import INFORMATIONAL

ROOT = Path(__file__).resolve().parents[3]

LEGACY_FINDINGS = sorted([
    ("legacy/dispatcher/client.py", "GW102", "from compat import asynchat"),
    ("legacy/dispatcher/client.py", "GW105", "class GaduClient derives from asynchat.async_chat"),
    ("legacy/dispatcher/timers.py", "GW101", "from compat import asyncore"),
    ("legacy/dispatcher/timers.py", "GW106", "asyncore.loop used"),
    ("legacy/dispatcher/trigger.py", "GW101", "from compat import asyncore"),
    ("legacy/dispatcher/trigger.py", "GW104", "class Trigger derives from asyncore.dispatcher"),
    ("legacy/dispatcher/examples/echo_server.py", "GW101", "from compat import asyncore"),
    ("legacy/dispatcher/examples/echo_server.py", "GW102", "from compat import asynchat"),
    ("legacy/dispatcher/examples/echo_server.py", "GW105", "class EchoChannel derives from asynchat.async_chat"),
    ("legacy/dispatcher/examples/echo_server.py", "GW104", "class EchoServer derives from asyncore.dispatcher"),
    ("legacy/dispatcher/examples/echo_server.py", "GW106", "asyncore.loop used"),
    ("legacy/dispatcher/examples/echo_server_asyncio.py", "GW101", "from compat import asyncore"),
    ("legacy/dispatcher/examples/echo_server_asyncio.py", "GW102", "from compat import asynchat"),
    ("legacy/dispatcher/examples/echo_server_asyncio.py", "GW105",
     "class EchoChannel derives from asynchat.async_chat"),
    ("legacy/dispatcher/examples/echo_server_asyncio.py", "GW104",
     "class EchoServer derives from asyncore.dispatcher"),
])


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("target", [(3, 8), (3, 13)])
def test_legacy_reports_its_asyncore_constructs_as_informational_and_nothing_breaks(target):
    report = scan_paths(["legacy"], target)
    got = sorted((f.path.replace(os.sep, "/"), f.code, f.message) for f in report.findings)
    assert got == LEGACY_FINDINGS
    assert all(f.kind == INFORMATIONAL and f.breaks is None for f in report.findings)
    assert report.breaking() == 0 and report.unparsed == []


@pytest.mark.parametrize("tree", ["modern", "gadu"])
def test_modern_and_gadu_scan_clean(tree):
    """modern.loop's own `coroutine` and `loop=`, and compat.coroutine, are not asyncio's: no findings."""
    report = scan_paths([tree], (3, 13))
    assert report.findings == [] and report.unparsed == []
    assert report.parsed == report.files > 10
