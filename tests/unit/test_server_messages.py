"""Reference server over loopback: message routing, acks, the echo contact and the offline queue."""
from __future__ import annotations

import contextlib
import sqlite3

import pytest
from server_testing import GGClient, running_server

from gadu import events as ev
from gadu import packets as p

ALICE, BOB, CAROL, ECHO = 1001, 1002, 1003, 1000
POLISH = "Zażółć gęślą jaźń <b>&amp;</b>\nnowa linia"


@pytest.fixture
def server():
    """A fresh server per test, so that no offline queue carries over."""
    with running_server() as running:
        yield running


def test_message_reaches_the_recipient_and_the_sender_gets_delivered(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        seq = alice.message(BOB, POLISH)
        received = bob.wait(ev.MessageReceived, sender=ALICE)
        assert (received.seq, received.text, received.msgclass) == (seq, POLISH, p.GG_CLASS_CHAT)
        assert alice.wait(ev.MessageAck, seq=seq) == ev.MessageAck(BOB, seq, p.GG_ACK_DELIVERED)


def test_echo_contact_answers_with_the_same_text(server):
    with GGClient.logged_in(server.port, ALICE) as alice:
        seq = alice.message(ECHO, POLISH)
        assert alice.wait(ev.MessageAck, seq=seq).status == p.GG_ACK_DELIVERED
        echoed = alice.wait(ev.MessageReceived, sender=ECHO)
        assert (echoed.text, echoed.seq) == (POLISH, seq)


def test_echo_can_be_switched_off():
    with running_server(echo_uin=None) as server, GGClient.logged_in(server.port, ALICE) as alice:
        seq = alice.message(ECHO, "hop")
        assert alice.wait(ev.MessageAck, seq=seq).status == p.GG_ACK_NOT_DELIVERED


def test_unknown_recipient_is_not_delivered(server):
    with GGClient.logged_in(server.port, ALICE) as alice:
        seq = alice.message(99999, "nikt")
        assert alice.wait(ev.MessageAck, seq=seq) == ev.MessageAck(99999, seq, p.GG_ACK_NOT_DELIVERED)


def test_class_ack_means_no_ack(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        alice.message(BOB, "bez potwierdzenia", msgclass=p.GG_CLASS_CHAT | p.GG_CLASS_ACK)
        bob.wait(ev.MessageReceived, sender=ALICE)
        assert not [e for e in alice.drain() if isinstance(e, ev.MessageAck)]


def test_offline_message_is_acked_queued_and_delivered_with_class_queued_at_login(server):
    with GGClient.logged_in(server.port, ALICE) as alice:
        seq = alice.message(CAROL, POLISH)
        assert alice.wait(ev.MessageAck, seq=seq) == ev.MessageAck(CAROL, seq, p.GG_ACK_QUEUED)
    with GGClient.logged_in(server.port, CAROL) as carol:
        received = carol.wait(ev.MessageReceived, sender=ALICE)
        assert (received.seq, received.text) == (seq, POLISH)
        assert received.msgclass == p.GG_CLASS_CHAT | p.GG_CLASS_QUEUED
    with GGClient.logged_in(server.port, CAROL) as carol:
        assert not [e for e in carol.drain() if isinstance(e, ev.MessageReceived)], "delivered once only"


def test_equal_seqs_from_two_senders_are_two_messages(server):
    """libgadu's seq is time(NULL): two senders in one second use the same one."""
    with GGClient.logged_in(server.port, ALICE, clock=lambda: 1700000000) as alice, \
            GGClient.logged_in(server.port, BOB, clock=lambda: 1700000000) as bob:
        assert alice.message(CAROL, "od Ali") == bob.message(CAROL, "od Bolka") == 1700000000
        alice.wait(ev.MessageAck, status=p.GG_ACK_QUEUED)
        bob.wait(ev.MessageAck, status=p.GG_ACK_QUEUED)
    with GGClient.logged_in(server.port, CAROL) as carol:
        texts = {carol.wait(ev.MessageReceived).text, carol.wait(ev.MessageReceived).text}
        assert texts == {"od Ali", "od Bolka"}


def test_offline_queue_keeps_order(server):
    with GGClient.logged_in(server.port, ALICE) as alice:
        seqs = [alice.message(CAROL, f"wiadomość {i}") for i in range(5)]
        for seq in seqs:
            alice.wait(ev.MessageAck, seq=seq)
    with GGClient.logged_in(server.port, CAROL) as carol:
        assert [carol.wait(ev.MessageReceived).text for _ in seqs] == [f"wiadomość {i}" for i in range(5)]


def test_offline_queue_survives_a_restart_with_a_state_file(tmp_path):
    state = str(tmp_path / "gg-state.sqlite3")
    with running_server(state_path=state) as server, GGClient.logged_in(server.port, ALICE) as alice:
        seq = alice.message(CAROL, POLISH)
        assert alice.wait(ev.MessageAck, seq=seq).status == p.GG_ACK_QUEUED
        # Acked as queued means already on disk: another reader sees it while the server still runs.
        with contextlib.closing(sqlite3.connect(state)) as db:
            assert db.execute("SELECT COUNT(*) FROM offline_messages").fetchone()[0] == 1
    with running_server(state_path=state) as server, GGClient.logged_in(server.port, CAROL) as carol:
        received = carol.wait(ev.MessageReceived, sender=ALICE)
        assert (received.seq, received.text) == (seq, POLISH)
        assert received.msgclass & p.GG_CLASS_QUEUED
        carol.sync()
    with running_server(state_path=state) as server, GGClient.logged_in(server.port, CAROL) as carol:
        assert not [e for e in carol.drain() if isinstance(e, ev.MessageReceived)]


def test_an_offline_message_not_confirmed_comes_again_at_the_next_login(server):
    """It leaves the queue on GG_RECV_MSG_ACK only: one lost with the connection is not lost for good."""
    with GGClient.logged_in(server.port, ALICE) as alice:
        seq = alice.message(CAROL, "dojdzie na pewno")
        alice.wait(ev.MessageAck, seq=seq)
    with GGClient.logged_in(server.port, CAROL, confirm_messages=False) as carol:  # read it, never confirm it
        assert carol.wait(ev.MessageReceived, seq=seq).text == "dojdzie na pewno"
    with GGClient.logged_in(server.port, CAROL) as carol:
        assert carol.wait(ev.MessageReceived, seq=seq).text == "dojdzie na pewno"  # confirmed this time
        carol.sync()
    with GGClient.logged_in(server.port, CAROL) as carol:
        assert not [e for e in carol.drain() if isinstance(e, ev.MessageReceived)]


def test_a_client_without_msg_ack_gets_each_offline_message_once(server):
    with GGClient.logged_in(server.port, ALICE) as alice:
        seq = alice.message(CAROL, "raz")
        alice.wait(ev.MessageAck, seq=seq)
    features = p.GG8_FEATURES & ~p.GG_FEATURE_MSG_ACK
    with GGClient.logged_in(server.port, CAROL, features=features) as carol:
        assert carol.wait(ev.MessageReceived, seq=seq).text == "raz"
    with GGClient.logged_in(server.port, CAROL, features=features) as carol:
        assert not [e for e in carol.drain() if isinstance(e, ev.MessageReceived)]


def test_a_full_mailbox_answers_mboxfull():
    with running_server(mailbox_size=2) as server, GGClient.logged_in(server.port, ALICE) as alice:
        statuses = []
        for i in range(3):
            seq = alice.message(CAROL, f"nr {i}")
            statuses.append(alice.wait(ev.MessageAck, seq=seq).status)
        assert statuses == [p.GG_ACK_QUEUED, p.GG_ACK_QUEUED, p.GG_ACK_MBOXFULL]


def test_a_large_backlog_is_written_as_the_client_reads_not_all_at_once():
    """600 queued messages of ~10 KB are far past what the kernel and the 256 KiB write limit hold:
    written all at once they would get the reader disconnected; paced by flow control, all arrive."""
    text = "<" * 1989  # each '<' is 4 bytes of HTML ("&lt;") and 1 of plain text
    with running_server(write_high_water=16 * 1024, write_limit=256 * 1024) as server:
        with GGClient.logged_in(server.port, ALICE) as alice:
            for _ in range(600):
                alice.message(CAROL, text)
            for _ in range(600):
                assert alice.wait(ev.MessageAck).status == p.GG_ACK_QUEUED
        with GGClient.logged_in(server.port, CAROL, rcvbuf=4096) as carol:
            assert all(carol.wait(ev.MessageReceived).text == text for _ in range(600))
            carol.sync()
        assert server.call(lambda: server.server.queue.count()) == 0


def test_without_a_state_file_the_queue_is_memory_only():
    with running_server() as server, GGClient.logged_in(server.port, ALICE) as alice:
        seq = alice.message(CAROL, "zniknie")
        alice.wait(ev.MessageAck, seq=seq)
    with running_server() as server, GGClient.logged_in(server.port, CAROL) as carol:
        assert not [e for e in carol.drain() if isinstance(e, ev.MessageReceived)]


def test_typing_notification_is_forwarded_with_the_typists_uin(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        alice.send(alice.conn.send_typing(BOB, 7))
        assert bob.wait(ev.Typing) == ev.Typing(ALICE, 7)


def test_ping_gets_pong(server):
    with GGClient.logged_in(server.port, ALICE) as alice:
        for _ in range(3):
            alice.sync()


def test_many_messages_glued_in_one_write_all_arrive(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        frames = []
        for i in range(200):
            data, _ = alice.conn.send_message(BOB, f"nr {i}")
            frames.append(data)
        alice.send(b"".join(frames))
        assert [bob.wait(ev.MessageReceived).text for _ in range(200)] == [f"nr {i}" for i in range(200)]
