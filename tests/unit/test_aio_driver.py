"""The "aio" conformance driver (tests/conformance/drivers/aio.py): its registration and its report
of the client's own errors. The suite itself exercises everything else it translates."""
from __future__ import annotations

import pytest
from conformance.drivers.aio import AioDriver

from gadu import events as ev
from gadu.errors import MessageTooLong
from gadu.server import ServerThread
from gadu.server.config import ServerConfig

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

USERS = {1001: "alice", 1002: "bob", 1003: "carol"}
ALICE, BOB = 1001, 1002


@pytest.fixture
def server():
    thread = ServerThread(ServerConfig(users=dict(USERS), port=0)).start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def driver():
    running = AioDriver().start()
    try:
        yield running
    finally:
        running.stop()


def address(server):
    return ("127.0.0.1", server.port)


def logged_in(driver, server, uin, **options):
    session = driver.open(address(server), uin, USERS[uin], **options)
    session.wait(ev.LoginOk)
    return session


def test_the_driver_is_registered_under_its_variant_name():
    from conformance.drivers import driver_class

    assert driver_class("aio") is AioDriver and AioDriver.name == "aio"


def test_errors_of_the_client_reach_the_test_thread(driver, server):
    session = logged_in(driver, server, ALICE)
    with pytest.raises(MessageTooLong):
        session.send_message(BOB, "x" * 2000)

