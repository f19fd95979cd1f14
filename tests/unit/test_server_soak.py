"""A bounded soak: one `gg-workbench serve` process holds hostile connections while good pairs talk.

The hostile kinds (hostile_load.py): garbage, an oversized length, a byte a second, connect-and-
vanish, wrong-password logins for one uin. The server runs with the limits of hostile_load.serve_args
(--max-pending-logins, --login-timeout 2, --login-failures 5 in 5 s, --write-limit 1 MiB, ...).
No good message is lost or repeated, the server's sockets come back to their count before the load,
and its RSS stays within a bound.
"""
from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from hostile_load import KINDS, GoodPair, HostileLoad, finish_pairs, serve_args
from server_process import TIMEOUT, ServeProcess, descriptors, open_sockets, rss_kib

PAIRS = 4
MESSAGES = 60
HOSTILE = 40
#: Seconds the server stays stopped (SIGSTOP) after each half of the pairs has connected.
STALL = 0.3
#: Growth of the server's RSS under the load, at most: buffers for 40 connections are far below it.
RSS_GROWTH_KIB = 32 * 1024

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID for fds and RSS")


def wait_until(predicate, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not {what} within {timeout} s"
        time.sleep(0.02)


def test_good_sessions_lose_nothing_beside_hostile_connections(tmp_path):
    log = tmp_path / "serve.log"
    with ServeProcess(serve_args(PAIRS, HOSTILE), log) as server:
        sockets, rss = open_sockets(server.pid), rss_kib(server.pid)  # the listener and the loop's own
        load = HostileLoad(server.port, HOSTILE // len(KINDS), rate=100.0)
        load.start()
        try:
            wait_until(lambda: all(load.opened[kind] for kind in KINDS), "every hostile kind connected")
            pairs = [GoodPair(server.port, index, MESSAGES) for index in range(PAIRS)]
            # The server stalls (as when CI's other jobs take both cores) while the flood goes on; when
            # it runs again, everything queued comes at once. Half the pairs connect as the stall
            # begins, ahead of the flood, and half after STALL seconds of it, behind it.
            os.kill(server.pid, signal.SIGSTOP)
            try:
                for group in (pairs[:PAIRS // 2], pairs[PAIRS // 2:]):
                    for pair in group:
                        pair.start()
                    for pair in group:
                        assert pair.connected.wait(TIMEOUT), f"{pair.name} did not connect"
                    stall_ends = time.monotonic() + STALL
                    while time.monotonic() < stall_ends and load.is_alive():
                        time.sleep(0.02)  # the flood fills the accept queue meanwhile
            finally:
                os.kill(server.pid, signal.SIGCONT)
            finish_pairs(pairs)
            # A byte a second never makes a login: the 2 s login timeout closes it.
            wait_until(lambda: load.dropped["byte-a-second"] > 0, "a byte-a-second connection dropped")
            wait_until(lambda: load.login_failures > 5, "wrong-password logins refused")
            peak = rss_kib(server.pid)
        finally:
            load.stop()
        problems = [problem for pair in pairs for problem in pair.problems]
        assert problems == [], f"{problems}; log tail: {log.read_text(encoding='utf-8')[-3000:]}"
        assert all(len(pair.rtts) == MESSAGES for pair in pairs)
        assert load.dropped["garbage"] and load.dropped["oversized"], dict(load.dropped)
        try:
            wait_until(lambda: open_sockets(server.pid) == sockets, f"the server back to its {sockets} sockets")
        except AssertionError as exc:  # name what is left open, so that a leak can be found from the log
            left = descriptors(server.pid)
            raise AssertionError(f"{exc}: {len(left)} open: {left}; log tail: "
                                 f"{log.read_text(encoding='utf-8')[-1500:]}") from None
        assert peak - rss < RSS_GROWTH_KIB, f"RSS grew from {rss} to {peak} KiB"
        assert server.stop() == 0
    text = log.read_text(encoding="utf-8")
    assert "uin 2999: throttled: 5 failed logins within 5 s" in text
