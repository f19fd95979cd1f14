"""Reference server over loopback: logins, contact lists and presence, with gadu's ClientConnection."""
from __future__ import annotations

import pytest
from server_testing import USERS, GGClient, raw_connection, read_until_closed, running_server

from gadu import events as ev
from gadu import packets as p
from gadu.framing import FrameParser
from gadu.hashing import GG_LOGIN_HASH_GG32, GG_LOGIN_HASH_SHA1, login_hash_field
from gadu.limits import MAX_DESCRIPTION, MAX_FRAME
from gadu.server import ECHO_DESCRIPTION

ALICE, BOB, CAROL, DAVE = 1001, 1002, 1003, 1004


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


@pytest.mark.parametrize("hash_type", [GG_LOGIN_HASH_SHA1, GG_LOGIN_HASH_GG32])
def test_login_with_either_hash_and_a_non_ascii_password(server, hash_type):
    with GGClient.logged_in(server.port, DAVE, hash_type=hash_type) as dave:
        dave.sync()


@pytest.mark.parametrize("features,verdict", [(p.GG8_FEATURES, p.LoginFailed),
                                              (p.GG8_FEATURES | p.GG_FEATURE_UNKNOWN_40, p.Login80Failed)])
def test_wrong_password_is_refused_with_the_packet_the_features_ask_for_then_closed(server, features, verdict):
    with raw_connection(server.port) as sock:
        parser = FrameParser(p.Direction.SERVER_TO_CLIENT)
        welcome = parser.feed(sock.recv(64))
        assert [type(w) for w in welcome] == [p.Welcome]
        field = login_hash_field(GG_LOGIN_HASH_SHA1, b"wrong", welcome[0].seed)
        sock.sendall(p.Login80(ALICE, GG_LOGIN_HASH_SHA1, field, features=features).encode())
        assert parser.feed(read_until_closed(sock)) == [verdict()]


def test_wrong_password_through_the_client_is_login_failed_and_a_clean_close(server):
    with GGClient(server.port, ALICE, "wrong") as alice:
        alice.wait(ev.LoginFailed)
        assert alice.wait_closed().clean


def test_unknown_uin_is_refused(server):
    with GGClient(server.port, 777, "anything") as stranger:
        stranger.wait(ev.LoginFailed)
        stranger.wait_closed()


def test_contact_list_reply_holds_online_contacts_only(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        alice.send(alice.conn.send_contacts([BOB, CAROL, 1000]))
        reply = alice.wait(ev.ContactsReply)
        statuses = {entry.uin: entry for entry in reply.entries}
        assert set(statuses) == {BOB, 1000}, "CAROL is offline and must not be listed"
        assert statuses[BOB].status == p.GG_STATUS_AVAIL
        assert statuses[1000].description == ECHO_DESCRIPTION
        bob.sync()


def test_status_changes_reach_watchers_with_descriptions(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        alice.send(alice.conn.send_contacts([BOB]))
        alice.wait(ev.ContactsReply)
        bob.send(bob.conn.send_status(p.GG_STATUS_BUSY_DESCR, "w pracy — zajęty"))
        seen = alice.wait(ev.StatusChanged, uin=BOB)
        assert (seen.status, seen.description) == (p.GG_STATUS_BUSY_DESCR, "w pracy — zajęty")
        bob.send(bob.conn.send_status(p.GG_STATUS_AVAIL))
        assert alice.wait(ev.StatusChanged, uin=BOB).status == p.GG_STATUS_AVAIL


def test_a_contact_logging_in_later_is_announced(server):
    with GGClient.logged_in(server.port, ALICE) as alice:
        alice.send(alice.conn.send_contacts([CAROL]))
        alice.sync()
        with GGClient.logged_in(server.port, CAROL, status=p.GG_STATUS_AVAIL_DESCR, description="hej") as carol:
            seen = alice.wait(ev.StatusChanged, uin=CAROL)
            assert (seen.status, seen.description) == (p.GG_STATUS_AVAIL_DESCR, "hej")
            carol.sync()


def test_logoff_with_description_gives_watchers_not_avail_descr_and_a_clean_close(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        alice.send(alice.conn.send_contacts([BOB]))
        alice.wait(ev.ContactsReply)
        bob.send(bob.conn.send_logoff("do jutra"))
        assert bob.wait_closed().clean
        seen = alice.wait(ev.StatusChanged, uin=BOB)
        assert (seen.status, seen.description) == (p.GG_STATUS_NOT_AVAIL_DESCR, "do jutra")
        assert [e for e in alice.drain() if isinstance(e, ev.StatusChanged)] == [], "told once only"


def test_a_dropped_connection_goes_not_avail(server):
    with GGClient.logged_in(server.port, ALICE) as alice:
        alice.send(alice.conn.send_contacts([BOB]))
        alice.sync()
        bob = GGClient.logged_in(server.port, BOB)
        alice.wait(ev.StatusChanged, uin=BOB)
        bob.close()
        assert alice.wait(ev.StatusChanged, uin=BOB).status == p.GG_STATUS_NOT_AVAIL


def test_invisible_looks_not_avail_and_coming_back_is_announced(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        alice.send(alice.conn.send_contacts([BOB]))
        alice.wait(ev.ContactsReply)
        bob.send(bob.conn.send_status(p.GG_STATUS_INVISIBLE_DESCR, "sekret"))
        seen = alice.wait(ev.StatusChanged, uin=BOB)
        assert (seen.status, seen.description) == (p.GG_STATUS_NOT_AVAIL, ""), "nothing of it leaks"
        bob.send(bob.conn.send_status(p.GG_STATUS_AVAIL))
        assert alice.wait(ev.StatusChanged, uin=BOB).status == p.GG_STATUS_AVAIL


def test_invisible_at_login_is_not_in_the_reply(server):
    with GGClient.logged_in(server.port, BOB, status=p.GG_STATUS_INVISIBLE) as bob:
        with GGClient.logged_in(server.port, ALICE) as alice:
            alice.send(alice.conn.send_contacts([BOB, 1000]))
            assert [e.uin for e in alice.wait(ev.ContactsReply).entries] == [1000]
        bob.sync()


def test_blocking_hides_the_blocker_and_refuses_messages(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        alice.send(alice.conn.send_contacts([BOB]))
        alice.wait(ev.ContactsReply)
        bob.send(bob.conn.send_contacts([p.NotifyEntry(ALICE, p.GG_USER_BLOCKED)]))
        assert alice.wait(ev.StatusChanged, uin=BOB).status == p.GG_STATUS_NOT_AVAIL
        seq = alice.message(BOB, "odblokuj mnie")
        assert alice.wait(ev.MessageAck, seq=seq).status == p.GG_ACK_BLOCKED
        assert not [e for e in bob.drain() if isinstance(e, ev.MessageReceived)]
        bob.send(bob.conn.send_remove_contact(ALICE, p.GG_USER_BLOCKED))
        assert alice.wait(ev.StatusChanged, uin=BOB).status == p.GG_STATUS_AVAIL


def test_friends_only_status_is_seen_by_friends_only(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, CAROL) as carol, \
            GGClient.logged_in(server.port, BOB) as bob:
        for watcher in (alice, carol):
            watcher.send(watcher.conn.send_contacts([BOB]))
            watcher.wait(ev.ContactsReply)
        # ALICE is a friend (NORMAL = BUDDY | FRIEND); CAROL only a buddy.
        bob.send(bob.conn.send_contacts([p.NotifyEntry(ALICE, p.GG_USER_NORMAL),
                                         p.NotifyEntry(CAROL, p.GG_USER_BUDDY)]))
        bob.send(bob.conn.send_status(p.GG_STATUS_BUSY | p.GG_STATUS_FRIENDS_MASK))
        assert alice.wait(ev.StatusChanged, uin=BOB).status == p.GG_STATUS_BUSY | p.GG_STATUS_FRIENDS_MASK
        assert carol.wait(ev.StatusChanged, uin=BOB).status == p.GG_STATUS_NOT_AVAIL


def test_add_and_remove_contact_during_the_session(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as bob:
        alice.send(alice.conn.send_contacts([]))
        alice.send(alice.conn.send_add_contact(BOB))
        assert alice.wait(ev.StatusChanged, uin=BOB).status == p.GG_STATUS_AVAIL
        alice.send(alice.conn.send_remove_contact(BOB))
        alice.sync()
        bob.send(bob.conn.send_status(p.GG_STATUS_AVAIL_DESCR, "nie do Ali"))
        bob.sync()
        assert not [e for e in alice.drain() if isinstance(e, ev.StatusChanged)]


def test_second_login_of_a_uin_drops_the_first_without_an_offline_flap(server):
    with GGClient.logged_in(server.port, ALICE) as alice, GGClient.logged_in(server.port, BOB) as first:
        alice.send(alice.conn.send_contacts([BOB]))
        alice.wait(ev.ContactsReply)
        with GGClient.logged_in(server.port, BOB) as second:
            first.wait(ev.Disconnecting)
            assert first.wait_closed().clean
            second.sync()
            assert not [e for e in alice.drain() if isinstance(e, ev.StatusChanged)]
            seq = alice.message(BOB, "do nowej sesji")
            assert second.wait(ev.MessageReceived, seq=seq).text == "do nowej sesji"


def test_notify_reply_is_split_below_the_frame_limit():
    """240 online contacts with 255-byte descriptions pass 65535 bytes: the reply comes in pieces."""
    count = 240
    users = {2000 + i: "p" for i in range(count)}
    users[ALICE] = USERS[ALICE]
    description = "ż" * (MAX_DESCRIPTION // 2) + "x"  # 255 bytes of UTF-8
    with running_server(users=users, echo_uin=None) as server:
        contacts = []
        try:
            for uin in range(2000, 2000 + count):
                contacts.append(GGClient(server.port, uin, "p", status=p.GG_STATUS_AVAIL_DESCR,
                                         description=description))
            for contact in contacts:
                contact.wait(ev.LoginOk)
            with GGClient.logged_in(server.port, ALICE) as alice:
                alice.send(alice.conn.send_contacts(range(2000, 2000 + count)))
                replies = [alice.wait(ev.ContactsReply)]
                while sum(len(r.entries) for r in replies) < count:
                    replies.append(alice.wait(ev.ContactsReply))
                # Each arrived through gadu's parser, which refuses any frame above MAX_FRAME.
                assert len(replies) == 2
                assert sorted(e.uin for r in replies for e in r.entries) == list(range(2000, 2000 + count))
                assert all(e.description == description for r in replies for e in r.entries)
                assert sum(28 + len(description.encode()) for e in replies[0].entries) <= MAX_FRAME
        finally:
            for contact in contacts:
                contact.close()
