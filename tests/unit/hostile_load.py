"""Hostile clients and good pairs against one `gg-workbench serve` process.

HostileLoad keeps connections of five kinds open in one thread (garbage, an oversized length, a byte
a second, connect-and-vanish, wrong-password logins for one uin), reconnecting each as the server
drops it. GoodPair is two logged-in users: one sends numbered messages, the other answers each; the
round-trip times are kept and every message must arrive once, in order.

`python tests/unit/hostile_load.py --seconds 20 --pairs 20 --hostile 200` measures the good pairs'
round-trip time with and without the hostile load and prints the figures.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

from server_process import Peer, ServeProcess, open_fds, rss_kib

from gadu import events as ev
from gadu import packets as p
from gadu.client import ClientConnection

__all__ = ["KINDS", "GoodPair", "HostileLoad", "finish_pairs", "run_pairs", "serve_args"]

#: What the hostile connections do.
KINDS = ("garbage", "oversized", "byte-a-second", "vanish", "wrong-password")
FIRST_GOOD = 3001
VICTIM = 2999
PASSWORD = "dobre hasło"


def serve_args(pairs: int, hostile: int) -> List[str]:
    """Users, and the limits the soak runs with (small, so that they are reached)."""
    users = [f"--user={FIRST_GOOD + i}:{PASSWORD}" for i in range(2 * pairs)] + [f"--user={VICTIM}:{PASSWORD}"]
    return [
        "--no-echo", *users,
        "--max-connections", str(2 * pairs + hostile + 50),
        "--max-pending-logins", str(hostile + 2 * pairs + 10),
        "--login-timeout", "2",
        "--login-failures", "5",
        "--login-failure-window", "5",
        "--write-limit", str(1024 * 1024),
        "--write-high-water", str(64 * 1024),
    ]


class HostileLoad(threading.Thread):
    """`per_kind` connections of each kind, reopened as they close, until stop()."""

    def __init__(self, port: int, per_kind: int, rate: float = 200.0) -> None:
        super().__init__(name="hostile-load", daemon=True)
        self.port = port
        self.per_kind = per_kind
        #: New connections per second per kind, at most (a flood, but not one that eats the machine).
        self.rate = rate
        self.opened: Dict[str, int] = collections.Counter()
        self.dropped: Dict[str, int] = collections.Counter()  # closed by the server
        self.login_failures = 0
        self._stopping = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._open: Dict[str, int] = collections.Counter()
        self.error: Optional[BaseException] = None

    def stop(self) -> None:
        self._stopping.set()
        self.join(30)
        assert not self.is_alive(), "the hostile load did not stop"
        if self.error is not None:
            raise self.error

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by stop()
            self.error = exc
        finally:
            for key in list(self._selector.get_map().values()):
                key.fileobj.close()  # type: ignore[union-attr]
            self._selector.close()

    def _open_one(self, kind: str) -> None:
        sock = socket.socket()
        try:
            sock.connect(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            return
        self.opened[kind] += 1
        if kind == "vanish":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset
            sock.close()
            return
        sock.setblocking(False)
        state = {"kind": kind, "next": time.monotonic() + 1.0,
                 "conn": ClientConnection(VICTIM, "zgaduję") if kind == "wrong-password" else None}
        try:
            if kind == "garbage":
                sock.send(b"GET / HTTP/1.1\r\nHost: gg\r\n\r\n" + os.urandom(64))
            elif kind == "oversized":
                sock.send(struct.pack("<II", p.GG_SEND_MSG80, 1 << 20))
        except OSError:
            pass
        self._selector.register(sock, selectors.EVENT_READ, state)
        self._open[kind] += 1

    def _close(self, sock: socket.socket, state: dict, by_server: bool) -> None:
        self._selector.unregister(sock)
        sock.close()
        self._open[state["kind"]] -= 1
        if by_server:
            self.dropped[state["kind"]] += 1

    def _run(self) -> None:
        budget = {kind: 0.0 for kind in KINDS}
        last = time.monotonic()
        while not self._stopping.is_set():
            now = time.monotonic()
            for kind in KINDS:
                budget[kind] = min(budget[kind] + (now - last) * self.rate, self.rate)
                while self._open[kind] < self.per_kind and budget[kind] >= 1:
                    budget[kind] -= 1
                    self._open_one(kind)  # a vanishing one is never held: only the rate bounds it
            last = now
            for key, _ in self._selector.select(0.02):
                self._readable(key.fileobj, key.data)  # type: ignore[arg-type]
            for key in list(self._selector.get_map().values()):
                state = key.data
                if state["kind"] == "byte-a-second" and now >= state["next"]:
                    state["next"] = now + 1.0
                    try:
                        key.fileobj.send(b"\x13")  # type: ignore[union-attr]
                    except OSError:
                        self._close(key.fileobj, state, True)  # type: ignore[arg-type]

    def _readable(self, sock: socket.socket, state: dict) -> None:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(sock, state, True)
            return
        conn = state["conn"]
        if conn is None:
            return
        events = conn.receive_data(data)
        try:
            sock.send(conn.data_to_send())
        except OSError:
            pass
        if any(isinstance(e, ev.LoginFailed) for e in events):
            self.login_failures += 1
            self._close(sock, state, True)


class GoodPair(threading.Thread):
    """Sender and answerer: `count` numbered messages, each answered, each round trip timed."""

    def __init__(self, port: int, index: int, count: int, pause: float = 0.0) -> None:
        super().__init__(name=f"good-pair-{index}", daemon=True)
        self.port = port
        self.uins = (FIRST_GOOD + 2 * index, FIRST_GOOD + 2 * index + 1)
        self.count = count
        self.pause = pause
        self.rtts: List[float] = []
        self.problems: List[str] = []
        #: Set once the sender's connection is made (accepted by the kernel, if not yet by the server).
        self.connected = threading.Event()

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}")

    def _wait(self, peer: Peer, predicate, got: List[ev.MessageReceived], acks: List[int]) -> None:
        while True:
            found = False
            for event in peer.read():
                if isinstance(event, ev.MessageReceived):
                    got.append(event)
                    found = found or predicate(event)
                elif isinstance(event, ev.MessageAck):
                    acks.append(event.status)
            assert not peer.closed, f"uin {peer.conn.uin}: the server closed a good session"
            if found:
                return

    def _run(self) -> None:
        sender = Peer(self.port, self.uins[0], PASSWORD)
        self.connected.set()
        try:
            sender.wait_login()
        except BaseException:
            sender.close()
            raise
        answerer = Peer.logged_in(self.port, self.uins[1], PASSWORD)
        try:
            received: List[ev.MessageReceived] = []
            answers: List[ev.MessageReceived] = []
            acks: List[int] = []
            for number in range(self.count):
                started = time.perf_counter()
                sender.send(p.SendMsg80.encode_text(self.uins[1], number + 1, f"nr {number}"))
                self._wait(answerer, lambda e, n=number: e.text == f"nr {n}", received, [])
                answerer.send(p.SendMsg80.encode_text(self.uins[0], number + 1, f"re {number}"))
                self._wait(sender, lambda e, n=number: e.text == f"re {n}", answers, acks)
                self.rtts.append(time.perf_counter() - started)
                if self.pause:
                    time.sleep(self.pause)
            expected = [f"nr {n}" for n in range(self.count)]
            if [e.text for e in received] != expected:
                self.problems.append(f"pair {self.uins}: messages lost, repeated or out of order")
            if [e.text for e in answers] != [f"re {n}" for n in range(self.count)]:
                self.problems.append(f"pair {self.uins}: answers lost, repeated or out of order")
        finally:
            sender.close()
            answerer.close()


def run_pairs(port: int, pairs: int, count: int) -> List[GoodPair]:
    threads = [GoodPair(port, index, count) for index in range(pairs)]
    for thread in threads:
        thread.start()
    return finish_pairs(threads)


def finish_pairs(threads: List[GoodPair]) -> List[GoodPair]:
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive(), f"{thread.name} did not finish"
    return threads


def _summary(rtts: List[float]) -> str:
    ordered = sorted(rtts)
    return (f"{len(rtts)} round trips, median {statistics.median(ordered) * 1e3:.2f} ms, "
            f"p95 {ordered[int(len(ordered) * 0.95)] * 1e3:.2f} ms, max {ordered[-1] * 1e3:.2f} ms")


def _hostile_only(port: int, per_kind: int, rate: float) -> int:
    """Run the hostile load in this process until stdin closes, then print its counts as JSON."""
    load = HostileLoad(port, per_kind, rate)
    load.start()
    sys.stdin.read()
    load.stop()
    print(json.dumps({"opened": load.opened, "dropped": load.dropped, "login_failures": load.login_failures}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--messages", type=int, default=200, help="round trips per pair and phase")
    parser.add_argument("--hostile", type=int, default=200, help="hostile connections held open, in all")
    parser.add_argument("--rate", type=float, default=200.0, help="new hostile connections per second per kind")
    parser.add_argument("--hostile-only", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    per_kind = args.hostile // len(KINDS)
    if args.hostile_only:
        return _hostile_only(args.hostile_only, per_kind, args.rate)
    with tempfile.TemporaryDirectory() as folder:
        server = ServeProcess(serve_args(args.pairs, args.hostile), Path(folder) / "serve.log")
        try:
            fds, rss = open_fds(server.pid), rss_kib(server.pid)
            run_pairs(server.port, args.pairs, 20)  # warm-up: logins, first allocations
            quiet = run_pairs(server.port, args.pairs, args.messages)
            # The load in its own process, so that it competes for the cores and not for our GIL.
            hostile = subprocess.Popen(
                [sys.executable, __file__, "--hostile-only", str(server.port), "--hostile", str(args.hostile),
                 "--rate", str(args.rate)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )
            started = time.monotonic()
            while time.monotonic() - started < 2.0:  # let it reach its full count of connections
                time.sleep(0.1)
            loaded = run_pairs(server.port, args.pairs, args.messages)
            peak_rss, peak_fds = rss_kib(server.pid), open_fds(server.pid)
            quiet_again = run_pairs(server.port, args.pairs, args.messages)
            seconds = time.monotonic() - started
            counts = json.loads(hostile.communicate("", timeout=60)[0])
            problems = [problem for pair in quiet + loaded + quiet_again for problem in pair.problems]
            print(f"without hostile load: {_summary([r for pair in quiet for r in pair.rtts])}")
            print(f"with hostile load:    {_summary([r for pair in loaded for r in pair.rtts])}")
            print(f"without, again:       {_summary([r for pair in quiet_again for r in pair.rtts])}")
            print(f"hostile, over {seconds:.1f} s: opened {counts['opened']}; dropped by the server "
                  f"{counts['dropped']}; wrong-password logins refused {counts['login_failures']}")
            print(f"server: fds {fds} at start, {peak_fds} under load; RSS {rss} KiB at start, {peak_rss} KiB "
                  f"under load; problems: {problems or 'none'}")
        finally:
            server.stop()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
