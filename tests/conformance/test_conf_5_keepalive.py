"""5.x Keep-alive and timers: the client's own pings and timeouts (protocol.html 1.10; docs/protocol.md#timeouts)."""
from __future__ import annotations

import time

from gadu import events as ev
from gadu import packets as pk

from .helpers import SEED, logged_in_on_peer
from .results import case


@case("5.1", "Pings on a timer", "With a ping interval set, the client sends GG_PING on its own, again and "
      "again (the spec's server drops clients silent for 5 minutes).")
def test_ping_interval(driver, peer):
    _session, wire = logged_in_on_peer(driver, peer, ping_interval=0.1)
    started = time.monotonic()
    wire.expect(pk.Ping, timeout=2)
    wire.expect(pk.Ping, timeout=2)
    wire.expect(pk.Ping, timeout=2)
    assert time.monotonic() - started >= 0.2, "three pings came faster than the interval allows"


@case("5.2", "No pings when off", "Without a ping interval the client sends no GG_PING by itself "
      "(libgadu never pings on its own).")
def test_no_ping(driver, peer):
    _session, wire = logged_in_on_peer(driver, peer)
    assert not [p for p in wire.quiet_for(0.3) if isinstance(p, pk.Ping)]


@case("5.3", "Ping and pong", "An explicit ping sends GG_PING; the server's GG_PONG reaches the application.")
def test_ping_pong(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.ping()
    wire.expect(pk.Ping)
    wire.send_packets(pk.Pong())
    session.wait(ev.Pong)


@case("5.4", "No pings before login", "The keep-alive starts only after the login is accepted.")
def test_no_ping_before_login(driver, peer):
    driver.open(peer.address, 1001, "alice", ping_interval=0.05, login_timeout=5)
    wire = peer.accept()
    assert wire.quiet_for(0.25) == []
    wire.welcome()
    assert not [p for p in wire.quiet_for(0.2) if isinstance(p, pk.Ping)]


@case("5.5", "Pings stop after logoff", "After the logoff no more GG_PING is sent.")
def test_pings_stop_after_logoff(driver, peer):
    session, wire = logged_in_on_peer(driver, peer, ping_interval=0.05)
    wire.expect(pk.Ping)
    session.logoff()
    wire.expect(pk.NewStatus80)
    assert not [p for p in wire.quiet_for(0.3) if isinstance(p, pk.Ping)]
    wire.close()
    session.wait(ev.Closed)


@case("5.6", "PONG is optional", "A server that never answers GG_PING keeps the session open "
      "(docs/protocol.md#packets: PONG is optional).")
def test_pong_optional(driver, peer):
    session, wire = logged_in_on_peer(driver, peer, ping_interval=0.05)
    for _ in range(4):
        wire.expect(pk.Ping)
    assert not wire.eof
    assert not [e for e in session.drain() if isinstance(e, ev.Closed)]


@case("5.7", "Pings stop when the server closes", "After the connection ends, the keep-alive timer is gone: "
      "no error, no second Closed.")
def test_pings_stop_on_close(driver, peer):
    session, wire = logged_in_on_peer(driver, peer, ping_interval=0.05)
    wire.expect(pk.Ping)
    wire.close()
    session.wait(ev.Closed)
    time.sleep(0.2)  # several ping intervals: a timer that outlived the connection would act now
    assert not [e for e in session.drain() if isinstance(e, ev.Closed)]


@case("5.8", "Login timeout measured from connect", "The login timeout covers WELCOME and the verdict "
      "together: a slow WELCOME uses up part of it.")
def test_login_timeout_covers_handshake(driver, peer):
    session = driver.open(peer.address, 1001, "alice", login_timeout=1.0)
    wire = peer.accept()
    time.sleep(0.6)  # the server is slow on purpose; the client's clock is running
    wire.send_packets(pk.Welcome(seed=SEED))
    started = time.monotonic()
    assert not session.wait(ev.Closed, timeout=3).clean
    assert time.monotonic() - started < 0.9, "the timeout restarted at WELCOME"
