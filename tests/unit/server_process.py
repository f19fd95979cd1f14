"""Helpers for tests that run the reference server as its own process (`gg-workbench serve`).

ServeProcess starts it, reads the port it prints, and can kill it (SIGKILL: a crash) or stop it;
its log goes to a file, never to a pipe nobody reads. Descriptor and memory figures come from /proc.
`Peer` is gadu's ClientConnection on a blocking socket that survives the server dying under it.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List, Tuple

from gadu import events as ev
from gadu.client import ClientConnection

__all__ = ["TIMEOUT", "Peer", "ServeProcess", "descriptors", "open_fds", "open_sockets", "rss_kib"]

ROOT = Path(__file__).resolve().parents[2]
#: Deadline of every wait; waits end as soon as what they wait for happens (generous: six tox envs share
#: two cores in CI).
TIMEOUT = 30.0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def descriptors(pid: int) -> List[str]:
    """What each open descriptor of the process refers to: 'socket:[INODE]', a path, 'pipe:[...]'."""
    folder = f"/proc/{pid}/fd"
    targets = []
    for fd in os.listdir(folder):
        try:
            targets.append(os.readlink(f"{folder}/{fd}"))
        except FileNotFoundError:
            pass  # closed between the listing and the readlink
    return sorted(targets)


def open_sockets(pid: int) -> int:
    """Sockets only: a count of all descriptors also moves with files the process reads for a moment
    (a module imported late), which under load a snapshot can catch."""
    return sum(target.startswith("socket:") for target in descriptors(pid))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


class ServeProcess:
    """`python -m workbench.cli serve --port 0 ARGS...`, running until kill() or stop()."""

    def __init__(self, args: List[str], log_path: Path) -> None:
        self._log = open(log_path, "ab")  # closed in kill() or stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "serve", "--port", "0", *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, bufsize=0,
        )
        self.port = self._read_port()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read_port(self) -> int:
        assert self.process.stdout is not None
        deadline = time.monotonic() + TIMEOUT
        pending = b""
        while b"listening on" not in pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.process.stdout], [], [], remaining)[0]:
                self.kill()
                raise AssertionError(f"the server did not listen within {TIMEOUT} s")
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"the server exited with {self.process.wait()} before listening")
            pending += chunk
        line = pending.split(b"listening on", 1)[1].split(b"\n", 1)[0]
        return int(line.rsplit(b":", 1)[1])

    def kill(self) -> None:
        """SIGKILL: the process dies wherever it is, as in a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(TIMEOUT)
        self._close()

    def stop(self) -> int:
        """SIGTERM: a clean stop; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(TIMEOUT)
        self._close()
        return status

    def _close(self) -> None:
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()


class Peer:
    """A logged-in (or logging-in) GG client on a blocking socket; reads never raise on a reset."""

    def __init__(self, port: int, uin: int, password: str, chunk: int = 65536, **options: Any) -> None:
        self.conn = ClientConnection(uin, password, **options)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.closed = False
        #: Bytes asked for per read: small reads make a client that reads (and confirms) slowly.
        self.chunk = chunk
        #: Events that came with the login verdict, handed out by the next read().
        self.early: List[Any] = []

    def read(self, timeout: float = TIMEOUT) -> List[Any]:
        """One read's events (the connection's own replies, such as GG_RECV_MSG_ACK, are sent);
        [] with `closed` set when the server is gone."""
        if self.early:
            events, self.early = self.early, []
            return events
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(self.chunk)
        except socket.timeout:
            raise AssertionError(f"nothing from the server within {timeout} s") from None
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
        events = self.conn.receive_data(data)
        self.send(self.conn.data_to_send())
        return events

    def send(self, data: bytes) -> bool:
        """False if the server is gone."""
        if self.closed or not data:
            return not self.closed
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True
        return not self.closed

    def wait_login(self) -> None:
        while True:
            events = self.read()
            assert not self.closed, "closed before the login verdict"
            assert not any(isinstance(e, ev.LoginFailed) for e in events), events
            for index, event in enumerate(events):
                if isinstance(event, ev.LoginOk):
                    self.early = events[index + 1:]
                    return

    def read_until_pong(self) -> Tuple[List[Any], bool]:
        """Ping, then every event until the pong (everything the server wrote before it)."""
        self.send(self.conn.send_ping())
        events: List[Any] = []
        while not self.closed:
            batch = self.read()
            events.extend(batch)
            if any(isinstance(e, ev.Pong) for e in batch):
                return events, True
        return events, False

    def close(self) -> None:
        self.sock.close()

    @classmethod
    def logged_in(cls, port: int, uin: int, password: str, **options: Any) -> Peer:
        peer = cls(port, uin, password, **options)
        try:
            peer.wait_login()
        except BaseException:
            peer.close()
            raise
        return peer

