"""gadu.packetlog: one line per packet, both directions, never the login hash."""
from __future__ import annotations

import logging

import pytest

from gadu.client import ClientConnection
from gadu.packetlog import PacketLog
from gadu.packets import Welcome


def test_client_log_names_packets_and_hides_the_hash(caplog):
    logger = logging.getLogger("test.packetlog")
    log = PacketLog("client", "uin=1002", logger)
    conn = ClientConnection(1002, "secret")
    welcome = Welcome(seed=0x12345678).encode()
    conn.receive_data(welcome)
    login = conn.data_to_send()
    with caplog.at_level(logging.INFO, logger="test.packetlog"):
        log.incoming(welcome[:3])
        log.incoming(welcome[3:])
        log.outgoing(login)
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith("uin=1002 in GG_WELCOME len=4 78563412")
    assert lines[1].startswith("uin=1002 out GG_LOGIN80 (hash zeroed) len=")
    from gadu.hashing import GG_LOGIN_HASH_SHA1, login_hash_field

    real_hash = login_hash_field(GG_LOGIN_HASH_SHA1, b"secret", 0x12345678).hex()
    assert real_hash[:40] not in lines[1]
    assert len(lines) == 2


def test_garbage_stops_the_log_quietly(caplog):
    log = PacketLog("server", "peer", logging.getLogger("test.packetlog"))
    with caplog.at_level(logging.INFO, logger="test.packetlog"):
        log.incoming(b"\xff" * 16)
    assert caplog.records == []


def test_role_is_checked():
    with pytest.raises(ValueError, match="role"):
        PacketLog("middle", "x", logging.getLogger("x"))
