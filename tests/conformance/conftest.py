"""Fixtures of the conformance suite: the variant's driver, the reference server, the scripted peer.

Every case is written once and runs once per variant. The results plugin records each verdict for
`gg-workbench report`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from gadu.server import ServerThread
from gadu.server.config import DEMO_USERS, ServerConfig

from .drivers import VARIANTS, driver_class
from .drivers.base import Driver
from .expected import EXPECTED_FAILURES
from .helpers import many_users
from .peer import ScriptedPeer
from .results import ConformanceResults


def pytest_configure(config: pytest.Config) -> None:
    results_dir = os.environ.get("GG_RESULTS_DIR")
    if results_dir and not config.pluginmanager.has_plugin("conformance-results"):
        env = os.environ.get("GG_TOX_ENV") or "local"
        plugin = ConformanceResults(Path(results_dir) / f"conformance-{env}.json")
        config.pluginmanager.register(plugin, "conformance-results")


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        info = getattr(getattr(item, "function", None), "conformance_case", None)
        callspec = getattr(item, "callspec", None)
        if info is None or callspec is None:
            continue
        reason = EXPECTED_FAILURES.get((info.number, callspec.params.get("variant")))
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture(params=list(VARIANTS))
def variant(request) -> str:
    return request.param


@pytest.fixture
def driver(variant: str) -> Iterator[Driver]:
    """The variant's loop running in its own thread; stopped (and checked) after the case."""
    instance = driver_class(variant)().start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def server() -> Iterator[ServerThread]:
    config = ServerConfig.with_users(list(DEMO_USERS.items()) + many_users(), port=0, login_timeout=5.0)
    thread = ServerThread(config).start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def server_address(server: ServerThread):
    return ("127.0.0.1", server.port)


@pytest.fixture
def peer() -> Iterator[ScriptedPeer]:
    scripted = ScriptedPeer()
    try:
        yield scripted
    finally:
        scripted.close()
