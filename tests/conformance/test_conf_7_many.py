"""7.x Many sessions in one loop: 200 clients of one variant share its loop and stay independent."""
from __future__ import annotations

from gadu import events as ev
from gadu import packets as pk
from gadu.server.config import ECHO_UIN

from .helpers import MANY_BASE, logged_in_on_peer
from .results import case

SESSIONS = 200


def open_many(driver, address, count=SESSIONS, **options):
    sessions = [driver.open(address, MANY_BASE + n, f"pw{MANY_BASE + n}", **options) for n in range(count)]
    for session in sessions:
        session.wait(ev.LoginOk, timeout=20)
    return sessions


@case("7.1", "200 logins", "200 sessions log in at once on one loop; every one gets LoginOk.")
def test_many_logins(driver, server_address):
    assert len(open_many(driver, server_address)) == SESSIONS


@case("7.2", "200 round trips", "200 sessions each send a message to the echo contact and each gets its "
      "own text back with its own ack.")
def test_many_round_trips(driver, server_address):
    sessions = open_many(driver, server_address)
    seqs = [session.send_message(ECHO_UIN, f"s{n}") for n, session in enumerate(sessions)]
    for n, session in enumerate(sessions):
        assert session.wait(ev.MessageAck, timeout=20).seq == seqs[n]
        assert session.wait(ev.MessageReceived, timeout=20).text == f"s{n}"


@case("7.3", "Pairs talk", "100 pairs of sessions message each other through the server; each message "
      "reaches its own partner only.")
def test_pairs(driver, server_address):
    sessions = open_many(driver, server_address)
    for n in range(0, SESSIONS, 2):
        sessions[n].send_message(MANY_BASE + n + 1, f"to {n + 1}")
    for n in range(1, SESSIONS, 2):
        got = sessions[n].wait(ev.MessageReceived, timeout=20)
        assert (got.sender, got.text) == (MANY_BASE + n - 1, f"to {n}")


@case("7.4", "One failure stays local", "When one session's server sends garbage, that session ends and "
      "the others on the same loop go on.")
def test_failure_is_local(driver, peer):
    victims = [logged_in_on_peer(driver, peer, uin=1001 + n) for n in range(3)]
    victims[1][1].send(b"\xff" * 32)
    victims[1][0].wait(ev.Closed)
    for index in (0, 2):
        session, wire = victims[index]
        wire.send_packets(pk.Pong())
        session.wait(ev.Pong)


@case("7.5", "200 logoffs", "200 sessions log off; each gets a clean Closed.")
def test_many_logoffs(driver, server_address):
    sessions = open_many(driver, server_address)
    for session in sessions:
        session.logoff()
    for session in sessions:
        assert session.wait(ev.Closed, timeout=20).clean


@case("7.6", "Presence among many", "50 sessions that list each other all see every other one online.")
def test_presence_among_many(driver, server_address):
    sessions = open_many(driver, server_address, count=50)
    uins = [MANY_BASE + n for n in range(50)]
    for n, session in enumerate(sessions):
        session.notify([uin for uin in uins if uin != MANY_BASE + n])
    for n, session in enumerate(sessions):
        online = set()
        while len(online) < 49:
            event = session.wait((ev.ContactsReply, ev.StatusChanged), timeout=20)
            entries = event.entries if isinstance(event, ev.ContactsReply) else (event,)
            online.update(e.uin for e in entries if e.status & pk.GG_STATUS_MASK != pk.GG_STATUS_NOT_AVAIL)
        assert online == set(uins) - {MANY_BASE + n}


@case("7.7", "Keep-alive for many", "200 sessions with a ping interval each ping on their own timer.")
def test_many_keepalives(driver, server_address):
    # Half a second: 200 sessions ping 400 times a second. At 0.1 s (2,000 a second) a loop that gets a
    # sixth of a core, as in CI's six parallel envs, falls behind and the case took 30 s instead of 0.4.
    sessions = open_many(driver, server_address, ping_interval=0.5)
    for session in sessions:
        session.wait(ev.Pong, timeout=20)
