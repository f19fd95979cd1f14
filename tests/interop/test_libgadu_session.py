"""libgadu 1.12.2, a real independent GG client, against the reference server (issue 3, Interop).

Each test starts the server in a thread on a free port and drives ggpeer processes; every wait is
for a printed libgadu event, with a deadline.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from gadu.server import ServerThread
from gadu.server.config import ServerConfig

pytestmark = pytest.mark.interop

ALICE, BOB, CAROL, ECHO = 1001, 1002, 1003, 1000
USERS = [(ALICE, "alice-hasło"), (BOB, "bob-secret"), (CAROL, "carol")]
PASSWORDS = dict(USERS)
POLISH = "Zażółć gęślą jaźń, ZAŻÓŁĆ GĘŚLĄ JAŹŃ <b>&</b>"

GG_STATUS_NOT_AVAIL = 0x01
GG_STATUS_AVAIL = 0x02
GG_STATUS_AVAIL_DESCR = 0x04
GG_STATUS_BUSY_DESCR = 0x05
GG_STATUS_INVISIBLE = 0x14
GG_STATUS_NOT_AVAIL_DESCR = 0x15
GG_CLASS_QUEUED = 0x01
GG_CLASS_CHAT = 0x08
GG_ACK_DELIVERED = 2
GG_ACK_QUEUED = 3
GG_FAILURE_PASSWORD = 6


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig.with_users(USERS, port=0, echo_uin=ECHO)) as running:
        yield running


@pytest.fixture
def login(server, libgadu_peer):
    """`login(uin, hash_type)`: a libgadu peer that has logged in (GG_EVENT_CONN_SUCCESS)."""

    def start(uin: int, hash_type: str = "sha1"):
        peer = libgadu_peer(server.port, uin, PASSWORDS[uin], hash_type)
        peer.wait_type("conn_success", timeout=10)
        return peer

    return start


def test_sha1_and_gg32_logins_see_each_others_status_and_description(login):
    """Both hash types log in; each sees the other online, then each description change (UTF-8)."""
    alice = login(ALICE, "sha1")
    bob = login(BOB, "gg32")
    alice.command(f"notify {BOB}")
    assert alice.wait_type("notify", uin=BOB)["status"] == GG_STATUS_AVAIL
    bob.command(f"notify {ALICE}")
    assert bob.wait_type("notify", uin=ALICE)["status"] == GG_STATUS_AVAIL

    alice.command(f"status {GG_STATUS_AVAIL_DESCR} {POLISH}")
    seen = bob.wait_type("status", uin=ALICE, status=GG_STATUS_AVAIL_DESCR)
    assert seen["descr"] == POLISH
    bob.command(f"status {GG_STATUS_BUSY_DESCR} zajęty")
    seen = alice.wait_type("status", uin=BOB, status=GG_STATUS_BUSY_DESCR)
    assert seen["descr"] == "zajęty"


def test_messages_with_polish_letters_both_ways_with_delivery_acks(login):
    """A message arrives with its text intact and its sender gets ack 2 for the same seq, both ways."""
    alice = login(ALICE, "sha1")
    bob = login(BOB, "gg32")
    for sender, recipient in ((alice, bob), (bob, alice)):
        text = f"{POLISH} od {sender.uin}"
        sender.command(f"send {recipient.uin} {text}")
        sent = sender.wait_type("sent", uin=recipient.uin)
        received = recipient.wait_type("msg", uin=sender.uin)
        assert received["text"] == text
        assert received["seq"] == sent["seq"]
        assert received["class"] == GG_CLASS_CHAT
        ack = sender.wait_type("ack", uin=recipient.uin, seq=sent["seq"])
        assert ack["status"] == GG_ACK_DELIVERED


def test_ping_is_answered_with_pong(login):
    alice = login(ALICE)
    alice.command("ping")
    alice.wait_type("pong")
    alice.command("ping")
    alice.wait_type("pong")


def test_logoff_with_description_is_clean_and_watchers_see_it(login):
    """NOT_AVAIL_DESCR ends in libgadu's DISCONNECT_ACK; the watcher sees 0x15 with the description."""
    alice = login(ALICE)
    bob = login(BOB, "gg32")
    bob.command(f"notify {ALICE}")
    bob.wait_type("notify_end")
    alice.command("logoff do jutra, pa!")
    alice.wait_type("disconnect_ack")
    assert alice.wait_exit() == 0
    seen = bob.wait_type("status", uin=ALICE, status=GG_STATUS_NOT_AVAIL_DESCR)
    assert seen["descr"] == "do jutra, pa!"


def test_a_dropped_client_goes_not_avail_for_its_watchers(login):
    alice = login(ALICE)
    bob = login(BOB)
    bob.command(f"notify {ALICE}")
    bob.wait_type("notify", uin=ALICE)
    alice.close()  # quits without logging off: the socket just closes
    assert bob.wait_type("status", uin=ALICE)["status"] == GG_STATUS_NOT_AVAIL


@pytest.mark.parametrize("hash_type", ["sha1", "gg32"])
def test_wrong_password_is_libgadus_password_failure(server, libgadu_peer, hash_type):
    peer = libgadu_peer(server.port, ALICE, "not-alices-password", hash_type)
    assert peer.wait_type("conn_failed", timeout=10)["failure"] == GG_FAILURE_PASSWORD
    assert peer.wait_exit() == 0


def test_unknown_uin_is_libgadus_password_failure(server, libgadu_peer):
    peer = libgadu_peer(server.port, 424242, "whatever")
    assert peer.wait_type("conn_failed", timeout=10)["failure"] == GG_FAILURE_PASSWORD


def test_message_to_an_offline_user_is_queued_then_delivered_at_login(login):
    """Ack 3 while the recipient is away; at its next login the message comes with class | QUEUED."""
    alice = login(ALICE)
    alice.command(f"send {CAROL} {POLISH}")
    sent = alice.wait_type("sent", uin=CAROL)
    assert alice.wait_type("ack", uin=CAROL, seq=sent["seq"])["status"] == GG_ACK_QUEUED
    carol = login(CAROL, "gg32")
    received = carol.wait_type("msg", uin=ALICE)
    assert received["text"] == POLISH
    assert received["class"] == GG_CLASS_CHAT | GG_CLASS_QUEUED
    assert received["seq"] == sent["seq"]


def test_echo_contact_is_online_and_answers_with_the_same_text(login):
    alice = login(ALICE)
    alice.command(f"notify {ECHO}")
    assert alice.wait_type("notify", uin=ECHO)["status"] == GG_STATUS_AVAIL_DESCR
    alice.command(f"send {ECHO} {POLISH}")
    sent = alice.wait_type("sent", uin=ECHO)
    assert alice.wait_type("ack", uin=ECHO, seq=sent["seq"])["status"] == GG_ACK_DELIVERED
    assert alice.wait_type("msg", uin=ECHO)["text"] == POLISH


def test_invisible_user_appears_not_avail_and_back(login):
    alice = login(ALICE)
    bob = login(BOB)
    bob.command(f"notify {ALICE}")
    bob.wait_type("notify", uin=ALICE)
    alice.command(f"status {GG_STATUS_INVISIBLE}")
    assert bob.wait_type("status", uin=ALICE)["status"] == GG_STATUS_NOT_AVAIL
    alice.command(f"status {GG_STATUS_AVAIL}")
    assert bob.wait_type("status", uin=ALICE)["status"] == GG_STATUS_AVAIL


def sync(peer) -> None:
    """Ping and wait for the pong: the server has handled, and written, everything before it."""
    peer.command("ping")
    peer.wait_type("pong")


def test_contact_added_later_is_reported_and_removed_contact_is_not(login):
    alice = login(ALICE)
    bob = login(BOB)
    alice.command("notify")  # an empty list: GG_LIST_EMPTY
    alice.command(f"add {BOB}")
    assert alice.wait_type("status", uin=BOB)["status"] == GG_STATUS_AVAIL
    alice.command(f"remove {BOB}")
    sync(alice)
    bob.command(f"status {GG_STATUS_AVAIL_DESCR} niewidoczny dla Ali")
    sync(bob)
    sync(alice)
    assert [e for e in alice.events if e["type"] == "status"] == [
        {"type": "status", "uin": BOB, "status": GG_STATUS_AVAIL, "descr": ""}
    ]
