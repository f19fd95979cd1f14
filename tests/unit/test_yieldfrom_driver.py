"""The yield-from client through its two conformance drivers ("yieldfrom", "yieldfrom@asyncio").

What the suite does not reach: a session dropped for a newer login of its uin, through the blocking
test interface of tests/conformance/drivers/base.py, against the reference server on 127.0.0.1.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from conformance.drivers.yieldfrom import YieldFromDriver, YieldFromOnAsyncioDriver
from server_testing import running_server

from gadu import events as ev

USERS = {2001: "ala", 2002: "ola", 2003: "ela", 2004: "iza", 2005: "ula", 2006: "zoja"}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with running_server(users=dict(USERS)) as running:
        yield running


@pytest.fixture(params=[YieldFromDriver, YieldFromOnAsyncioDriver], ids=lambda cls: cls.name)
def driver(request) -> Iterator[Any]:
    instance = request.param().start()
    try:
        yield instance
    finally:
        instance.stop()


def address(server: Any) -> Any:
    return ("127.0.0.1", server.port)


def logged_in(driver: Any, server: Any, uin: int, **options: Any) -> Any:
    session = driver.open(address(server), uin, USERS[uin], **options)
    session.wait(ev.LoginOk)
    return session


def test_dropped_for_a_newer_login(driver, server):
    """The server drops an older session of a uin that logs in again: Disconnecting, then a clean Closed."""
    first = logged_in(driver, server, 2006)
    logged_in(driver, server, 2006)
    first.wait(ev.Disconnecting)
    assert first.wait(ev.Closed).clean

